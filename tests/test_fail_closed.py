"""Fail closed, in real builds: a case is published only under a release that binds this patient, this case, this
channel, today; and the build says why not in the words of the file the clinic wrote (YAML, CSV or FHIR).

One table per rule family (binding, withdrawal, publication before signing, no silent defaults, FHIR's meaning).
Each row starts from the valid three-case clinic of conftest's `project`, changes what the row says, writes the
register in the row's format and builds. It asserts the rule code, the file, line and field (a FHIR element path
for FHIR) of the refusal, its fix, and that nothing of the refused case (its id, texts, raw bytes or pixels) is in
any file of site/. A row with `first` builds once before (the publication log then knows the case).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mkdocs_compliant_gallery.records.fhir import CASE_SYSTEM, EXTENSION_BASE, PARTICIPATION_SYSTEM
from tests.helpers import (
    BUILD_DATE,
    Project,
    Result,
    assert_case_absent,
    assert_nothing_published,
    cards_of,
    consent,
    csv_register,
    fhir_bundle,
    fhir_consent,
)

Change = Callable[[Project], None]
Resources = list[dict[str, Any]]
FhirChange = Callable[[Resources], None]
REGISTERS = {"yml": "consents.yml", "csv": "consents.csv", "json": "consents.json"}
# The second resource of a FHIR register is C-2026-0002, the release of lips-002 (the case most rows refuse).
SECOND = 1


@dataclass(frozen=True)
class At:
    """Where a refusal points: the `occurrence`-th line of `file` holding `needle` (moved by `offset`: a JSON object
    starts on the line before its first key), and the field. `needle` "" means the file as a whole (no line)."""

    file: str  # register | manifest | mkdocs.yml
    needle: str
    field: str
    offset: int = 0
    occurrence: int = 0

    def resolve(self, project: Project) -> str:
        if self.file == "mkdocs.yml":
            return f"mkdocs.yml ({self.field})"
        name = project.consents_name if self.file == "register" else "manifest.yml"
        text = (project.gallery / name).read_text(encoding="utf-8")
        lines = [number for number, line in enumerate(text.splitlines(), start=1) if self.needle in line]
        assert len(lines) > self.occurrence, f"{self.needle!r} is not on {self.occurrence + 1} lines of {name}:\n{text}"
        return f"gallery/{name}:{lines[self.occurrence] + self.offset} ({self.field})"


@dataclass(frozen=True)
class Row:
    fmt: str  # yml | csv | json
    change: Change
    code: str | None  # None: the row is a control, and the case is published
    case: str | None  # the case refused (None: the build as a whole)
    at: At | None
    removed: bool = False  # taken down (the build passes) rather than an error (the build fails)
    fhir: FhirChange | None = None  # a change of the FHIR resources after they are written from the records
    first: Change | None = None  # applied before a first build, which must pass
    first_date: str = BUILD_DATE


def nothing(project: Project) -> None:
    return None


def on_consent(consent_id: str, **fields: Any) -> Change:
    """Set fields of a release (None deletes the field: the record does not state it)."""

    def change(project: Project) -> None:
        record = project.consent(consent_id)
        for key, value in fields.items():
            if value is None:
                record.pop(key, None)
            else:
                record[key] = value

    return change


def on_case(case_id: str, **fields: Any) -> Change:
    def change(project: Project) -> None:
        project.case(case_id).update(fields)

    return change


def add_consent(record: dict[str, Any]) -> Change:
    def change(project: Project) -> None:
        project.consents.append(record)

    return change


def steps(*changes: Change) -> Change:
    def change(project: Project) -> None:
        for step in changes:
            step(project)

    return change


def on_second(change: Callable[[dict[str, Any]], None]) -> FhirChange:
    """A change of C-2026-0002's Consent."""
    return lambda resources: change(resources[SECOND])


def later_refusal(resources: Resources) -> None:
    """Lips-002's patient refuses, in a later Consent: root provision deny, every case, every channel."""
    refusal = fhir_consent(consent("C-2026-0009", "lips-002", "P-10002"))
    refusal["dateTime"] = "2026-06-01"
    refusal["provision"].update(type="deny", provision=[])
    del refusal["provision"]["data"]
    resources.append(refusal)


