"""The loaders on small files (CG101-CG107, CG109, CG110): each problem with its code, file, line and field.

No build: `load_manifest` and `load_register` on files written in tmp_path. Every row starts from a valid file,
changes one line, and lists every violation that must come out (line 0: the file as a whole).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mkdocs_compliant_gallery.records.fhir import CHANNEL_SYSTEM, EXTENSION_BASE
from mkdocs_compliant_gallery.records.manifest import Manifest, load_manifest
from mkdocs_compliant_gallery.records.register import Register, load_register
from mkdocs_compliant_gallery.violations import Violation
from tests.helpers import consent, fhir_consent

MANIFEST_NAME = "gallery/manifest.yml"
# Line numbers are on the right; a row replaces text and says where each violation must point.
MANIFEST = """\
treatments:
  lip-filler:
    title: Lip filler
    typical_results: Most patients see fuller lips for 6 to 12 months.
cases:
  - id: lips-001
    consent: C-2026-0001
    treatment: lip-filler
    sessions: 1
    shows: {face: false, name: false, distinctive_marks: false}
    caption: Fuller lips after one session.
    photos:
      - view: front
        before: {src: photos/lips-001-before.jpg, alt: Lips before treatment}
        after: {src: photos/lips-001-after.jpg, alt: Lips after treatment}
"""
PHOTOS = ("lips-001-before.jpg", "lips-001-after.jpg")
LAST_LINE = "        after: {src: photos/lips-001-after.jpg, alt: Lips after treatment}\n"


def side_pair(before: str) -> tuple[str, str]:
    """(old, new) adding a second pair (lines 16-18) whose `before:` mapping is `before`: a broken photo entry
    there drops that pair only, so the first pair still lists both photos of the folder."""
    return LAST_LINE, (
        LAST_LINE
        + "      - view: side\n"
        + f"        before: {before}\n"
        + "        after: {src: photos/lips-001-after.jpg, alt: Lips after from the side}\n"
    )


def side_src(src: str) -> tuple[str, str]:
    return side_pair(f"{{src: '{src}', alt: Lips before from the side}}")


SECOND_CASE = """\
  - id: lips-001
    consent: C-2026-0002
    treatment: lip-filler
    shows: {face: false, name: false, distinctive_marks: false}
    photos:
      - view: front
        before: {src: photos/lips-001-before.jpg, alt: Lips before}
        after: {src: photos/lips-001-after.jpg, alt: Lips after}
