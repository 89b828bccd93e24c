"""Gallery directives in pages: finding them (outside code), parsing their arguments (CG108), their lines.

A directive is an HTML comment, so a page built without the plugin shows nothing:

    <!-- compliant-gallery -->  <!-- compliant-gallery treatment=lip-filler -->  <!-- compliant-gallery case=lips-003 -->
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..catalogue import CG108
from ..violations import Violation, Where, did_you_mean

# The HTML comment survives Markdown unchanged; inside code blocks it is escaped and so never matches.
DIRECTIVE = re.compile(r"<!--\s*compliant-gallery(?P<args>(?:\s[^>]*?)?)\s*-->")
OPENING = re.compile(r"<!--\s*compliant-gallery\b")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ARGUMENT = re.compile(r"^(?P<key>[a-z]+)=(?P<value>\S+)$")
ARGUMENTS = ("treatment", "case")
# Any HTML comment, to find the ones meant as directives but written otherwise (a near miss places nothing).
_COMMENT = re.compile(r"<!--(?P<body>.*?)-->", re.DOTALL)
_FIRST_WORDS = re.compile(r"\s*(?P<words>[A-Za-z][\w:.-]*(?:[ \t]+[A-Za-z][\w:.-]*)?)")
NAME = "compliant-gallery"


@dataclass(frozen=True)
class Directive:
    """One `<!-- compliant-gallery ... -->` placement: all cases, one treatment or one case."""

    text: str
    treatment: str | None = None
    case: str | None = None


def parse_directive(text: str, args: str, where: Where) -> tuple[Directive | None, list[Violation]]:
    """Parse the arguments of one directive; unknown or conflicting arguments are CG108 (with a did-you-mean)."""
    values: dict[str, str] = {}
    problems = []
    for token in re.sub(r"\s*=\s*", "=", args.strip()).split():
        match = _ARGUMENT.match(token)
        if not match or match["key"] not in ARGUMENTS:
            key, equals, value = token.partition("=")
            meant = key.lower() if key.lower() in ARGUMENTS else did_you_mean(key.lower(), ARGUMENTS).removeprefix(" did you mean '")[:-2]
            hint = f"did you mean '{meant}={value or '...'}'?" if meant and equals else ""
            problems.append(
                Violation(
                    CG108,
                    where,
                    f"directive argument '{token}' is not understood",
                    hint or "write 'treatment=<key>' or 'case=<id>', or nothing for every case",
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


def find_near_misses(html: str) -> list[tuple[re.Match[str], str]]:
    """HTML comments that look meant as directives but are not written as one, each with the directive it means.

    `<!-- compliant_gallery -->`, `<!-- Compliant-Gallery -->`, `<!-- compliant gallery case=x -->`,
    `<!-- compliant-gallery: case=x -->` or `<!-- compliant-galery -->` place nothing: left silent, the page
    would simply show no gallery.
    """
    found = []
    for comment in _COMMENT.finditer(html):
        if DIRECTIVE.fullmatch(comment.group(0)):
            continue
        first = _FIRST_WORDS.match(comment["body"])
        if first is None:
            continue
        words = first["words"].split()
        for count in range(1, len(words) + 1):
            written = " ".join(words[:count])
            letters = re.sub(r"[^a-z]", "", written.lower())
            if letters == "compliantgallery" or difflib.SequenceMatcher(None, letters, "compliantgallery").ratio() >= 0.85:
                rest = comment["body"][first.start("words") + len(written) :].strip()
                meant = f"<!-- {NAME}{' ' + rest if rest else ''} -->"
                found.append((comment, meant))
                break
    return found


def near_miss_problem(text: str, meant: str, where: Where) -> Violation:
    """CG108 for a comment meant as a directive: it would place nothing, silently."""
    return Violation(
        CG108,
        where,
        f"'{' '.join(text.split())}' looks like a gallery directive but is not written as one, so it places nothing",
        f"write it exactly as '{meant}' (lower case, with a hyphen)",
    )


def line_in_source(markdown: str, directive_text: str, occurrence: int) -> int:
    """The 1-based line of the n-th occurrence of a directive in the page's Markdown, 0 if not found."""
    start = -1
    for _ in range(occurrence + 1):
        start = markdown.find(directive_text, start + 1)
        if start < 0:
            return 0
    return markdown.count("\n", 0, start) + 1


def outside_fences(lines: list[str]) -> Iterator[tuple[int, str, bool]]:
    """(line number, line, whether it is text rather than a fence or fenced code).

    A fence closes only at a fence of the same character at least as long as the one that opened it, with nothing
    after it (CommonMark, and pymdownx.superfences): a ```` block may show a ``` example.
    """
    opened: str | None = None  # the opening fence's marker, e.g. "````"
    for number, line in enumerate(lines, start=1):
        fence = _FENCE.match(line)
        if fence:
            marker = fence.group(1)
            if opened is None:
                opened = marker
                yield number, line, False
                continue
            if marker[0] == opened[0] and len(marker) >= len(opened) and not line[fence.end() :].strip():
                opened = None
                yield number, line, False
                continue
        yield number, line, opened is None


_INDENTED = re.compile(r"^(?: {4}|\t)")
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s")


def _indented_code(lines: list[str], is_text: list[bool]) -> list[bool]:
    """Which text lines are indented code: four spaces (or a tab) in, after a blank line, outside a list.

    Inside a list, four spaces continue the item (Python-Markdown) and code needs eight.
    """
    code = [False] * len(lines)
    in_list = False
    previous_blank = True
    previous_code = False
    for index, line in enumerate(lines):
        if not is_text[index]:
            previous_blank, previous_code = False, False
            continue
        if not line.strip():
            previous_blank = True
            continue
        if not _INDENTED.match(line):
            in_list = bool(_LIST_ITEM.match(line)) or (in_list and not previous_blank)
            previous_blank, previous_code = False, False
            continue
        depth = len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())
        if (previous_blank or previous_code) and depth >= (8 if in_list else 4):
            code[index] = True
        previous_blank, previous_code = False, code[index]
    return code


def code_masked(markdown: str) -> str:
    """The Markdown with fenced code, indented code and inline code spans blanked out, line for line.

    What a host without a Markdown renderer (the CLI) gives `GalleryBuild.place_page`: directives shown as
    code in a page are examples, and rendered Markdown would escape them.
    """
    lines = markdown.split("\n")
    fenced = list(outside_fences(lines))
    is_text = [text for _, _, text in fenced]
    indented = _indented_code(lines, is_text)
    masked: list[str] = []
    for index, (_, line, text) in enumerate(fenced):
        if not text or indented[index]:
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
