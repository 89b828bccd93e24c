"""Jurisdiction rule packs (CG5xx): what a state, province or country adds to the federal US rules.

Each pack is a function from one case (with its consent and treatment) to violations, plus the texts it
adds to the case card's disclosure. Sources are named in every message so a compliance officer can check
them; see ../shared/domain.md of the project for the background. `US` (HIPAA authorization validity and FTC
typical results) is the base rule set in `consent` and `disclosures`, so its pack adds nothing here.
"""

from __future__ import annotations

from collections.abc import Callable

from ..catalogue import CG501, CG502, CG503, CG504, CG505, CG506, CG507, CG508, CG509, CG510, CG511, CG512, CG513
from ..records.manifest import Case, Treatment
from ..records.register import Consent
from ..violations import Rule, Violation, Where
from .context import Rules, at_case, at_consent
from .disclosures import caption_testimonial

# AHPRA's guidelines for advertising cosmetic procedures ask for this warning, prominently.
AU_WARNING = (
    "Any surgical or invasive procedure carries risks. Before proceeding, you should seek a second opinion "
    "from an appropriately qualified health practitioner."
)
CA_RESULTS_STATEMENT = "Results may not occur for all patients."
MODEL_LABEL = "The person shown is a model, not a patient of this clinic."
# Crop, resize and redaction are not declared edits (the manifest's `crop` and `redact` do them on the published
# pixels). Under AU one whole-frame exposure adjustment (EAFPS' "levels") is allowed besides; under US-CA, whose
# B&P Code 651 treats any alteration as misleading, no declared edit is (spec, section 6). `generated` is CG311
# everywhere, so it is left to that rule.
AU_ALLOWED_EDIT = "exposure"


Pack = Callable[[Case, Consent, Treatment, Rules], list[Violation]]


def refused_edits(case: Case, allowed: str | None) -> list[str]:
    """Declared edits beyond `allowed` (one per photo pair; None: none at all), `generated` aside (CG311)."""
    found: set[str] = set()
    for pair in case.photos:
        kinds = [edit.kind for edit in pair.edits if edit.kind != "generated"]
        found.update(kind for kind in kinds if kind != allowed)
        if allowed is not None and kinds.count(allowed) > 1:
            found.add(f"{allowed}, more than once")
    return sorted(found)


def _edit_violation(case: Case, code: Rule, source: str, allowed: str | None) -> list[Violation]:
    edits = refused_edits(case, allowed)
    if not edits:
        return []
    kept = "crop, resize and redaction are allowed" + (f", and one global {allowed} adjustment ('edits: [{allowed}]')" if allowed else "")
    return [
        at_case(
            case,
            code,
            "photos",
            f"declared edits ({', '.join(edits)}) alter what the photos show ({source})",
            f"publish the unedited originals: {kept}",
        )
    ]


def _california(case: Case, consent: Consent, treatment: Treatment, rules: Rules) -> list[Violation]:
    found = _edit_violation(case, CG501, "California treats any alteration as misleading, B&P Code 651(b)(3)", None)
    if not case.procedures:
        found.append(
            at_case(
                case,
                CG502,
                "procedures",
                "California requires the procedures performed to be listed (B&P Code 651)",
                "add 'procedures: [...]' with everything performed",
            )
        )
    return found


def _testimonial_ban(code: Rule, source: str) -> Pack:
    def check(case: Case, consent: Consent, treatment: Treatment, rules: Rules) -> list[Violation]:
        found = []
        if case.testimonial is not None:
            found.append(
                at_case(case, code, "testimonial", f"testimonials are not allowed ({source})", "remove the testimonial from the case")
            )
        quoted = caption_testimonial(case.caption)
        if quoted is not None:
            found.append(
                at_case(
                    case,
                    code,
                    "caption",
                    f"the caption reads as a testimonial ({quoted}); testimonials are not allowed ({source})",
                    "describe the result in the clinic's own words: no quotation, attribution or first person",
                )
            )
        return found

    return check


def _texas(case: Case, consent: Consent, treatment: Treatment, rules: Rules) -> list[Violation]:
    if (case.testimonial is not None or caption_testimonial(case.caption) is not None) and not consent.material_connection_recorded:
        return [
            at_consent(
                case,
                consent,
                CG504,
                "material_connection",
                "a testimonial needs its compensation disclosed (Texas Medical Board, 22 TAC 164.3)",
                "record 'material_connection: none' or the disclosure text in the consent",
            )
        ]
    return []


