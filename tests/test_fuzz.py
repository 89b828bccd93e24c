"""Bounded fuzzing of the two places where outside bytes enter the engine: the manifest/register loaders and the
image admission step. Any input yields violations (or a clean result), never an exception or a hang.

Hypothesis drives byte-level and token-level mutations of valid seeds, and wholly arbitrary bytes, in rounds of
ROUND examples (each a complete Hypothesis run, shrinking included) until the target has used
`COMPLIANT_GALLERY_FUZZ_SECONDS` (default 8) per target, a couple of minutes of CI time in all. FHIR registers are seeded
with our own Consents and with the real HL7 R4 and IHE PCF Consent examples (../shared/holdout/fhir/), and are also
mutated element by element (a value nulled, retyped, moved, a modifierExtension or a misspelt revocation added), so
that the mutations reach the reader and the consent rules behind valid JSON. For a long local run:

    COMPLIANT_GALLERY_FUZZ_SECONDS=600 pytest tests/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mkdocs_compliant_gallery.audit.publications import history_of
from mkdocs_compliant_gallery.images import formats, scrub
from mkdocs_compliant_gallery.images.cache import process_fresh
from mkdocs_compliant_gallery.images.pipeline import MAX_SIDE, PairJob
from mkdocs_compliant_gallery.records.manifest import ImageRef, load_manifest
from mkdocs_compliant_gallery.records.register import load_register
from mkdocs_compliant_gallery.rules.context import Rules
from mkdocs_compliant_gallery.rules.decide import decide_all
from mkdocs_compliant_gallery.settings import ImageSettings
from mkdocs_compliant_gallery.violations import Violation
from tests.helpers import BUILD_DATE, SHARED, TREATMENTS, case, consent, fhir_consent
from tests.photos import Planted, write_photo

SECONDS = float(os.environ.get("COMPLIANT_GALLERY_FUZZ_SECONDS", "8"))
ROUND = 50
HANG = 20.0  # one input taking longer than this is a hang, not slowness
FUZZ = settings(
    max_examples=ROUND,
    deadline=None,  # timing is judged by `bounded`, with a margin for a loaded CI machine
    database=None,  # every round explores afresh; a failure prints its input
    suppress_health_check=list(HealthCheck),
)
CODE = re.compile(r"^CG\d{3}$")
# Pillow warns about the damaged files it still reads; here that is the point.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class HangError(AssertionError):
    """An input kept the engine busy for longer than HANG seconds."""


@contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Fail an input that runs longer than `seconds` (POSIX main thread; elsewhere unbounded)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise HangError(f"one input ran for more than {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def in_rounds(run: Callable[[], None]) -> int:
    """Call a @given test round after round until the time budget is spent (at least once); returns the rounds."""
    deadline = time.monotonic() + SECONDS
    rounds = 0
    while not rounds or time.monotonic() < deadline:
        run()
        rounds += 1
    return rounds


# -- mutations ------------------------------------------------------------------------------------------------------

# Tokens that change how YAML, CSV and JSON read a document; spliced in anywhere.
TOKENS = [
    b"\n",
    b"\r\n",
    b"\t",
    b" ",
    b": ",
    b"- ",
    b"? ",
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"!!python/object:os.system ",
    b"!!binary ",
    b"!!str ",
    b"%YAML 1.1\n",
    b"---\n",
    b"...\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b"'",
    b'"',
    b"#",
    b"|",
    b">-",
    b"~",
    b"null",
    b"yes",
    b"no",
    b".inf",
    b"-.nan",
    b"1e400",
    b"0x1F",
    b"0o17",
    b"2026-02-30",
    b"2026-13-45",
    b"9999-12-31",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\x00",
    b"\xc3\x28",
    b"\xe2\x80\x8b",
    b"\xd0\xb0",
    b";",
    b'""',
    b"\\",
    b"{{ 7*7 }}",
    b"a" * 3000,
]
# Values that make length fields, counts and sizes interesting in binary formats.
NUMBERS = [
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\x00\x00",
    b"\xff\xff",
    b"\x7f\xff",
    b"\x00\x01",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x00",
    b"\x7f\xff\xff\xff",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes], extra: list[bytes]) -> bytes:
    """A seed with one to eight byte-level or token-level changes."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 8))):
        size = len(data)
        at = draw(st.integers(0, size))
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "duplicate", "truncate", "token"]))
        if kind == "flip" and size:
            at = min(at, size - 1)
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and size:
            piece = draw(st.sampled_from(NUMBERS))
            data[at : at + len(piece)] = piece
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "duplicate" and size:
            start = draw(st.integers(0, size - 1))
            data[at:at] = data[start : start + draw(st.integers(1, 256))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "token":
            data[at:at] = draw(st.sampled_from(extra))
    return bytes(data)


def inputs(seeds: list[bytes], extra: list[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(mutated(seeds, extra), st.binary(max_size=2048))


# Values an element of a FHIR Consent is replaced by: other JSON types, nulls, dates the calendar lacks, statuses,
# and the shapes the reader must refuse rather than misread.
JSON_VALUES: list[Any] = [
    None,
    "",
    " ",
    0,
    -1,
    1e308,
    True,
    False,
    [],
    {},
    [None],
    {"": None},
    "2026-13-45",
    "2026-11",
    "9999-12-31T25:61:00Z",
    "inactive",
    "entered-in-error",
    "deny",
    "Patient/someone-else",
    "\u202e\u0000",
    "a" * 3000,
    {"url": "https://mkdocs-compliant-gallery.dev/fhir/StructureDefinition/revokedOn", "valueDate": None},
    {"url": "HTTP://mkdocs-compliant-gallery.dev/fhir/StructureDefinition/revokedOn/", "valueDate": "2026-11-01"},
    {"url": "https://hospital.example/withdrawnOn", "valueDateTime": "2026-11-01T00:00:00Z"},
    [{"url": "https://example.org/void", "valueBoolean": True}],
    {"modifierExtension": [{"url": "https://example.org/void"}]},
    {"type": "deny", "data": [{"reference": {"identifier": {"system": "https://mkdocs-compliant-gallery.dev/fhir/NamingSystem/case"}}}]},
    {"role": {"coding": [{"code": "IRCP"}]}, "reference": {"reference": "Organization/x"}},
    {"system": "http://hl7.org/fhir/v3/ActReason", "code": "HMARKT"},
]


def _slots(document: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a JSON document, below the top."""
    slots: list[tuple[Any, Any]] = []
    pending = [document]
    while pending:
        value = pending.pop()
        keys: list[Any] = list(value) if isinstance(value, dict) else list(range(len(value))) if isinstance(value, list) else []
        for key in keys:
            slots.append((value, key))
            pending.append(value[key])
    return slots


@st.composite
def json_mutated(draw: st.DrawFn, documents: list[Any], ndjson: bool) -> bytes:
    """A FHIR document with one to six element-level changes; still valid JSON, so the reader and the rules see it."""
    document = copy.deepcopy(documents[draw(st.integers(0, len(documents) - 1))])  # an index: no huge repr of the seed
    for _ in range(draw(st.integers(1, 6))):
        slots = _slots(document)
        if not slots:
            break
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        kind = draw(st.sampled_from(["replace", "delete", "graft", "wrap", "append"]))
        if kind == "replace":
            container[key] = copy.deepcopy(draw(st.sampled_from(JSON_VALUES)))
        elif kind == "delete":
            del container[key]
        elif kind == "graft":  # a value from elsewhere in the document: an element in the wrong place
            container[key] = copy.deepcopy(_value_at(slots[draw(st.integers(0, len(slots) - 1))]))
        elif kind == "wrap":
            container[key] = [container[key]]
        elif isinstance(container[key], list):
            container[key].append(copy.deepcopy(draw(st.sampled_from(JSON_VALUES))))
        elif isinstance(container[key], dict):
            container[key][draw(st.sampled_from(["extension", "modifierExtension", "revokedOn", "provision", "_status"]))] = copy.deepcopy(
                draw(st.sampled_from(JSON_VALUES))
            )
    if ndjson:
        entries = document.get("entry") if isinstance(document, dict) else None
        resources = (
            [entry.get("resource") if isinstance(entry, dict) else entry for entry in entries] if isinstance(entries, list) else [document]
        )
        return b"\n".join(json.dumps(resource).encode() for resource in resources) + b"\n"
    return json.dumps(document, indent=1).encode()


def _value_at(slot: tuple[Any, Any]) -> Any:
    container, key = slot
    return container[key]


def assert_violations(found: list[Violation]) -> None:
    """Every problem is a well-formed violation that renders as a report line."""
    for violation in found:
        assert isinstance(violation, Violation)
        assert CODE.match(violation.code), violation
        assert violation.format()


# -- seeds --------------------------------------------------------------------------------------------------------

CASES = ("lips-001", "lips-002", "brow-001")


def _records() -> list[dict[str, Any]]:
    records = [consent(f"C-2026-000{i + 1}", c, f"P-1000{i + 1}") for i, c in enumerate(CASES)]
    records[1]["revoked_on"] = "2026-11-01"
    records[2]["material_connection"] = "This patient received a 20% discount."
    return records


def _csv(records: list[dict[str, Any]]) -> bytes:
    rows = []
    for record in records:
        row: dict[str, str] = {}
        for key, value in record.items():
            if isinstance(value, dict):
                for inner, item in value.items():
                    row[f"{key}.{inner}"] = ";".join(item) if isinstance(item, list) else str(item)
            elif isinstance(value, list):
                row[key] = ";".join(value)
            elif value is not None:
                row[key] = str(value)
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=sorted({k for r in rows for k in r}))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _our_consents() -> list[dict[str, Any]]:
    return [fhir_consent(r, last_updated="2026-11-01T09:00:00Z", revoked_on_extension=True) for r in _records()]


def _hl7_consents() -> list[dict[str, Any]]:
    """The HL7 R4 and IHE PCF Consent examples, each given one of the manifest's consent ids so the rules judge it."""
    folder = SHARED / "holdout" / "fhir"
    examples = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*/*.json"))]
    for number, example in enumerate(examples):
        example.setdefault("identifier", [{"value": f"C-2026-000{number % 3 + 1}"}])
    return examples


def _bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


FHIR_DOCUMENTS: list[Any] = [_bundle(_our_consents()), _bundle(_hl7_consents()), *_hl7_consents()]
REGISTER_SEEDS = {
    ".yml": [yaml.safe_dump({"consents": _records()}, sort_keys=False).encode()],
    ".csv": [_csv(_records())],
    ".json": [json.dumps(document, indent=1).encode() for document in FHIR_DOCUMENTS],
    ".ndjson": [b"\n".join(json.dumps(r).encode() for r in resources) + b"\n" for resources in (_our_consents(), _hl7_consents())],
}


def _manifest() -> bytes:
    cases = [case(c, f"C-2026-000{i + 1}", "wrinkle-relaxer" if c.startswith("brow") else "lip-filler") for i, c in enumerate(CASES)]
    cases[0]["photos"][0]["crop"] = [0, 0, 40, 30]
    cases[0]["photos"][0]["redact"] = [[1, 1, 5, 5]]
    cases[0]["photos"][0]["edits"] = ["exposure", {"kind": "retouch", "note": "dust"}]
    cases[1]["allowed_claims"] = [{"phrase": "guaranteed", "reason": "quoted from a study"}]
    return yaml.safe_dump({"treatments": TREATMENTS, "cases": cases}, sort_keys=False).encode()


# Every case was published once (under its release, before it was signed) and lips-002 was taken down once.
HISTORY = history_of(
    [
        {
            "time": "2026-02-01T09:00:00+00:00",
            "build_date": "2026-02-01",
            "published": [{"case": c, "consent": f"C-2026-000{i + 1}"} for i, c in enumerate(CASES)],
        },
        {
            "time": "2026-10-02T09:00:00+00:00",
            "build_date": "2026-10-02",
            "removed": [{"case": "lips-002", "code": "CG203", "ended_on": "2026-10-01"}],
        },
    ]
)


def _project(root: Path) -> Path:
    """A project folder with the seed manifest and the photos it names (tiny, with metadata)."""
    (root / "gallery").mkdir(parents=True, exist_ok=True)
    (root / "gallery" / "manifest.yml").write_bytes(_manifest())
    for c in CASES:
        for which in ("before", "after"):
            path = root / "gallery" / "photos" / f"{c}-{which}.jpg"
            if not path.exists():
                write_photo(path, size=(48, 36), seed=len(c), planted=Planted())
    return root


RULES = Rules("website", dt.date.fromisoformat(BUILD_DATE), 30, False, ("US", "US-CA", "AU", "UK"), None, ())


# -- loaders ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", list(REGISTER_SEEDS))
def test_fuzz_register_loader(tmp_path: Path, suffix: str) -> None:
    """YAML, CSV, FHIR Bundle and NDJSON registers: any bytes load, or fail closed with violations; the consent rules
    then judge the manifest's cases against whatever loaded, without an exception either."""
    root = _project(tmp_path)
    manifest = load_manifest(root / "gallery" / "manifest.yml", "gallery/manifest.yml", root, root / "gallery")
    assert manifest.loaded, manifest.violations
    path = tmp_path / f"consents{suffix}"
    strategy = inputs(REGISTER_SEEDS[suffix], TOKENS)
    if suffix in (".json", ".ndjson"):
        strategy = st.one_of(strategy, json_mutated(FHIR_DOCUMENTS, ndjson=suffix == ".ndjson"))

    @FUZZ
    @given(data=strategy)
    def run(data: bytes) -> None:
        path.write_bytes(data)
        with bounded(HANG):
            register = load_register(path, f"gallery/consents{suffix}")
            decisions = decide_all(manifest, register, RULES, HISTORY) if register.loaded else []
        assert_violations(register.violations)
        assert register.loaded or register.violations, "a register that failed to load must say why"
        for decision in decisions:
            assert_violations(list(decision.violations))
            if decision.consent is None:
                assert not decision.publishable, "a case without a loaded release is never published"

    in_rounds(run)


def test_fuzz_manifest_loader_and_rules(tmp_path: Path) -> None:
    """The manifest loader, and the rules over whatever it and a (maybe mutated) register let through."""
    root = _project(tmp_path)
    manifest_path = root / "gallery" / "manifest.yml"
    register_path = root / "gallery" / "consents.yml"

    @FUZZ
    @given(data=inputs([_manifest()], TOKENS), register=inputs(REGISTER_SEEDS[".yml"], TOKENS) | st.none())
    def run(data: bytes, register: bytes | None) -> None:
        manifest_path.write_bytes(data)
        register_path.write_bytes(register if register is not None else REGISTER_SEEDS[".yml"][0])
        with bounded(HANG):
            manifest = load_manifest(manifest_path, "gallery/manifest.yml", root, root / "gallery")
            loaded = load_register(register_path, "gallery/consents.yml")
            decisions = decide_all(manifest, loaded, RULES) if manifest.loaded and loaded.loaded else []
        assert_violations(manifest.violations)
        assert manifest.loaded or manifest.violations
        for decision in decisions:
            assert_violations(list(decision.violations))

    in_rounds(run)


# -- images -------------------------------------------------------------------------------------------------------


def _image_seeds(folder: Path) -> list[bytes]:
    seeds = []
    for suffix, orientation in ((".jpg", 6), (".png", 1), (".webp", 3)):
        path = folder / f"seed{suffix}"
        write_photo(path, size=(40, 30), seed=3, planted=Planted(orientation=orientation, software="Adobe Photoshop 25.0"))
        seeds.append(path.read_bytes())
    progressive = io.BytesIO()
    Image.open(folder / "seed.jpg").save(progressive, "JPEG", progressive=True, quality=70)
    seeds.append(progressive.getvalue())
    return seeds


with tempfile.TemporaryDirectory() as _folder:
    IMAGE_SEEDS = _image_seeds(Path(_folder))
# Markers and chunk names that steer mutations into the parsers of metadata and containers.
IMAGE_TOKENS = [
    *NUMBERS,
    b"\xff\xe1\x00\x10Exif\x00\x00MM\x00*\x00\x00\x00\x08",
    b"\xff\xe1\xff\xffhttp://ns.adobe.com/xap/1.0/\x00",
    b"\xff\xed\x00\x10Photoshop 3.0\x00",
    b"\xff\xfe\x00\x05x",
    b"\xff\xda",
    b"\xff\xd9",
    b"\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03",
    b"\x00\x00\x00\x0diTXtXML:com.adobe.xmp\x00",
    b"\x00\x00\x00\x04eXIf",
    b"acTL\x00\x00\x00\x02",
    b"EXIF\x10\x00\x00\x00",
    b"ANIM",
    b"VP8X\x0a\x00\x00\x00\xff",
]
SETTINGS = ImageSettings(widths=(16, 32), formats=("webp", "jpeg"), max_pixels=4_000_000)


def test_fuzz_image_admission(tmp_path: Path) -> None:
    """A mutated original is refused with a violation, or becomes outputs that hold nothing but pixels."""
    before, after = tmp_path / "before.img", tmp_path / "after.jpg"
    after.write_bytes(IMAGE_SEEDS[0])
    runs = iter(range(1 << 30))

    @FUZZ
    @given(data=inputs(IMAGE_SEEDS, IMAGE_TOKENS), crop=st.booleans())
    def run(data: bytes, crop: bool) -> None:
        before.write_bytes(data)
        box = (2, 2, 30, 22) if crop else None
        refs = [ImageRef(p.name, p, "alt", box, ((1, 1, 4, 4),), 7) for p in (before, after)]
        job = PairJob("lips-001", "front", "gallery/manifest.yml", refs[0], refs[1], (), SETTINGS, str(tmp_path / "cache"))
        with bounded(HANG):
            result = process_fresh(job, f"run{next(runs)}")  # a fresh key: never a cached answer
        assert_violations(list(result.violations))
        if result.before is None:
            assert result.violations, "a refused pair must say why"
            return
        assert result.after is not None
        for image in (result.before, result.after):
            for rendition in image.renditions:
                published = Path(rendition.path).read_bytes()
                fmt = formats.sniff(published)
                assert fmt in {"jpeg", "webp"} and formats.problems(published, fmt) == [], rendition

    in_rounds(run)


def test_fuzz_output_guard_byte_walkers() -> None:
    """The guard reads every file of the site, whoever wrote it: its byte walkers and the scrubber never crash,
    and what the scrubber keeps is all it would keep again (nothing it removes is left)."""

    @FUZZ
    @given(data=inputs(IMAGE_SEEDS, IMAGE_TOKENS))
    def run(data: bytes) -> None:
        with bounded(HANG):
            fmt = formats.sniff(data)
            if fmt is not None:
                formats.problems(data, fmt)
            clean = scrub.scrub(data)
        if clean is not None:
            assert formats.sniff(clean) == fmt
            assert scrub.scrub(clean) == clean, "a second pass found more to remove"

    in_rounds(run)


# -- shapes -------------------------------------------------------------------------------------------------------

# Valid photos of every shape: slivers one pixel across, sides past each encoder's limit (WebP 16383, AVIF 32768,
# JPEG 65500), extreme aspect ratios, and widths configured beyond a format's limit.
SHAPES = st.one_of(
    st.tuples(st.integers(1, 48), st.integers(1, 70_000)),
    st.tuples(st.integers(1, 70_000), st.integers(1, 48)),
    st.tuples(st.integers(1, 2_000), st.integers(1, 2_000)),
    st.sampled_from([(193, 31_237), (1, 1), (1, 16_384), (1, 32_769), (2, 65_501), (65_501, 2), (16_384, 3)]),
)
SHAPE_FORMATS = [("webp", "jpeg"), ("avif", "jpeg"), ("avif", "webp", "jpeg"), ("jpeg",)]
SHAPE_WIDTHS = [(16, 32), (480, 960), (20_000,), (65_600,)]


def test_a_crop_one_pixel_high_keeps_a_pixel_when_the_photo_is_decoded_smaller(tmp_path: Path) -> None:
    """Found by the shape fuzzing: a 130x2 JPEG is decoded at a smaller scale for small widths, and a crop one pixel
    high rounded to none there (a division by zero). The crop keeps at least one pixel each way."""
    path = tmp_path / "photo.jpeg"
    Image.new("RGB", (130, 2), (150, 90, 70)).save(path, "JPEG")
    refs = [ImageRef(path.name, path, "alt", (0, 0, 65, 1), (), 7) for _ in range(2)]
    settings_ = ImageSettings(widths=(16, 32), formats=("webp", "jpeg"), max_pixels=4_000_000)
    job = PairJob("lips-001", "front", "gallery/manifest.yml", refs[0], refs[1], (), settings_, str(tmp_path / "cache"))
    result = process_fresh(job, "sliver")
    assert result.before is not None and not result.violations, result.violations
    for rendition in result.before.renditions:
        with Image.open(rendition.path) as published:
            assert published.height >= 1 and published.size == (rendition.width, rendition.height)


def test_fuzz_photo_shapes(tmp_path: Path) -> None:
    """A valid photo of any shape is published within every encoder's limits, or refused with a CG3xx naming it: never a traceback."""
    runs = iter(range(1 << 30))

    @FUZZ
    @given(
        shape=SHAPES,
        source=st.sampled_from(["png", "jpeg"]),
        formats_wanted=st.sampled_from(SHAPE_FORMATS),
        widths=st.sampled_from(SHAPE_WIDTHS),
        crop=st.booleans(),
    )
    def run(shape: tuple[int, int], source: str, formats_wanted: tuple[str, ...], widths: tuple[int, ...], crop: bool) -> None:
        width, height = shape
        if source == "jpeg" and max(shape) > 65_500:
            source = "png"  # a JPEG cannot be this long; a PNG can
        path = tmp_path / f"photo.{source}"
        Image.new("RGB", shape, (150, 90, 70)).save(path, "PNG" if source == "png" else "JPEG")
        box = (0, 0, max(1, width // 2), max(1, height // 2)) if crop else None
        refs = [ImageRef(path.name, path, "alt", box, (), 7) for _ in range(2)]
        settings_ = ImageSettings(widths=widths, formats=formats_wanted, max_pixels=4_000_000)
        job = PairJob("lips-001", "front", "gallery/manifest.yml", refs[0], refs[1], (), settings_, str(tmp_path / "cache"))
        with bounded(HANG):
            result = process_fresh(job, f"shape{next(runs)}")
        assert_violations(list(result.violations))
        if result.before is None:
            assert result.violations and all(v.code.startswith("CG3") for v in result.violations), result.violations
            assert all(f"'{path.name}'" in v.message for v in result.violations), result.violations
            return
        for rendition in result.before.renditions:
            assert max(rendition.width, rendition.height) <= MAX_SIDE[rendition.fmt], rendition
            with Image.open(rendition.path) as published:
                assert published.size == (rendition.width, rendition.height)

    in_rounds(run)
