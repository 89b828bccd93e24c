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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mkdocs_compliant_gallery.catalogue import RULES
from mkdocs_compliant_gallery.records.manifest import Case, Manifest, Treatment, load_manifest
from mkdocs_compliant_gallery.records.register import Consent, Register, load_register
from mkdocs_compliant_gallery.rules.consent import consent_violations
from mkdocs_compliant_gallery.rules.context import Rules
from mkdocs_compliant_gallery.rules.decide import decide, decide_all
from mkdocs_compliant_gallery.rules.disclosures import GUARANTEE_WORDS, disclosure_violations
from mkdocs_compliant_gallery.rules.jurisdictions import pack_violations
from mkdocs_compliant_gallery.violations import Severity, Violation, Where
from tests.helpers import BUILD_DATE, TREATMENTS, case, consent

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
    "CG206-revocation-statement-missing": Row(on_consent(statements__revocation=False), [in_consent("CG206", "statements")]),
    "CG206-remuneration-not-stated": Row(on_consent(third_party_remuneration=True), [in_consent("CG206", "third_party_remuneration")]),
    "CG207-irrevocable": Row(on_consent(irrevocable=True), [in_consent("CG207", "irrevocable")]),
    "CG208-purpose-not-marketing": Row(on_consent(purposes=["treatment"]), [in_consent("CG208", "purposes")]),
    "CG208-scope-names-nothing": Row(on_consent(scope=None), [in_consent("CG208", "scope", CONSENT_START)]),
    "CG208-scope-names-another-case": Row(on_consent(scope__cases=["lips-002"]), [in_consent("CG208", "scope")]),
    "CG208-photo-not-among-the-images": Row(
        on_consent(scope={"images": ["lips-001-before.jpg"]}),
        [Expect("CG208", MANIFEST, "src: photos/lips-001-after.jpg", f"case {CASE_ID}.photos")],
    ),
    "CG208-another-treatment": Row(on_consent(scope={"treatment": "wrinkle-relaxer"}), [in_consent("CG208", "scope")]),
    "CG208-date-range-but-no-treated_on": Row(
        on_consent(scope={"treatment": "lip-filler", "from": "2026-01-01", "to": "2026-01-31"}),
        [in_case("CG208", "treated_on", CASE_START)],
    ),
    "CG208-treated-outside-the-date-range": Row(
        both(on_consent(scope={"treatment": "lip-filler", "from": "2026-01-01", "to": "2026-01-31"}), on_case(treated_on="2026-02-10")),
        [in_consent("CG208", "scope")],
    ),
    "treated-inside-the-date-range-publishes": Row(
        both(on_consent(scope={"treatment": "lip-filler", "from": "2026-01-01", "to": "2026-01-31"}), on_case(treated_on="2026-01-10")),
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
}


@pytest.mark.parametrize("row", CONSENT_ROWS.values(), ids=CONSENT_ROWS.keys())
def test_consent_rule(tmp_path: Path, row: Row) -> None:
    clinic, loaded = prepared(tmp_path, row)
    consent = loaded.register.consents.get(loaded.case.consent_id or "")
    check(consent_violations(loaded.case, consent, loaded.register, clinic.rules), row, loaded)


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
    "US-CA-one-global-exposure-adjustment": Row(both(packs("US-CA"), on_case(photos__0__edits=["exposure"])), []),
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