MODIFIER = [{"url": "https://hospital.example/fhir/void-unless-countersigned", "valueBoolean": True}]
JOURNAL_ONLY = [
    {
        "role": {"coding": [{"system": PARTICIPATION_SYSTEM, "code": "IRCP"}]},
        "reference": {"reference": "Organization/journal-of-aesthetics"},
    }
]
SECOND_CASE_START = At("manifest", "- id: lips-002", "case lips-002.patient_ref")
LEFT_OUT = At("manifest", "consent: C-2026-0002", "case lips-002.consent")
YAML_SECOND = "- id: C-2026-0002"
CSV_SECOND = "C-2026-0002,"
REVOKED = on_consent("C-2026-0002", revoked_on="2026-11-01")
UNREVOKED = on_consent("C-2026-0002", revoked_on=None)
TREATMENT_SCOPE = {"treatment": "lip-filler"}


# -- 1. A release belongs to one patient ------------------------------------------------------------------------------

BINDING_ROWS: dict[str, Row] = {
    "yml-CG208-treatment-scope-and-a-case-without-patient_ref": Row(
        "yml", on_consent("C-2026-0002", scope=TREATMENT_SCOPE), "CG208", "lips-002", SECOND_CASE_START
    ),
    "csv-CG208-treatment-scope-and-a-case-without-patient_ref": Row(
        "csv", on_consent("C-2026-0002", scope=TREATMENT_SCOPE), "CG208", "lips-002", SECOND_CASE_START
    ),
    "yml-CG208-case-pointed-at-another-patient's-treatment-release": Row(
        "yml",
        steps(
            on_consent("C-2026-0001", scope=TREATMENT_SCOPE),
            on_case("lips-001", patient_ref="P-10001"),
            on_case("lips-002", consent="C-2026-0001"),
        ),
        "CG208",
        "lips-002",
        SECOND_CASE_START,
    ),
    "csv-CG208-case-of-one-patient-under-another's-release": Row(
        "csv",
        steps(on_consent("C-2026-0001", scope=TREATMENT_SCOPE), on_case("lips-002", consent="C-2026-0001", patient_ref="P-10002")),
        "CG208",
        "lips-002",
        At("manifest", "patient_ref: P-10002", "case lips-002.patient_ref"),
    ),
    "json-CG208-case-of-one-patient-under-another's-release": Row(
        "json",
        on_case("lips-002", patient_ref="P-10001"),
        "CG208",
        "lips-002",
        At("manifest", "patient_ref: P-10001", "case lips-002.patient_ref"),
    ),
    "json-CG208-release-naming-another-case": Row(
        "json",
        on_case("lips-002", consent="C-2026-0001"),
        "CG208",
        "lips-002",
        At("register", '"data": [', "consent C-2026-0001: Consent.provision.data"),
    ),
    "yml-treatment-scope-bound-by-patient_ref-publishes": Row(
        "yml", steps(on_consent("C-2026-0002", scope=TREATMENT_SCOPE), on_case("lips-002", patient_ref="P-10002")), None, "lips-002", None
    ),
    # Taken down for withdrawal by a first build; then the clinic deletes the revocation: the log remembers.
    "yml-CG208-withdrawn-case-back-under-its-old-release": Row(
        "yml",
        UNREVOKED,
        "CG208",
        "lips-002",
        At("register", "signed_on:", "consent C-2026-0002.signed_on", occurrence=SECOND),
        first=REVOKED,
    ),
    "csv-CG208-withdrawn-case-back-under-its-old-release": Row(
        "csv", UNREVOKED, "CG208", "lips-002", At("register", CSV_SECOND, "consent C-2026-0002.signed_on"), first=REVOKED
    ),
    "json-CG208-withdrawn-case-back-under-its-old-release": Row(
        "json",
        UNREVOKED,
        "CG208",
        "lips-002",
        At("register", '"dateTime"', "consent C-2026-0002: Consent.dateTime", occurrence=SECOND),
        first=REVOKED,
    ),
    "yml-CG208-withdrawn-case-back-under-another-patient's-treatment-release": Row(
        "yml",
        steps(
            on_consent("C-2026-0001", scope=TREATMENT_SCOPE),
            on_case("lips-001", patient_ref="P-10001"),
            on_case("lips-002", consent="C-2026-0001"),
        ),
        "CG208",
        "lips-002",
        SECOND_CASE_START,
        first=REVOKED,
    ),
    "yml-withdrawn-case-back-under-a-new-release-naming-it-publishes": Row(
        "yml",
        steps(
            add_consent({**consent("C-2026-0012", "lips-002", "P-10002"), "signed_on": "2026-11-20"}),
            on_case("lips-002", consent="C-2026-0012"),
        ),
        None,
        "lips-002",
        None,
        first=REVOKED,
    ),
}

