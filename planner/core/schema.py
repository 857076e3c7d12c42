"""Canonical vocabulary of mvplan: kernel words, limits and the JSON Schema of a design.

Every other module takes its names from here, so the web UI, the CLI, the exporters and the
applier can never disagree about what "vepa" or "hairpin" means.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

__all__ = [
    "FORMAT_VERSION", "CHILD_TYPES", "MODES", "DEFAULT_MODE", "PARENT_KINDS", "STATES",
    "IFNAME_MAX_BYTES", "IFNAME_RE", "NAME_RE", "MAC_RE", "design_schema",
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

#: IFNAMSIZ is 16 including the terminating NUL.
IFNAME_MAX_BYTES = 15
#: Interface names: kernel forbids '/', ':' and whitespace; we also refuse everything a shell
#: or a YAML file would mangle, and a leading '-' that ip(8) would read as an option.
IFNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")
#: Names of hosts, namespaces, switches, stations, designs objects that are not interfaces.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


@lru_cache(maxsize=1)
def design_schema() -> dict:
    """The JSON Schema (draft 2020-12) of design format v1, shipped inside the package."""
    text = resources.files("planner").joinpath("schemas/design-v1.json").read_text("utf-8")
    return json.loads(text)
