"""The pure core of mvplan: vocabulary, model, graph, rules, reachability, compiler and ops.

Nothing under ``planner.core`` performs I/O or imports flask, sqlite3, subprocess, socket or
pyroute2 (``tests/test_layout.py`` enforces it); the edges (``planner.netlink``, ``planner.lab``,
``planner.web``, ``planner.cli``) call into it.
"""
