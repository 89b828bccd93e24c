"""Preview markup for a live-preview host (`mkdocs serve`): problem panels, removed panels, a banner and a
page listing every problem, so a designer sees what stops the real build without leaving the browser.

None of it can reach a published site: a host asks for previews only in its serve mode, pages carry opaque
placeholders while they render, the output guard checks the site as a real build would have written it, and
only then does `finish` swap the placeholders for panels (which name consent ids and removed cases).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import jinja2

from ..violations import Violation

PROBLEMS_PAGE = "compliant-gallery-preview.md"
PANEL_TEMPLATE = "fragments/compliant-gallery/preview-panel.html"
BANNER_TEMPLATE = "fragments/compliant-gallery/preview-banner.html"
PROBLEMS_TEMPLATE = "fragments/compliant-gallery/preview-problems.html"
FAILED_TEMPLATE = "fragments/compliant-gallery/preview-failed.html"
PROBLEMS_SLOT = "<!--cg-preview-problems-->"
BANNER_SLOT = "<!--cg-preview-banner-->"
_PLACEHOLDER = re.compile(r"<!--cg-preview-panel:(\d+)-->")
_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class ProblemKey:
    """What identifies a problem from one rebuild to the next: not its line, which moves as the file is edited."""

    case: str
    code: str
    file: str
    field: str
    message: str

    @classmethod
    def of(cls, violation: Violation) -> ProblemKey:
        return cls(violation.case, violation.code, violation.where.file, violation.where.field, violation.message)

    def label(self) -> str:
        subject = self.case or self.file or "<config>"
        return f"{subject} {self.code}"


@dataclass(frozen=True)
class Changes:
    """Problems that appeared and went away since the previous preview build."""

    new: tuple[Violation, ...]
    fixed: tuple[ProblemKey, ...]


def changes(previous: Iterable[ProblemKey], current: Sequence[Violation]) -> Changes:
    """Compare this build's problems with the last build's, in the order a reader scans a log."""
    before = set(previous)
    now = {ProblemKey.of(v) for v in current}
    new = tuple(v for v in current if ProblemKey.of(v) not in before)
    fixed = tuple(sorted(before - now, key=lambda key: (key.case, key.code, key.file, key.message)))
    return Changes(new, fixed)


class Preview:
    """The preview markup of one build. Panels are handed out as placeholders and rendered into pages last."""

    def __init__(self, env: jinja2.Environment):
        self.env = env if env.autoescape else env.overlay(autoescape=True)
        self._panels: list[str] = []

    # -- placeholders, while pages render ---------------------------------------------------------------

    def problem_panel(self, case_id: str, problems: Sequence[Violation]) -> str:
        """A placeholder for the panel that stands in for a case (or directive) that cannot be published."""
        return self._panel("problem", case_id, problems)

    def removed_panel(self, case_id: str, reason: Violation) -> str:
        """A placeholder for the small neutral note where a withdrawn or expired case used to be."""
        return self._panel("removed", case_id, [reason])

    def unavailable_panel(self, problems: Sequence[Violation]) -> str:
        """A placeholder for a directive when the manifest or the register could not be read at all."""
        return self._panel("unavailable", "", problems)

    def _panel(self, kind: str, case_id: str, problems: Sequence[Violation]) -> str:
        html = self.env.get_template(PANEL_TEMPLATE).render(kind=kind, case=case_id, problems=[_context(v) for v in problems])
        self._panels.append(html)
        return f"<!--cg-preview-panel:{len(self._panels) - 1}-->"

    # -- markup, after the output guard ---------------------------------------------------------------

    def mark_banner(self, html: str) -> str:
        """Mark where the banner goes (first thing in the body); its count is known only once every page is."""
        match = _BODY.search(html)
        return html if match is None else html[: match.end()] + BANNER_SLOT + html[match.end() :]

    def finish(self, html: str, problems: Sequence[Violation], removed: Mapping[str, Violation], problems_href: str) -> str:
        """A written page with its banner, its panels and (on the problems page) the list of every problem."""
        banner = self.env.get_template(BANNER_TEMPLATE).render(count=len(problems), href=problems_href) if problems else ""
        html = _PLACEHOLDER.sub(lambda match: self._panels[int(match.group(1))], html.replace(BANNER_SLOT, banner, 1))
        if PROBLEMS_SLOT in html:
            html = html.replace(PROBLEMS_SLOT, self.problems_html(problems, removed))
        return html

    def problems_html(self, problems: Sequence[Violation], removed: Mapping[str, Violation]) -> str:
        """The body of the generated problems page: every problem, sorted by file and line, then the removed cases."""
        return self.env.get_template(PROBLEMS_TEMPLATE).render(
            problems=[_context(v) for v in sorted(problems, key=lambda v: v.sort_key)],
            removed=[{"case": case_id, **_context(reason)} for case_id, reason in sorted(removed.items())],
        )

    def failed_site(self, problems: Sequence[Violation]) -> str:
        """A whole page for a site that failed the output guard, served in place of every page."""
        ordered = sorted(problems, key=lambda v: v.sort_key)
        return self.env.get_template(FAILED_TEMPLATE).render(problems=[_context(v) for v in ordered])


def _context(violation: Violation) -> dict[str, str]:
    return {
        "code": violation.code,
        "case": violation.case,
        "where": str(violation.where),
        "message": violation.message,
        "fix": violation.fix,
    }
