"""Kubernetes names: design hosts as node names, namespaces as pod names.

A NodeNetworkConfigurationPolicy selects its node with ``kubernetes.io/hostname: NAME`` and a pod
is pinned with ``nodeName: NAME``; both must be the node's real name, a lowercase DNS-1123
subdomain (the kubelet lowercases the machine's hostname). A design host that is not one would be
copied into a selector that matches no node, and the policy would silently apply nowhere: mvplan
maps an uppercase name to its lowercase form (with a warning) and refuses anything else, unless
the caller says which node a host is (``node_names``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from planner.core.errors import MvplanError

__all__ = ["NodeNameError", "node_name", "pod_name", "DNS1123_LABEL", "DNS1123_SUBDOMAIN"]

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
#: a label value (what kubernetes.io/hostname holds) is at most 63 characters
LABEL_VALUE_MAX = 63


class NodeNameError(MvplanError, ValueError):
    """A design host cannot stand for a Kubernetes node: the message names it and the fix."""


def _is_node_name(text: str) -> bool:
    return len(text) <= LABEL_VALUE_MAX and DNS1123_SUBDOMAIN.match(text) is not None


def node_name(host: str, node_names: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(the node name for ``host``, a warning when it was mapped); :class:`NodeNameError` when the
    host is no usable node name and ``node_names`` does not say which node it is."""
    given = (node_names or {}).get(host)
    if given is not None:
        if not _is_node_name(given):
            raise NodeNameError(f"node name {given!r} given for host {host!r} is not a Kubernetes node name "
                                "(lowercase letters, digits, '-' and '.', starting and ending with a letter or "
                                f"digit, at most {LABEL_VALUE_MAX} characters)")
        return given, None
    if _is_node_name(host):
        return host, None
    lower = host.lower()
    if _is_node_name(lower):
        return lower, (f"host {host}: Kubernetes node names are lowercase (the kubelet lowercases the hostname), so "
                       f"the node is selected as kubernetes.io/hostname={lower}")
    raise NodeNameError(
        f"host {host!r} is not a Kubernetes node name (lowercase letters, digits, '-' and '.', starting and ending "
        f"with a letter or digit, at most {LABEL_VALUE_MAX} characters): a kubernetes.io/hostname selector with it "
        "would match no node and the policy would apply nowhere. Rename the host in the design to the node's "
        f"name, or say which node it is (mvplan export --node {host}=NODE)")


def pod_name(namespace: str, taken: set[str]) -> tuple[str, str | None]:
    """A DNS-1123 label for the pod standing for design namespace ``namespace`` (unique in ``taken``),
    and a warning when it differs."""
    base = re.sub(r"[^a-z0-9-]+", "-", namespace.lower()).strip("-")[:LABEL_VALUE_MAX].strip("-") or "pod"
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base[:LABEL_VALUE_MAX - len(str(k)) - 1]}-{k}"
    taken.add(name)
    if name == namespace:
        return name, None
    return name, f"namespace {namespace}: pod names are DNS-1123 labels; the pod is named {name}"
