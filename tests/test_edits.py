"""Edited, filtered and generated photos (CG311, CG304, CG501, CG512, and the card's "Edited:" line).

Every row is a real build. The metadata rows write their markers in code: an XMP packet with the older `xap:` prefix
(as Lightroom exported it), IPTC DigitalSourceType values, and C2PA manifest stores built as JUMBF boxes with CBOR
actions, carried in JPEG APP11 segments and in a PNG `caBX` chunk.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

from mkdocs_compliant_gallery.images import provenance
from tests.helpers import Mutation, Project, all_of, assert_nothing_published, cards_of, under_packs
from tests.photos import draw

MANIFEST = "gallery/manifest.yml"
IPTC_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/"


# -- metadata written in code ---------------------------------------------------------------------------------


def xmp(body: str, namespaces: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" {namespaces}>{body}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


# As Lightroom 1-3 exported: the XMP basic schema under its old `xap:` prefix, no edit history.
LIGHTROOM_XAP = xmp(
    "<xap:CreatorTool>Adobe Photoshop Lightroom 3.6 (Windows)</xap:CreatorTool><xap:ModifyDate>2011-05-02T10:00:00</xap:ModifyDate>",
    'xmlns:xap="http://ns.adobe.com/xap/1.0/"',
)


def source_type_xmp(code: str) -> bytes:
    return xmp(
        f'<Iptc4xmpExt:DigitalSourceType rdf:resource="{IPTC_SOURCE}{code}"/>',
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
    )


def cbor(value: Any) -> bytes:
    """A minimal CBOR encoder (RFC 8949) for maps, arrays, text and small integers."""

    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 256:
            return bytes([major << 5 | 24, length])
        return bytes([major << 5 | 25]) + struct.pack(">H", length)

    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor(item) for item in value)
    if isinstance(value, str):
        data = value.encode()
        return head(3, len(data)) + data
    assert isinstance(value, int) and value >= 0
    return head(0, value)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def superbox(label: str, *children: bytes) -> bytes:
    description = bytes(16) + bytes([0x03]) + label.encode() + b"\x00"  # type UUID, toggles (requestable, labelled), label
    return box(b"jumb", box(b"jumd", description) + b"".join(children))


def c2pa_store(actions: list[dict[str, str]]) -> bytes:
    """A C2PA manifest store holding one manifest with one `c2pa.actions` assertion."""
    assertion = superbox("c2pa.actions.v2", box(b"cbor", cbor({"actions": actions})))
    return superbox("c2pa", superbox("urn:c2pa:3f2a-test", superbox("c2pa.assertions", assertion)))


def with_app11(jpeg: bytes, store: bytes, chunk: int = 400) -> bytes:
    """The JPEG with the store in APP11 "JP" segments, split in several packets as large manifests are."""
    segments = []
    for sequence, start in enumerate(range(0, len(store), chunk), start=1):
        part = store[start : start + chunk] if sequence == 1 else store[:8] + store[start : start + chunk]
        payload = b"JP" + struct.pack(">HI", 1, sequence) + part
        segments.append(b"\xff\xeb" + struct.pack(">H", len(payload) + 2) + payload)
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def with_png_chunk(png: bytes, kind: bytes, payload: bytes) -> bytes:
    chunk = struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    return png[:33] + chunk + png[33:]  # after the signature and IHDR


GENERATED_ACTIONS = [{"action": "c2pa.created", "digitalSourceType": f"{IPTC_SOURCE}trainedAlgorithmicMedia", "softwareAgent": "Firefly"}]
EDITED_ACTIONS = [{"action": "c2pa.opened"}, {"action": "c2pa.edited", "softwareAgent": "Some Editor 5.1"}]
CAMERA_ACTIONS = [{"action": "c2pa.created", "digitalSourceType": f"{IPTC_SOURCE}digitalCapture"}]


# -- changing the clinic ------------------------------------------------------------------------------------------


def _jpeg(project: Project, name: str, seed: int, xmp_packet: bytes | None = None, store: bytes | None = None) -> None:
    path = project.gallery / "photos" / name
    options: dict[str, Any] = {"quality": 90}
    if xmp_packet is not None:
        options["xmp"] = xmp_packet
    draw((320, 240), seed).save(path, "JPEG", **options)
    if store is not None:
        path.write_bytes(with_app11(path.read_bytes(), store))


def _after_jpeg(**kwargs: Any) -> Mutation:
    def mutate(project: Project) -> None:
        _jpeg(project, "lips-001-after.jpg", 3, **kwargs)

    return mutate


def _after_png(chunk: tuple[bytes, bytes] | None = None, xmp_packet: bytes | None = None) -> Mutation:
    """The after photo as a PNG (its XMP compressed in an iTXt chunk, as Pillow writes it), maybe with a chunk added."""

    def mutate(project: Project) -> None:
        (project.gallery / "photos" / "lips-001-after.jpg").unlink()
        path = project.gallery / "photos" / "lips-001-after.png"
        info = PngImagePlugin.PngInfo()
        if xmp_packet is not None:
            info.add_itxt("XML:com.adobe.xmp", xmp_packet.decode(), zip=True)
        draw((320, 240), 3).save(path, "PNG", pnginfo=info)
        if chunk is not None:
            path.write_bytes(with_png_chunk(path.read_bytes(), *chunk))
        project.case("lips-001")["photos"][0]["after"]["src"] = "photos/lips-001-after.png"

    return mutate


def _edits(*kinds: object) -> Mutation:
    def mutate(project: Project) -> None:
        project.case("lips-001")["photos"][0]["edits"] = list(kinds)

    return mutate


@dataclass(frozen=True)
class Row:
    mutate: Mutation
    codes: tuple[str, ...] = ()  # every code the build must fail with, at `line_text`
    line_text: str = ""


ROWS: dict[str, Row] = {
    "CG311-generated-declared": Row(_edits("generated"), ("CG311",), "- view: front"),
    "CG311-generated-declared-under-EU": Row(
        all_of(under_packs("EU"), _edits({"kind": "generated", "note": "sky"})), ("CG311",), "- view: front"
    ),
    "CG311-generated-declared-with-other-edits-under-US-NY": Row(
        all_of(under_packs("US", "US-NY"), _edits("exposure", "generated")), ("CG311",), "- view: front"
    ),
    "CG512-filter-under-AU": Row(all_of(under_packs("AU"), _edits("filter")), ("CG512",), "photos:"),
    "CG501-white-balance-under-US-CA": Row(all_of(under_packs("US", "US-CA"), _edits("white-balance")), ("CG501",), "photos:"),
    "CG501-one-exposure-adjustment-under-US-CA": Row(all_of(under_packs("US", "US-CA"), _edits("exposure")), ("CG501",), "photos:"),
    "CG304-lightroom-with-the-old-xap-prefix": Row(_after_jpeg(xmp_packet=LIGHTROOM_XAP), ("CG304",), "src: photos/lips-001-after.jpg"),
    "CG304-CG311-iptc-trained-algorithmic-media": Row(
        _after_jpeg(xmp_packet=source_type_xmp("trainedAlgorithmicMedia")), ("CG304", "CG311"), "src: photos/lips-001-after.jpg"
    ),
    "CG311-iptc-composite-with-ai-in-png-itxt": Row(
        _after_png(xmp_packet=source_type_xmp("compositeWithTrainedAlgorithmicMedia")), ("CG311",), "src: photos/lips-001-after.png"
    ),
    "CG311-iptc-synthetic-even-with-edits-declared": Row(
        all_of(_after_jpeg(xmp_packet=source_type_xmp("compositeSynthetic")), _edits("retouch")),
        ("CG311",),
        "src: photos/lips-001-after.jpg",
    ),
    "CG304-iptc-minor-human-edits": Row(
        _after_jpeg(xmp_packet=source_type_xmp("minorHumanEdits")), ("CG304",), "src: photos/lips-001-after.jpg"
    ),
    "CG311-c2pa-generative-action-in-jpeg-app11": Row(
        _after_jpeg(store=c2pa_store(GENERATED_ACTIONS)), ("CG311",), "src: photos/lips-001-after.jpg"
    ),
    "CG304-c2pa-edit-action-in-png-cabx": Row(
        _after_png(chunk=(b"caBX", c2pa_store(EDITED_ACTIONS))), ("CG304",), "src: photos/lips-001-after.png"
    ),
    "c2pa-camera-capture-passes": Row(_after_jpeg(store=c2pa_store(CAMERA_ACTIONS))),
    "iptc-digital-capture-passes": Row(_after_jpeg(xmp_packet=source_type_xmp("digitalCapture"))),
    "one-exposure-adjustment-passes-under-AU": Row(all_of(under_packs("AU"), _edits("exposure"))),
    "declared-edits-cover-editing-software": Row(all_of(_after_jpeg(xmp_packet=LIGHTROOM_XAP), _edits("exposure"))),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_edits(project: Project, row: Row) -> None:
    row.mutate(project)
    result = project.build()
    if not row.codes:
        assert result.ok, result.log
        assert "lips-001" in cards_of(result.site / "lips" / "index.html")
        return
    assert not result.ok, f"passed:\n{result.log}"
    lines = (project.root / MANIFEST).read_text().splitlines()
    start = next(number for number, line in enumerate(lines, start=1) if "id: lips-001" in line)
    line = next(number for number, text in enumerate(lines, start=1) if number > start and row.line_text in text)
    for code in row.codes:
        found = [text for text in result.log.splitlines() if f"{MANIFEST}:{line} " in text and f" {code} [case lips-001]" in text]
        assert found, f"no {code} at {MANIFEST}:{line}:\n{result.log}"
    if "CG311" in row.codes:
        assert "GBL 396-b" in result.log and "Art. 50(4)" in result.log and "AHPRA" in result.log
    assert_nothing_published(result.site, project.root)


def _disclosure_text(path: Path, case_id: str) -> str:
    """The text of a card's disclosure block, read back with an HTML parser."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if dict(attrs).get("id") == f"cg-disclosure-{case_id}":
                self.depth = 1
            elif self.depth:
                self.depth += tag not in {"br", "img"}

        def handle_endtag(self, tag: str) -> None:
            if self.depth:
                self.depth -= 1

        def handle_data(self, data: str) -> None:
            if self.depth:
                self.text.append(data)

    reader = Reader()
    reader.feed(path.read_text())
    return " ".join(" ".join(reader.text).split())


