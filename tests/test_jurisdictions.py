"""Jurisdiction rule packs (CG5xx): each rule fails on its fixture and passes once the fixture is put right."""

from __future__ import annotations

import pytest

from tests.helpers import Mutation, Project, all_of, cards_of
from tests.photos import Planted


def _testimonial(project: Project) -> None:
    project.case("lips-001")["testimonial"] = "The team explained every step and I felt well looked after."
    project.consent("C-2026-0001")["allows"]["testimonial"] = True


def _edit(project: Project) -> None:
    project.case("lips-001")["photos"][0]["edits"] = [{"kind": "white-balance", "note": "warmed"}]


def _exposure(project: Project) -> None:
    project.case("lips-001")["photos"][0]["edits"] = [{"kind": "exposure", "note": "brightened"}]


def _retouch(project: Project) -> None:
    project.case("lips-001")["photos"][0]["edits"] = ["retouch"]


def _no_procedures(project: Project) -> None:
    del project.case("lips-001")["procedures"]


def _au_ready(project: Project) -> None:
    project.options["practitioner_registration"] = "MED0001234567"
    for treatment in project.manifest["treatments"].values():
        treatment["risks"] = "Bruising and swelling for a few days; rarely, infection."
    for consent in project.consents:
        consent["subject_age_at_capture"] = 34


def _on_ready(project: Project) -> None:
    for consent in project.consents:
        consent["procedure_on"] = "2026-02-20"


def _eu_ready(project: Project) -> None:
    for consent in project.consents:
        consent["explicit_consent"] = True


def _set_consent(key: str, value: object) -> Mutation:
    def mutate(project: Project) -> None:
        if value is None:
            project.consent("C-2026-0001").pop(key, None)
        else:
            project.consent("C-2026-0001")[key] = value

    return mutate


def _no_capture_date(project: Project) -> None:
    project.photo("lips-001-after.jpg", seed=4, planted=Planted(taken=""))


def _nothing(project: Project) -> None:
    return None


# (name, jurisdictions, what makes the fixture valid under the pack, what breaks it, code)
RULES: list[tuple[str, list[str], Mutation, Mutation, str]] = [
    ("US-CA any declared edit, one exposure adjustment included", ["US", "US-CA"], _nothing, _exposure, "CG501"),
    ("US-CA any declared edit", ["US", "US-CA"], _nothing, _edit, "CG501"),
    ("US-CA procedures listed", ["US", "US-CA"], _nothing, _no_procedures, "CG502"),
    ("US-NY no testimonial", ["US", "US-NY"], _nothing, _testimonial, "CG503"),
    (
        "US-TX testimonial compensation",
        ["US", "US-TX"],
        _testimonial,
        all_of(_testimonial, _set_consent("material_connection", None)),
        "CG504",
    ),
    ("CA-ON consent after procedure", ["CA-ON"], _on_ready, all_of(_on_ready, _set_consent("procedure_on", "2026-03-05")), "CG505"),
    ("CA-ON procedure date recorded", ["CA-ON"], _on_ready, all_of(_on_ready, _set_consent("procedure_on", None)), "CG505"),
    ("CA-ON no testimonial", ["CA-ON"], _on_ready, all_of(_on_ready, _testimonial), "CG507"),
    ("AU subject 18 or older", ["AU"], _au_ready, all_of(_au_ready, _set_consent("subject_age_at_capture", 17)), "CG508"),
    ("AU age recorded", ["AU"], _au_ready, all_of(_au_ready, _set_consent("subject_age_at_capture", None)), "CG508"),
    ("AU registration number", ["AU"], _au_ready, all_of(_au_ready, lambda p: p.options.update(practitioner_registration=None)), "CG509"),
    ("AU risk information", ["AU"], _au_ready, all_of(_au_ready, lambda p: p.manifest["treatments"]["lip-filler"].pop("risks")), "CG510"),
    ("AU no testimonial", ["AU"], _au_ready, all_of(_au_ready, _testimonial), "CG511"),
    ("AU no retouching", ["AU"], all_of(_au_ready, _exposure), all_of(_au_ready, _retouch), "CG512"),
    ("EU explicit consent", ["EU"], _eu_ready, all_of(_eu_ready, _set_consent("explicit_consent", False)), "CG513"),
    ("UK explicit consent", ["UK"], _eu_ready, all_of(_eu_ready, _set_consent("explicit_consent", None)), "CG513"),
    ("UK capture date", ["UK"], _eu_ready, all_of(_eu_ready, _no_capture_date), "CG514"),
]


@pytest.mark.parametrize(("name", "jurisdictions", "valid", "broken", "code"), RULES, ids=[r[0] for r in RULES])
def test_rule_fails_on_its_fixture(
    project: Project, name: str, jurisdictions: list[str], valid: Mutation, broken: Mutation, code: str
) -> None:
    project.options["jurisdictions"] = jurisdictions
    broken(project)
    result = project.build()
    assert not result.ok, f"{name}: passed\n{result.log}"
    lines = [line for line in result.log.splitlines() if code in line]
    assert any("lips-001" in line for line in lines), result.log
    assert "fix:" in result.log
    assert not (result.site / "assets" / "compliant-gallery" / "img").exists()


@pytest.mark.parametrize(("name", "jurisdictions", "valid", "broken", "code"), RULES, ids=[r[0] for r in RULES])
def test_rule_passes_on_the_valid_fixture(
    project: Project, name: str, jurisdictions: list[str], valid: Mutation, broken: Mutation, code: str
) -> None:
    project.options["jurisdictions"] = jurisdictions
    valid(project)
    result = project.build()
    assert result.ok, f"{name}: the valid fixture failed\n{result.log}"
    assert "lips-001" in cards_of(result.site / "gallery" / "index.html")


def test_pack_texts_are_shown_in_every_card(project: Project) -> None:
    project.options["jurisdictions"] = ["US", "US-CA", "AU"]
    _au_ready(project)
    project.case("lips-002")["model"] = True
    result = project.build()
    assert result.ok, result.log
    cards = cards_of(result.site / "gallery" / "index.html")
    for case_id, card in cards.items():
        text = " ".join(card["text"].split())
        assert "Results may not occur for all patients." in text
        assert "seek a second opinion from an appropriately qualified health practitioner" in text
        assert "Practitioner registration: MED0001234567" in text
        assert "Risks: Bruising and swelling" in text
        assert ("a model, not a patient" in text) == (case_id == "lips-002")


def test_unknown_pack_is_refused(project: Project) -> None:
    project.options["jurisdictions"] = ["US", "US-FL"]
    result = project.build()
    assert not result.ok and "US-FL" in result.log
