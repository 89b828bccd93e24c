"""The rules as plain function calls, one table per family: consent (CG201-CG211), disclosures (CG401-CG405; CG404,
checked on rendered cards, is in test_unit_output.py) and the jurisdiction packs (CG501-CG513).

Each row starts from one valid case and its valid release (tests.helpers' `case` and `consent`, written as a
manifest and a register in tmp_path and loaded by the real loaders), changes what the row says, and lists every
violation that must come out: its code, the file, line and field it points at, and its severity.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mkdocs_compliant_gallery.audit.publications import history_of
from mkdocs_compliant_gallery.catalogue import RULES
from mkdocs_compliant_gallery.records.fhir import CASE_SYSTEM, CHANNEL_SYSTEM, EXTENSION_BASE, PARTICIPATION_SYSTEM
from mkdocs_compliant_gallery.records.manifest import Case, Manifest, Treatment, load_manifest
from mkdocs_compliant_gallery.records.register import Consent, Register, load_register
from mkdocs_compliant_gallery.rules.consent import consent_violations
from mkdocs_compliant_gallery.rules.context import Rules
from mkdocs_compliant_gallery.rules.decide import decide, decide_all
from mkdocs_compliant_gallery.rules.disclosures import GUARANTEE_WORDS, disclosure_violations
from mkdocs_compliant_gallery.rules.jurisdictions import pack_violations
from mkdocs_compliant_gallery.violations import Severity, Violation, Where
from tests.helpers import BUILD_DATE, TREATMENTS, case, consent, fhir_consent

MANIFEST = "gallery/manifest.yml"
REGISTER = "gallery/consents.yml"
CASE_ID = "lips-001"
CONSENT_ID = "C-2026-0001"
# Where a record itself starts: a violation about a field the record lacks points here.
CASE_START = f"id: {CASE_ID}"
CONSENT_START = f"id: {CONSENT_ID}"


@dataclass
class Clinic:
    """One case, its release and the treatments, as the dicts a clinic writes; and the rules of the build."""

    case: dict[str, Any]
    consent: dict[str, Any]
    treatments: dict[str, Any]
    rules: Rules
    log: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # the publication log, one build per item


def valid_clinic() -> Clinic:
    return Clinic(
        case(CASE_ID, CONSENT_ID),
        consent(CONSENT_ID, CASE_ID, "P-10001"),
        copy.deepcopy(TREATMENTS),
        Rules(
            channel="website",
            build_date=dt.date.fromisoformat(BUILD_DATE),
            expiry_warning_days=30,
            fail_on_withdrawn=False,
            jurisdictions=("US",),
            practitioner_registration=None,
            claims_forbidden=(),
        ),
    )


@dataclass(frozen=True)
class Loaded:
    """The clinic's files as loaded, with their text to find lines in."""

    manifest: Manifest
    register: Register
    case: Case
    consent: Consent
    treatment: Treatment | None
    texts: dict[str, str]


def load(root: Path, clinic: Clinic) -> Loaded:
    texts = {
        MANIFEST: yaml.safe_dump({"treatments": clinic.treatments, "cases": [clinic.case]}, sort_keys=False),
        REGISTER: yaml.safe_dump({"consents": [clinic.consent]}, sort_keys=False),
    }
    for name, text in texts.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    for pair in clinic.case["photos"]:
        for side in ("before", "after"):
            photo = root / "gallery" / pair[side]["src"]
            photo.parent.mkdir(parents=True, exist_ok=True)
            photo.write_bytes(b"not decoded by the rules")
    manifest = load_manifest(root / MANIFEST, MANIFEST, root, root / "gallery")
    register = load_register(root / REGISTER, REGISTER)
    assert manifest.violations == [] and register.violations == [], [v.format() for v in manifest.violations + register.violations]
    loaded_case = manifest.cases[CASE_ID]
    return Loaded(
        manifest,
        register,
        loaded_case,
        register.consents[CONSENT_ID],
        manifest.treatments.get(loaded_case.treatment or ""),
        texts,
    )


# -- changing the clinic --------------------------------------------------------------------------------------------

Mutation = Callable[[Clinic], None]


def _set(record: dict[str, Any], dotted: str, value: object) -> None:
    """Set a dotted field (list items by index: photos.0.edits); None deletes the field."""
    *parents, leaf = dotted.split(".")
    target: Any = record
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    if value is None:
        target.pop(leaf, None)
    else:
        target[leaf] = value


def on_case(**changes: object) -> Mutation:
    """Change fields of the case (`photos__0__edits=` for photos.0.edits)."""

    def mutate(clinic: Clinic) -> None:
        for key, value in changes.items():
            _set(clinic.case, key.replace("__", "."), value)

    return mutate


def on_consent(**changes: object) -> Mutation:
    """Change fields of the release (`scope__cases=` for scope.cases)."""

    def mutate(clinic: Clinic) -> None:
        for key, value in changes.items():
            _set(clinic.consent, key.replace("__", "."), value)

    return mutate


def on_treatment(**changes: object) -> Mutation:
    """Change fields of the case's treatment, lip-filler."""

    def mutate(clinic: Clinic) -> None:
        for key, value in changes.items():
            _set(clinic.treatments["lip-filler"], key, value)

    return mutate


def on_rules(**changes: Any) -> Mutation:
    def mutate(clinic: Clinic) -> None:
        clinic.rules = dataclasses.replace(clinic.rules, **changes)

    return mutate


