"""Gallery directives in pages: finding them (outside code), parsing their arguments (CG108), their lines.

A directive is an HTML comment, so a page built without the plugin shows nothing:

    <!-- compliant-gallery -->  <!-- compliant-gallery treatment=lip-filler -->  <!-- compliant-gallery case=lips-003 -->
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..catalogue import CG108
from ..violations import Violation, Where

# The HTML comment survives Markdown unchanged; inside code blocks it is escaped and so never matches.
DIRECTIVE = re.compile(r"<!--\s*compliant-gallery(?P<args>(?:\s[^>]*?)?)\s*-->")
OPENING = re.compile(r"<!--\s*compliant-gallery\b")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ARGUMENT = re.compile(r"^(?P<key>[a-z]+)=(?P<value>\S+)$")


@dataclass(frozen=True)
class Directive:
    """One `<!-- compliant-gallery ... -->` placement: all cases, one treatment or one case."""

    text: str
    treatment: str | None = None
    case: str | None = None


def parse_directive(text: str, args: str, where: Where) -> tuple[Directive | None, list[Violation]]:
    """Parse the arguments of one directive; unknown or conflicting arguments are CG108."""
    values: dict[str, str] = {}
    problems = []
    for token in args.split():
        match = _ARGUMENT.match(token)
        if not match or match["key"] not in {"treatment", "case"}:
            problems.append(
                Violation(
                    CG108,
                    where,
                    f"directive argument '{token}' is not understood",
                    "write 'treatment=<key>' or 'case=<id>', or nothing for every case",
                )
            )
            continue
        values[match["key"]] = match["value"].strip("\"'")
    if len(values) > 1:
        problems.append(
            Violation(CG108, where, "a directive names both a treatment and a case", "use one directive per treatment or per case")
        )
    if problems:
        return None, problems
    return Directive(text, treatment=values.get("treatment"), case=values.get("case")), []


def find_directives(html: str) -> list[re.Match[str]]:
    """Every directive comment in rendered page HTML."""
    return list(DIRECTIVE.finditer(html))


def line_in_source(markdown: str, directive_text: str, occurrence: int) -> int:
    """The 1-based line of the n-th occurrence of a directive in the page's Markdown, 0 if not found."""
    start = -1
    for _ in range(occurrence + 1):
        start = markdown.find(directive_text, start + 1)
        if start < 0:
            return 0
    return markdown.count("\n", 0, start) + 1


def outside_fences(lines: list[str]) -> Iterator[tuple[int, str, bool]]:
    """(line number, line, whether it is text rather than a fence or fenced code)."""
    fence: str | None = None
    for number, line in enumerate(lines, start=1):
        opening = _FENCE.match(line)
        if opening:
            marker = opening.group(1)
            if fence is None:
                fence = marker[0]
            elif marker[0] == fence:
                fence = None
            yield number, line, False
            continue
        yield number, line, fence is None


def code_masked(markdown: str) -> str:
    """The Markdown with fenced code and inline code spans blanked out, line for line.

    What a host without a Markdown renderer (the CLI) gives `GalleryBuild.place_page`: directives shown as
    code in a page are examples, and rendered Markdown would escape them.
    """
    masked: list[str] = []
    for _, line, is_text in outside_fences(markdown.split("\n")):
        if not is_text:
            masked.append(" " * len(line))
            continue
        kept, in_code = [], False
        for char in line:
            if char == "`":
                in_code = not in_code
                kept.append(" ")
            else:
                kept.append(" " if in_code else char)
        masked.append("".join(kept))
    return "\n".join(masked)