"""

Found = tuple[str, int, str]  # (code, line, field)


@dataclass(frozen=True)
class Row:
    old: str
    new: str
    found: list[Found]
    hint: str = ""  # text the message or the fix of the first violation must contain
    extra_photos: tuple[str, ...] = ()


def write_project(root: Path, manifest_text: str | bytes, extra_photos: tuple[str, ...] = ()) -> None:
    photos = root / "gallery" / "photos"
    photos.mkdir(parents=True)
    for name in (*PHOTOS, *extra_photos):
        (photos / name).parent.mkdir(parents=True, exist_ok=True)
        (photos / name).write_bytes(b"not decoded by the loader")
    path = root / MANIFEST_NAME
    if isinstance(manifest_text, bytes):
        path.write_bytes(manifest_text)
    else:
        path.write_text(manifest_text, encoding="utf-8")


def load(root: Path) -> Manifest:
    return load_manifest(root / MANIFEST_NAME, MANIFEST_NAME, root, root / "gallery")


def found_in(violations: list[Violation]) -> list[Found]:
    return sorted((v.code, v.where.line, v.where.field) for v in violations)


def test_the_base_manifest_loads_clean(tmp_path: Path) -> None:
    write_project(tmp_path, MANIFEST)
    manifest = load(tmp_path)
    assert manifest.violations == [] and manifest.loaded
    assert list(manifest.cases) == ["lips-001"] and manifest.cases["lips-001"].line == 6


MANIFEST_ROWS: dict[str, Row] = {
    # CG101: unknown keys, with the closest known key as the fix
    "CG101-case-key-did-you-mean": Row("    caption:", "    captoin:", [("CG101", 11, "case lips-001.captoin")], "did you mean 'caption'?"),
    "CG101-photo-key-did-you-mean": Row(
        "alt: Lips before treatment}",
        "alt: Lips before treatment, crpo: [0, 0, 10, 10]}",
        [("CG101", 14, "case lips-001.photos.before.crpo")],
        "did you mean 'crop'?",
    ),
    "CG101-top-level-key": Row("cases:\n", "casse: []\ncases:\n", [("CG101", 5, "casse")], "did you mean 'cases'?"),
    # CG102: a required field missing (at the line of the mapping that lacks it)
    "CG102-shows-missing": Row(
        "    shows: {face: false, name: false, distinctive_marks: false}",
        "    area: lips",
        [("CG102", 6, "case lips-001.shows")],
        "'shows' is required",
    ),
    "CG102-alt-missing": Row(
        *side_pair("{src: photos/lips-001-before.jpg}"), [("CG102", 17, "case lips-001.photos.before.alt")], "'alt' is required"
    ),
    # The pair that cannot be read is the one error: not "the case has no photos", nor its before photo as unlisted
    # (the after photo, which no entry names any more, is unlisted indeed).
    "CG102-a-pair-without-after-is-its-own-error": Row(
        "\n        after: {src: photos/lips-001-after.jpg, alt: Lips after treatment}",
        "",
        [("CG102", 13, "case lips-001.photos.after"), ("CG107", 0, "")],
        "'after' is required",
    ),
    "CG102-a-case-with-an-empty-photo-list": Row(
        "    photos:\n      - view: front\n        before: {src: photos/lips-001-before.jpg, alt: Lips before treatment}\n" + LAST_LINE,
        "    photos: []\n",
        [("CG102", 12, "case lips-001.photos"), ("CG107", 0, ""), ("CG107", 0, "")],
        "the case has no photos",
    ),
    # CG103: wrong type or value
    "CG103-sessions-not-a-number": Row("    sessions: 1", "    sessions: two", [("CG103", 9, "case lips-001.sessions")], "a whole number"),
    "CG103-date-the-calendar-lacks": Row(
        "    sessions: 1", "    treated_on: 2026-02-30", [("CG103", 9, "case lips-001.treated_on")], "YYYY-MM-DD"
    ),
    "CG103-box-of-three-numbers": Row(
        "alt: Lips before treatment}",
        "alt: Lips before treatment, crop: [1, 2, 3]}",
        [("CG103", 14, "case lips-001.photos.before.crop")],
        "[x, y, width, height]",
    ),
    "CG103-unknown-edit-kind": Row(
        "      - view: front\n",
        "      - view: front\n        edits: [airbrush]\n",
        [("CG103", 14, "case lips-001.photos.edits")],
        "'airbrush' is not a known kind",
    ),
    # CG104: duplicates
    "CG104-duplicate-yaml-key": Row(
        "{face: false, name: false, distinctive_marks: false}",
        "{face: false, face: false, name: false, distinctive_marks: false}",
        [("CG104", 10, "face")],
        "duplicate key 'face'",
    ),
    "CG104-duplicate-case-id": Row(LAST_LINE, LAST_LINE + SECOND_CASE, [("CG104", 16, "case lips-001.id")], "used twice (first on line 6)"),
    "CG104-duplicate-view": Row(
        LAST_LINE,
        LAST_LINE
        + "      - view: front\n        before: {src: photos/lips-001-before.jpg, alt: a}\n        after: {src: photos/lips-001-after.jpg, alt: b}\n",
        [("CG104", 16, "case lips-001.photos.view")],
        "view 'front' appears twice",
    ),
    # CG105 and CG106: photo paths (on a second pair, so the first pair and the photo folder stay as they were)
    "CG105-photo-file-missing": Row(
        *side_src("photos/lips-001-side.jpg"), [("CG105", 17, "case lips-001.photos.before.src")], "does not exist"
    ),
    "CG106-dot-dot": Row(*side_src("../outside.jpg"), [("CG106", 17, "case lips-001.photos.before.src")], "contains '..'"),
    "CG106-absolute-path": Row(*side_src("/etc/hosts"), [("CG106", 17, "case lips-001.photos.before.src")], "absolute path"),
    "CG106-windows-drive": Row(*side_src("C:/photos/x.jpg"), [("CG106", 17, "case lips-001.photos.before.src")], "absolute path"),
    "CG106-backslashes": Row(*side_src("photos\\lips-001-before.jpg"), [("CG106", 17, "case lips-001.photos.before.src")], "backslashes"),
    # CG107: a photo in the folder that no case lists (the file as a whole: line 0, no field)
    "CG107-unlisted-photo": Row(
        "", "", [("CG107", 0, "")], "no case lists it", extra_photos=("lips-009-before.jpg", "notes.txt", ".hidden/lips-010.jpg")
    ),
    # CG109: the file cannot be read, at the line the parser stopped
    "CG109-yaml-syntax": Row(
        "    caption: Fuller lips after one session.",
        "    caption: Fuller lips: after one session.",
        [("CG109", 11, "")],
        "is not valid YAML",
    ),
    "CG109-tab-indentation": Row("    sessions: 1", "\tsessions: 1", [("CG109", 9, "")], "tab character"),
    # CG110: a treatment the manifest does not define
    "CG110-unknown-treatment": Row(
        "    treatment: lip-filler", "    treatment: lip-filer", [("CG110", 8, "case lips-001.treatment")], "'lip-filer' is not defined"
    ),
}


@pytest.mark.parametrize("row", MANIFEST_ROWS.values(), ids=MANIFEST_ROWS.keys())
def test_manifest_problem(tmp_path: Path, row: Row) -> None:
    text = MANIFEST
    if row.old:
        assert text.count(row.old) == 1, f"the row's old text must occur once: {row.old!r}"
        text = text.replace(row.old, row.new)
    write_project(tmp_path, text, row.extra_photos)
    manifest = load(tmp_path)
    assert found_in(manifest.violations) == sorted(row.found), "\n".join(v.format() for v in manifest.violations)
    assert all(v.where.file.startswith("gallery/") for v in manifest.violations)
    first = sorted(manifest.violations, key=lambda v: (v.code, v.where.line))[0]
    assert row.hint in f"{first.message} {first.fix}"


def test_manifest_unlisted_photo_is_named_by_its_path(tmp_path: Path) -> None:
    write_project(tmp_path, MANIFEST, extra_photos=("lips-009-before.jpg",))
    [violation] = load(tmp_path).violations
    assert (violation.code, violation.where.file, violation.where.line) == ("CG107", "gallery/photos/lips-009-before.jpg", 0)


def test_manifest_photo_symlinked_outside_the_project(tmp_path: Path) -> None:
    root = tmp_path / "clinic"
    text = MANIFEST.replace(*side_src("photos/linked.jpg"))
    write_project(root, text)
    (tmp_path / "outside.jpg").write_bytes(b"a raw photo elsewhere on the disk")
    (root / "gallery" / "photos" / "linked.jpg").symlink_to(tmp_path / "outside.jpg")
    manifest = load(root)
    # One error: the link is named by the entry CG106 refuses, so it is not also reported as unlisted.
    assert found_in(manifest.violations) == [("CG106", 17, "case lips-001.photos.before.src")]
    assert "leads outside the project" in manifest.violations[0].message


def test_manifest_file_missing(tmp_path: Path) -> None:
    manifest = load(tmp_path)
    assert [(v.code, str(v.where)) for v in manifest.violations] == [("CG105", MANIFEST_NAME)]
    assert not manifest.loaded


def test_manifest_not_utf8(tmp_path: Path) -> None:
    write_project(tmp_path, MANIFEST.replace("Fuller lips after", "Fuller lips \udcff after").encode("utf-8", "surrogateescape"))
    violations = load(tmp_path).violations
    assert [(v.code, v.where.line) for v in violations] == [("CG109", 0)]
    assert "is not UTF-8" in violations[0].message


# -- the consent register -------------------------------------------------------------------------------------------

REGISTER_NAME = "gallery/consents.yml"
REGISTER = """\
consents:
  - id: C-2026-0001
    patient_ref: P-10001
    signed_on: 2026-03-02
    signer: patient
    expires_on: 2028-03-02
    channels: {permit: [website], deny: [paid_ads]}
    purposes: [marketing]
    scope: {cases: [lips-001]}
    allows: {face: false, name: false, distinctive_marks: false, testimonial: false}
    material_connection: none
    statements: {revocation: true, conditioning: true, redisclosure: true}
    revoked_on: ~
