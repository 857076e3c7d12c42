"""Unit tests of the applier's pure parts - no root needed (they live next to the kernel tests of
the same modules): netlink message packing checked with pyroute2's own decoders, the undo plan,
the journal format, the progress display."""
from __future__ import annotations

import io
import json
import signal
import subprocess
import sys

import pytest
from designs import KITCHEN
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.ndmsg import ndmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from planner.core.compiler import compile_plan
from planner.core.livestate import (
    LiveAddress,
    LiveHost,
    LiveLink,
    LiveNamespace,
    LiveNeighbor,
    LiveRoute,
)
from planner.core.model import design_from_dict
from planner.core.ops import (
    OP_TYPES,
    AddAddress,
    AddNeighbor,
    AddRoute,
    CreateMacvlan,
    CreateNamespace,
    CreateVeth,
    DeleteLink,
    MoveToNamespace,
    SetAlias,
    SetHairpin,
    SetLinkDown,
    SetLinkUp,
    SetMode,
    SetSourceMacs,
)
from planner.netlink import _nl
from planner.netlink.apply import Journal, repair_ops, undo_ops
from planner.netlink.execute import NETLINK_CALLS, Executor
from planner.netlink.progress import Progress as _Progress


# --------------------------------------------------------------------------- packing
class _Rec:
    """A fake channel: records requests instead of sending them."""

    def __init__(self, log):
        self.log = log

    def request(self, mtype, flags, body):
        self.log.append((mtype, flags, _nl.HDR.pack(16 + len(body), mtype, flags, 1, 0) + body))

    def link_index(self, name):
        return {"eth0": 2, "br0": 5, "web0": 9}.get(name, 11)


class _FakeTarget:
    def __init__(self):
        self.log = []

    def channel(self, ns):
        return _Rec(self.log)

    def fd(self, ns):
        return 33

    def describe(self, ns=""):
        return "fake"


def _sent(op):
    t = _FakeTarget()
    Executor(t).run(op)
    (mtype, flags, data), = t.log
    return mtype, flags, data


B = dict(subject="h/x", host="h")


def test_create_macvlan_message_decodes_in_pyroute2():
    mtype, flags, data = _sent(CreateMacvlan(**B, name="mv0", link="eth0", mode="passthru", mac="02:00:00:00:00:01",
                                             mtu=1400, nopromisc=True, link_kind="macvtap", netns="web"))
    assert mtype == _nl.RTM["NEWLINK"] and flags & 0x600 == 0x600  # create | excl
    m = ifinfmsg(data)
    m.decode()
    assert (m.get_attr("IFLA_IFNAME"), m.get_attr("IFLA_LINK"), m.get_attr("IFLA_MTU")) == ("mv0", 2, 1400)
    assert m.get_attr("IFLA_ADDRESS") == "02:00:00:00:00:01" and m.get_attr("IFLA_NET_NS_FD") == 33
    assert m.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND") == "macvtap"
    assert m.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA", "IFLA_MACVTAP_MODE") == "passthru"


def test_create_veth_and_settings_decode_in_pyroute2():
    _, _, data = _sent(CreateVeth(**B, name="vp1", peer="eth0", peer_ns="ctr", mac="02:00:00:00:00:02",
                                  peer_mac="02:00:00:00:00:03", peer_mtu=1500))
    m = ifinfmsg(data)
    m.decode()
    peer = m.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA", "VETH_INFO_PEER")
    assert m.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND") == "veth"
    assert (peer.get_attr("IFLA_IFNAME"), peer.get_attr("IFLA_ADDRESS"), peer.get_attr("IFLA_NET_NS_FD")) == \
        ("eth0", "02:00:00:00:00:03", 33)
    _, _, data = _sent(SetAlias(**B, name="vp1", alias="mvplan:d:h/vp1"))
    m = ifinfmsg(data)
    m.decode()
    assert m.get_attr("IFLA_IFALIAS") == "mvplan:d:h/vp1" and m.get_attr("IFLA_IFNAME") == "vp1"
    _, _, data = _sent(SetMode(**B, name="mv0", mode="private"))
    m = ifinfmsg(data)
    m.decode()
    assert m.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA", "IFLA_MACVLAN_MODE") == "private"
    _, _, data = _sent(SetHairpin(**B, name="vp0", bridge="br0", on=True))
    m = ifinfmsg(data)
    m.decode()
    assert m.get_nested("IFLA_LINKINFO", "IFLA_INFO_SLAVE_KIND") == "bridge"
    assert m.get_nested("IFLA_LINKINFO", "IFLA_INFO_SLAVE_DATA", "IFLA_BRPORT_MODE") == 1
    _, _, data = _sent(SetLinkUp(**B, name="mv0"))
    m = ifinfmsg(data)
    m.decode()
    assert m["flags"] & 1 and m["change"] & 1
    _, _, data = _sent(MoveToNamespace(**B, name="mvt1", target_ns="web", new_name="web0"))
    m = ifinfmsg(data)
    m.decode()
    assert m["index"] == 11 and m.get_attr("IFLA_IFNAME") == "web0" and m.get_attr("IFLA_NET_NS_FD") == 33