def test_retouch_and_filter_are_disclosed_in_the_card_and_logged_per_photo(project: Project) -> None:
    project.case("lips-001")["photos"][0]["edits"] = [{"kind": "retouch", "note": "stray hair"}, "filter", "exposure"]
    result = project.build()
    assert result.ok, result.log
    disclosure = _disclosure_text(result.site / "lips" / "index.html", "lips-001")
    assert "Edited: retouched, beauty or smoothing filter." in disclosure, disclosure
    assert "Edited" not in _disclosure_text(result.site / "lips" / "index.html", "lips-002")
    record = json.loads((project.root / ".compliance" / "publications.jsonl").read_text().splitlines()[-1])
    entry = next(item for item in record["published"] if item["case"] == "lips-001")
    kinds = {photo["photo"]: [edit["kind"] for edit in photo["edits"]] for photo in entry["edits"]}
    assert kinds == {
        "photos/lips-001-before.jpg": ["retouch", "filter", "exposure"],
        "photos/lips-001-after.jpg": ["retouch", "filter", "exposure"],
    }
    assert entry["edits"][0]["edits"][0]["note"] == "stray hair"
    other = next(item for item in record["published"] if item["case"] == "lips-002")
    assert [photo["edits"] for photo in other["edits"]] == [[], []]


