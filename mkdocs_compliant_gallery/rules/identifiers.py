"""Identifiers in public text (CG407, and CG209 for the patient's name): what a caption or a page must not say.

HIPAA's safe harbor (45 CFR 164.514(b)(2)(i)) lists every element of a date except the year, ages over 89, and
names among the identifiers. A caption saying "treated on 2 March 2026" or "our 92-year-old patient", or a case id
that becomes the URL `.../#case-smith-0302`, identifies the person in the photos as surely as their face.

- Day-level dates in any common English format: 2026-03-02, 2026/03/02, 20260302, 03/02/2026, 2.3.26,
  2 March 2026, 2nd of March, March 2nd, 2026, Mar 2. A month and year alone (March 2026, 03/2026) is not a
  day-level date and passes.
- Ages over 89: "92-year-old", "92 years old", "aged 95", "age: 91", "93 y/o", "nonagenarian", "in her nineties".
- The patient's name, when the register gives `name_hashes`: the SHA-256 of the register's `name_salt` followed by
  one lower-cased token of the name (`name_hash`). Text is split into the same tokens (letters, with inner
  apostrophes; hyphens and digits split), and each token's hash is looked up, so the register holds no name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence

from ..catalogue import CG209, CG407
from ..records.manifest import Case
from ..records.register import Consent
from ..violations import Violation, Where

_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?:\d{4}|'\d{2})"
_DATES = [
    # 2026-03-02, 2026/03/02, 2026.03.02
    re.compile(r"(?<![\d.])(?P<y>\d{4})[-/.](?P<a>\d{1,2})[-/.](?P<b>\d{1,2})(?![\d])"),
    # 03/02/2026, 2.3.26, 02-03-2026 (day and month in either order)
    re.compile(r"(?<![\d.])(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})(?![\d])"),
    # 20260302
    re.compile(r"(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"),
    # 2 March 2026, 2nd of March, 2 Mar
    re.compile(rf"(?<![\w])(?P<d>{_DAY})(?:\s+of)?\s+(?P<m>{_MONTH})(?:,?\s+{_YEAR})?(?![\w])", re.IGNORECASE),
    # March 2nd, 2026; Mar 2; March 2
    re.compile(rf"(?<![\w])(?P<m>{_MONTH})\s+(?:the\s+)?(?P<d>{_DAY})(?![\w])(?:,?\s+{_YEAR})?", re.IGNORECASE),
]
_OLDEST = 89
_AGES = [
    re.compile(r"(?<!\d)(?P<n>\d{2,3})\s*(?:-|\s)?\s*(?:years?|yrs?)(?:\s*-?\s*old|\s+of\s+age)(?![\w])", re.IGNORECASE),
    re.compile(r"(?<!\d)(?P<n>\d{2,3})\s*(?:y/o|y\.o\.|yo)(?![\w])", re.IGNORECASE),
    re.compile(r"(?<![\w])(?:aged?|age:)\s*(?P<n>\d{2,3})(?!\d)", re.IGNORECASE),
    re.compile(r"(?<!\d)(?P<n>\d{2,3})(?:st|nd|rd|th)\s+birthday", re.IGNORECASE),
    re.compile(r"(?<![\w])(?:nonagenarian|centenarian|supercentenarian)s?(?![\w])", re.IGNORECASE),
    re.compile(r"(?<![\w])in\s+(?:his|her|their)\s+(?:nineties|90s|90's|hundreds)(?![\w])", re.IGNORECASE),
]
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
# What a page shows of a link or an image is its text, not where it points: URLs are left out of the scan.
_LINK_TARGETS = re.compile(r"\]\([^)\n]*\)|<https?://[^>\s]*>|https?://\S+")


def name_hash(token: str, salt: str) -> str:
    """The register's `name_hashes` entry for one token of a name: SHA-256 of the salt followed by the token, in hex."""
    return hashlib.sha256((salt + token).encode("utf-8")).hexdigest()


def name_tokens(text: str) -> list[str]:
    """The lower-cased word tokens of a text (or a name), as they are hashed."""
    normal = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u02bc", "'")
    return [token.lower() for token in _TOKEN.findall(normal)]


def names_in(text: str, consent: Consent | None) -> list[str]:
    """The words of `text` that are a token of the patient's name, by the consent's `name_hashes`."""
    if consent is None or not consent.name_hashes or consent.name_salt is None:
        return []
    wanted = set(consent.name_hashes)
    found: list[str] = []
    for token in name_tokens(text):
        # "Jane's" names Jane, and "O'Brien" is one name: the whole token and its parts are looked up.
        for candidate in dict.fromkeys([token, *token.split("'")]):
            if candidate not in found and name_hash(candidate, consent.name_salt) in wanted:
                found.append(candidate)
    return found


def dates_in(text: str) -> list[str]:
    """Every day-level date written in `text`, as written."""
    found: list[str] = []
    for pattern in _DATES:
        for match in pattern.finditer(text):
            if _is_date(match) and match.group(0).strip() not in found:
                found.append(match.group(0).strip())
    return found