def test_source_mac_list_decodes():
    _, _, data = _sent(SetSourceMacs(**B, name="src0", macs=("02:00:00:00:aa:01", "02:00:00:00:aa:02")))
    m = ifinfmsg(data)
    m.decode()
    info = m.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
    assert info.get_attr("IFLA_MACVLAN_MACADDR_MODE") == "set"
    macs = info.get_attr("IFLA_MACVLAN_MACADDR_DATA").get_attrs("IFLA_MACVLAN_MACADDR")
    assert macs == ["02:00:00:00:aa:01", "02:00:00:00:aa:02"]


def test_layer3_messages_decode_in_pyroute2():
    _, _, data = _sent(AddAddress(**B, name="eth0", address="10.0.0.5/24"))
    m = ifaddrmsg(data)
    m.decode()
    assert (m["index"], m["prefixlen"], m.get_attr("IFA_LOCAL"), m.get_attr("IFA_ADDRESS")) == \
        (2, 24, "10.0.0.5", "10.0.0.5")
    _, _, data = _sent(AddNeighbor(**B, name="eth0", address="10.0.0.1", mac="02:00:00:00:00:09"))
    m = ndmsg(data)
    m.decode()
    assert (m["ifindex"], m["state"], m.get_attr("NDA_DST"), m.get_attr("NDA_LLADDR")) == \
        (2, 0x80, "10.0.0.1", "02:00:00:00:00:09")
    _, _, data = _sent(AddRoute(**B, name="eth0", to="0.0.0.0/0", via="10.0.0.1"))
    m = rtmsg(data)
    m.decode()
    assert (m["dst_len"], m["table"], m["proto"], m.get_attr("RTA_GATEWAY"), m.get_attr("RTA_OIF")) == \
        (0, 254, 3, "10.0.0.1", 2)
    assert m.get_attr("RTA_DST") is None


def test_constants_match_pyroute2():
    names = {}
    for i, x in enumerate(ifinfmsg.nla_map):
        names[x[1] if len(x) == 3 else x[0]] = x[0] if len(x) == 3 else i
    for const in ("IFLA_ADDRESS", "IFLA_IFNAME", "IFLA_MTU", "IFLA_LINK", "IFLA_MASTER", "IFLA_LINKINFO",
                  "IFLA_IFALIAS", "IFLA_NET_NS_FD", "IFLA_EXT_MASK", "IFLA_LINK_NETNSID"):
        assert getattr(_nl, const) == names[const], const


def test_every_op_type_is_executable():
    assert set(NETLINK_CALLS) == set(OP_TYPES)
    assert set(Executor(_FakeTarget())._dispatch) == set(OP_TYPES.values())


def test_attribute_parsing_round_trip():
    buf = _nl.nla_str(3, "abc") + _nl.nla_u32(4, 1500) + _nl.nla_nest(18, _nl.nla_str(1, "bridge"))
    attrs = _nl.parse_attrs(buf, 0, len(buf))
    assert _nl.cstr(attrs[3]) == "abc" and _nl.u32(attrs[4]) == 1500
    inner = _nl.parse_attrs(attrs[18], 0, len(attrs[18]))
    assert _nl.cstr(inner[1]) == "bridge"
    assert _nl.mac_str(_nl.mac_bytes("02:AB:00:00:00:01")) == "02:ab:00:00:00:01"