def on_log(*builds: dict[str, Any]) -> Mutation:
    """Builds in the publication log before this one (as `audit.publications` writes them)."""

    def mutate(clinic: Clinic) -> None:
        clinic.log.extend(builds)

    return mutate


def published(build_date: str, consent_id: str = CONSENT_ID) -> dict[str, Any]:
    """A build that published the case under `consent_id`."""
    return {"time": f"{build_date}T09:00:00+00:00", "build_date": build_date, "published": [{"case": CASE_ID, "consent": consent_id}]}


def removed(build_date: str, ended_on: str | None, code: str = "CG203") -> dict[str, Any]:
    """A build that took the case down (withdrawal or expiry) of a release that ended on `ended_on`."""
    entry = {"case": CASE_ID, "consent": CONSENT_ID, "code": code, "reason": "consent withdrawn"}
    if ended_on:
        entry["ended_on"] = ended_on
    return {"time": f"{build_date}T09:00:00+00:00", "build_date": build_date, "published": [], "removed": [entry]}


def both(*mutations: Mutation) -> Mutation:
    def mutate(clinic: Clinic) -> None:
        for mutation in mutations:
            mutation(clinic)

    return mutate


# -- what must come out ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """One violation: its code, the file, the text on the line it points at, its field and its severity."""

    code: str
    file: str
    line_text: str
    field: str
    severity: Severity | None = None  # None: the rule's own

    def resolve(self, texts: dict[str, str]) -> tuple[str, Where, Severity]:
        lines = [number for number, line in enumerate(texts[self.file].splitlines(), start=1) if self.line_text in line]
        assert len(lines) == 1, f"{self.line_text!r} must be on exactly one line of {self.file}:\n{texts[self.file]}"
        return self.code, Where(self.file, lines[0], self.field), self.severity or RULES[self.code].severity


def in_case(code: str, key: str, line_text: str = "", severity: Severity | None = None) -> Expect:
    """At `key:` of the case in the manifest (or at `line_text`, e.g. the case's start when the key is absent)."""
    return Expect(code, MANIFEST, line_text or f"{key}:", f"case {CASE_ID}.{key}" if key else f"case {CASE_ID}", severity)


def in_consent(code: str, key: str, line_text: str = "", severity: Severity | None = None) -> Expect:
    """At `key:` of the release in the register (or at `line_text`)."""
    return Expect(code, REGISTER, line_text or f"{key}:", f"consent {CONSENT_ID}.{key}", severity)


def in_treatment(code: str, field: str = "treatments.lip-filler") -> Expect:
    """At the treatment's key under `treatments:` in the manifest."""
    return Expect(code, MANIFEST, "  lip-filler:", field)


@dataclass(frozen=True)
class Row:
    mutate: Mutation
    expect: list[Expect]


def check(found: list[Violation], row: Row, loaded: Loaded) -> None:
    actual = sorted(((v.code, v.where, v.severity) for v in found), key=repr)
    expected = sorted((e.resolve(loaded.texts) for e in row.expect), key=repr)
    assert actual == expected, "\n".join(v.format() for v in found) or "no violation"
    assert all(v.case == CASE_ID for v in found)


def prepared(tmp_path: Path, row: Row) -> tuple[Clinic, Loaded]:
    clinic = valid_clinic()
    row.mutate(clinic)
    return clinic, load(tmp_path, clinic)


# -- CG201-CG211: the release -------------------------------------------------------------------------------------

REMOVED, ERROR, WARNING = Severity.REMOVED, Severity.ERROR, Severity.WARNING
FAIL_ON_WITHDRAWN = on_rules(fail_on_withdrawn=True)
# The case says it is the release's patient: what a treatment scope needs to cover it.
SAME_PATIENT = on_case(patient_ref="P-10001")

