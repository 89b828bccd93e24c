"""What every rule needs to know about the build, and the two places a violation can point at."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..records.manifest import Case
from ..records.register import Consent
from ..settings import Settings
from ..violations import Rule, Severity, Violation


@dataclass(frozen=True)
class Rules:
    """What the rules need to know about this build."""

    channel: str
    build_date: dt.date
    expiry_warning_days: int
    fail_on_withdrawn: bool
    jurisdictions: tuple[str, ...]
    practitioner_registration: str | None
    claims_forbidden: tuple[str, ...]  # the clinic's own words, added to the built-in guarantee words

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        """The part of a build's settings that the rules read."""
        return cls(
            settings.channel,
            settings.build_date,
            settings.expiry_warning_days,
            settings.fail_on_withdrawn,
            settings.jurisdictions,
            settings.practitioner_registration,
            settings.claims_forbidden,
        )


def at_case(case: Case, rule: Rule, key: str, message: str, fix: str) -> Violation:
    """A violation found in the case's own entry of the manifest, at `key`."""
    return Violation(rule, case.where(key), message, fix, case.id)


def at_consent(case: Case, consent: Consent, rule: Rule, key: str, message: str, fix: str, severity: Severity | None = None) -> Violation:
    """A violation of a case found in its release's record of the register, at `key`."""
    return Violation(rule, consent.where(key), message, fix, case.id, severity)