def _ontario(case: Case, consent: Consent, treatment: Treatment, rules: Rules) -> list[Violation]:
    found = _testimonial_ban(CG507, "CPSO Advertising policy")(case, consent, treatment, rules)
    procedure = consent.procedure_on or case.treated_on
    if procedure is None:
        found.append(
            at_consent(
                case,
                consent,
                CG505,
                "procedure_on",
                "the procedure date is not recorded, so the consent cannot be shown to follow it (CPSO)",
                "add 'procedure_on: YYYY-MM-DD' to the consent (or 'treated_on' to the case)",
            )
        )
    elif consent.signed_on is not None and consent.signed_on <= procedure:
        found.append(
            at_consent(
                case,
                consent,
                CG505,
                "signed_on",
                f"consent signed on {consent.signed_on}, not after the procedure on {procedure} (CPSO)",
                "obtain the photo consent after the procedure",
            )
        )
    if rules.channel == "paid_ads":
        found.append(
            at_consent(
                case,
                consent,
                CG506,
                "channels",
                "Ontario does not allow patient photos in paid promotion (CPSO)",
                "publish on the website only",
            )
        )
    return found


def _australia(case: Case, consent: Consent, treatment: Treatment, rules: Rules) -> list[Violation]:
    source = "AHPRA guidelines for advertising cosmetic procedures"
    found = _testimonial_ban(CG511, source)(case, consent, treatment, rules)
    age = consent.subject_age_at_capture
    if age is None or age < 18:
        what = "is not recorded" if age is None else f"is {age}"
        found.append(
            at_consent(
                case,
                consent,
                CG508,
                "subject_age_at_capture",
                f"the patient's age at capture {what}; photos of people under 18 may not be used ({source})",
                "record 'subject_age_at_capture:' from the clinical record; never publish a minor",
            )
        )
    if not rules.practitioner_registration:
        found.append(
            at_case(
                case,
                CG509,
                "",
                f"the practitioner's registration number must be on the page ({source})",
                "set 'practitioner_registration:' in the plugin options of mkdocs.yml",
            )
        )
    if not treatment.risks:
        found.append(
            Violation(
                CG510,
                Where(case.file, treatment.line, f"treatments.{treatment.key}"),
                f"treatment '{treatment.key}' has no 'risks' text to show beside its results ({source})",
                "add 'risks:' to the treatment in the manifest",
                case.id,
            )
        )
    found.extend(_edit_violation(case, CG512, source, AU_ALLOWED_EDIT))
    return found


def _europe(case: Case, consent: Consent, treatment: Treatment, rules: Rules) -> list[Violation]:
    if consent.explicit_consent:
        return []
    return [
        at_consent(
            case,
            consent,
            CG513,
            "explicit_consent",
            "explicit consent for this purpose and channel is not recorded (GDPR Art. 9(2)(a))",
            "record 'explicit_consent: true' once the patient has given it for marketing on this channel",
        )
    ]


PACKS: dict[str, list[Pack]] = {
    "US": [],
    "US-CA": [_california],
    "US-NY": [_testimonial_ban(CG503, "New York, 8 NYCRR 29.1")],
    "US-TX": [_texas],
    "CA-ON": [_ontario],
    "AU": [_australia],
    "EU": [_europe],
    "UK": [_europe],  # plus CG514 on the photos' capture dates, checked once the originals are read
}


def pack_violations(case: Case, consent: Consent, treatment: Treatment, rules: Rules) -> list[Violation]:
    """Every CG5xx violation of one case under the selected packs."""
    found: list[Violation] = []
    seen: set[Pack] = set()
    for name in rules.jurisdictions:
        for pack in PACKS.get(name, []):
            if pack not in seen:
                seen.add(pack)
                found.extend(pack(case, consent, treatment, rules))
    return found


def pack_disclosures(case: Case, treatment: Treatment, rules: Rules) -> list[str]:
    """Texts the selected packs add to the case card's disclosure block."""
    selected = set(rules.jurisdictions)
    texts = []
    if "US-CA" in selected:
        texts.append(CA_RESULTS_STATEMENT)
    if case.model and selected & {"US-CA", "US-TX"}:
        texts.append(MODEL_LABEL)
    if "AU" in selected:
        if treatment.risks:
            texts.append(f"Risks: {treatment.risks}")
        texts.append(AU_WARNING)
        if rules.practitioner_registration:
            texts.append(f"Practitioner registration: {rules.practitioner_registration}")
    return texts