# -- 2. Withdrawal from the earliest evidence ------------------------------------------------------------------------

RECEIVED_FIRST = on_consent("C-2026-0002", revoked_on="2026-12-01", revocation_received_on="2026-11-01")

WITHDRAWAL_ROWS: dict[str, Row] = {
    "yml-CG203-received-before-revoked_on": Row(
        "yml",
        RECEIVED_FIRST,
        "CG203",
        "lips-002",
        At("register", "revocation_received_on:", "consent C-2026-0002.revocation_received_on"),
        removed=True,
    ),
    "csv-CG203-received-before-revoked_on": Row(
        "csv", RECEIVED_FIRST, "CG203", "lips-002", At("register", CSV_SECOND, "consent C-2026-0002.revocation_received_on"), removed=True
    ),
    "json-CG203-received-before-revoked_on": Row(
        "json",
        RECEIVED_FIRST,
        "CG203",
        "lips-002",
        At("register", "revocationReceivedOn", "consent C-2026-0002: Consent.extension[7]", offset=-1),
        removed=True,
    ),
    "yml-CG203-received-only": Row(
        "yml",
        on_consent("C-2026-0002", revocation_received_on="2026-11-20"),
        "CG203",
        "lips-002",
        At("register", "revocation_received_on:", "consent C-2026-0002.revocation_received_on"),
        removed=True,
    ),
    "csv-CG203-revoked_on-before-received": Row(
        "csv",
        on_consent("C-2026-0002", revoked_on="2026-10-01", revocation_received_on="2026-10-05"),
        "CG203",
        "lips-002",
        At("register", CSV_SECOND, "consent C-2026-0002.revoked_on"),
        removed=True,
    ),
    "json-CG203-inactive-is-not-in-force-before-its-revokedOn": Row(
        "json",
        on_consent("C-2026-0002", revoked_on="2027-01-01"),
        "CG203",
        "lips-002",
        At("register", "revokedOn", "consent C-2026-0002: Consent.extension[6]", offset=-1),
        removed=True,
        fhir=on_second(lambda r: r.update(status="inactive")),
    ),
    "json-CG203-inactive-without-a-date-fails-closed": Row(
        "json",
        nothing,
        "CG203",
        "lips-002",
        At("register", '"status": "inactive"', "consent C-2026-0002: Consent.status"),
        fhir=on_second(lambda r: r.update(status="inactive")),
    ),
}

# -- 3. Signed before its first publication ---------------------------------------------------------------------------

# A first build on 2026-04-01 publishes every case; then signed_on is corrected from the form: 2026-05-10.
SIGNED_LATER = on_consent("C-2026-0002", signed_on="2026-05-10")

PUBLICATION_ROWS: dict[str, Row] = {
    "yml-CG212-signed-after-a-build-published-the-case": Row(
        "yml",
        SIGNED_LATER,
        "CG212",
        "lips-002",
        At("register", "signed_on: '2026-05-10'", "consent C-2026-0002.signed_on"),
        first=nothing,
        first_date="2026-04-01",
    ),
    "csv-CG212-signed-after-a-build-published-the-case": Row(
        "csv",
        SIGNED_LATER,
        "CG212",
        "lips-002",
        At("register", CSV_SECOND, "consent C-2026-0002.signed_on"),
        first=nothing,
        first_date="2026-04-01",
    ),
    "json-CG212-signed-after-a-build-published-the-case": Row(
        "json",
        SIGNED_LATER,
        "CG212",
        "lips-002",
        At("register", '"dateTime": "2026-05-10', "consent C-2026-0002: Consent.dateTime"),
        first=nothing,
        first_date="2026-04-01",
    ),
}

