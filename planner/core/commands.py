"""Shell commands that fixes and findings suggest (text only; nothing here runs them)."""
from __future__ import annotations

from shlex import quote

from .ids import is_switch_port, parse_bridge_port, parse_switch_port, short

__all__ = ["hairpin_command", "hairpin_commands", "allow_mac_command", "isolation_command", "q"]


def q(name: str) -> str:
    return quote(name)


def hairpin_command(port: str, on: bool = True) -> str:
    """``bridge link set ... hairpin on|off`` for a switch port (``switch:SW/P``) or a host bridge port."""
    onoff = "on" if on else "off"
    if is_switch_port(port):
        ref = parse_switch_port(port)
        return f"bridge link set dev {q(ref.port)} hairpin {onoff} (on switch {ref.switch})"
    return f"bridge link set dev {q(short(port))} hairpin {onoff}"


def hairpin_commands(port: str) -> tuple[str, ...]:
    """The three ways to turn hairpin on for a port (a Linux bridge standing in for a switch has its name)."""
    if is_switch_port(port):
        ref = parse_switch_port(port)
        br, p = ref.switch, ref.port
    else:
        bref = parse_bridge_port(port)
        br, p = bref.bridge, bref.port
    return (f"bridge link set dev {q(p)} hairpin on",
            f"brctl hairpin {q(br)} {q(p)} on",
            f"echo 1 > /sys/class/net/{br}/brif/{p}/hairpin_mode")


def allow_mac_command(port: str, mac: str) -> str:
    """Port security that admits ``mac`` on a switch port, as a Linux bridge spells it."""
    ref = parse_switch_port(port)
    return f"bridge fdb add {mac} dev {q(ref.port)} master static (on switch {ref.switch})"


def isolation_command(port: str, on: bool = False) -> str:
    ref = parse_switch_port(port)
    return f"bridge link set dev {q(ref.port)} isolated {'on' if on else 'off'} (on switch {ref.switch})"
