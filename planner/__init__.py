"""mvplan: plan, check, predict and apply Linux macvlan topologies.

The pure core (model, rules, reachability, compiler) has no side effects; the edges
(netlink applier, lab, web, CLI) call it.
"""
__version__ = "0.1.0"