# -- 4. No silent defaults --------------------------------------------------------------------------------------------

DEFAULT_ROWS: dict[str, Row] = {
    "yml-CG206-material_connection-not-recorded": Row(
        "yml",
        on_consent("C-2026-0002", material_connection=None),
        "CG206",
        "lips-002",
        At("register", YAML_SECOND, "consent C-2026-0002.material_connection"),
    ),
    "csv-CG206-third_party_remuneration-not-recorded": Row(
        "csv",
        on_consent("C-2026-0002", third_party_remuneration=None),
        "CG206",
        "lips-002",
        At("register", CSV_SECOND, "consent C-2026-0002.third_party_remuneration"),
    ),
    "json-CG206-irrevocable-not-recorded": Row(
        "json",
        on_consent("C-2026-0002", irrevocable=None),
        "CG206",
        "lips-002",
        At("register", '"resource": {', "consent C-2026-0002: Consent.extension:irrevocable", occurrence=SECOND),
    ),
    "json-CG206-thirdPartyRemuneration-not-recorded": Row(
        "json",
        on_consent("C-2026-0002", third_party_remuneration=None),
        "CG206",
        "lips-002",
        At("register", '"resource": {', "consent C-2026-0002: Consent.extension:thirdPartyRemuneration", occurrence=SECOND),
    ),
    "yml-CG206-conditioning-statement-not-recorded": Row(
        "yml",
        on_consent("C-2026-0002", statements={"revocation": True, "redisclosure": True}),
        "CG206",
        "lips-002",
        At("register", "statements:", "consent C-2026-0002.statements.conditioning", occurrence=SECOND),
    ),
    "csv-CG206-redisclosure-statement-not-recorded": Row(
        "csv",
        on_consent("C-2026-0002", statements={"revocation": True, "conditioning": True}),
        "CG206",
        "lips-002",
        At("register", CSV_SECOND, "consent C-2026-0002.statements.redisclosure"),
    ),
    "yml-CG102-jurisdictions-not-set": Row(
        "yml", lambda project: project.options.update(jurisdictions=None), "CG102", None, At("mkdocs.yml", "", "jurisdictions")
    ),
}

# -- 5. FHIR registers with FHIR's meaning ----------------------------------------------------------------------------


def status(value: str) -> FhirChange:
    return on_second(lambda r: r.update(status=value))


