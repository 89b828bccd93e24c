"""Violations: the one value every check returns, the rule it breaks, and how a list of them is reported.

The rules themselves are declared in `catalogue`; this module holds only the types they are made of.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class Severity(enum.Enum):
    """How a violation affects the build."""

    ERROR = "error"  # fails the build
    WARNING = "warning"  # logged, build goes on
    REMOVED = "removed"  # the case is taken out of the site, build goes on


class Stage(enum.Enum):
    """The step of a build that checks a rule: where in the engine to look for it."""

    LOAD = "load"  # reading the options, the manifest and the register (records/)
    DECIDE = "decide"  # judging each case against its release and the packs (rules/)
    PROCESS = "process"  # decoding, checking and encoding the photos (images/)
    PLACE = "place"  # placing directives and rendering cards in pages (output/)
    VERIFY = "verify"  # checking the built site before it may be deployed (output/)


# The hundreds digit of a code names its family; each family has one home folder in the package.
FAMILIES: dict[str, tuple[str, str]] = {
    "1": ("records", "the clinic's files: schema, keys, paths, directives (records/, output/directives.py)"),
    "2": ("consent", "the release behind each case (rules/consent.py)"),
    "3": ("images", "the photos themselves (images/)"),
    "4": ("disclosures", "what a visitor reads: typical results, connections, claims (rules/disclosures.py, output/)"),
    "5": ("jurisdictions", "rule packs of a state, province or country (rules/jurisdictions.py)"),
    "6": ("output", "leaks in the built site (output/guard.py)"),
}


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue: a stable code, what it means, when it is checked and what breaking it does."""

    code: str
    title: str
    stage: Stage
    severity: Severity = Severity.ERROR

    @property
    def family(self) -> str:
        return FAMILIES[self.code[2]][0]

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, order=True)
class Where:
    """A place in an input file; `line` is 1-based, 0 when the file as a whole is meant."""

    file: str = ""
    line: int = 0
    field: str = ""

    def __str__(self) -> str:
        text = self.file or "<config>"
        if self.line:
            text += f":{self.line}"
        if self.field:
            text += f" ({self.field})"
        return text


@dataclass(frozen=True)
class Violation:
    """A broken rule: which rule, where it happened, what is wrong and how to fix it.

    `severity` defaults to the rule's own; a build option may change it (`on_withdrawn: fail`).
    """

    rule: Rule
    where: Where
    message: str
    fix: str
    case: str
    severity: Severity

    def __init__(self, rule: Rule, where: Where, message: str, fix: str = "", case: str = "", severity: Severity | None = None):
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "where", where)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "fix", fix)
        object.__setattr__(self, "case", case)
        object.__setattr__(self, "severity", rule.severity if severity is None else severity)

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def sort_key(self) -> tuple[str, int, str, str, str]:
        return (self.where.file, self.where.line, self.code, self.case, self.message)

    def format(self) -> str:
        """One human line (plus a fix line) for logs and error messages."""
        case = f" [case {self.case}]" if self.case else ""
        text = f"{self.where}: {self.code}{case} {self.message}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


def of_severity(violations: Iterable[Violation], severity: Severity) -> list[Violation]:
    """The violations of one severity, sorted by file and line."""
    return sorted((v for v in violations if v.severity is severity), key=lambda v: v.sort_key)


def report(violations: Iterable[Violation], headline: str) -> str:
    """A complete, sorted, multi-line report of the given violations."""
    items = sorted(violations, key=lambda v: v.sort_key)
    lines = [f"{headline} ({len(items)}):"]
    lines.extend(f"  {v.format()}" for v in items)
    return "\n".join(lines)


def display_path(path: Path, root: Path) -> str:
    """A path as the user wrote it: relative to the project when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """ " did you mean 'x'?" for the choice closest to a mistyped id or key, else ""."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.75)
    return f" did you mean '{close[0]}'?" if close else ""


def count(number: int, noun: str, plural: str = "") -> str:
    """'1 case', '2 cases', '0 cases': a number with its noun in the right form (`plural` when not noun + 's')."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
