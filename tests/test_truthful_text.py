"""No identifiers and no testimonials or promises in what a visitor reads (CG407, CG209, CG405, CG503/507/511).

Each row is a real build of the test clinic with one change: it must fail with the code at the file and line of
the text, for the case, and leave nothing of the gallery in site/; or, for the rows that must pass, publish.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass

import pytest

from mkdocs_compliant_gallery.rules.identifiers import ages_in, dates_in, name_hash
from tests.helpers import Mutation, Project, all_of, assert_nothing_published, cards_of, fhir_consent, under_packs

MANIFEST, REGISTER = "gallery/manifest.yml", "gallery/consents.yml"
SALT = "clinic-salt-7d1e"


@dataclass(frozen=True)
class Row:
    """A change, and what it must produce: (file, text on the line it names), or None for a passing build."""

    mutate: Mutation
    code: str | None = None
    file: str = MANIFEST
    line_text: str = ""
    case: str = "lips-001"


def _case(**fields: object) -> Mutation:
    def mutate(project: Project) -> None:
        project.case("lips-001").update(fields)

    return mutate


def _alt(text: str) -> Mutation:
    def mutate(project: Project) -> None:
        project.case("lips-001")["photos"][0]["after"]["alt"] = text

    return mutate


def _view(text: str) -> Mutation:
    def mutate(project: Project) -> None:
        project.case("lips-001")["photos"][0]["view"] = text

    return mutate


def _rename_case(new_id: str) -> Mutation:
    def mutate(project: Project) -> None:
        project.case("lips-001")["id"] = new_id
        project.consent("C-2026-0001")["scope"] = {"cases": [new_id]}
        project.pages["lips.md"] = f"# Lips\n\n<!-- compliant-gallery case={new_id} -->\n"

    return mutate


def _page(text: str, name: str = "lips.md") -> Mutation:
    def mutate(project: Project) -> None:
        project.pages[name] = f"# Lip filler\n\n{text}\n\n<!-- compliant-gallery case=lips-001 -->\n"

    return mutate


def _testimonial_allowed(project: Project) -> None:
    project.consent("C-2026-0001")["allows"]["testimonial"] = True


def _named(name: str = "Jane Doe", allowed: bool = False) -> Mutation:
    """The release of lips-001 carries the salted hashes of the patient's name (YAML register, top-level salt)."""

    def mutate(project: Project) -> None:
        record = project.consent("C-2026-0001")
        record["name_hashes"] = [name_hash(token, SALT) for token in name.lower().split()]
        record["allows"]["name"] = allowed
        project.consents_text = json.dumps({"name_salt": SALT, "consents": project.consents})

    return mutate


