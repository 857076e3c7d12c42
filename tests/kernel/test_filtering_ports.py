"""The kernel is the judge of filtering upstreams: a switch port with port security (a Linux bridge
port with ``locked on``, ``learning off`` and a static fdb entry per accepted MAC - what a cloud or
hypervisor switch does to every MAC but the NIC's) and client isolation (``isolated on``). Every
ordered pair from cold neighbour caches and cold fdb tables, with the static entries pinned again."""
from __future__ import annotations

import pytest
from designs_upstream import GW, MAC_A, MAC_V, NIC, ST, A, B, V, filtered_host
from judge import agree

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("lab_prereqs")]


def _measured(doc: dict) -> dict[tuple[str, str], bool]:
    return agree(doc)[0]


def test_a_locked_port_passes_the_nic_and_drops_its_children():
    got = _measured(filtered_host(platform="azure"))
    assert got[(GW, NIC)] and got[(NIC, ST)]
    assert not got[(GW, A)] and not got[(A, GW)] and not got[(V, ST)] and not got[(B, A)]
    assert got[(GW, B)] and got[(GW, ST)]


def test_an_allowed_mac_passes_once_it_has_its_static_entry():
    got = _measured(filtered_host(allowed=[MAC_A]))
    assert got[(GW, A)] and got[(A, ST)]
    assert not got[(GW, V)]


def test_locked_port_with_hairpin_and_every_mode():
    """Hairpin on a filtering port reflects only what got in: the allowed VEPA child reaches its
    bridge sibling, the private one still reaches no sibling."""
    got = _measured(filtered_host(allowed=[MAC_A, MAC_V], hairpin=True))
    assert got[(V, A)] and got[(A, V)]


def test_isolated_ports():
    got = _measured(filtered_host(isolated=("p2", "p8", "p9")))
    assert not got[(GW, ST)] and not got[(B, GW)]
    assert got[(GW, A)] and got[(A, ST)]
