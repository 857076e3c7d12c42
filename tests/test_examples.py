"""Every example design loads, checks without errors and predicts what its description says."""
from pathlib import Path

import pytest

from planner.core.model import load_design
from planner.core.reachability import predict, predict_families
from planner.core.rules import check

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))

#: (example, pinger, target, reachable) taken from each example's description
CLAIMS = [
    ("vepa-hairpin", "host1/ns:web/web0", "host1/ns:db/db0", True),
    ("vepa-hairpin", "station:gw", "host1/ns:db/db0", True),
    ("bridge-containers", "node1/ns:web/eth0", "node1/ns:db/eth0", True),
    ("bridge-containers", "node1/ns:api/eth0", "station:gateway", True),
    ("private-isolation", "edge1/ns:tenant-a/mv0", "edge1/ns:tenant-b/mv0", False),
    ("private-isolation", "edge1/ns:tenant-a/mv0", "station:gw", True),
    ("passthru-vm", "hv1/ns:vm0/vm0tap", "hv1/ns:svc1/mv0", True),
    ("passthru-vm", "station:gw", "hv1/ns:vm0/vm0tap", True),
    ("host-shim", "host1/mvshim", "host1/ns:app1/eth0", True),
    ("host-shim", "host1/eth0", "host1/ns:app2/eth0", True),
    ("host-shim", "host1/ns:app1/eth0", "host1/eth0", True),
    ("two-parent-host", "host1/ns:a1/mv0", "host1/ns:b1/mv0", True),
    ("two-parent-host", "host1/ns:a1/mv0", "host1/ns:a2/mv0", False),
]


def test_there_are_examples():
    assert {p.stem for p in EXAMPLES} >= {c[0] for c in CLAIMS}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_checks_without_errors(path):
    design = load_design(path)
    assert design.description, "examples explain themselves"
    assert not [f for f in check(design) if f.severity == "error"]
    assert predict(design).endpoints


@pytest.mark.parametrize("name,a,b,expected", CLAIMS)
def test_example_claims(name, a, b, expected):
    design = load_design(Path(__file__).parent.parent / "examples" / f"{name}.yaml")
    assert predict(design).verdict(a, b).reachable is expected


@pytest.mark.parametrize("a,b,expected,reason", [
    ("node1/ns:web/eth0", "station:remote", True, "OK"),
    ("station:remote", "node1/ns:api/eth0", True, "OK"),
    ("node1/ns:batch/eth0", "node1/ns:web/eth0", False, "NDP_UNANSWERED"),
    ("node1/ns:batch/eth0", "station:remote", True, "OK"),
])
def test_dual_stack_example_over_ipv6(a, b, expected, reason):
    design = load_design(Path(__file__).parent.parent / "examples" / "dual-stack-gateway.yaml")
    preds = predict_families(design)
    v = preds[6].verdict(a, b)
    assert (v.reachable, str(v.reason), v.family) == (expected, reason, 6)
    assert preds[4].reachable(a, b) is expected
    if expected and "remote" in a + b:
        assert v.routers == ("station:gateway",)


def test_expected_warnings():
    def codes(name):
        return {f.code for f in check(load_design(Path(__file__).parent.parent / "examples" / f"{name}.yaml"))}
    assert "MV201" in codes("private-isolation")
    assert "MV203" in codes("two-parent-host")
    assert "MV111" in codes("passthru-vm")
    assert "MV204" not in codes("host-shim"), "the shim is the fix for MV204"