# --------------------------------------------------------------------------- undo
def test_undo_of_a_fresh_plan_deletes_created_links_where_they_ended_up():
    plan = compile_plan(design_from_dict(KITCHEN))
    undo, notes = undo_ops(plan.ops)
    # a fresh plan cannot know a NIC's MTU before it: said, not guessed
    assert notes == ["not undone: host1/eth1: set MTU 9000 on eth1 (host1/eth1: previous MTU unknown)"]
    # the snapshot taken before apply knows it
    before = LiveHost(name="host1", namespaces=(LiveNamespace(name="", links=(
        LiveLink(name="eth1", state="up", mtu=1500),)),))
    undo, notes = undo_ops(plan.ops, before)
    assert notes == []
    assert [(op.name, op.mtu, op.old) for op in undo if op.kind == "set-mtu"] == [("eth1", 1500, 9000)]
    kinds = [op.kind for op in undo]
    assert set(kinds) <= {"delete-link", "delete-namespace", "set-link-down", "del-address", "del-neighbor",
                          "del-route", "unset-bridge-port", "set-hairpin", "set-mtu"}
    deleted = {(op.ns, op.name) for op in undo if op.kind == "delete-link"}
    assert ("web", "web0") in deleted and not any(n.startswith("mvt") for _, n in deleted)
    # namespaces go after every link in them; NICs brought up go down last
    assert kinds.index("delete-namespace") > max(i for i, k in enumerate(kinds) if k == "delete-link"
                                                 and undo[i].ns)
    assert kinds[-1] == "set-link-down" and {op.name for op in undo if op.kind == "set-link-down"} <= \
        {"eth0", "eth1", "eth2"}


def test_undo_of_a_delete_rebuilds_the_link_with_its_settings():
    rec = CreateMacvlan(**B, ns="", name="web0", link="eth0", mode="vepa", mac="02:00:00:00:00:01", netns="web")
    before = LiveHost(name="h", namespaces=(
        LiveNamespace(name="", links=(LiveLink(name="eth0", state="up"),)),
        LiveNamespace(name="web", links=(LiveLink(name="web0", kind="macvlan", mode="vepa", state="up",
                                                   alias="mvplan:d:h/ns:web/web0", link="eth0", link_ns=""),),
                      addresses=(LiveAddress("web0", "10.0.0.2/24"),),
                      routes=(LiveRoute("web0", "0.0.0.0/0", "10.0.0.1"),),
                      neighbors=(LiveNeighbor("web0", "10.0.0.1", "02:00:00:00:00:09"),))))
    undo, notes = undo_ops([DeleteLink(**B, ns="web", name="web0", link_kind="macvlan", recreate=rec)], before)
    assert [op.kind for op in undo] == ["create-macvlan", "set-alias", "add-address", "add-neighbor", "set-link-up",
                                        "add-route"]
    assert undo[0] == rec


def test_undo_of_a_move_and_unknown_inverses():
    ops = [CreateNamespace(**B, name="web"),
           CreateMacvlan(**B, name="mvt1", link="eth0", mode="bridge"),
           MoveToNamespace(**B, name="mvt1", target_ns="web", new_name="web0"),
           SetLinkUp(**B, ns="web", name="web0"),
           SetMode(**B, name="theirs", mode="vepa")]  # no 'old': cannot be undone
    undo, notes = undo_ops(ops)
    assert [(op.kind, op.ns, getattr(op, "name", None)) for op in undo] == [
        ("delete-link", "web", "web0"), ("delete-namespace", "", "web")]
    assert notes and "not undone" in notes[0]
    assert isinstance(SetLinkDown(**B, name="x").inverse(), SetLinkUp)


def test_repair_adds_back_what_the_kernel_flushed():
    before = LiveHost(name="h", namespaces=(LiveNamespace(
        name="", links=(LiveLink(name="eth0", state="up"),), addresses=(LiveAddress("eth0", "10.0.0.2/24"),),
        routes=(LiveRoute("eth0", "10.9.0.0/16", "10.0.0.1"),),
        neighbors=(LiveNeighbor("eth0", "10.0.0.1", "02:00:00:00:00:09"),)),))
    now = LiveHost(name="h", namespaces=(LiveNamespace(name="", links=(LiveLink(name="eth0", state="up"),),
                                                       addresses=(LiveAddress("eth0", "10.0.0.2/24"),)),))
    assert [op.kind for op in repair_ops(before, now)] == ["add-neighbor", "add-route"]
    assert repair_ops(before, before) == []


