"""The disclosure rules (CG401-CG405): typical results, material connections, guarantee language, and what a card
must say about edited photos and quoted patients."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..catalogue import CG401, CG402, CG403, CG405
from ..records.manifest import Case, Treatment
from ..records.register import Consent
from ..violations import Violation, Where
from .context import at_case, at_consent

# Phrases that promise an outcome (Florida 64B8-11.001, ADA Code 5.F, AHPRA); checked in public text.
GUARANTEE_WORDS = (
    "guarantee",
    "guaranteed",
    "permanent",
    "permanently",
    "risk-free",
    "risk free",
    "painless",
    "pain-free",
    "100%",
    "perfect",
    "flawless",
    "miracle",
    "no side effects",
    "no downtime",
    "instant results",
    "best results",
)


def claims_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive whole-word pattern for the claim words."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(r"(?<![\w-])(" + alternatives + r")(?![\w-])", re.IGNORECASE)


# "Results may vary" on its own tells a reader nothing about the generally expected result (FTC 255.2(b)).
_VAGUE_RESULTS = re.compile(r"^\W*(individual\s+)?results\s+(may|will|can)\s+vary\W*$", re.IGNORECASE)


def disclosure_violations(
    case: Case, consent: Consent | None, treatment: Treatment | None, claim_words: tuple[str, ...] = GUARANTEE_WORDS
) -> list[Violation]:
    """CG401-CG405: typical-results text, material connections and guarantee language."""
    found = []
    if treatment is not None:
        if treatment.typical_results is None:
            found.append(
                Violation(
                    CG401,
                    Where(case.file, treatment.line, f"treatments.{treatment.key}"),
                    f"treatment '{treatment.key}' has no 'typical_results'",
                    "add 'typical_results:' saying what patients can generally expect (FTC 16 CFR 255.2(b))",
                    case.id,
                )
            )
        elif _VAGUE_RESULTS.match(treatment.typical_results):
            found.append(
                Violation(
                    CG402,
                    Where(case.file, treatment.line, f"treatments.{treatment.key}.typical_results"),
                    "'results may vary' alone does not tell readers what result to expect",
                    "state the generally expected result, e.g. 'Most patients see ... for 6 to 12 months'",
                    case.id,
                )
            )
    if consent is not None and consent.material_connection_invalid:
        found.append(
            at_consent(
                case,
                consent,
                CG403,
                "material_connection",
                "material connection has no disclosure text",
                "write the sentence to show, e.g. 'This patient received a 20% discount on treatment.'",
            )
        )
    found.extend(claim_violations(case, claim_words))
    if treatment is not None:
        found.extend(treatment_claim_violations(case, treatment, claim_words))
    return found


def _without_allowed(text: str, allowed: Sequence[tuple[str, str]]) -> str:
    for phrase, _reason in allowed:
        text = re.sub(re.escape(phrase), " ", text, flags=re.IGNORECASE)
    return text


def treatment_claim_violations(case: Case, treatment: Treatment, claim_words: tuple[str, ...]) -> list[Violation]:
    """CG405 in a treatment's title and `typical_results` (shown on every card), except phrases the treatment allows."""
    pattern = claims_pattern(claim_words)
    found = []
    for key, text in (("title", treatment.title), ("typical_results", treatment.typical_results)):
        match = pattern.search(_without_allowed(text or "", treatment.allowed_claims))
        if match:
            found.append(
                Violation(
                    CG405,
                    Where(case.file, treatment.line, f"treatments.{treatment.key}.{key}"),
                    f"the treatment's {key.replace('_', ' ')} promises an outcome: '{match.group(0)}'",
                    "describe the treatment and its usual result without guarantee words, or, where the phrase names the "
                    "treatment itself ('permanent makeup'), allow it under the treatment's "
                    "'allow_claims: [{phrase: ..., reason: ...}]'",
                    case.id,
                )
            )
    return found


def page_claim_violations(
    lines: Sequence[tuple[int, str]], page_file: str, claim_words: tuple[str, ...], allowed: Sequence[tuple[str, str]], case_id: str
) -> list[Violation]:
    """CG405 in the text of a page that places a gallery: a claim beside the photos reads as a promise about them."""
    pattern = claims_pattern(claim_words)
    found = []
    for number, text in lines:
        match = pattern.search(_without_allowed(text, allowed))
        if match:
            found.append(
                Violation(
                    CG405,
                    Where(page_file, number, "page text"),
                    f"the page places a gallery and its text promises an outcome: '{match.group(0)}'",
                    "reword the page without guarantee words; a phrase that names a treatment ('permanent makeup') can be "
                    "allowed under that treatment's 'allow_claims' in the manifest",
                    case_id,
                )
            )
    return found