"""
REGISTER_LAST = "    revoked_on: ~\n"


def load_register_text(tmp_path: Path, text: str | bytes, name: str = REGISTER_NAME) -> Register:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return load_register(path, name)


def test_the_base_register_loads_clean(tmp_path: Path) -> None:
    register = load_register_text(tmp_path, REGISTER)
    assert register.violations == [] and register.loaded
    assert register.consents["C-2026-0001"].line == 2


REGISTER_ROWS: dict[str, Row] = {
    "CG101-record-key-did-you-mean": Row(
        "    revoked_on: ~", "    revoked: ~", [("CG101", 13, "consents.revoked")], "did you mean 'revoked_on'?"
    ),
    "CG101-allows-key-did-you-mean": Row(
        "testimonial: false}", "testimonal: false}", [("CG101", 10, "consent C-2026-0001.allows.testimonal")], "did you mean 'testimonial'?"
    ),
    "CG102-no-consents-list": Row("consents:\n", "consent:\n", [("CG102", 1, "consents")], "top-level 'consents:' list"),
    "CG103-signer-not-known": Row(
        "    signer: patient", "    signer: doctor", [("CG103", 5, "consent C-2026-0001.signer")], "not one of patient, representative"
    ),
    "CG103-date-the-calendar-lacks": Row(
        "    expires_on: 2028-03-02", "    expires_on: 2028-02-30", [("CG103", 6, "consent C-2026-0001.expires_on")], "YYYY-MM-DD"
    ),
    "CG103-id-with-a-space": Row("  - id: C-2026-0001", "  - id: C 2026 0001", [("CG103", 2, "consents.id")], "is not a valid id"),
    "CG104-duplicate-consent-id": Row(
        REGISTER_LAST,
        REGISTER_LAST + "  - id: C-2026-0001\n    patient_ref: P-10009\n",
        [("CG104", 14, "id")],
        "appears twice (first on line 2)",
    ),
    "CG109-yaml-syntax": Row("    signer: patient", "    signer: patient: yes", [("CG109", 5, "")], "is not valid YAML"),
}


@pytest.mark.parametrize("row", REGISTER_ROWS.values(), ids=REGISTER_ROWS.keys())
def test_register_problem(tmp_path: Path, row: Row) -> None:
    assert REGISTER.count(row.old) == 1, f"the row's old text must occur once: {row.old!r}"
    register = load_register_text(tmp_path, REGISTER.replace(row.old, row.new))
    assert found_in(register.violations) == sorted(row.found), "\n".join(v.format() for v in register.violations)
    first = sorted(register.violations, key=lambda v: (v.code, v.where.line))[0]
    assert first.where.file == REGISTER_NAME
    assert row.hint in f"{first.message} {first.fix}"


CSV_HEADER = "id,patient_ref,signed_on,signer,expires_on,channels.permit,purposes,scope.cases\n"
CSV_ROW = "C-2026-0001,P-10001,2026-03-02,patient,2028-03-02,website;social,marketing,lips-001\n"

# (file name, content, (code, line, field), text of the message)
CSV_ROWS: dict[str, tuple[str, str | bytes, Found, str]] = {
    "CG102-csv-without-id-column": (
        "consents.csv",
        "ref,signer\nP-1,patient\n",
        ("CG102", 1, "id"),
        "needs a header row with an 'id' column",
    ),
    "CG103-csv-bad-date-cell": (
        "consents.csv",
        CSV_HEADER + CSV_ROW.replace("2028-03-02", "next year"),
        ("CG103", 2, "consent C-2026-0001.expires_on"),
        "a date written YYYY-MM-DD",
    ),
    "CG104-csv-duplicate-id-row": ("consents.csv", CSV_HEADER + CSV_ROW + CSV_ROW, ("CG104", 3, "id"), "first on line 2"),
    "CG109-csv-not-utf8": (
        "consents.csv",
        (CSV_HEADER + CSV_ROW).encode().replace(b"P-10001", b"P-1000\xe9"),
        ("CG109", 0, ""),
        "not UTF-8",
    ),
    "CG103-register-format-not-supported": ("consents.xlsx", "PK", ("CG103", 0, ""), "format '.xlsx' is not supported"),
}


@pytest.mark.parametrize(("name", "content", "expected", "message"), CSV_ROWS.values(), ids=CSV_ROWS.keys())
def test_register_file_problem(tmp_path: Path, name: str, content: str | bytes, expected: Found, message: str) -> None:
    register = load_register_text(tmp_path, content, f"gallery/{name}")
    assert found_in(register.violations) == [expected], "\n".join(v.format() for v in register.violations)
    assert message in register.violations[0].message


def test_register_csv_syntax_error_is_cg109_on_its_own_line(tmp_path: Path) -> None:
    """A cell beyond the csv module's field limit makes the file unreadable, at the line that holds it (DictReader's
    line_num named the line before it)."""
    register = load_register_text(tmp_path, CSV_HEADER + CSV_ROW + "C-2026-0002," + "x" * 200_000 + "\n", "gallery/consents.csv")
    assert [(v.code, v.where.line) for v in register.violations] == [("CG109", 3)]
    assert "is not valid CSV: field larger than field limit" in register.violations[0].message
    assert not register.loaded


def test_register_csv_record_lines_are_where_each_record_starts(tmp_path: Path) -> None:
    """A quoted cell may span lines, and blank lines may separate rows: each record is named by its first line."""
    multi_line = CSV_ROW.replace("lips-001", '"lips-001"').replace("marketing", '"marketing\nand more"')
    text = CSV_HEADER + multi_line + "\n" + CSV_ROW.replace("C-2026-0001", "C-2026-0002").replace("2028-03-02", "soon")
    register = load_register_text(tmp_path, text, "gallery/consents.csv")
    assert [(c.id, c.line) for c in register.consents.values()] == [("C-2026-0001", 2), ("C-2026-0002", 5)]
    assert found_in(register.violations) == [("CG103", 5, "consent C-2026-0002.expires_on")]


def test_register_file_missing(tmp_path: Path) -> None:
    register = load_register(tmp_path / "consents.yml", "gallery/consents.yml")
    assert [(v.code, str(v.where)) for v in register.violations] == [("CG105", "gallery/consents.yml")]


# -- FHIR registers: what the reader refuses, and where it says so --------------------------------------------------

FHIR_NAME = "gallery/consents.json"
FHIR_ID = "C-2026-0001"
Bundle = dict[str, Any]


@dataclass(frozen=True)
class FhirFound:
    """A violation on the `occurrence`-th line holding `needle` (moved by `offset`), at `field`."""

    code: str
    needle: str
    field: str
    offset: int = 0
    occurrence: int = 0

    def resolve(self, text: str) -> Found:
        lines = [number for number, line in enumerate(text.splitlines(), start=1) if self.needle in line]
        assert len(lines) > self.occurrence, f"{self.needle!r} is not on {self.occurrence + 1} lines:\n{text}"
        return (self.code, lines[self.occurrence] + self.offset, self.field)


@dataclass(frozen=True)
class FhirLoaderRow:
    change: Callable[[Bundle], None]
    found: list[FhirFound]
    refused: bool  # left out of the register and named to the cases that use it
    hint: str = ""  # text the messages or fixes must contain


def consent_resource(bundle: Bundle) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


def on_resource(change: Callable[[dict[str, Any]], None]) -> Callable[[Bundle], None]:
    return lambda bundle: change(consent_resource(bundle))


def extension_url(index: int, url: str) -> Callable[[Bundle], None]:
    def change(bundle: Bundle) -> None:
        consent_resource(bundle)["extension"][index]["url"] = url

    return change


def add_revoked_on(value: object, where: str = "extension", key: str = "valueDate") -> Callable[[Bundle], None]:
    """A revokedOn extension on the Consent (`where="extension"`) or on one of its elements (`provision.extension`)."""

    def change(bundle: Bundle) -> None:
        target = consent_resource(bundle)
        *parents, leaf = where.split(".")
        for part in parents:
            target = target[part]
        target.setdefault(leaf, []).append({"url": f"{EXTENSION_BASE}revokedOn", key: value})

    return change


MODIFIER = [{"url": "https://example.org/fhir/void-unless-countersigned", "valueBoolean": True}]
OURS = f"consent {FHIR_ID}: "
STU3_ACT_REASON = "http://hl7.org/fhir/v3/ActReason"
REFUSED_REVOCATION = "never taken as 'not revoked'"

FHIR_LOADER_ROWS: dict[str, FhirLoaderRow] = {
    "valid-fhir-consent": FhirLoaderRow(lambda bundle: None, [], False),
    "CG103-modifierExtension-on-provision-data": FhirLoaderRow(
        on_resource(lambda r: r["provision"]["data"][0].update(modifierExtension=MODIFIER)),
        [FhirFound("CG103", '"modifierExtension"', OURS + "Consent.provision.data[0].modifierExtension")],
        True,
        "modifierExtension",
    ),
    "CG103-modifierExtension-on-a-performer": FhirLoaderRow(
        on_resource(lambda r: r["performer"][0].update(modifierExtension=MODIFIER)),
        [FhirFound("CG103", '"modifierExtension"', OURS + "Consent.performer[0].modifierExtension")],
        True,
    ),
    "CG103-modifierExtension-on-a-channel-provision": FhirLoaderRow(
        on_resource(lambda r: r["provision"]["provision"][1].update(modifierExtension=MODIFIER)),
        [FhirFound("CG103", '"modifierExtension"', OURS + "Consent.provision.provision[1].modifierExtension")],
        True,
    ),
    "CG103-modifierExtension-on-the-bundle-entry": FhirLoaderRow(
        lambda bundle: bundle["entry"][0].update(modifierExtension=MODIFIER),
        [FhirFound("CG103", '"modifierExtension"', "Bundle.entry[0].modifierExtension")],
        True,
    ),
    "CG101-our-url-over-http": FhirLoaderRow(
        extension_url(3, f"http://{EXTENSION_BASE.removeprefix('https://')}materialConnection"),
        [FhirFound("CG101", "http://mkdocs-compliant-gallery.dev", OURS + "Consent.extension[3]", offset=-1)],
        False,
        f"did you mean '{EXTENSION_BASE}materialConnection'?",
    ),
    "CG101-our-url-in-other-letter-case": FhirLoaderRow(
        extension_url(5, f"{EXTENSION_BASE}Irrevocable"),
        [FhirFound("CG101", "/Irrevocable", OURS + "Consent.extension[5]", offset=-1)],
        False,
        "did you mean",
    ),
    "CG101-revokedOn-with-a-trailing-slash-is-refused": FhirLoaderRow(
        on_resource(lambda r: r["extension"].append({"url": f"{EXTENSION_BASE}revokedOn/", "valueDate": "2026-11-01"})),
        [FhirFound("CG101", "revokedOn/", OURS + "Consent.extension[6]", offset=-1)],
        True,
        REFUSED_REVOCATION,
    ),
    "CG103-revokedOn-null": FhirLoaderRow(
        add_revoked_on(None),
        [FhirFound("CG103", "revokedOn", OURS + "Consent.extension[6].valueDate", offset=-1)],
        True,
        REFUSED_REVOCATION,
    ),
    "CG103-revokedOn-a-partial-date": FhirLoaderRow(
        add_revoked_on("2026-11"), [FhirFound("CG103", "revokedOn", OURS + "Consent.extension[6].valueDate", offset=-1)], True
    ),
    "CG103-revokedOn-as-text": FhirLoaderRow(
        add_revoked_on("2026-11-01", key="valueString"), [FhirFound("CG103", "revokedOn", OURS + "Consent.extension[6]", offset=-1)], True
    ),
    "CG103-revokedOn-on-the-provision": FhirLoaderRow(
        add_revoked_on("2026-11-01", "provision.extension"),
        [FhirFound("CG103", "revokedOn", OURS + "Consent.provision.extension[0]", offset=-1)],
        True,
        "belongs on the Consent itself",
    ),
    "CG101-CG103-revokedOn-as-an-element": FhirLoaderRow(
        on_resource(lambda r: r.update(revokedOn="2026-11-01")),
        [FhirFound("CG101", '"revokedOn"', OURS + "Consent.revokedOn"), FhirFound("CG103", '"revokedOn"', OURS + "Consent.revokedOn")],
        True,
    ),
    "CG103-a-hospital-withdrawal-extension": FhirLoaderRow(
        on_resource(
            lambda r: r["extension"].append({"url": "https://hospital.example/fhir/consent-withdrawn-date", "valueDate": "2026-11-01"})
        ),
        [FhirFound("CG103", "consent-withdrawn-date", OURS + "Consent.extension[6]", offset=-1)],
        True,
        f"{EXTENSION_BASE}revokedOn",
    ),
    "CG103-status-not-an-R4-status": FhirLoaderRow(
        on_resource(lambda r: r.update(status="withdrawn")), [FhirFound("CG103", '"status": "withdrawn"', OURS + "Consent.status")], True
    ),
    "CG103-STU3-purpose-system": FhirLoaderRow(
        on_resource(lambda r: r["provision"]["purpose"][0].update(system=STU3_ACT_REASON)),
        [FhirFound("CG103", STU3_ACT_REASON, OURS + "Consent.provision.purpose[0].system", offset=-1)],
        False,
        f"'{STU3_ACT_REASON}' is the FHIR STU3 URL of this code system; an R4 Consent uses 'http://terminology.hl7.org/CodeSystem/v3-ActReason'",
    ),
    "CG103-STU3-action-system": FhirLoaderRow(
        on_resource(lambda r: r["provision"]["action"][0]["coding"][0].update(system="http://hl7.org/fhir/consentaction")),
        [FhirFound("CG103", "http://hl7.org/fhir/consentaction", OURS + "Consent.provision.action[0].coding[0].system", offset=-1)],
        False,
        "http://terminology.hl7.org/CodeSystem/consentaction",
    ),
    "CG102-no-identifier-names-the-element": FhirLoaderRow(
        on_resource(lambda r: r.pop("identifier")),
        [FhirFound("CG102", '"resource": {', "Bundle.entry[0].resource: Consent.identifier[0].value")],
        True,  # left out: no case can name it
    ),
    "CG103-channel-system-over-http": FhirLoaderRow(
        on_resource(
            lambda r: r["provision"]["provision"][0]["code"][0]["coding"][0].update(system=CHANNEL_SYSTEM.replace("https", "http"))
        ),
        [FhirFound("CG103", CHANNEL_SYSTEM.replace("https", "http"), OURS + "Consent.provision.provision[0].code[0].coding[0]", offset=-1)],
        False,
        f"did you mean '{CHANNEL_SYSTEM}'?",
    ),
    "CG103-nested-permit-cannot-narrow-data": FhirLoaderRow(
        on_resource(lambda r: r["provision"]["provision"][0].update(data=r["provision"]["data"])),
        [FhirFound("CG103", '"data": [', OURS + "Consent.provision.provision[0].data", occurrence=1)],
        False,
    ),
}


@pytest.mark.parametrize("row", FHIR_LOADER_ROWS.values(), ids=FHIR_LOADER_ROWS.keys())
def test_fhir_loader_problem(tmp_path: Path, row: FhirLoaderRow) -> None:
    bundle: Bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": fhir_consent(consent(FHIR_ID, "lips-001", "P-10001"))}],
    }
    row.change(bundle)
    text = json.dumps(bundle, indent=2)
    register = load_register_text(tmp_path, text, FHIR_NAME)
    report = "\n".join(v.format() for v in register.violations)
    assert found_in(register.violations) == sorted(f.resolve(text) for f in row.found), report
    assert all(v.where.file == FHIR_NAME for v in register.violations)
    assert (FHIR_ID not in register.consents) is row.refused, report
    if row.refused and "identifier" in consent_resource(bundle):
        assert register.refused[FHIR_ID] in register.violations  # a case naming it is told this reason
    assert row.hint in report