def _named_csv(project: Project) -> None:
    """The same release in a CSV register: a name_salt column and ';'-separated name_hashes."""
    columns = ["id", "patient_ref", "signed_on", "signer", "expires_on", "channels.permit", "channels.deny", "purposes", "scope.cases"]
    columns += [f"allows.{key}" for key in ("face", "name", "distinctive_marks", "testimonial")]
    columns += ["material_connection", "third_party_remuneration", "statements.revocation", "statements.conditioning"]
    columns += ["statements.redisclosure", "irrevocable", "name_salt", "name_hashes"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for record in project.consents:
        hashes = ";".join(name_hash(token, SALT) for token in ("jane", "doe")) if record["id"] == "C-2026-0001" else ""
        identity = [record["id"], record["patient_ref"], record["signed_on"], "patient", record["expires_on"]]
        terms = ["website;social", "paid_ads", "marketing", record["scope"]["cases"][0], "false", "false", "false", "false"]
        writer.writerow([*identity, *terms, "none", "false", "true", "true", "true", "false", SALT, hashes])
    project.consents_name = "consents.csv"
    project.consents_text = buffer.getvalue()


def _named_fhir(project: Project) -> None:
    """The same release as FHIR R4 Consents: nameSalt and nameHashes extensions."""
    from mkdocs_compliant_gallery.records.fhir import EXTENSION_BASE

    resources = []
    for record in project.consents:
        resource = fhir_consent(record)
        if record["id"] == "C-2026-0001":
            hashes = " ".join(name_hash(token, SALT) for token in ("jane", "doe"))
            resource["extension"] += [
                {"url": f"{EXTENSION_BASE}nameSalt", "valueString": SALT},
                {"url": f"{EXTENSION_BASE}nameHashes", "valueString": hashes},
            ]
        resources.append({"resource": resource})
    project.consents_name = "consents.json"
    project.consents_text = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": resources}, indent=1)


def _treatment(**fields: object) -> Mutation:
    def mutate(project: Project) -> None:
        project.manifest["treatments"]["lip-filler"].update(fields)

    return mutate


ROWS: dict[str, Row] = {
    # Item 2: day-level dates, ages over 89 and the patient's name, wherever a visitor reads them
    "CG407-ISO-date-in-caption": Row(_case(caption="Photographed on 2026-03-02."), "CG407", line_text="2026-03-02"),
    "CG407-month-day-year-in-alt-text": Row(_alt("Lips on March 2nd, 2026, front view"), "CG407", line_text="March 2nd, 2026"),
    "CG407-day-month-year-in-testimonial": Row(
        all_of(_testimonial_allowed, _case(testimonial="Seen on 2 March 2026 by the team.")), "CG407", line_text="2 March 2026"
    ),
    "CG407-numeric-date-in-view-label": Row(_view("front 03/02/2026"), "CG407", line_text="view: front 03/02/2026"),
    "CG407-date-in-case-id": Row(_rename_case("lips-2026-03-02"), "CG407", line_text="id: lips-2026-03-02", case="lips-2026-03-02"),
    "CG407-short-date-in-page-text": Row(_page("Treated Mar 2 at our clinic."), "CG407", "docs/lips.md", "Treated Mar 2"),
    "CG407-age-over-89-in-caption": Row(_case(caption="Our 92-year-old patient after one session."), "CG407", line_text="92-year-old"),
    "CG407-age-over-89-in-page-text": Row(_page("A patient aged 95 chose a subtle result."), "CG407", "docs/lips.md", "aged 95"),
    "CG209-name-in-caption": Row(all_of(_named(), _case(caption="Jane chose a subtle result.")), "CG209", line_text="Jane chose"),
    "CG209-name-in-page-text-csv-register": Row(
        all_of(_named_csv, _page("Doe family results.")), "CG209", "docs/lips.md", "Doe family results"
    ),
    "CG209-name-in-alt-text-fhir-register": Row(
        all_of(_named_fhir, _alt("Jane's lips after, front view")), "CG209", line_text="Jane's lips"
    ),
    "CG103-a-name-hash-that-is-not-sha256": Row(
        lambda p: p.consent("C-2026-0001").update(name_salt=SALT, name_hashes=["jane"]), "CG103", REGISTER, "name_hashes", case=""
    ),
    "CG102-name-hashes-without-a-salt": Row(
        lambda p: p.consent("C-2026-0001").update(name_hashes=[name_hash("jane", SALT)]), "CG102", REGISTER, "name_hashes", case=""
    ),
    "CG102-shows-name-required": Row(lambda p: p.case("lips-001")["shows"].pop("name"), "CG102", line_text="face: false"),
    "month-and-year-alone-passes": Row(_case(caption="Photographed in March 2026.")),
    "an-age-under-90-passes": Row(_case(caption="A 45-year-old patient, one session.")),
    "name-allowed-by-the-release-passes": Row(all_of(_named(allowed=True), _case(caption="Jane chose a subtle result."))),
    "a-date-on-a-page-without-a-gallery-passes": Row(lambda p: p.pages.update({"index.md": "# Home\n\nOpen since 2 March 2026.\n"})),
    # Item 5: testimonials in captions, and the claims lint on treatment texts and page text
    "CG503-US-NY-quotation-in-caption": Row(
        all_of(under_packs("US", "US-NY"), _testimonial_allowed, _case(caption='"So happy with my new lips," she said.')),
        "CG503",
        line_text="So happy",
    ),
    "CG507-CA-ON-attribution-in-caption": Row(
        all_of(under_packs("CA-ON"), _testimonial_allowed, _case(caption="A lovely natural result - Sarah, 34")),
        "CG507",
        line_text="Sarah, 34",
    ),
    "CG511-AU-first-person-caption": Row(
        all_of(under_packs("AU"), _testimonial_allowed, _case(caption="I love how natural my lips look.")), "CG511", line_text="I love how"
    ),
    "CG209-quotation-without-testimonial-release": Row(
        _case(caption="\u201cBest decision I ever made\u201d, says our patient."), "CG209", line_text="Best decision"
    ),
    "CG405-promise-in-typical-results": Row(
        _treatment(typical_results="Permanent, natural-looking fullness."), "CG405", line_text="lip-filler:", case="lips-001"
    ),
    "CG405-promise-in-treatment-title": Row(_treatment(title="Painless lip filler"), "CG405", line_text="lip-filler:"),
    "CG405-promise-in-page-text": Row(_page("Guaranteed results for every patient."), "CG405", "docs/lips.md", "Guaranteed results"),
    "quotation-allowed-by-the-release-passes-under-US": Row(
        all_of(_testimonial_allowed, _case(caption='"So happy with my new lips," she said.'))
    ),
    "scare-quotes-are-not-a-testimonial": Row(_case(caption="The \u2018liquid lip\u2019 technique, one session.")),
    "treatment-allows-its-own-name": Row(
        all_of(
            _treatment(title="Permanent makeup", allow_claims=[{"phrase": "permanent makeup", "reason": "the name of the treatment"}]),
            _page("Permanent makeup results."),
        )
    ),
}


def _line(project: Project, file: str, text: str) -> int:
    lines = [number for number, line in enumerate((project.root / file).read_text().splitlines(), start=1) if text in line]
    assert len(lines) >= 1, f"{text!r} is not in {file}"
    return lines[0]


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_public_text(project: Project, row: Row) -> None:
    row.mutate(project)
    result = project.build()
    if row.code is None:
        assert result.ok, result.log
        assert cards_of(result.site / "lips" / "index.html"), "the case was not published"
        return
    assert not result.ok, f"passed:\n{result.log}"
    where = f"{row.file}:{_line(project, row.file, row.line_text)}"
    found = [line for line in result.log.splitlines() if where in line and f" {row.code} " in line]
    assert found, f"no {row.code} at {where}:\n{result.log}"
    # A problem of the register itself names no case; everything else names the case it would publish.
    assert any(f"[case {row.case}]" in line for line in found) if row.case else found, found
    assert "fix:" in result.log
    assert_nothing_published(result.site, project.root)


def test_the_name_never_reaches_the_register_or_the_log(project: Project) -> None:
    _named()(project)
    project.case("lips-001")["caption"] = "Jane chose a subtle result."
    result = project.build()
    assert not result.ok
    register = (project.gallery / "consents.yml").read_text()
    assert "jane" not in register.lower() and hashlib.sha256(f"{SALT}jane".encode()).hexdigest() in register


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("2026-03-02", ["2026-03-02"]),
        ("on 20260302", ["20260302"]),
        ("3/2/26 and 2.3.2026", ["3/2/26", "2.3.2026"]),
        ("2nd of March", ["2nd of March"]),
        ("Dec 25", ["Dec 25"]),
        ("results may 2 weeks later", []),
        ("March 2026, 03/2026, 6 to 12 months, 2 weeks", []),
        ("1.5 ml, 10 units, 0.5-1 ml", []),
    ],
)
def test_date_formats(text: str, dates: list[str]) -> None:
    assert dates_in(text) == dates


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a 92-year-old", True),
        ("91 years old", True),
        ("Age: 90", True),
        ("a nonagenarian", True),
        ("in her nineties", True),
        ("a 89-year-old", False),
        ("over 100 years of experience", False),
        ("aged 45", False),
    ],
)
def test_ages_over_89(text: str, found: bool) -> None:
    assert bool(ages_in(text)) is found
