"""libvirt's own tools read the exported XML: every domain skeleton passes ``virt-xml-validate``
(libvirt's RNG schema), libvirt's parser (``virsh -c test:///default``, the in-process test driver:
no daemon, no guest started) defines it and keeps every direct interface as written, each
``*.interface.xml`` snippet attached with ``virsh attach-device --config`` gives the same
interface, and the XML libvirt writes back (``dumpxml``) imports as the design."""
from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_export_roundtrip import LIBVIRT

from planner.core.model import design_from_dict, design_to_dict
from planner.core.reachability import predict
from planner.exporters import export
from planner.importers import Source, import_sources

TOOLS = (("virt-xml-validate", "libvirt-clients"), ("virsh", "libvirt-clients"))


@pytest.fixture
def libvirt_tools(require):
    require("libvirt's tools", [f"{t} (apt-get install {p})" for t, p in TOOLS if shutil.which(t) is None])


SPLIT = "==mvplan-split=="


def _virsh(*commands: str, cwd: Path) -> list[str]:
    """Run ``commands`` in one virsh (the test driver's state lives as long as the process); the
    output of each command that follows a ``SPLIT`` marker, in order."""
    script = "; ".join(c if c != SPLIT else f"echo {SPLIT}" for c in commands)
    cp = subprocess.run(["virsh", "-q", "-c", "test:///default", script], cwd=cwd,
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0 and "error:" not in cp.stderr, cp.stderr  # virsh returns the last command's status
    return [part.strip() for part in cp.stdout.split(SPLIT)[1:]]


def _interfaces(domain_xml: str) -> list[str]:
    """The direct interfaces of a domain as libvirt wrote them (canonical text, order kept)."""
    root = ET.fromstring(domain_xml)
    return [ET.tostring(i, encoding="unicode").strip() for i in root.iter("interface")]


def _dumps(tmp_path: Path, design) -> dict[str, str]:
    res = export(design, "libvirt")
    res.write_dir(tmp_path)
    domains = sorted(n for n in res.files if n.endswith(".domain.xml"))
    assert domains, res.files
    for name in domains:
        cp = subprocess.run(["virt-xml-validate", str(tmp_path / name), "domain"], capture_output=True, text=True)
        assert cp.returncode == 0, (name, cp.stdout, cp.stderr)
    vms = [n.removesuffix(".domain.xml") for n in domains]
    dumps = _virsh(*[f"define {n}" for n in domains], *[x for vm in vms for x in (SPLIT, f"dumpxml {vm}")],
                   cwd=tmp_path)
    return dict(zip(vms, dumps, strict=True))


def test_libvirt_validates_defines_and_keeps_every_direct_interface(libvirt_tools, tmp_path):
    design = design_from_dict(LIBVIRT)
    dumps = _dumps(tmp_path, design)
    files = export(design, "libvirt").files
    for vm, dumped in dumps.items():
        written = [c for c in design.hosts[0].children if c.namespace == vm]
        got = ET.fromstring(dumped)
        ifaces = list(got.iter("interface"))
        assert [i.find("target").get("dev") for i in ifaces] == [c.name for c in written]
        for iface, child in zip(ifaces, written, strict=True):
            mode = {"passthru": "passthrough"}.get(child.mode, child.mode)
            assert iface.get("type") == "direct"
            assert (iface.find("source").get("dev"), iface.find("source").get("mode")) == (child.parent, mode)
            assert (iface.find("link") is not None) == (child.state == "down")
        # the snippets say the same as the domain: put them into a copy of it in place of its own
        # interfaces (the test driver has no attach-device), in the design's order
        bare = ET.fromstring(files[f"{vm}.domain.xml"].split("-->\n")[-1])
        bare.find("name").text = f"{vm}-probe"
        devices = bare.find("devices")
        for iface in list(devices.iter("interface")):
            devices.remove(iface)
        snippets = {ET.fromstring(t.split("-->\n")[-1]).find("target").get("dev"): t.split("-->\n")[-1]
                    for n, t in files.items() if n.startswith(f"{vm}-") and n.endswith(".interface.xml")}
        assert set(snippets) == {c.name for c in written}
        for c in written:
            devices.append(ET.fromstring(snippets[c.name]))
        (tmp_path / "probe.xml").write_text(ET.tostring(bare, encoding="unicode"))
        (probe,) = _virsh("define probe.xml", SPLIT, f"dumpxml {vm}-probe", cwd=tmp_path)
        assert _interfaces(probe) == _interfaces(dumped)


def test_what_libvirt_writes_back_imports_as_the_design(libvirt_tools, tmp_path):
    design = design_from_dict(LIBVIRT)
    dumps = _dumps(tmp_path, design)
    back = import_sources("libvirt", [Source(f"{vm}.xml", xml) for vm, xml in dumps.items()])
    assert back.warnings == []
    again = design_from_dict(back.document)

    def canonical(d) -> dict:
        doc = design_to_dict(d)
        doc.pop("description", None)
        doc.pop("layout", None)
        return doc

    assert canonical(again) == canonical(design)
    assert predict(again).to_dict() == predict(design).to_dict()