CONSENT_ROWS: dict[str, Row] = {
    "valid-release": Row(on_case(), []),
    "CG201-case-names-no-consent": Row(on_case(consent=None), [in_case("CG201", "consent", CASE_START)]),
    "CG201-consent-not-in-register": Row(on_case(consent="C-2099-0001"), [in_case("CG201", "consent")]),
    "CG202-channel-denied": Row(on_rules(channel="paid_ads"), [in_consent("CG202", "channels")]),
    "CG202-channel-not-permitted": Row(on_rules(channel="print"), [in_consent("CG202", "channels")]),
    "CG202-deny-wins-over-permit": Row(
        on_consent(channels={"permit": ["website"], "deny": ["website"]}), [in_consent("CG202", "channels")]
    ),
    "CG203-withdrawn-on-build-date-removes": Row(on_consent(revoked_on=BUILD_DATE), [in_consent("CG203", "revoked_on", severity=REMOVED)]),
    "CG203-withdrawn-earlier-removes": Row(on_consent(revoked_on="2026-06-01"), [in_consent("CG203", "revoked_on", severity=REMOVED)]),
    "CG203-on_withdrawn-fail-is-an-error": Row(
        both(on_consent(revoked_on="2026-06-01"), FAIL_ON_WITHDRAWN), [in_consent("CG203", "revoked_on", severity=ERROR)]
    ),
    "CG203-withdrawal-hides-every-other-problem": Row(
        both(on_consent(revoked_on="2026-06-01", irrevocable=True, signer=None), on_rules(channel="print")),
        [in_consent("CG203", "revoked_on", severity=REMOVED)],
    ),
    "withdrawn-after-the-build-date-publishes": Row(on_consent(revoked_on="2026-11-24"), []),
    "CG204-expired-removes": Row(on_consent(expires_on="2026-11-22"), [in_consent("CG204", "expires_on", severity=REMOVED)]),
    "CG204-on_withdrawn-fail-is-an-error": Row(
        both(on_consent(expires_on="2026-11-22"), FAIL_ON_WITHDRAWN), [in_consent("CG204", "expires_on", severity=ERROR)]
    ),
    "CG204-expiry-event-occurred-removes": Row(
        on_consent(expires_on=None, expiry_event="end of the treatment plan", event_occurred_on="2026-11-01"),
        [in_consent("CG204", "event_occurred_on", severity=REMOVED)],
    ),
    "expiry-event-not-yet-occurred-publishes": Row(on_consent(expires_on=None, expiry_event="end of the treatment plan"), []),
    "CG205-superseded": Row(on_consent(superseded_by="C-2026-0009"), [in_consent("CG205", "superseded_by")]),
    "CG206-no-signed-date": Row(on_consent(signed_on=None), [in_consent("CG206", "signed_on", CONSENT_START)]),
    "CG206-no-expiry-date-or-event": Row(on_consent(expires_on=None), [in_consent("CG206", "expires_on", CONSENT_START)]),
    "CG206-no-signer": Row(on_consent(signer=None), [in_consent("CG206", "signer", CONSENT_START)]),
    "CG206-representative-without-authority": Row(
        on_consent(signer="representative"), [in_consent("CG206", "representative_authority", CONSENT_START)]
    ),
    "representative-with-authority-publishes": Row(on_consent(signer="representative", representative_authority="parent of a minor"), []),
    "CG206-no-purpose": Row(on_consent(purposes=None), [in_consent("CG206", "purposes", CONSENT_START)]),
    "CG206-revocation-statement-false": Row(
        on_consent(statements__revocation=False), [Expect("CG206", REGISTER, "statements:", f"consent {CONSENT_ID}.statements.revocation")]
    ),
    "CG206-remuneration-not-stated": Row(on_consent(third_party_remuneration=True), [in_consent("CG206", "third_party_remuneration")]),
    "CG207-irrevocable": Row(on_consent(irrevocable=True), [in_consent("CG207", "irrevocable")]),
    "CG208-purpose-not-marketing": Row(on_consent(purposes=["treatment"]), [in_consent("CG208", "purposes")]),
    "CG208-scope-names-nothing": Row(on_consent(scope=None), [in_consent("CG208", "scope", CONSENT_START)]),
    "CG208-scope-names-another-case": Row(on_consent(scope__cases=["lips-002"]), [in_consent("CG208", "scope")]),
    "CG208-photo-not-among-the-images": Row(
        on_consent(scope={"images": ["lips-001-before.jpg"]}),
        [Expect("CG208", MANIFEST, "src: photos/lips-001-after.jpg", f"case {CASE_ID}.photos")],
    ),
    "CG208-another-treatment": Row(both(on_consent(scope={"treatment": "wrinkle-relaxer"}), SAME_PATIENT), [in_consent("CG208", "scope")]),
    "CG208-date-range-but-no-treated_on": Row(
        both(on_consent(scope={"treatment": "lip-filler", "from": "2026-01-01", "to": "2026-01-31"}), SAME_PATIENT),
        [in_case("CG208", "treated_on", CASE_START)],
    ),
    "CG208-treated-outside-the-date-range": Row(
        both(
            on_consent(scope={"treatment": "lip-filler", "from": "2026-01-01", "to": "2026-01-31"}),
            on_case(treated_on="2026-02-10"),
            SAME_PATIENT,
        ),
        [in_consent("CG208", "scope")],
    ),
    "treated-inside-the-date-range-publishes": Row(
        both(
            on_consent(scope={"treatment": "lip-filler", "from": "2026-01-01", "to": "2026-01-31"}),
            on_case(treated_on="2026-01-10"),
            SAME_PATIENT,
        ),
        [],
    ),
    "CG209-face-shown-not-allowed": Row(on_case(shows__face=True), [in_case("CG209", "shows")]),
    "CG209-marks-shown-not-allowed": Row(on_case(shows__distinctive_marks=True), [in_case("CG209", "shows")]),
    "CG209-name-shown-not-allowed": Row(on_case(shows__name=True), [in_case("CG209", "shows")]),
    "CG209-testimonial-not-allowed": Row(on_case(testimonial="Lovely team."), [in_case("CG209", "testimonial")]),
    "face-shown-and-allowed-publishes": Row(both(on_case(shows__face=True), on_consent(allows__face=True)), []),
    "CG210-signed-after-the-build-date": Row(on_consent(signed_on="2026-11-24"), [in_consent("CG210", "signed_on")]),
    "CG211-expires-within-30-days-warns": Row(on_consent(expires_on="2026-12-01"), [in_consent("CG211", "expires_on", severity=WARNING)]),
    "CG211-expires-on-the-build-date-warns": Row(on_consent(expires_on=BUILD_DATE), [in_consent("CG211", "expires_on", severity=WARNING)]),
    "expires-beyond-expiry_warning_days-is-quiet": Row(both(on_consent(expires_on="2026-12-01"), on_rules(expiry_warning_days=5)), []),
    "CG211-not-added-to-an-error": Row(
        both(on_consent(expires_on="2026-12-01"), on_rules(channel="print")),
        [in_consent("CG202", "channels")],
    ),
    # A release belongs to one patient: named cases or photos bind it; a treatment scope binds through patient_ref.
    "CG208-treatment-scope-case-without-patient_ref": Row(
        on_consent(scope={"treatment": "lip-filler"}), [in_case("CG208", "patient_ref", CASE_START)]
    ),
    "CG208-treatment-scope-case-of-another-patient": Row(
        both(on_consent(scope={"treatment": "lip-filler"}), on_case(patient_ref="P-20002")), [in_case("CG208", "patient_ref")]
    ),
    "CG208-treatment-scope-release-without-patient_ref": Row(
        both(on_consent(scope={"treatment": "lip-filler"}, patient_ref=None), SAME_PATIENT), [in_consent("CG208", "scope")]
    ),
    "treatment-scope-with-the-release-patient_ref-publishes": Row(both(on_consent(scope={"treatment": "lip-filler"}), SAME_PATIENT), []),
    "CG208-named-case-of-another-patient": Row(on_case(patient_ref="P-20002"), [in_case("CG208", "patient_ref")]),
    "named-case-with-its-own-patient_ref-publishes": Row(SAME_PATIENT, []),
    "named-photos-bind-without-patient_ref": Row(on_consent(scope={"images": ["lips-001-before.jpg", "photos/lips-001-after.jpg"]}), []),
    # Withdrawal from the earliest evidence.
    "CG203-received-before-revoked_on": Row(
        on_consent(revoked_on="2026-12-01", revocation_received_on="2026-11-01"),
        [in_consent("CG203", "revocation_received_on", severity=REMOVED)],
    ),
    "CG203-received-only": Row(
        on_consent(revocation_received_on="2026-11-20"), [in_consent("CG203", "revocation_received_on", severity=REMOVED)]
    ),
    "CG203-revoked_on-before-received": Row(
        on_consent(revoked_on="2026-10-01", revocation_received_on="2026-10-05"), [in_consent("CG203", "revoked_on", severity=REMOVED)]
    ),
    "received-after-the-build-date-publishes": Row(on_consent(revocation_received_on="2026-11-24"), []),
    # No silent defaults where the law asks for a statement.
    "CG206-material_connection-not-recorded": Row(
        on_consent(material_connection=None), [in_consent("CG206", "material_connection", CONSENT_START)]
    ),
    "CG206-third_party_remuneration-not-recorded": Row(
        on_consent(third_party_remuneration=None), [in_consent("CG206", "third_party_remuneration", CONSENT_START)]
    ),
    "CG206-irrevocable-not-recorded": Row(on_consent(irrevocable=None), [in_consent("CG206", "irrevocable", CONSENT_START)]),
    "CG206-conditioning-statement-not-recorded": Row(
        on_consent(statements={"revocation": True, "redisclosure": True}),
        [Expect("CG206", REGISTER, "statements:", f"consent {CONSENT_ID}.statements.conditioning")],
    ),
    "CG206-no-statements-at-all": Row(
        on_consent(statements=None),
        [
            Expect("CG206", REGISTER, CONSENT_START, f"consent {CONSENT_ID}.statements.{key}")
            for key in ("revocation", "conditioning", "redisclosure")
        ],
    ),
    # Signed before its first publication (the release is signed on 2026-03-02).
    "CG212-signed-after-a-build-that-published-the-case": Row(
        on_log(published("2026-02-01"), published("2026-02-15"), published("2026-04-01")), [in_consent("CG212", "signed_on")]
    ),
    "published-on-the-signing-day-and-after-passes": Row(on_log(published("2026-03-02"), published("2026-04-01")), []),
    "published-earlier-under-another-release-passes": Row(on_log(published("2026-02-01", "C-2025-0009")), []),
    # A case taken down comes back only under a release signed after that, naming it.
    "CG208-comeback-under-the-withdrawn-release": Row(
        on_log(published("2026-04-01"), removed("2026-06-02", "2026-06-01")), [in_consent("CG208", "signed_on")]
    ),
    "comeback-under-a-later-release-naming-the-case-passes": Row(
        both(on_log(removed("2026-06-02", "2026-06-01")), on_consent(signed_on="2026-06-10")), []
    ),
    "CG208-comeback-signed-on-the-day-it-ended": Row(
        both(on_log(removed("2026-06-02", "2026-06-01")), on_consent(signed_on="2026-06-01")), [in_consent("CG208", "signed_on")]
    ),
    "CG208-comeback-under-a-later-treatment-release": Row(
        both(
            on_log(removed("2026-06-02", "2026-06-01")), on_consent(signed_on="2026-06-10", scope={"treatment": "lip-filler"}), SAME_PATIENT
        ),
        [in_consent("CG208", "scope")],
    ),
    "CG208-comeback-old-log-without-ended_on-uses-the-build-date": Row(
        both(on_log(removed("2026-06-02", None)), on_consent(signed_on="2026-06-02")), [in_consent("CG208", "signed_on")]
    ),
    "CG208-comeback-after-expiry-renewed-in-place": Row(
        both(on_log(removed("2026-06-02", "2026-06-01", "CG204")), on_consent(expires_on="2029-01-01")), [in_consent("CG208", "signed_on")]
    ),
}