def test_a_template_that_drops_the_edited_line_fails_the_card_check(project: Project) -> None:
    from mkdocs_compliant_gallery.output.render import TEMPLATE_DIR

    project.case("lips-001")["photos"][0]["edits"] = ["retouch"]
    original = (TEMPLATE_DIR / "fragments" / "compliant-gallery" / "case.html").read_text()
    # A theme override that shows the typical results but drops the extra disclosure lines (the "Edited:" one among them).
    override = original.replace("{%- for text in case.disclosures %}", "{%- for text in [] %}")
    assert override != original
    target = project.root / "overrides" / "fragments" / "compliant-gallery" / "case.html"
    target.parent.mkdir(parents=True)
    target.write_text(override)
    project.theme = {"name": "mkdocs", "custom_dir": "overrides"}
    result = project.build()
    assert not result.ok
    assert any(" CG404 [case lips-001]" in line and "Edited: retouched." in line for line in result.log.splitlines()), result.log
    assert_nothing_published(result.site, project.root)


def test_c2pa_reader_joins_app11_packets_and_decodes_cbor() -> None:
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG")
    data = with_app11(buffer.getvalue(), c2pa_store(EDITED_ACTIONS + GENERATED_ACTIONS), chunk=37)
    assert provenance.c2pa_actions(data) == [("c2pa.opened", None), ("c2pa.edited", None), ("c2pa.created", "trainedAlgorithmicMedia")]
    assert provenance.c2pa_actions(data[:200]) == []  # a cut store is not read, and nothing raises
