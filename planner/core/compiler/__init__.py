"""Design (+ live state) -> a deterministic, ordered list of operations.

The compiler is pure. It works in three steps:

1. **Want.** Every link the design puts on a host becomes a *want*: where it lives (namespace,
   name), what it should look like (a :class:`~planner.core.livestate.LiveLink` whose ``None`` fields
   are "don't care") and, when mvplan creates it, the *recipe* that builds it (create under a
   temporary name, mark it with the ownership alias, move it into its namespace).
2. **Diff.** The wants are compared with a live state - the machine as read by the applier, or,
   without one, the state the design assumes before anything runs (its NICs exist, nothing else
   does). Links whose alias marks them as this design's and that the design no longer wants are
   deleted; so are owned links whose identity changed (kind, lower device, veth peer, passthru-ness,
   nopromisc), which are then rebuilt. A link that is in the way and is *not* ours is an error:
   mvplan never deletes what it did not create. Settings, addresses, neighbours, state and routes
   are then planned as the difference.
3. **Order.** The ops become nodes of a dependency graph (namespace before the links moved into it,
   parent before child, a child before the child declared on it, create -> alias -> move, on each
   link removals before what flushes before additions, addresses and neighbours before the link
   goes up, up before routes, delete before a re-create at the same place) sorted with
   :func:`networkx.lexicographical_topological_sort`. The tie-break key is (host, phase, position
   of the interface in ``design.interfaces``, generation order), so the same design always gives
   the same plan, grouped in readable phases, and addresses and links come up in design order -
   which decides which connected route wins when subnets overlap.

:func:`expected_state` is what a host should look like after apply; compiling against it gives an
empty plan. :meth:`Plan.inverse` is the teardown of a plan; :func:`compile_teardown` plans the
teardown from a live state (only links marked as the design's are deleted). :func:`simulate`
replays ops on a live state with the kernel's rules (what a move, a link going down, a MAC change
or the removal of a link's last IPv4 address flushes, what a delete takes along, what it refuses) -
the tests use it to prove plans are executable and idempotent.

The kernel's flushes are planned for, not left to a second apply: when an op on a link the plan
keeps flushes its neighbour entries or routes, the plan deletes them before that op and adds
what should be there after it (see "layer 3 and the kernel's flushes" in :mod:`.diff`).
"""
from __future__ import annotations

from .diff import compile_plan, compile_teardown
from .plan import Plan
from .simulate import SimulationError, simulate
from .wants import assumed_state, expected_state, far_end_name

__all__ = ["Plan", "compile_plan", "compile_teardown", "expected_state", "assumed_state", "simulate",
           "SimulationError", "far_end_name"]