# --------------------------------------------------------------------------- journal, progress
def test_journal_round_trip(tmp_path):
    j = Journal(tmp_path / "t.journal")
    ops = [{"op": "set-link-up", "n": k} for k in range(5)]
    j.start({"host": "h", "ops": ops})
    assert j.load()[1] == 0
    for k in range(3):
        j.done(k)
        assert Journal(j.path).load()[1] == k + 1  # visible in the file at once, before any close
    j.state("applied")
    with open(j.path, "a") as f:
        f.write('{"state": "torn')  # a process killed mid-write
    header, done, states = j.load()
    assert header == {"host": "h", "ops": ops} and done == 3 and states == ["applied"]
    j.finish()
    assert not j.path.exists() and (tmp_path / "t.last").exists()


@pytest.mark.parametrize("header_size", [10, 4095, 4096, 4097, 70_000])
def test_journal_done_map_at_any_offset(tmp_path, header_size):
    """The map starts wherever the header ends (mmap offsets are page-aligned)."""
    j = Journal(tmp_path / "t.journal")
    ops = [{"op": "x"}] * 3
    pad = "p" * max(0, header_size - len(json.dumps({"ops": ops, "pad": ""}, separators=(",", ":"))) - 1)
    j.start({"ops": ops, "pad": pad})
    j.done(0)
    j.done(1)
    j.state("applied")
    header, done, states = Journal(j.path).load()
    assert header["pad"] == pad and done == 2 and states == ["applied"]
    j.done(2)
    assert Journal(j.path).load()[1] == 3
    j.finish(keep=True)
    assert j.path.read_text().splitlines()[1] == "+++"


def test_journal_of_an_earlier_version_loads(tmp_path):
    """Before the done map, a journal had one line per completed op: its position."""
    path = tmp_path / "t.journal"
    path.write_text('{"host":"h","ops":[{},{},{}]}\n0\n1\n{"state":"applied","at":1}\n')
    header, done, states = Journal(path).load()
    assert done == 2 and states == ["applied"]


def test_a_killed_process_leaves_its_done_marks(tmp_path):
    """A store into the mapping is in the page cache at once: SIGKILL right after it keeps it."""
    path = tmp_path / "t.journal"
    code = (f"from pathlib import Path; import os, signal; from planner.netlink.journal import Journal; "
            f"j = Journal(Path({str(path)!r})); j.start({{'ops': [{{}}] * 4}}); j.done(0); j.done(1); "
            f"os.kill(os.getpid(), signal.SIGKILL)")
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -signal.SIGKILL
    assert Journal(path).load()[1] == 2


@pytest.mark.parametrize("total,force,shown", [(10, None, False), (100, None, False), (100, True, True),
                                               (10, True, True)])
def test_progress_only_on_a_terminal_or_when_forced(total, force, shown):
    out = io.StringIO()
    p = _Progress(total, out, force)
    assert p.on is shown
    if p.on:
        p.tick(5, SetLinkUp(**B, name="x"))
        p.end(total)
        assert f"{total}/{total} ops applied" in out.getvalue()


def test_result_to_dict_is_json():
    from planner.core.compiler import Plan
    from planner.netlink.apply import ApplyResult

    r = ApplyResult(host="h", target="t", plan=Plan(design="d"), dry_run=False, applied=0)
    assert json.loads(json.dumps(r.to_dict()))["ok"] is True


@pytest.mark.parametrize("text", ["10.0.0.1/24", "10.1.2.3/32", "0.0.0.0/0", "fd00::1/64", "2001:db8::5/128",
                                  "::ffff:1.2.3.4/96", "10.0.0.1/255.255.255.0", "10.0.0.1", "fe80::1"])
def test_address_bytes_agree_with_ipaddress(text):
    """The executor's fast parse of ``ADDRESS/PREFIX`` is what ``ipaddress`` says, for every form."""
    import ipaddress

    from planner.netlink.execute import _address_bytes

    iface = ipaddress.ip_interface(text)
    assert _address_bytes(text) == (iface.ip.packed, iface.network.prefixlen, 10 if iface.version == 6 else 2)
