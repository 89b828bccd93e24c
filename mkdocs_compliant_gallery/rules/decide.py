"""One decision per case: its consent, disclosure and jurisdiction rules together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..audit.publications import PublicationHistory
from ..records.manifest import Case, Manifest, Treatment
from ..records.register import Consent, Register
from ..violations import Severity, Violation
from .consent import NO_HISTORY, consent_violations, taken_down
from .context import Rules
from .disclosures import GUARANTEE_WORDS, disclosure_violations
from .identifiers import case_text_violations
from .jurisdictions import pack_violations


@dataclass(frozen=True)
class Decision:
    """What happens to one case: published, removed (with the reason), or blocked by errors."""

    case: Case
    consent: Consent | None
    violations: tuple[Violation, ...]
    ended_on: dt.date | None = None  # for a removed case: the day its release stopped being in force

    @property
    def removed(self) -> Violation | None:
        return next((v for v in self.violations if v.severity is Severity.REMOVED), None)

    @property
    def blocked(self) -> bool:
        return any(v.severity is Severity.ERROR for v in self.violations)

    @property
    def publishable(self) -> bool:
        return not self.blocked and self.removed is None


def decide_all(manifest: Manifest, register: Register, rules: Rules, history: PublicationHistory = NO_HISTORY) -> list[Decision]:
    """One decision per case of the manifest, in manifest order; `history` is what the publication log says."""
    return [decide(case, register, manifest.treatments.get(case.treatment or ""), rules, history) for case in manifest.cases.values()]


def decide(case: Case, register: Register, treatment: Treatment | None, rules: Rules, history: PublicationHistory = NO_HISTORY) -> Decision:
    """Evaluate one case against its consent and its treatment's disclosures."""
    consent = register.consents.get(case.consent_id or "")
    found = list(consent_violations(case, consent, register, rules, history))
    ended_on = None
    if any(v.severity is Severity.REMOVED for v in found):
        down = taken_down(case, consent, register, rules) if consent is not None else None
        ended_on = down.ended_on if down is not None else None
    else:
        found.extend(disclosure_violations(case, consent, treatment, GUARANTEE_WORDS + rules.claims_forbidden))
        found.extend(case_text_violations(case, consent))
        if consent is not None and treatment is not None:
            found.extend(pack_violations(case, consent, treatment, rules))
    return Decision(case, consent, tuple(found), ended_on)
