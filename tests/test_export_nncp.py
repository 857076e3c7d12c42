"""NNCPs: host names that no Kubernetes node can have are refused or mapped, never copied into a
selector that matches nothing; every exported NNCP validates against the CRD's openAPIV3Schema
(vendored in tests/data/schemas, see its README) and the label rules the API server applies."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from test_exporters import KITCHEN, TWO_HOSTS, VEPA

from planner.core.model import design_from_dict, load_design
from planner.exporters import export
from planner.exporters._k8s import NodeNameError

SCHEMA = json.loads((Path(__file__).parent / "data" / "schemas" / "nncp-v1.openapi.json").read_text())
#: Kubernetes' own rules (apimachinery validation): label values, qualified names (label keys)
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                       r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _validate(doc: dict) -> None:
    from openapi_schema_validator import OAS30Validator

    errors = sorted(OAS30Validator(SCHEMA).iter_errors(doc), key=str)
    assert not errors, [e.message for e in errors]
    for key, value in doc["spec"]["nodeSelector"].items():
        assert QUALIFIED.match(key) and len(key.split("/")[-1]) <= 63, key
        assert LABEL_VALUE.match(value) and len(value) <= 63, value
    assert re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", doc["metadata"]["name"])


def _hosts(*names: str) -> dict:
    return {"name": "n", "hosts": [{"name": n, "parents": [{"name": "eth0"}],
                                    "children": [{"name": "mv0", "parent": "eth0",
                                                  "addresses": [f"10.0.0.{k + 2}/24"]}]}
                                   for k, n in enumerate(names)]}


@pytest.mark.parametrize("design", [VEPA, KITCHEN, None], ids=["vepa-hairpin", "kitchen-sink", "two-hosts"])
def test_exported_nncps_validate_against_the_crd_schema(design):
    d = design_from_dict(TWO_HOSTS) if design is None else load_design(design)
    files = export(d, "nmstate", kubernetes=True).files
    assert files
    for text in files.values():
        _validate(yaml.safe_load(text))


def test_a_schema_violation_is_caught():
    """The validator is not vacuous: a selector value of the wrong type fails."""
    from openapi_schema_validator import OAS30Validator

    doc = yaml.safe_load(export(load_design(VEPA), "nmstate", kubernetes=True).files["host1.nncp.yaml"])
    doc["spec"]["nodeSelector"]["kubernetes.io/hostname"] = 7
    assert list(OAS30Validator(SCHEMA).iter_errors(doc))


@pytest.mark.parametrize("host", ["Node_A-", "node_a", "web.", "a..b", "Web.Node_"])
def test_a_host_no_node_can_be_named_is_refused_with_the_fix(host):
    d = design_from_dict(_hosts("ok", host))  # a fine design host name, but no Kubernetes node name
    with pytest.raises(NodeNameError) as exc:
        export(d, "nmstate", kubernetes=True)
    msg = str(exc.value)
    assert repr(host) in msg and "--node" in msg and "match no node" in msg


def test_uppercase_is_lowercased_with_a_warning_and_node_names_map_hosts():
    d = design_from_dict(_hosts("NodeA", "Node_B-"))
    res = export(d, "nmstate", kubernetes=True, node_names={"Node_B-": "node-b"})
    a = yaml.safe_load(res.files["NodeA.nncp.yaml"])
    b = yaml.safe_load(res.files["Node_B-.nncp.yaml"])
    assert a["spec"]["nodeSelector"] == {"kubernetes.io/hostname": "nodea"}
    assert b["spec"]["nodeSelector"] == {"kubernetes.io/hostname": "node-b"}
    assert any(w.startswith("host NodeA: Kubernetes node names are lowercase") for w in res.warnings)
    for doc in (a, b):
        _validate(doc)
    with pytest.raises(NodeNameError, match="node name 'Bad_Node'"):
        export(d, "nmstate", kubernetes=True, node_names={"Node_B-": "Bad_Node"})


def test_multus_pods_are_pinned_to_the_same_node_names():
    d = design_from_dict({**_hosts("NodeA"), "hosts": [{**_hosts("NodeA")["hosts"][0], "children": [
        {"name": "net1", "parent": "eth0", "namespace": "Web_1", "addresses": ["10.0.0.2/24"]}]}]})
    res = export(d, "multus")
    docs = list(yaml.safe_load_all(res.files["multus.yaml"]))
    pod = next(x for x in docs if x["kind"] == "Pod")
    assert pod["spec"]["nodeName"] == "nodea" and pod["metadata"]["name"] == "web-1"
    assert any("pod names are DNS-1123 labels" in w for w in res.warnings)
