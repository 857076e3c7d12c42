"""Canonical vocabulary of mvplan: kernel words, limits, name patterns and the JSON Schema of a design.

Every other module takes its names from here - the loader, the rules, the exporters, the applier
and the browser (which receives :func:`vocabulary` from the server) - so none of them can disagree
about what "vepa" or "hairpin" means. The JSON Schema (:func:`design_schema`) is *generated* from
these constants; ``mvplan schema`` prints it.

>>> "vepa" in MODES and DEFAULT_MODE in MODES
True
>>> name_ok(IFNAME_RE, "eth0"), name_ok(IFNAME_RE, "eth0\\n"), name_ok(IFNAME_RE, "-x")
(True, False, False)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "FORMAT_VERSION", "CHILD_TYPES", "MODES", "DEFAULT_MODE", "PARENT_KINDS", "STATES", "PLATFORMS", "Platform",
    "IFNAME_MAX_BYTES", "NAME_MAX", "MTU_MIN", "MTU_MAX", "DEFAULT_MTU",
    "IFNAME_RE", "NAME_RE", "MAC_RE", "name_ok", "design_schema", "vocabulary",
]

FORMAT_VERSION = 1

CHILD_TYPES = ("macvlan", "macvtap")
#: macvlan modes in the kernel's own words (``ip link add ... type macvlan mode M``).
MODES = ("bridge", "vepa", "private", "passthru", "source")
#: The kernel and iproute2 default to ``vepa``; Docker and CNI default to ``bridge``.
#: mvplan resolves a missing mode to ``bridge`` when the design is loaded (what people who
#: draw containers on a LAN expect), and every exporter writes the mode explicitly, so no
#: output ever depends on anybody's default.
DEFAULT_MODE = "bridge"
PARENT_KINDS = ("ethernet", "wifi", "loopback", "veth")
STATES = ("up", "down")


@dataclass(frozen=True)
class Platform:
    """Where a parent NIC lives, and what its upstream does by default with frames from MACs other
    than the NIC's own (``filters``): the sentence for a finding and the fix on that platform."""

    name: str
    filters: bool
    upstream: str
    fix: str


#: ``platform:`` of a parent. A filtering platform makes the switch port the parent is cabled to
#: accept only the NIC's own MAC (plus a port's ``allowed_macs``) - mvplan's lab builds that as a
#: Linux bridge port with ``locked on``, ``learning off`` and a static fdb entry per allowed MAC.
PLATFORMS: dict[str, Platform] = {p.name: p for p in (
    Platform("bare-metal", False, "a physical switch port (no port security unless the port lists allowed_macs)",
             "add the children's MACs to the port's allowed list, or raise its port-security limit"),
    Platform("kvm", False, "a Linux bridge or Open vSwitch port of the hypervisor, which accepts every MAC "
                           "(unless a libvirt no-mac-spoofing filter is set)",
             "remove the no-mac-spoofing filter from the guest's interface"),
    Platform("esxi", True, "a vSphere port group that rejects forged transmits and MAC address changes (the "
                           "distributed switch default) and, with promiscuous mode rejected, does not deliver "
                           "frames for other MACs to the VM",
             "set Promiscuous mode, MAC address changes and Forged transmits to Accept on the port group, or turn "
             "on MAC learning on the distributed port group"),
    Platform("hyper-v", True, "a Hyper-V virtual switch port with MAC address spoofing off (the default): frames "
                              "from other source MACs are dropped",
             "Set-VMNetworkAdapter -VMName <vm> -MacAddressSpoofing On"),
    Platform("virtualbox", True, "a bridged adapter with Promiscuous Mode 'Deny' (the default): the VM sends and "
                                 "receives only its own MAC's frames",
             "VBoxManage modifyvm <vm> --nicpromisc1 allow-all (Promiscuous Mode: Allow All)"),
    Platform("aws", True, "an ENI: the VPC accepts and delivers frames of the ENI's own MAC only, and no other MAC "
                          "can be allowed",
             "use ipvlan (its children share the NIC's MAC), or give each workload its own ENI"),
    Platform("gcp", True, "a Compute Engine vNIC: the VPC forwards only the vNIC's own MAC",
             "use ipvlan (its children share the NIC's MAC), or give each workload its own vNIC / alias IP range"),
    Platform("azure", True, "an Azure NIC: the virtual network drops frames from any MAC but the NIC's",
             "use ipvlan (its children share the NIC's MAC), or give each workload its own NIC"),
)}

