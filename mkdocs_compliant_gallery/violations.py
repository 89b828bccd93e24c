"""Violations: the one value every check returns, and how a list of them is reported."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class Severity(enum.Enum):
    """How a violation affects the build."""

    ERROR = "error"  # fails the build
    WARNING = "warning"  # logged, build goes on
    REMOVED = "removed"  # the case is taken out of the site, build goes on


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
    """A broken rule: a stable code, where it happened, what is wrong and how to fix it."""

    code: str
    where: Where
    message: str
    fix: str = ""
    case: str = ""
    severity: Severity = Severity.ERROR

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


def errors(violations: Iterable[Violation]) -> list[Violation]:
    """The violations that fail a build, sorted by file and line."""
    return sorted((v for v in violations if v.severity is Severity.ERROR), key=lambda v: v.sort_key)


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


class GalleryError(Exception):
    """Raised by the engine when it cannot go on; carries every violation found so far."""

    def __init__(self, violations: list[Violation], headline: str = "compliant-gallery: the build failed"):
        self.violations = violations
        super().__init__(report(violations, headline))