@pytest.mark.parametrize("row", CONSENT_ROWS.values(), ids=CONSENT_ROWS.keys())
def test_consent_rule(tmp_path: Path, row: Row) -> None:
    clinic, loaded = prepared(tmp_path, row)
    consent = loaded.register.consents.get(loaded.case.consent_id or "")
    check(consent_violations(loaded.case, consent, loaded.register, clinic.rules, history_of(clinic.log)), row, loaded)


# -- CG401-CG405: what a visitor reads ------------------------------------------------------------------------------

DISCLOSURE_ROWS: dict[str, Row] = {
    "valid-disclosures": Row(on_case(), []),
    "CG401-no-typical-results": Row(on_treatment(typical_results=None), [in_treatment("CG401")]),
    "CG402-results-may-vary": Row(
        on_treatment(typical_results="Results may vary."), [in_treatment("CG402", "treatments.lip-filler.typical_results")]
    ),
    "CG402-individual-results-will-vary": Row(
        on_treatment(typical_results="Individual results will vary!"), [in_treatment("CG402", "treatments.lip-filler.typical_results")]
    ),
    "typical-results-that-say-something-publish": Row(on_treatment(typical_results="Results vary: most see fuller lips for 6 months."), []),
    "CG403-connection-named-not-disclosed": Row(on_consent(material_connection="discount"), [in_consent("CG403", "material_connection")]),
    "CG403-connection-yes": Row(on_consent(material_connection="yes"), [in_consent("CG403", "material_connection")]),
    "connection-disclosed-publishes": Row(on_consent(material_connection="This patient received a 20% discount on treatment."), []),
    "CG405-guarantee-in-caption": Row(on_case(caption="Guaranteed results in one session."), [in_case("CG405", "caption")]),
    "CG405-promise-in-testimonial": Row(on_case(testimonial="Painless, and the result is perfect."), [in_case("CG405", "testimonial")]),
    "CG405-promise-in-alt-text": Row(
        on_case(photos__0__after__alt="Flawless lips after treatment"),
        [in_case("CG405", "photos")],
    ),
    "CG405-a-word-the-clinic-forbids": Row(
        both(on_case(caption="A life-changing result."), on_rules(claims_forbidden=("life-changing",))), [in_case("CG405", "caption")]
    ),
    "allowed-phrase-with-a-reason-publishes": Row(
        on_case(
            caption="Permanent makeup for a natural lip line.",
            allow_claims=[{"phrase": "Permanent makeup", "reason": "the name of the treatment"}],
        ),
        [],
    ),
    "part-of-a-longer-word-publishes": Row(on_case(caption="A semi-permanent, imperfect-looking result."), []),
}