#: IFNAMSIZ is 16 including the terminating NUL.
IFNAME_MAX_BYTES = 15
NAME_MAX = 63
MTU_MIN, MTU_MAX, DEFAULT_MTU = 68, 65535, 1500

# Whole-string patterns. ``(?![\s\S])`` after ``$`` makes the end strict in Python (whose ``$`` also
# matches before a final newline) and means the same in ECMA-262, so the JSON Schema, the loader
# and the browser accept exactly the same strings.
_END = r"$(?![\s\S])"
#: Interface names: the kernel forbids '/', ':' and whitespace; we also refuse everything a shell
#: or a YAML file would mangle, and a leading '-' that ip(8) would read as an option.
IFNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0," + str(IFNAME_MAX_BYTES - 1) + "}" + _END
#: Names of hosts, namespaces, switches, stations: objects that are not interfaces.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0," + str(NAME_MAX - 1) + "}" + _END
MAC_PATTERN = r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}" + _END
IFNAME_RE = re.compile(IFNAME_PATTERN)
NAME_RE = re.compile(NAME_PATTERN)
MAC_RE = re.compile(MAC_PATTERN)


def name_ok(pattern: re.Pattern[str], text: object) -> bool:
    """Whether ``text`` is a string the whole of which ``pattern`` accepts."""
    return isinstance(text, str) and pattern.match(text) is not None


# --------------------------------------------------------------------------- the JSON Schema
def _obj(required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        out["required"] = list(required)
    return out


def _ref(name: str, **extra: Any) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}", **extra}


