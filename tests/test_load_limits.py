"""Hostile input to the loader, on every path that reads a design (a file on the command line,
text, an already-parsed document): each one is refused with the loader's own error naming what
is wrong - never a RecursionError, a ValueError of Python's, a Circular reference or an object
the JSON encoder cannot write - and cheaply (an alias bomb is stopped long before it expands).

Issue 9: "A ~500-byte YAML file with chained anchors in ``layout`` expands to ~150 MB", "an
integer of thousands of digits", "JSON or YAML nested thousands deep", "a recursive alias",
"lone surrogates", "a draft holding NaN", "names and MACs with a trailing newline".
"""
from __future__ import annotations

import json
import time

import pytest
import yaml

from planner.cli import main
from planner.core.errors import DesignError, InputLimitError
from planner.core.model import design_from_dict, load_design, parse_design_text
from planner.core.model.limits import (
    INT_MAX,
    LOCAL,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_EXPANDED_BYTES,
    MAX_LOCAL_NODES,
    MAX_NODES,
    check_document,
    parse_json_text,
)

GOOD = {"version": 1, "name": "ok", "hosts": [{"name": "h1", "parents": [{"name": "eth0"}],
                                               "children": [{"name": "mv0", "parent": "eth0"}]}]}


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    """~500 bytes of YAML whose layout expands to width**levels strings (10**9 here)."""
    lines = ["version: 1", "name: bomb", "layout:", f"  l0: &l0 [{', '.join(['xxxxxxxxxx'] * width)}]"]
    for k in range(1, levels):
        lines.append(f"  l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def problems_of(exc: DesignError) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in exc.problems]


# --------------------------------------------------------------------------- sizes (413 over HTTP)
def test_the_alias_bomb_is_refused_quickly_as_too_large():
    text = alias_bomb()
    assert len(text) < 700
    t0 = time.perf_counter()
    with pytest.raises(InputLimitError) as info:
        parse_design_text(text, "bomb.yaml")
    assert time.perf_counter() - t0 < 2.0
    assert info.value.limit == "nodes" and info.value.maximum == MAX_NODES
    assert "aliases counted where they expand" in str(info.value)


def test_the_alias_bomb_on_the_command_line_is_exit_2_with_the_reason(tmp_path, capsys):
    f = tmp_path / "bomb.yaml"
    f.write_text(alias_bomb())
    assert main(["check", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"more than {MAX_LOCAL_NODES:,} values" in err and "Traceback" not in err
    with pytest.raises(InputLimitError) as info:
        load_design(f)
    assert info.value.maximum == MAX_LOCAL_NODES


def test_a_local_file_may_be_larger_than_an_upload(tmp_path):
    """Issue 8: a 100,000-child design is ~1.2M values; the user's own file loads, a request body of
    the same size is refused (the server's limits are for documents from anyone)."""
    doc = dict(GOOD, layout={"notes": list(range(MAX_NODES + 10))})
    with pytest.raises(InputLimitError) as info:
        design_from_dict(doc)
    assert info.value.limit == "nodes" and info.value.maximum == MAX_NODES
    assert design_from_dict(doc, sizes=LOCAL).name == "ok"
    f = tmp_path / "big.json"
    f.write_text(json.dumps(doc))
    assert load_design(f).name == "ok"
    assert main(["check", str(f)]) == 0
    with pytest.raises(InputLimitError):
        parse_design_text(f.read_text(), "big.json")
    over = dict(GOOD, layout={"notes": [0] * (MAX_LOCAL_NODES + 1)})
    with pytest.raises(InputLimitError) as info:
        design_from_dict(over, sizes=LOCAL)
    assert info.value.maximum == MAX_LOCAL_NODES


def test_too_many_aliases_are_refused_before_they_expand():
    text = "name: many\nlayout:\n  a: &a 1\n  b: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(InputLimitError) as info:
        parse_design_text(text, "x.yaml")
    assert info.value.limit == "aliases"
    few = "name: few\nlayout:\n  a: &a {x: 1}\n  b: [" + ", ".join(["*a"] * 10) + "]\n"
    assert parse_design_text(few, "x.yaml")["layout"]["b"][9] == {"x": 1}


def test_a_document_expanding_past_the_byte_limit_is_refused():
    text = "name: big\nlayout:\n  s: &s " + "x" * 60_000 + "\n  l: &l [" + ", ".join(["*s"] * 150) + "]\n"
    with pytest.raises(InputLimitError) as info:
        parse_design_text(text, "x.yaml")
    assert info.value.limit == "expanded_bytes" and info.value.maximum == MAX_EXPANDED_BYTES


def test_a_parsed_document_with_too_many_values_is_refused():
    doc = dict(GOOD, layout={"many": [0] * (MAX_NODES + 1)})
    with pytest.raises(InputLimitError):
        design_from_dict(doc)
    shared = ["y" * 100] * 1000  # one list object referenced from many places counts every time
    doc = dict(GOOD, layout={f"k{i}": shared for i in range(MAX_NODES // 1000 + 1)})
    with pytest.raises(InputLimitError):
        design_from_dict(doc)


# --------------------------------------------------------------------------- shapes (422 over HTTP)
@pytest.mark.parametrize("text,name", [
    ('{"version": ' + "9" * 5000 + "}", "x.json"),
    ("version: " + "9" * 5000 + "\n", "x.yaml"),
    ("version: " + "9" * 200_000 + "\n", "x.yaml"),
    ('{"layout": {"x": ' + str(2**63) + "}}", "x.json"),
    ("layout: {x: " + str(-(2**63) - 1) + "}\n", "x.yaml"),
    ("layout: {x: !!int 0x" + "f" * 17 + "}\n", "x.yaml"),
])
def test_integers_past_64_bits_are_refused_by_the_loader(text, name):
    t0 = time.perf_counter()
    with pytest.raises(DesignError) as info:
        parse_design_text(text, name)
    assert time.perf_counter() - t0 < 1.0
    assert "9223372036854775807" in str(info.value)
    assert parse_design_text('{"layout": {"x": ' + str(INT_MAX) + "}}", "x.json")["layout"]["x"] == INT_MAX


@pytest.mark.parametrize("text,name", [
    ('{"layout": ' + "[" * 100_000 + "]" * 100_000 + "}", "x.json"),
    ('{"layout": ' + '{"a":' * 5000 + "1" + "}" * 5000 + "}", "x.json"),
    ("layout: " + "[" * 100_000 + "]" * 100_000 + "\n", "x.yaml"),
    ("layout:\n" + "".join("  " * (k + 1) + f"k{k}:\n" for k in range(3000)), "x.yaml"),
])
def test_deep_nesting_is_refused_without_recursion_error(text, name):
    with pytest.raises(DesignError) as info:
        parse_design_text(text, name)
    assert f"nested deeper than {MAX_DEPTH} levels" in str(info.value)


def test_nesting_within_the_limit_is_fine_and_one_past_it_is_not():
    ok: dict = {}
    cur = ok
    for _ in range(MAX_DEPTH - 1):
        cur["a"] = {}
        cur = cur["a"]
    check_document(ok)
    cur["a"] = {}
    with pytest.raises(DesignError) as info:
        check_document(ok)
    assert info.value.problems[0].path.startswith("a.a.a")


@pytest.mark.parametrize("text", [
    "layout: &a {x: *a}\n",
    "layout: &a [1, *a]\n",
    "layout:\n  p: &p {q: [1, {r: *p}]}\n",
])
def test_recursive_aliases_are_refused(text):
    with pytest.raises(DesignError) as info:
        parse_design_text(text, "x.yaml")
    assert "recursive YAML alias" in str(info.value)


def test_a_self_containing_python_document_is_refused():
    doc = dict(GOOD)
    loop: dict = {}
    loop["x"] = loop
    doc["layout"] = loop
    with pytest.raises(DesignError) as info:
        design_from_dict(doc)
    assert "contains itself" in str(info.value)


@pytest.mark.parametrize("doc,path", [
    ({"name": "\ud800"}, "name"),
    ({"name": "ok", "description": "a\udfffb"}, "description"),
    ({"name": "ok", "layout": {"\ud83d": 1}}, "layout"),
    ({"name": "ok", "hosts": [{"name": "h\ud800"}]}, "hosts[0].name"),
])
def test_lone_surrogates_are_refused(doc, path):
    with pytest.raises(DesignError) as info:
        design_from_dict(doc)
    assert problems_of(info.value)[0][0] == path and "surrogate" in problems_of(info.value)[0][1]
    with pytest.raises(DesignError):
        parse_design_text(json.dumps(doc), "x.json")  # "\ud800" escapes in JSON text
    assert design_from_dict(dict(GOOD, name="caf\u00e9 \U0001f600")).name == "caf\u00e9 \U0001f600"


@pytest.mark.parametrize("text,name", [
    ('{"name": "x", "layout": {"x": NaN}}', "x.json"),
    ('{"name": "x", "layout": {"x": -Infinity}}', "x.json"),
    ('{"name": "x", "layout": {"x": 1e999}}', "x.json"),
    ("name: x\nlayout: {x: !!float .nan}\n", "x.yaml"),
    ("name: x\nlayout: {x: !!float -.inf}\n", "x.yaml"),
])
def test_nan_and_infinity_are_refused(text, name):
    with pytest.raises(DesignError) as info:
        parse_design_text(text, name)
    assert "NaN" in str(info.value) or "Infinity" in str(info.value)


def test_nan_in_a_parsed_document_is_refused_with_its_path():
    with pytest.raises(DesignError) as info:
        design_from_dict(dict(GOOD, layout={"positions": {"h1": {"x": float("nan")}}}))
    assert problems_of(info.value)[0][0] == "layout.positions.h1.x"


@pytest.mark.parametrize("text,what", [
    ("name: x\nlayout: {t: !!timestamp 2001-12-14}\n", "date"),
    ("name: x\nlayout: {b: !!binary aGVsbG8=}\n", "bytes"),
    ("name: x\nlayout: {s: !!set {a, b}}\n", "set"),
    ("name: x\nlayout: {1: a}\n", "key 1"),
    ("name: x\nlayout: {~: a}\n", "key None"),
])
def test_values_json_cannot_hold_are_refused(text, what):
    with pytest.raises(DesignError) as info:
        parse_design_text(text, "x.yaml")
    assert what in str(info.value) and info.value.problems[0].path.startswith("layout")


def test_overlong_strings_are_refused():
    with pytest.raises(DesignError) as info:
        design_from_dict(dict(GOOD, layout={"s": "x" * 70_000}))
    assert "70000 characters" in str(info.value)


def test_json_parser_refuses_what_json_loads_accepts():
    for text in ("[NaN]", "[Infinity]", "[1e400]", "[" + "1" * 30 + "]", "[" * 50_000):
        with pytest.raises(DesignError):
            parse_json_text(text)
    with pytest.raises(ValueError):
        parse_json_text("{")
    assert parse_json_text('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


# --------------------------------------------------------------------------- whole-string patterns
NEWLINE_CASES = [
    ("hosts[0].name", lambda d: d["hosts"][0].__setitem__("name", "h1\n")),
    ("hosts[0].parents[0].name", lambda d: d["hosts"][0]["parents"][0].__setitem__("name", "eth0\n")),
    ("hosts[0].parents[0].mac", lambda d: d["hosts"][0]["parents"][0].__setitem__("mac", "02:00:00:00:00:01\n")),
    ("hosts[0].children[0].name", lambda d: d["hosts"][0]["children"][0].__setitem__("name", "mv0\n")),
    ("hosts[0].children[0].parent", lambda d: d["hosts"][0]["children"][0].__setitem__("parent", "eth0\n")),
    ("hosts[0].children[0].namespace", lambda d: d["hosts"][0]["children"][0].__setitem__("namespace", "web\n")),
    ("hosts[0].children[0].source_macs[0]",
     lambda d: d["hosts"][0]["children"][0].update(mode="source", source_macs=["02:00:00:00:00:02\n"])),
    ("switches[0].name", lambda d: d.__setitem__("switches", [{"name": "sw1\n"}])),
    ("switches[0].ports[0].name", lambda d: d.__setitem__("switches", [{"name": "sw1", "ports": [{"name": "p1\n"}]}])),
]


@pytest.mark.parametrize("path,mutate", NEWLINE_CASES, ids=[c[0] for c in NEWLINE_CASES])
def test_a_trailing_newline_is_refused_on_every_path(path, mutate, tmp_path, capsys):
    doc = json.loads(json.dumps(GOOD))
    mutate(doc)
    with pytest.raises(DesignError) as info:
        design_from_dict(doc)
    assert path in [p.path for p in info.value.problems]
    for name, text in (("d.json", json.dumps(doc)), ("d.yaml", yaml.safe_dump(doc))):
        with pytest.raises(DesignError):
            parse_design_text(text, name) and design_from_dict(parse_design_text(text, name))
        f = tmp_path / name
        f.write_text(text)
        assert main(["check", str(f)]) == 2
        assert path in capsys.readouterr().err
