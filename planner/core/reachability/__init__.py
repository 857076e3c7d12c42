"""Predict IPv4 reachability between every pair of endpoints, the way the kernel decides it.

A verdict means exactly: ``ping -c1 -I <A's address> <B's address>`` run in A's namespace gets a
reply, starting from cold neighbour caches (only static entries present).

The prediction replays that ping symbolically:

1. A's namespace picks the egress interface E for B's address (longest prefix; between equal
   prefixes the route added first wins, i.e. design order). Same namespace = local delivery.
2. Unless E has a static neighbour entry, E broadcasts an ARP request; every interface of B's
   namespace that receives it answers (``arp_ignore=0``) and learns A's MAC; the first answer
   must travel back to E.
3. The echo request is sent to the learned MAC and must land in B's namespace.
4. B's namespace routes the reply, resolves A (static entry, the entry learned in step 2 on
   that interface, or its own ARP exchange) and the echo reply must land in A's namespace.

Frames are carried by a model of the kernel's data path (``drivers/net/macvlan.c``,
``net/bridge``): a child's transmit path by mode, the parent's receive handler (including the
"reflected multicast from a private/source child goes back only to the sender" rule, the
source-mode MAC lists and passthru), veth pairs, and Linux bridges / external switches that
flood and never send a frame back out its ingress port unless that port has hairpin on.

Endpoints that behave identically (children of one parent, same mode and neighbour policy,
each alone in its own namespace) are grouped into classes; verdicts are computed per pair of
classes, so a design with 10,000 children on 100 parents needs a few hundred simulations, not
10^8.
"""
from __future__ import annotations

from .predict import Prediction, explain, predict
from .verdict import REASONS, Verdict
from .whatif import apply_what_if

__all__ = ["Verdict", "Prediction", "predict", "explain", "apply_what_if", "REASONS"]