def _list(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


_L3 = {"addresses": _ref("addresses"), "neighbors": _ref("neighbors"), "routes": _ref("routes"),
       "forwarding": {"type": "boolean",
                      "description": "the interface's namespace routes between its subnets (net.ipv4.ip_forward=1, "
                                     "net.ipv6.conf.all.forwarding=1): a gateway"}}


def _defs() -> dict[str, Any]:
    return {
        "ifname": {"type": "string", "pattern": IFNAME_PATTERN},
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "mac": {"type": "string", "pattern": MAC_PATTERN},
        "cidr": {"type": "string",
                 "description": "IPv4 or IPv6 address with prefix length, e.g. 10.0.0.5/24 or 2001:db8::5/64"},
        "mtu": {"type": "integer", "minimum": MTU_MIN, "maximum": MTU_MAX},
        "state": {"enum": list(STATES)},
        "addresses": _list("cidr"),
        "route": _obj(("to",),
                      to={"type": "string", "description": "destination prefix, e.g. 10.0.0.5/32, 2001:db8:1::/64 "
                                                           "or default (the gateway's family)"},
                      via={"type": "string",
                           "description": "optional gateway (IPv4 or IPv6, the destination's family)"}),
        "routes": _list("route"),
        "neighbor": _obj(peer={"type": "string",
                               "description": "endpoint reference: host/name, host/ns:NS/name or station:NAME"},
                         address={"type": "string"}, mac=_ref("mac")),
        "neighbors": {"oneOf": [{"const": "all-peers"}, _list("neighbor")]},
        "uplink": _obj(("port",), switch=_ref("name"), bridge=_ref("ifname"), port=_ref("ifname")),
        "host": _obj(("name",), name=_ref("name"), parents=_list("parent"), children=_list("child"),
                     bridges=_list("bridge")),
        "parent": _obj(("name",), name=_ref("ifname"), kind={"enum": list(PARENT_KINDS)}, mac=_ref("mac"),
                       mtu=_ref("mtu"), state=_ref("state"), **_L3, uplink=_ref("uplink"),
                       platform={"enum": list(PLATFORMS),
                                 "description": "where the NIC lives; a filtering platform's upstream accepts only the "
                                                "NIC's own MAC"}),
        "child": _obj(("name", "parent"), name=_ref("ifname"), type={"enum": list(CHILD_TYPES)},
                      parent=_ref("ifname"), mode={"enum": list(MODES)}, mac=_ref("mac"), mtu=_ref("mtu"),
                      state=_ref("state"), nopromisc={"type": "boolean"},
                      source_macs={"type": "array", "items": _ref("mac")}, namespace=_ref("name"), **_L3),
        "veth_peer": _obj(("name",), name=_ref("ifname"), namespace=_ref("name"), mac=_ref("mac"), mtu=_ref("mtu"),
                          state=_ref("state"), **_L3),
        "bridge_port": _obj(
            ("name",),
            name=_ref("ifname", description="bridge-side interface (veth end), or the enslaved device when "
                                            "'enslave' is true"),
            hairpin={"type": "boolean"},
            enslave={"type": "boolean", "description": "the port is an existing host device (e.g. a parent NIC) "
                                                       "rather than a new veth"},
            peer=_ref("veth_peer")),
        "bridge": _obj(("name",), name=_ref("ifname"), mac=_ref("mac"), mtu=_ref("mtu"), state=_ref("state"), **_L3,
                       ports=_list("bridge_port")),
        "switch_port": _obj(("name",), name=_ref("ifname"),
                            hairpin={"type": "boolean", "description": "reflective relay (802.1Qbg): send frames "
                                                                       "back out the port they came in on"},
                            isolated={"type": "boolean", "description": "client isolation: frames from an isolated "
                                                                        "port never go out of another isolated port"},
                            allowed_macs={"type": "array", "items": _ref("mac"),
                                          "description": "port security: the port accepts frames only from these "
                                                         "source MACs and the MAC of the device cabled to it"}),
        "switch": _obj(("name",), name=_ref("name"), ports=_list("switch_port")),
        "station": _obj(("name", "uplink"), name=_ref("name"), uplink=_ref("uplink"), mac=_ref("mac"), **_L3),
    }


@lru_cache(maxsize=1)
def design_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of design format v1, generated from this module's vocabulary."""
    top = _obj(
        version={"const": FORMAT_VERSION, "description": f"Format version; always {FORMAT_VERSION}."},
        name={"type": "string", "minLength": 1, "maxLength": 200},
        description={"type": "string", "maxLength": 10000},
        hosts=_list("host"),
        parents={**_list("parent"), "description": "Single-host shorthand: parents of the implicit host 'host'."},
        children={**_list("child"), "description": "Single-host shorthand: children of the implicit host 'host'."},
        bridges={**_list("bridge"), "description": "Single-host shorthand: Linux bridges of the implicit host 'host'."},
        switches=_list("switch"), stations=_list("station"),
        layout={"type": "object", "description": "Editor positions; ignored by every rule."},
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://mvplan.invalid/schemas/design-v{FORMAT_VERSION}.json",
            "title": f"mvplan design, format v{FORMAT_VERSION}", **top, "$defs": _defs()}


def vocabulary() -> dict[str, Any]:
    """What the browser needs to know of the vocabulary (embedded in every editor page)."""
    return {"format_version": FORMAT_VERSION, "modes": list(MODES), "default_mode": DEFAULT_MODE,
            "child_types": list(CHILD_TYPES), "parent_kinds": list(PARENT_KINDS), "states": list(STATES),
            "platforms": {p.name: {"filters": p.filters, "upstream": p.upstream, "fix": p.fix}
                          for p in PLATFORMS.values()},
            "ifname_max_bytes": IFNAME_MAX_BYTES, "mtu": {"min": MTU_MIN, "max": MTU_MAX, "default": DEFAULT_MTU},
            "patterns": {"ifname": IFNAME_PATTERN, "name": NAME_PATTERN, "mac": MAC_PATTERN}}