@pytest.mark.parametrize("row", DISCLOSURE_ROWS.values(), ids=DISCLOSURE_ROWS.keys())
def test_disclosure_rule(tmp_path: Path, row: Row) -> None:
    clinic, loaded = prepared(tmp_path, row)
    claims = GUARANTEE_WORDS + clinic.rules.claims_forbidden
    check(disclosure_violations(loaded.case, loaded.consent, loaded.treatment, claims), row, loaded)


# -- CG501-CG513: jurisdiction packs --------------------------------------------------------------------------------


def packs(*names: str) -> Mutation:
    return on_rules(jurisdictions=("US", *names))


TESTIMONIAL = both(on_case(testimonial="The team explained every step."), on_consent(allows__testimonial=True))
ONTARIO_READY = both(packs("CA-ON"), on_consent(procedure_on="2026-02-20"))
AUSTRALIA_READY = both(
    packs("AU"),
    on_rules(practitioner_registration="MED0001234567"),
    on_treatment(risks="Bruising and swelling for a few days."),
    on_consent(subject_age_at_capture=34),
)

PACK_ROWS: dict[str, Row] = {
    "US-alone-adds-nothing": Row(both(packs(), TESTIMONIAL, on_case(procedures=None)), []),
    "CG501-US-CA-declared-edit": Row(both(packs("US-CA"), on_case(photos__0__edits=["white-balance"])), [in_case("CG501", "photos")]),
    "CG501-US-CA-two-exposure-adjustments": Row(
        both(packs("US-CA"), on_case(photos__0__edits=["exposure", "exposure"])), [in_case("CG501", "photos")]
    ),
    # Spec section 6: under US-CA any declared edit is an error, one exposure adjustment included (AU allows that one).
    "CG501-US-CA-one-global-exposure-adjustment": Row(
        both(packs("US-CA"), on_case(photos__0__edits=["exposure"])), [in_case("CG501", "photos")]
    ),
    "AU-two-exposure-adjustments": Row(
        both(AUSTRALIA_READY, on_case(photos__0__edits=["exposure", "exposure"])), [in_case("CG512", "photos")]
    ),
    "CG512-AU-filter": Row(both(AUSTRALIA_READY, on_case(photos__0__edits=["filter"])), [in_case("CG512", "photos")]),
    "CG502-US-CA-procedures-not-listed": Row(both(packs("US-CA"), on_case(procedures=None)), [in_case("CG502", "procedures", CASE_START)]),
    "US-CA-unedited-with-procedures": Row(packs("US-CA"), []),
    "CG503-US-NY-testimonial": Row(both(packs("US-NY"), TESTIMONIAL), [in_case("CG503", "testimonial")]),
    "CG504-US-TX-testimonial-compensation-not-recorded": Row(
        both(packs("US-TX"), TESTIMONIAL, on_consent(material_connection=None)), [in_consent("CG504", "material_connection", CONSENT_START)]
    ),
    "US-TX-testimonial-with-connection-none": Row(both(packs("US-TX"), TESTIMONIAL), []),
    "CG505-CA-ON-procedure-date-not-recorded": Row(packs("CA-ON"), [in_consent("CG505", "procedure_on", CONSENT_START)]),
    "CG505-CA-ON-signed-before-the-procedure": Row(
        both(packs("CA-ON"), on_consent(procedure_on="2026-03-10")), [in_consent("CG505", "signed_on")]
    ),
    "CA-ON-signed-after-the-procedure": Row(ONTARIO_READY, []),
    "CA-ON-case-treated_on-counts-as-the-procedure": Row(both(packs("CA-ON"), on_case(treated_on="2026-02-20")), []),
    "CG506-CA-ON-paid-ads": Row(both(ONTARIO_READY, on_rules(channel="paid_ads")), [in_consent("CG506", "channels")]),
    "CG507-CA-ON-testimonial": Row(both(ONTARIO_READY, TESTIMONIAL), [in_case("CG507", "testimonial")]),
    "AU-ready": Row(AUSTRALIA_READY, []),
    "CG508-AU-age-not-recorded": Row(
        both(AUSTRALIA_READY, on_consent(subject_age_at_capture=None)), [in_consent("CG508", "subject_age_at_capture", CONSENT_START)]
    ),
    "CG508-AU-under-18": Row(both(AUSTRALIA_READY, on_consent(subject_age_at_capture=17)), [in_consent("CG508", "subject_age_at_capture")]),
    "CG509-AU-no-practitioner-registration": Row(
        both(AUSTRALIA_READY, on_rules(practitioner_registration=None)), [in_case("CG509", "", CASE_START)]
    ),
    "CG510-AU-treatment-without-risks": Row(both(AUSTRALIA_READY, on_treatment(risks=None)), [in_treatment("CG510")]),
    "CG511-AU-testimonial": Row(both(AUSTRALIA_READY, TESTIMONIAL), [in_case("CG511", "testimonial")]),
    "CG512-AU-retouched": Row(both(AUSTRALIA_READY, on_case(photos__0__edits=["exposure", "retouch"])), [in_case("CG512", "photos")]),
    "AU-exposure-edit-is-not-retouching": Row(both(AUSTRALIA_READY, on_case(photos__0__edits=["exposure"])), []),
    "CG513-EU-explicit-consent-not-recorded": Row(packs("EU"), [in_consent("CG513", "explicit_consent", CONSENT_START)]),
    "CG513-UK-explicit-consent-not-recorded": Row(packs("UK"), [in_consent("CG513", "explicit_consent", CONSENT_START)]),
    "CG513-EU-and-UK-report-it-once": Row(packs("EU", "UK"), [in_consent("CG513", "explicit_consent", CONSENT_START)]),
    "EU-explicit-consent-recorded": Row(both(packs("EU"), on_consent(explicit_consent=True)), []),
    "CG501-CG502-CG503-CG504-several-packs-at-once": Row(
        both(
            packs("US-CA", "US-NY", "US-TX"),
            TESTIMONIAL,
            on_consent(material_connection=None),
            on_case(photos__0__edits=["colour"], procedures=None),
        ),
        [
            in_case("CG501", "photos"),
            in_case("CG502", "procedures", CASE_START),
            in_case("CG503", "testimonial"),
            in_consent("CG504", "material_connection", CONSENT_START),
        ],
    ),
}