# A caption is the clinic's voice. A quotation, an attribution or a patient speaking in the first person makes it a
# testimonial, which needs the release's `allows.testimonial` and is banned outright by some packs.
_QUOTED = re.compile(
    r"[\"\u201c\u201e\u00ab]([^\"\u201c\u201d\u201e\u00ab\u00bb]+)[\"\u201d\u201c\u00bb]|\u2018([^\u2018\u2019]+?)\u2019(?!\w)"
)
_FIRST_PERSON = re.compile(r"(?<![\w'])(?:I|I'm|I've|I'd|I'll|my|My|me|myself|Myself)(?![\w'])")
# "- Sarah", "— J. D., 34" at the end of a caption
_SIGNED = re.compile(r"(?:^|\s)[\u2014\u2013~-]{1,2}\s*[A-Z][\w.']*(?:\s+[A-Z][\w.']*)?(?:,\s*\d{1,3})?\.?\s*$")
_ATTRIBUTION = re.compile(
    r"(?<![\w])(?:says|said|writes|wrote|told us|in (?:her|his|their) (?:own )?words|according to (?:the patient|her|him|them)"
    r"|patient review|review:|testimonial)(?![\w])",
    re.IGNORECASE,
)


def caption_testimonial(caption: str | None) -> str | None:
    """What makes a caption a testimonial (a quotation, an attribution, the first person), or None."""
    if not caption:
        return None
    for quoted in _QUOTED.finditer(caption):
        inside = quoted.group(1) or quoted.group(2) or ""
        # Three words or a first person make a quotation; two are a term in scare quotes (the 'liquid facelift').
        if len(inside.split()) >= 3 or _FIRST_PERSON.search(inside):
            return f"the quotation {quoted.group(0)}"
    first_person = _FIRST_PERSON.search(caption)
    if first_person:
        return f"the patient speaking ('{first_person.group(0)}')"
    attribution = _SIGNED.search(caption) or _ATTRIBUTION.search(caption)
    if attribution:
        return f"the attribution '{attribution.group(0).strip()}'"
    return None


# Declared edits that change what the photo shows: outside the packs that refuse them, the card says so.
VISIBLE_EDITS = {
    "retouch": "retouched",
    "filter": "beauty or smoothing filter",
    "composite": "composited from several photos",
    "background": "background replaced",
}


def edit_disclosure(case: Case) -> str | None:
    """The card's "Edited: ..." line for retouched, filtered, composited or re-backgrounded photos, or None."""
    parts = []
    for pair in case.photos:
        labels = list(dict.fromkeys(VISIBLE_EDITS[edit.kind] for edit in pair.edits if edit.kind in VISIBLE_EDITS))
        if labels:
            view = f"{pair.view.replace('-', ' ')} view: " if len(case.photos) > 1 else ""
            parts.append(view + ", ".join(labels))
    return "Edited: " + "; ".join(parts) + "." if parts else None


def claim_violations(case: Case, claim_words: tuple[str, ...]) -> list[Violation]:
    """CG405: guarantee language in public text, except phrases the case allows with a recorded reason."""
    pattern = claims_pattern(claim_words)
    allowed = [re.compile(re.escape(phrase), re.IGNORECASE) for phrase, _reason in case.allowed_claims]
    public_texts = {"caption": case.caption, "testimonial": case.testimonial}
    for ref in case.image_refs():
        public_texts[f"alt ({ref.src})"] = ref.alt
    found = []
    for key, text in public_texts.items():
        remaining = text or ""
        for phrase in allowed:
            remaining = phrase.sub(" ", remaining)
        match = pattern.search(remaining)
        if match:
            field_key = key.split(" ")[0]
            found.append(
                at_case(
                    case,
                    CG405,
                    field_key if field_key in case.lines else "photos",
                    f"{key} promises an outcome: '{match.group(0)}'",
                    "describe the result without guarantee words, or allow this exact phrase for this case under "
                    "'allow_claims: [{phrase: ..., reason: ...}]' with the reason it is not a promise",
                )
            )
    return found