FHIR_ROWS: dict[str, Row] = {
    **{
        f"json-CG213-status-{value}": Row(
            "json",
            nothing,
            "CG213",
            "lips-002",
            At("register", f'"status": "{value}"', "consent C-2026-0002: Consent.status"),
            fhir=status(value),
        )
        for value in ("draft", "proposed", "rejected", "entered-in-error")
    },
    "json-CG203-a-later-refusal-of-the-same-patient": Row(
        "json",
        nothing,
        "CG203",
        "lips-002",
        At("register", '"type": "deny"', "consent C-2026-0009: Consent.provision.type", occurrence=3),
        removed=True,
        fhir=later_refusal,
    ),
    "json-CG208-a-deny-provision-names-the-case": Row(
        "json",
        nothing,
        "CG208",
        "lips-002",
        At("register", '"type": "deny"', "consent C-2026-0002: Consent.provision.provision[3]", offset=-1, occurrence=2),
        fhir=on_second(
            lambda r: r["provision"]["provision"].append(
                {
                    "type": "deny",
                    "data": [{"meaning": "instance", "reference": {"identifier": {"system": CASE_SYSTEM, "value": "lips-002"}}}],
                }
            )
        ),
    ),
    "json-CG202-release-limited-to-a-journal": Row(
        "json",
        nothing,
        "CG202",
        "lips-002",
        At("register", '"actor": [', "consent C-2026-0002: Consent.provision.actor", occurrence=SECOND),
        fhir=on_second(lambda r: r["provision"].update(actor=JOURNAL_ONLY)),
    ),
    "json-CG213-period-starts-after-the-build-date": Row(
        "json",
        nothing,
        "CG213",
        "lips-002",
        At("register", '"start": "2026-12-01"', "consent C-2026-0002: Consent.provision.period.start"),
        fhir=on_second(lambda r: r["provision"]["period"].update(start="2026-12-01")),
    ),
    "json-CG201-modifierExtension-in-provision-data": Row(
        "json",
        nothing,
        "CG201",
        "lips-002",
        LEFT_OUT,
        fhir=on_second(lambda r: r["provision"]["data"][0].update(modifierExtension=MODIFIER)),
    ),
    "json-CG201-revokedOn-url-over-http": Row(
        "json",
        nothing,
        "CG201",
        "lips-002",
        LEFT_OUT,
        fhir=on_second(lambda r: r["extension"].append({"url": f"http://{EXTENSION_BASE[8:]}revokedOn", "valueDate": "2026-11-01"})),
    ),
    "json-CG201-revokedOn-null": Row(
        "json",
        nothing,
        "CG201",
        "lips-002",
        LEFT_OUT,
        fhir=on_second(lambda r: r["extension"].append({"url": f"{EXTENSION_BASE}revokedOn", "valueDate": None})),
    ),
    "json-CG201-revokedOn-on-the-provision": Row(
        "json",
        nothing,
        "CG201",
        "lips-002",
        LEFT_OUT,
        fhir=on_second(lambda r: r["provision"].update(extension=[{"url": f"{EXTENSION_BASE}revokedOn", "valueDate": "2026-11-01"}])),
    ),
    "json-CG206-another-Patient-signed-as-representative": Row(
        "json",
        nothing,
        "CG206",
        "lips-002",
        At("register", '"resource": {', "consent C-2026-0002: Consent.extension:representativeAuthority", occurrence=SECOND),
        fhir=on_second(lambda r: r.update(performer=[{"reference": "Patient/mother-of-p-10002"}])),
    ),
    "json-CG208-STU3-purpose-system": Row(
        "json",
        nothing,
        "CG208",
        "lips-002",
        At("register", '"purpose": [', "consent C-2026-0002: Consent.provision.purpose", occurrence=SECOND),
        fhir=on_second(lambda r: r["provision"]["purpose"][0].update(system="http://hl7.org/fhir/v3/ActReason")),
    ),
}

ROWS = {**BINDING_ROWS, **WITHDRAWAL_ROWS, **PUBLICATION_ROWS, **DEFAULT_ROWS, **FHIR_ROWS}