@pytest.mark.parametrize("row", PACK_ROWS.values(), ids=PACK_ROWS.keys())
def test_pack_rule(tmp_path: Path, row: Row) -> None:
    clinic, loaded = prepared(tmp_path, row)
    assert loaded.treatment is not None
    check(pack_violations(loaded.case, loaded.consent, loaded.treatment, clinic.rules), row, loaded)


# -- FHIR registers: the same rules with FHIR's meaning -----------------------------------------------------------

REGISTER_JSON = "gallery/consents.json"
OTHER_ID = "C-2026-0009"
Resource = dict[str, Any]
ResourceChange = Callable[[Resource], None]


@dataclass(frozen=True)
class FhirExpect:
    """One violation in the JSON register: the `occurrence`-th line holding `needle`, moved by `offset` (an object
    starts on the line before its first key), and the element path after the consent."""

    code: str
    needle: str
    field: str
    consent: str = CONSENT_ID
    offset: int = 0
    occurrence: int = 0
    severity: Severity | None = None

    def resolve(self, text: str) -> tuple[str, Where, Severity]:
        lines = [number for number, line in enumerate(text.splitlines(), start=1) if self.needle in line]
        assert len(lines) > self.occurrence, f"{self.needle!r} is not on {self.occurrence + 1} lines of the register:\n{text}"
        where = Where(REGISTER_JSON, lines[self.occurrence] + self.offset, f"consent {self.consent}: {self.field}")
        return self.code, where, self.severity or RULES[self.code].severity


@dataclass(frozen=True)
class FhirRow:
    change: ResourceChange
    expect: list[FhirExpect]
    others: tuple[Resource, ...] = ()  # more Consents in the same Bundle, after the case's own


def fhir_load(root: Path, change: ResourceChange, others: tuple[Resource, ...]) -> tuple[Loaded, str]:
    """The valid clinic with its register as a FHIR Bundle: the case's Consent changed by `change`, then `others`."""
    clinic = valid_clinic()
    loaded = load(root, clinic)  # the manifest and photos; the YAML register is not used
    resource = fhir_consent(clinic.consent)
    change(resource)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in (resource, *others)]}
    text = json.dumps(bundle, indent=2)
    (root / REGISTER_JSON).write_text(text, encoding="utf-8")
    register = load_register(root / REGISTER_JSON, REGISTER_JSON)
    consent = register.consents.get(CONSENT_ID)
    assert consent is not None, [v.format() for v in register.violations]
    return dataclasses.replace(loaded, register=register, consent=consent), text