def _is_date(match: re.Match[str]) -> bool:
    groups = match.groupdict()
    if "m" in groups and groups["m"] is not None:
        # "may" is also a verb: only the capitalised month counts.
        return not groups["m"].rstrip(".").startswith("may")
    if "a" in groups:
        first, second = int(groups["a"]), int(groups["b"])
        if "y" in groups and len(groups["y"] or "") == 4 and match.group(0).startswith(groups["y"]):
            return 1 <= first <= 12 and 1 <= second <= 31
        return 1 <= first <= 31 and 1 <= second <= 31 and min(first, second) <= 12
    return True


def ages_in(text: str) -> list[str]:
    """Every mention of an age over 89 in `text`, as written."""
    found: list[str] = []
    for pattern in _AGES:
        for match in pattern.finditer(text):
            number = match.groupdict().get("n")
            if number is not None and not _OLDEST < int(number) < 150:
                continue
            if match.group(0).strip() not in found:
                found.append(match.group(0).strip())
    return found


def identifiers_in(text: str) -> list[str]:
    """What in `text` is a HIPAA identifier other than a name: day-level dates and ages over 89, described."""
    return [f"the date '{date}'" for date in dates_in(text)] + [f"the age '{age}'" for age in ages_in(text)]


_DATE_FIX = (
    "say how long after treatment instead of when ('3 weeks after treatment'; a month and year alone is fine), "
    "and never an age over 89 ('over 89' is the most a page may say)"
)


def case_text_violations(case: Case, consent: Consent | None) -> list[Violation]:
    """CG407 for dates and ages, and CG209 for the patient's name, in every text of a case a visitor can read."""
    texts: list[tuple[Where, str, str]] = [(case.where("id"), "case id (it becomes the card's anchor and URL)", case.id)]
    for key in ("caption", "testimonial", "area", "time_after"):
        value = getattr(case, key)
        if value:
            texts.append((case.where(key), key.replace("_", " "), value))
    if case.procedures:
        texts.append((case.where("procedures"), "procedures", ", ".join(case.procedures)))
    for pair in case.photos:
        texts.append((Where(case.file, pair.line, f"case {case.id}.photos.view"), "view label", pair.view))
        for label, ref in (("before", pair.before), ("after", pair.after)):
            texts.append((Where(case.file, ref.alt_line or ref.line, f"case {case.id}.photos.{label}.alt"), f"{label} alt text", ref.alt))
    allows_name = consent is not None and consent.allows.get("name", False)
    found: list[Violation] = []
    for where, what, text in texts:
        for identifier in identifiers_in(text):
            found.append(Violation(CG407, where, f"the {what} contains {identifier}, which identifies the patient", _DATE_FIX, case.id))
        if not allows_name:
            found.extend(_name_violation(where, f"the {what}", names_in(text, consent), case.id))
    return found


def _name_violation(where: Where, what: str, words: Sequence[str], case_id: str) -> list[Violation]:
    if not words:
        return []
    shown = ", ".join(f"'{word}'" for word in words)
    return [
        Violation(
            CG209,
            where,
            f"{what} contains the patient's name ({shown} matches the release's name_hashes), which the release does not allow",
            "remove the name (a first name counts too), or obtain a release that allows the name ('allows: {name: true}')",
            case_id,
        )
    ]


def front_matter_lines(lines: Sequence[str]) -> int:
    """How many leading lines of a Markdown page are its YAML front matter (0 without any)."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return index + 1
    return 0


def page_lines(source: str, directives: Iterable[str]) -> list[tuple[int, str]]:
    """(line, text) of a page a visitor reads: front matter, directives and link targets left out."""
    for directive in directives:
        source = source.replace(directive, " " * len(directive))
    lines = source.split("\n")
    skip = front_matter_lines(lines)
    return [(number, _LINK_TARGETS.sub("]", line)) for number, line in enumerate(lines, start=1) if number > skip and line.strip()]


def page_text_violations(lines: Sequence[tuple[int, str]], page_file: str, shown: Sequence[tuple[str, Consent | None]]) -> list[Violation]:
    """CG407 for dates and ages in the text of a page that places a gallery, CG209 for the name of a patient it shows."""
    cases = ", ".join(case_id for case_id, _ in shown) or "none published"
    single = shown[0][0] if len(shown) == 1 else ""
    found: list[Violation] = []
    for number, text in lines:
        where = Where(page_file, number, "page text")
        for identifier in identifiers_in(text):
            found.append(
                Violation(
                    CG407,
                    where,
                    f"the page places a gallery (cases: {cases}) and its text contains {identifier}, which can identify a patient shown",
                    _DATE_FIX,
                    single,
                )
            )
        for case_id, consent in shown:
            if consent is not None and not consent.allows.get("name", False):
                found.extend(_name_violation(where, "the text of a page that shows this case", names_in(text, consent), case_id))
    return found