@pytest.fixture(scope="session")
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One processed-image cache for the rows of a worker: the photos are the same, processing them once is enough."""
    return tmp_path_factory.mktemp("image-cache")


def write_register(project: Project, row: Row) -> None:
    project.consents_name = REGISTERS[row.fmt]
    if row.fmt == "yml":
        project.consents_text = None
    elif row.fmt == "csv":
        project.consents_text = csv_register(project.consents)
    else:
        resources = [fhir_consent(record, revoked_on_extension=True) for record in project.consents]
        if row.fhir is not None:
            row.fhir(resources)
        project.consents_text = fhir_bundle(resources)


def build_row(project: Project, row: Row, image_cache: Path) -> Result:
    project.options["cache_dir"] = str(image_cache)
    if row.first is not None:
        row.first(project)
        project.options["build_date"] = row.first_date
        write_register(project, row)
        first = project.build()
        assert first.ok, first.log
        project.options["build_date"] = BUILD_DATE
    row.change(project)
    write_register(project, row)
    return project.build()


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_fail_closed(project: Project, row: Row, image_cache: Path) -> None:
    result = build_row(project, row, image_cache)
    if row.code is None:
        assert result.ok, result.log
        assert row.case in cards_of(result.site / "gallery" / "index.html")
        return
    assert row.at is not None
    where = row.at.resolve(project)
    if row.removed:
        assert result.ok, result.log
        assert re.search(rf"case {row.case} removed: .* \({row.code}, {re.escape(where)}\)", result.log), result.log
        assert sorted(cards_of(result.site / "gallery" / "index.html")) == sorted({"lips-001", "lips-002", "brow-001"} - {row.case})
    else:
        assert not result.ok
        head = f"{where}: {row.code}" + (f" [case {row.case}]" if row.case else "")
        assert re.search(re.escape(head) + r" .+\n +fix: \S", result.log), f"{head!r} with a fix, in:\n{result.log}"
        assert_nothing_published(result.site, project.root)
    if row.case is not None:
        assert_case_absent(result, project.root, row.case, [f"Caption of {row.case}", f"{row.case} before, front view"])


def test_the_tables_cover_each_item_in_every_format() -> None:
    assert len(ROWS) >= 30
    for table in (BINDING_ROWS, WITHDRAWAL_ROWS, PUBLICATION_ROWS, DEFAULT_ROWS):
        assert {row.fmt for row in table.values()} == {"yml", "csv", "json"}, table


# -- the rest of each item, where a table row does not fit ------------------------------------------------------------


def test_a_manifest_patient_ref_is_forbidden_in_the_site(project: Project) -> None:
    """A patient_ref written only in the manifest (here the register's record omits it) is forbidden in the output as
    much as the register's: a page quoting it fails the output guard."""
    del project.consent("C-2026-0001")["patient_ref"]
    project.case("lips-001")["patient_ref"] = "P-77123"
    project.pages["about.md"] = "# About\n\nReference P-77123.\n"
    result = project.build()
    assert not result.ok
    assert re.search(r"CG603 .*patient_ref of case lips-001", result.log), result.log
    assert_nothing_published(result.site, project.root)


def test_the_report_lists_the_builds_that_published_before_signing(project: Project) -> None:
    """CG212's builds are what a breach notice needs: `compliant-gallery report` shows them, by date."""
    project.options["build_date"] = "2026-04-01"
    assert project.build().ok
    project.options["build_date"] = "2026-04-15"
    assert project.build().ok
    project.options["build_date"] = BUILD_DATE
    project.consent("C-2026-0002")["signed_on"] = "2026-05-10"
    project.write()
    command = [sys.executable, "-m", "mkdocs_compliant_gallery", "report", "-o", "report.html"]
    run = subprocess.run(command, cwd=project.root, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BREACH     lips-002             published by the build of 2026-04-01" in run.stdout, run.stdout
    assert "published by the build of 2026-04-15" in run.stdout
    html = (project.root / "report.html").read_text()
    assert html.count('data-breach-case="lips-002"') == 2
    assert 'data-build-date="2026-04-01"' in html and 'data-build-date="2026-04-15"' in html
    assert "P-10002" not in html


def test_the_log_records_when_a_release_ended(project: Project) -> None:
    """A removal's entry carries the day the release stopped being in force: a comeback needs a release signed later."""
    project.consent("C-2026-0002")["revocation_received_on"] = "2026-10-30"
    project.consent("C-2026-0002")["revoked_on"] = "2026-11-02"
    assert project.build().ok
    record = json.loads((project.root / ".compliance" / "publications.jsonl").read_text().splitlines()[-1])
    assert record["removed"] == [
        {
            "case": "lips-002",
            "consent": "C-2026-0002",
            "code": "CG203",
            "reason": "consent withdrawn on 2026-10-30 (the day the withdrawal was received)",
            "ended_on": "2026-10-30",
        }
    ]


def test_assert_case_absent_finds_a_published_photo_by_its_pixels(project: Project, image_cache: Path) -> None:
    """The check the tables rely on can fail: with every text file gone, the processed renditions of a published case
    (new names, new formats, smaller) are still recognised as its photos."""
    project.options["cache_dir"] = str(image_cache)
    result = project.build()
    assert result.ok, result.log
    for path in result.site_files():
        if path.suffix in {".html", ".json", ".xml", ".js", ".css", ".txt", ".gz"}:
            path.unlink()
    assert result.gallery_images()
    with pytest.raises(AssertionError, match=r"shows lips-001-(before|after)\.jpg of the refused case lips-001"):
        assert_case_absent(result, project.root, "lips-001")