def fhir_set(path: str, value: object) -> ResourceChange:
    """Set a dotted element (list items by index: provision.provision.0.type); None deletes it."""

    def change(resource: Resource) -> None:
        _set(resource, path, value)

    return change


def add_extension(name: str, **value: object) -> ResourceChange:
    def change(resource: Resource) -> None:
        resource["extension"].append({"url": f"{EXTENSION_BASE}{name}", **value})

    return change


def drop_extension(name: str) -> ResourceChange:
    def change(resource: Resource) -> None:
        resource["extension"] = [e for e in resource["extension"] if e["url"] != f"{EXTENSION_BASE}{name}"]

    return change


def changes(*steps: ResourceChange) -> ResourceChange:
    def change(resource: Resource) -> None:
        for step in steps:
            step(resource)

    return change


def other_consent(
    signed: str | None, patient: str = "P-10001", kind: str = "deny", nested: list[Resource] | None = None, purpose: str = "HMARKT"
) -> Resource:
    """Another Consent of the register: by default a later refusal of the same patient, of every case."""
    record = consent(OTHER_ID, CASE_ID, patient)
    resource = fhir_consent(record)
    if signed is None:
        del resource["dateTime"]
    else:
        resource["dateTime"] = signed
    resource["provision"]["type"] = kind
    resource["provision"]["purpose"][0]["code"] = purpose
    del resource["provision"]["data"]
    resource["provision"]["provision"] = nested or []
    return resource


def case_data(case_id: str = CASE_ID) -> list[Resource]:
    return [{"meaning": "instance", "reference": {"identifier": {"system": CASE_SYSTEM, "value": case_id}}}]


RECIPIENT = {"system": PARTICIPATION_SYSTEM, "code": "IRCP"}
JOURNAL_ONLY = [{"role": {"coding": [RECIPIENT]}, "reference": {"reference": "Organization/journal-of-aesthetics"}}]
WEBSITE_RECIPIENT = [{"role": {"coding": [RECIPIENT]}, "reference": {"identifier": {"system": CHANNEL_SYSTEM, "value": "website"}}}]
REVOKED_IN_2027 = add_extension("revokedOn", valueDate="2027-01-01")
OLD_ACT_REASON = "http://hl7.org/fhir/v3/ActReason"
RESOURCE_START = '"resource": {'

