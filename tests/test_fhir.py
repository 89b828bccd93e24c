"""FHIR R4 Consent registers (Bundle and NDJSON) decide exactly as the equivalent YAML register does."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mkdocs_compliant_gallery.records.fhir import (
    CHANNEL_SYSTEM,
    CONSENT_ACTION_SYSTEM,
    EXTENSION_BASE,
    IMAGE_SYSTEM,
    fhir_records,
)
from mkdocs_compliant_gallery.records.manifest import load_manifest
from mkdocs_compliant_gallery.records.register import load_register
from mkdocs_compliant_gallery.rules.context import Rules
from mkdocs_compliant_gallery.rules.decide import decide_all
from mkdocs_compliant_gallery.violations import Severity, Violation
from tests.helpers import BUILD_DATE, SHARED, TREATMENTS, Project, Result, assert_nothing_published, cards_of, case, fhir_consent

_FINDING = re.compile(r"^\s*(?P<file>\S+?)(?::(?P<line>\d+))? \((?P<field>[^)]*)\): (?P<code>CG\d{3})(?P<rest>.*)$", re.MULTILINE)


def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": "2026-11-20T08:00:00Z",
        "entry": [{"fullUrl": f"urn:uuid:0000000{n}-0000-4000-8000-000000000000", "resource": r} for n, r in enumerate(resources)],
    }


def three_kinds(project: Project) -> None:
    """In the YAML register: C-0001 active, C-0002 denies the website, C-0003 revoked on 2026-11-01."""
    project.consent("C-2026-0002")["channels"] = {"permit": ["social"], "deny": ["website"]}
    project.consent("C-2026-0003")["revoked_on"] = "2026-11-01"


def fhir_register(project: Project) -> list[dict[str, Any]]:
    """The same three consents as FHIR: the revoked one is `inactive`, dated by meta.lastUpdated."""
    active, denied, revoked = project.consents
    return [fhir_consent(active), fhir_consent(denied), fhir_consent(revoked, status="inactive", last_updated="2026-11-01T09:12:00Z")]


def findings(result: Result) -> list[tuple[str, str, str]]:
    """(code, field, message) of every reported violation, without file and line."""
    return sorted((m["code"], m["field"], m["rest"].strip()) for m in _FINDING.finditer(result.log))


def decisions(result: Result) -> tuple[bool, list[str], list[tuple[str, str]], list[str]]:
    """What a build decided: success, published cards, violations (code and message: a FHIR register names element
    paths where YAML names fields), and the cases removed."""
    index = result.site / "gallery" / "index.html"
    cards = list(cards_of(index)) if result.ok and index.exists() else []
    removed = sorted(re.findall(r"case (\S+) removed: .*\((CG20[34]),", result.log))
    return result.ok, cards, [(code, rest) for code, _, rest in findings(result)], [" ".join(item) for item in removed]


def line_of(text: str, needle: str, start: int = 0) -> int:
    return text[: text.index(needle, start)].count("\n") + 1


def test_fhir_bundle_decides_like_the_yaml_register(project: Project) -> None:
    """Active, revoked (inactive) and website-denied consents: same failures on the website, same cards on social."""
    three_kinds(project)
    for channel in ("website", "social"):
        project.options["channel"] = channel
        project.consents_name, project.consents_text = "consents.yml", None
        from_yaml = decisions(project.build())
        project.consents_name = "consents.json"
        project.consents_text = json.dumps(bundle(fhir_register(project)), indent=2)
        result = project.build()
        from_fhir = decisions(result)
        assert from_fhir == from_yaml, channel
        if channel == "website":
            assert not from_fhir[0]
            assert [(code, field) for code, field, _ in findings(result)] == [("CG202", "consent C-2026-0002: Consent.provision.provision")]
        else:
            assert from_fhir[:2] == (True, ["lips-001", "lips-002"])
            assert from_fhir[3] == ["brow-001 CG203"]


def test_denied_channel_points_at_the_consent_in_the_bundle(project: Project) -> None:
    three_kinds(project)
    project.consents_name = "consents.json"
    text = json.dumps(bundle(fhir_register(project)), indent=2)
    project.consents_text = text
    result = project.build()
    assert not result.ok
    resource = text.index('"value": "C-2026-0002"')
    line = line_of(text, '"provision": [', resource)  # the channel provisions of that consent
    assert f"gallery/consents.json:{line} (consent C-2026-0002: Consent.provision.provision): CG202 [case lips-002]" in result.log, (
        result.log
    )
    assert "denies the 'website' channel" in result.log


def test_ndjson_register(project: Project) -> None:
    three_kinds(project)
    project.consents_name = "consents.ndjson"
    project.consents_text = "\n".join(json.dumps(resource) for resource in fhir_register(project)) + "\n"
    result = project.build()
    assert not result.ok
    assert "gallery/consents.ndjson:2 (consent C-2026-0002: Consent.provision.provision): CG202" in result.log, result.log
    project.options["channel"] = "social"
    result = project.build()
    assert result.ok, result.log
    assert list(cards_of(result.site / "gallery" / "index.html")) == ["lips-001", "lips-002"]
    assert "withdrawn on 2026-11-01" in result.log


def test_revoked_on_extension_and_future_revocation(project: Project) -> None:
    project.consent("C-2026-0001")["revoked_on"] = "2026-11-23"  # the build date: takes effect today
    project.consent("C-2026-0002")["revoked_on"] = "2026-12-01"  # later: still published
    active = [fhir_consent(project.consent("C-2026-0001"), status="inactive", revoked_on_extension=True)]
    active.append(fhir_consent(project.consent("C-2026-0002"), revoked_on_extension=True))
    active.append(fhir_consent(project.consent("C-2026-0003")))
    project.consents_name = "consents.json"
    project.consents_text = json.dumps(bundle(active), indent=2)
    result = project.build()
    assert result.ok, result.log
    assert list(cards_of(result.site / "gallery" / "index.html")) == ["lips-002", "brow-001"]
    assert "withdrawn on 2026-11-23" in result.log


def test_inactive_without_revocation_date_fails_closed(project: Project) -> None:
    resources = [fhir_consent(record) for record in project.consents]
    resources[2]["status"] = "inactive"  # no revokedOn extension, no meta.lastUpdated
    project.consents_name = "consents.json"
    text = json.dumps(bundle(resources), indent=2)
    project.consents_text = text
    result = project.build()
    assert not result.ok
    line = line_of(text, '"status": "inactive"')
    assert f"gallery/consents.json:{line} (consent C-2026-0003: Consent.status): CG203 [case brow-001]" in result.log, result.log
    assert "the date is unknown" in result.log and f"{EXTENSION_BASE}revokedOn" in result.log
    assert_nothing_published(result.site, project.root)


def test_bad_json_is_cg109_with_its_line(project: Project) -> None:
    text = json.dumps(bundle([fhir_consent(record) for record in project.consents]), indent=2)
    broken = text.replace('"status": "active",', '"status": "active",,', 1)
    project.consents_name = "consents.json"
    project.consents_text = broken
    result = project.build()
    assert not result.ok
    assert f"gallery/consents.json:{line_of(broken, ',,')}: CG109" in result.log, result.log
    assert "is not valid JSON" in result.log


def test_bad_ndjson_line_is_cg109_with_its_line(project: Project) -> None:
    lines = [json.dumps(fhir_consent(record)) for record in project.consents]
    lines[1] = lines[1][:-1]  # cut the closing brace
    project.consents_name = "consents.ndjson"
    project.consents_text = "\n".join(lines) + "\n"
    result = project.build()
    assert not result.ok
    assert "gallery/consents.ndjson:2: CG109" in result.log, result.log


def test_other_resources_and_unknown_fields(project: Project) -> None:
    resources: list[dict[str, Any]] = [fhir_consent(record) for record in project.consents]
    resources[0]["consentNotes"] = "not a FHIR element"
    resources.insert(1, {"resourceType": "Patient", "id": "p1"})
    project.consents_name = "consents.json"
    text = json.dumps(bundle(resources), indent=2)
    project.consents_text = text
    result = project.build()
    assert not result.ok
    unknown, patient = line_of(text, '"consentNotes"'), line_of(text, '"resourceType": "Patient"') - 1
    assert f"gallery/consents.json:{unknown} (consent C-2026-0001: Consent.consentNotes): CG101" in result.log, result.log
    assert f"gallery/consents.json:{patient} (Bundle.entry[1].resource): CG103" in result.log
    assert "is a Patient resource, not a Consent" in result.log
    assert {code for code, _, _ in findings(result)} == {"CG101", "CG103"}


def test_missing_pieces_map_to_the_consent_rules(project: Project) -> None:
    """No signer, no statements, no disclose action, no scope: the same per-case codes as a YAML record."""
    resources = [fhir_consent(record) for record in project.consents]
    first = resources[0]
    del first["performer"]
    first["extension"] = [e for e in first["extension"] if not e["url"].endswith("statements")]
    first["provision"]["action"] = [{"coding": [{"system": CONSENT_ACTION_SYSTEM, "code": "access"}]}]
    del first["provision"]["data"]
    resources[1]["status"] = "draft"  # not signed, so not in force
    project.consents_name = "consents.json"
    project.consents_text = json.dumps(bundle(resources), indent=2)
    result = project.build()
    assert not result.ok
    found = {(code, field) for code, field, _ in findings(result)}
    assert found == {
        ("CG206", "consent C-2026-0001: Consent.performer"),
        ("CG206", "consent C-2026-0001: Consent.extension:statements.extension:revocation"),
        ("CG206", "consent C-2026-0001: Consent.extension:statements.extension:conditioning"),
        ("CG206", "consent C-2026-0001: Consent.extension:statements.extension:redisclosure"),
        ("CG208", "consent C-2026-0001: Consent.provision.purpose"),
        ("CG208", "consent C-2026-0001: Consent.provision.data"),
        ("CG213", "consent C-2026-0002: Consent.status"),  # a draft is not in force, whatever else it says
    }, result.log
    assert "release covers HMARKT (actions: access), not marketing" in result.log


def test_records_have_the_yaml_shape(tmp_path: Path, project: Project) -> None:
    record = project.consent("C-2026-0001")
    resource = fhir_consent(record)
    resource["provision"]["data"].append({"meaning": "instance", "reference": {"reference": "Media/lips-001-before.jpg"}})
    resource["provision"]["data"].append({"meaning": "instance", "reference": {"identifier": {"system": IMAGE_SYSTEM, "value": "x.jpg"}}})
    resource["contained"] = [{"resourceType": "RelatedPerson", "id": "mother"}]
    resource["performer"] = [{"reference": "#mother"}, {"reference": "Practitioner/dr-1"}]
    resource["extension"].append({"url": f"{EXTENSION_BASE}representativeAuthority", "valueString": "parent of a minor"})
    path = tmp_path / "consents.json"
    path.write_text(json.dumps(bundle([resource]), indent=2))
    register = load_register(path, "consents.json")
    assert register.loaded and not register.violations, register.violations
    consent = register.consents["C-2026-0001"]
    assert (consent.patient_ref, str(consent.signed_on), str(consent.expires_on)) == ("P-10001", "2026-03-02", "2028-03-02")
    assert (consent.signer, consent.representative_authority) == ("representative", "parent of a minor")
    assert (consent.permit, consent.deny, consent.purposes) == (("website", "social"), ("paid_ads",), ("marketing",))
    assert (consent.scope.cases, consent.scope.images) == (("lips-001",), ("lips-001-before.jpg", "x.jpg"))
    assert consent.allows == {"face": False, "name": False, "distinctive_marks": False, "testimonial": False}
    assert consent.statements == {"revocation": True, "conditioning": True, "redisclosure": True}
    assert (consent.material_connection, consent.material_connection_recorded, consent.third_party_remuneration, consent.irrevocable) == (
        None,
        True,
        False,
        False,
    )
    assert (consent.revoked_on, consent.form_version, consent.status, consent.source) == (None, "marketing-release-v3", "active", "fhir")
    text = path.read_text()
    assert consent.line == line_of(text, '"resourceType": "Consent"') - 1


def test_fhir_problems_are_reported_not_guessed(tmp_path: Path) -> None:
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "identifier": [{"value": "C-1"}],
        "status": "active",
        "dateTime": "2026-03",
        "modifierExtension": [{"url": "http://example.org/void", "valueBoolean": True}],
    }
    other = {
        "resourceType": "Consent",
        "identifier": [{"value": "C-2"}],
        "status": "inactive",
        "extension": [{"url": f"{EXTENSION_BASE}revokedOnn", "valueDate": "2026-01-01"}],
        "provision": {
            "dataPeriod": {"start": "2026-01-01"},
            "data": [{"meaning": "instance", "reference": {"reference": "Observation/7"}}],
            "provision": [
                {"type": "permit", "code": [{"coding": [{"system": CHANNEL_SYSTEM, "code": "webiste"}]}]},
                {"type": "permit", "period": {"end": "2027-01-01"}, "code": [{"coding": [{"system": "urn:other", "code": "x"}]}]},
            ],
        },
    }
    path = tmp_path / "consents.ndjson"
    path.write_text(json.dumps(resource) + "\n\n" + json.dumps(other) + "\n")
    register = load_register(path, "consents.ndjson")
    assert register.loaded and register.consents == {}

    def codes(line: int) -> list[str]:
        return sorted(v.code for v in register.violations if v.where.line == line)

    messages = " | ".join(v.message + " " + v.fix for v in register.violations)
    assert codes(1) == ["CG103", "CG103"], messages  # the modifierExtension (the Consent is left out), a partial dateTime
    # revokedOnn (looks like a revocation: left out); dataPeriod, Observation/7, webiste, period in a channel provision, urn:other
    assert codes(3) == ["CG101", "CG103", "CG103", "CG103", "CG103", "CG103"], messages
    assert "did you mean 'https://mkdocs-compliant-gallery.dev/fhir/StructureDefinition/revokedOn'?" in messages
    assert "did you mean 'website'?" in messages
    assert set(register.refused) == {"C-1", "C-2"}


def test_duplicate_keys_and_wrong_top_level(tmp_path: Path) -> None:
    path = tmp_path / "consents.json"
    path.write_text('{\n  "resourceType": "Bundle",\n  "type": "collection",\n  "type": "batch"\n}\n')
    register = load_register(path, "consents.json")
    assert not register.loaded
    assert [(v.code, v.where.line) for v in register.violations] == [("CG104", 4)]
    path.write_text('{"resourceType": "Patient"}')
    register = load_register(path, "consents.json")
    assert not register.loaded and [v.code for v in register.violations] == ["CG103"]


def test_jurisdiction_fields_come_from_extensions(tmp_path: Path, project: Project) -> None:
    resource = fhir_consent(project.consent("C-2026-0001"))
    resource["extension"] += [
        {"url": f"{EXTENSION_BASE}procedureOn", "valueDate": "2026-01-10"},
        {"url": f"{EXTENSION_BASE}subjectAgeAtCapture", "valueInteger": 34},
        {"url": f"{EXTENSION_BASE}explicitConsent", "valueBoolean": True},
        {"url": f"{EXTENSION_BASE}supersededBy", "valueBoolean": True},
    ]
    path = tmp_path / "consents.ndjson"
    path.write_text(json.dumps(resource) + "\n")
    sink: list[Violation] = []
    records = fhir_records(path, "consents.ndjson", sink)
    assert records is not None and len(records) == 1
    record = records[0]
    assert (str(record["procedure_on"]), record["subject_age_at_capture"], record["explicit_consent"]) == ("2026-01-10", 34, True)
    assert record.line == 1 and set(record.key_lines.values()) == {1}
    assert "superseded_by" not in record
    assert [(v.code, v.message) for v in sink] == [("CG103", "needs valueString, found valueBoolean")]


HL7_EXAMPLES = sorted((SHARED / "holdout" / "fhir").glob("*/*.json"))


@pytest.mark.parametrize("example", HL7_EXAMPLES, ids=[path.stem for path in HL7_EXAMPLES])
def test_real_hl7_and_ihe_consents_never_publish_a_case(tmp_path: Path, example: Path) -> None:
    """The HL7 R4 and IHE PCF Consent examples are real records systems' consents, none a marketing release: named by
    a case (an identifier added), each one is refused, with the file, line or element path, code and fix."""
    resource = json.loads(example.read_text(encoding="utf-8"))
    resource["identifier"] = [{"value": "C-2026-0001"}]
    register_path = tmp_path / "gallery" / "consents.json"
    register_path.parent.mkdir(parents=True)
    register_path.write_text(json.dumps(resource, indent=2), encoding="utf-8")
    register = load_register(register_path, "gallery/consents.json")
    manifest_path = tmp_path / "gallery" / "manifest.yml"
    manifest_path.write_text(yaml.safe_dump({"treatments": TREATMENTS, "cases": [case("lips-001", "C-2026-0001")]}), encoding="utf-8")
    for side in ("before", "after"):
        (tmp_path / "gallery" / "photos" / f"lips-001-{side}.jpg").parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "gallery" / "photos" / f"lips-001-{side}.jpg").write_bytes(b"not decoded by the rules")
    manifest = load_manifest(manifest_path, "gallery/manifest.yml", tmp_path, tmp_path / "gallery")
    rules = Rules("website", dt.date.fromisoformat(BUILD_DATE), 30, False, ("US",), None, ())
    [decision] = decide_all(manifest, register, rules)
    assert not decision.publishable
    refusals = [*register.violations, *decision.violations]
    assert refusals
    for violation in refusals:
        assert violation.where.file in ("gallery/consents.json", "gallery/manifest.yml")
        assert violation.where.line > 0 and violation.where.field, violation.format()
        assert violation.fix or violation.severity is Severity.REMOVED, violation.format()  # a takedown needs no fix
    assert any(v.case == "lips-001" for v in decision.violations)
