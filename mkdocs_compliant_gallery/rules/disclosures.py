"""The disclosure rules (CG401-CG405): typical results, material connections and guarantee language."""

from __future__ import annotations

import re

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
    return found


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