FHIR_ROWS: dict[str, FhirRow] = {
    "valid-fhir-release": FhirRow(changes(), []),
    **{
        f"CG213-status-{status}": FhirRow(fhir_set("status", status), [FhirExpect("CG213", f'"status": "{status}"', "Consent.status")])
        for status in ("draft", "proposed", "rejected", "entered-in-error")
    },
    "CG203-inactive-dated-by-meta.lastUpdated": FhirRow(
        changes(fhir_set("status", "inactive"), fhir_set("meta", {"lastUpdated": "2026-11-01T09:00:00Z"})),
        [FhirExpect("CG203", '"lastUpdated"', "Consent.meta.lastUpdated", severity=REMOVED)],
    ),
    "CG203-inactive-with-a-later-revokedOn-is-not-in-force": FhirRow(
        changes(fhir_set("status", "inactive"), REVOKED_IN_2027),
        [FhirExpect("CG203", "revokedOn", "Consent.extension[6]", offset=-1, severity=REMOVED)],
    ),
    "CG203-inactive-without-a-date-fails-closed": FhirRow(
        fhir_set("status", "inactive"), [FhirExpect("CG203", '"status": "inactive"', "Consent.status", severity=ERROR)]
    ),
    "active-with-a-later-revokedOn-publishes": FhirRow(REVOKED_IN_2027, []),
    "CG203-revocationReceivedOn-before-revokedOn": FhirRow(
        changes(REVOKED_IN_2027, add_extension("revocationReceivedOn", valueDate="2026-11-02")),
        [FhirExpect("CG203", "revocationReceivedOn", "Consent.extension[7]", offset=-1, severity=REMOVED)],
    ),
    "CG213-period-starts-after-the-build-date": FhirRow(
        fhir_set("provision.period.start", "2026-12-01"),
        [FhirExpect("CG213", '"start": "2026-12-01"', "Consent.provision.period.start")],
    ),
    "CG202-actor-limits-the-release-to-a-journal": FhirRow(
        fhir_set("provision.actor", JOURNAL_ONLY), [FhirExpect("CG202", '"actor": [', "Consent.provision.actor")]
    ),
    "actor-naming-the-website-as-recipient-publishes": FhirRow(fhir_set("provision.actor", WEBSITE_RECIPIENT), []),
    "CG202-website-permit-limited-to-a-practitioner": FhirRow(
        fhir_set("provision.provision.0.actor", [{"role": {"coding": [RECIPIENT]}, "reference": {"reference": "Practitioner/f204"}}]),
        [FhirExpect("CG202", '"actor": [', "Consent.provision.provision[0].actor", occurrence=1)],
    ),
    "CG208-a-deny-provision-names-the-case": FhirRow(
        lambda resource: resource["provision"]["provision"].append({"type": "deny", "data": case_data()}),
        [FhirExpect("CG208", '"type": "deny"', "Consent.provision.provision[3]", offset=-1, occurrence=1)],
    ),
    "deny-provision-naming-another-case-publishes": FhirRow(
        lambda resource: resource["provision"]["provision"].append({"type": "deny", "data": case_data("lips-002")}), []
    ),
    "CG206-another-Patient-signed-so-a-representative": FhirRow(
        fhir_set("performer", [{"reference": "Patient/mother-of-the-patient"}]),
        [FhirExpect("CG206", RESOURCE_START, "Consent.extension:representativeAuthority")],
    ),
    "CG206-materialConnection-missing": FhirRow(
        drop_extension("materialConnection"), [FhirExpect("CG206", RESOURCE_START, "Consent.extension:materialConnection")]
    ),
    "CG206-thirdPartyRemuneration-missing": FhirRow(
        drop_extension("thirdPartyRemuneration"), [FhirExpect("CG206", RESOURCE_START, "Consent.extension:thirdPartyRemuneration")]
    ),
    "CG206-irrevocable-missing": FhirRow(
        drop_extension("irrevocable"), [FhirExpect("CG206", RESOURCE_START, "Consent.extension:irrevocable")]
    ),
    "CG206-conditioning-statement-missing": FhirRow(
        lambda resource: resource["extension"][2]["extension"].pop(1),
        [FhirExpect("CG206", "StructureDefinition/statements", "Consent.extension[2].extension:conditioning", offset=-1)],
    ),
    "CG208-STU3-purpose-system-is-not-marketing": FhirRow(
        fhir_set("provision.purpose", [{"system": OLD_ACT_REASON, "code": "HMARKT"}]),
        [FhirExpect("CG208", '"purpose": [', "Consent.provision.purpose")],
    ),
    "CG203-a-later-refusal-of-the-same-patient": FhirRow(
        changes(),
        [FhirExpect("CG203", '"type": "deny"', "Consent.provision.type", consent=OTHER_ID, occurrence=1, severity=REMOVED)],
        (other_consent("2026-06-01"),),
    ),
    "CG203-an-undated-refusal-counts-as-later": FhirRow(
        changes(),
        [FhirExpect("CG203", '"type": "deny"', "Consent.provision.type", consent=OTHER_ID, occurrence=1, severity=REMOVED)],
        (other_consent(None),),
    ),
    "CG203-a-later-release-with-a-deny-provision-naming-the-case": FhirRow(
        changes(),
        [
            FhirExpect(
                "CG203", '"type": "deny"', "Consent.provision.provision[0]", consent=OTHER_ID, offset=-1, occurrence=1, severity=REMOVED
            )
        ],
        (other_consent("2026-07-01", kind="permit", nested=[{"type": "deny", "data": case_data()}]),),
    ),
    "an-earlier-refusal-is-overridden-by-this-release": FhirRow(changes(), [], (other_consent("2026-01-15"),)),
    "a-refusal-of-another-patient-does-not-count": FhirRow(changes(), [], (other_consent("2026-06-01", patient="P-20002"),)),
    "a-refusal-for-treatment-purposes-does-not-count": FhirRow(changes(), [], (other_consent("2026-06-01", purpose="TREAT"),)),
    "a-later-refusal-that-permits-the-website-does-not-count": FhirRow(
        changes(),
        [],
        (other_consent("2026-06-01", nested=[{"type": "permit", "code": [{"coding": [{"system": CHANNEL_SYSTEM, "code": "website"}]}]}]),),
    ),
}


@pytest.mark.parametrize("row", FHIR_ROWS.values(), ids=FHIR_ROWS.keys())
def test_fhir_consent_rule(tmp_path: Path, row: FhirRow) -> None:
    clinic = valid_clinic()
    loaded, text = fhir_load(tmp_path, row.change, row.others)
    found = consent_violations(loaded.case, loaded.consent, loaded.register, clinic.rules)
    actual = sorted(((v.code, v.where, v.severity) for v in found), key=repr)
    expected = sorted((e.resolve(text) for e in row.expect), key=repr)
    assert actual == expected, "\n".join(v.format() for v in found) or "no violation"
    assert all(v.case == CASE_ID for v in found)


# -- one decision per case ------------------------------------------------------------------------------------------


def test_a_withdrawn_case_is_removed_and_its_other_rules_are_not_run(tmp_path: Path) -> None:
    clinic = valid_clinic()
    both(on_consent(revoked_on="2026-06-01"), on_treatment(typical_results=None), packs("EU"))(clinic)
    loaded = load(tmp_path, clinic)
    decision = decide(loaded.case, loaded.register, loaded.treatment, clinic.rules)
    assert [v.code for v in decision.violations] == ["CG203"]
    assert decision.removed is decision.violations[0]
    assert not decision.blocked and not decision.publishable


def test_a_decision_gathers_consent_disclosure_and_pack_violations(tmp_path: Path) -> None:
    clinic = valid_clinic()
    both(on_rules(channel="print"), on_treatment(typical_results=None), packs("EU"))(clinic)
    loaded = load(tmp_path, clinic)
    decision = decide(loaded.case, loaded.register, loaded.treatment, clinic.rules)
    assert sorted(v.code for v in decision.violations) == ["CG202", "CG401", "CG513"]
    assert decision.blocked and decision.removed is None and not decision.publishable


def test_a_warning_alone_leaves_the_case_publishable(tmp_path: Path) -> None:
    clinic = valid_clinic()
    on_consent(expires_on="2026-12-01")(clinic)
    loaded = load(tmp_path, clinic)
    [decision] = decide_all(loaded.manifest, loaded.register, clinic.rules)
    assert [v.code for v in decision.violations] == ["CG211"]
    assert decision.publishable and decision.consent is loaded.consent
