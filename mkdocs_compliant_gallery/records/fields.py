"""Typed field reading with precise errors: the edge where raw YAML/CSV data becomes records."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Collection
from typing import Any

from ..catalogue import CG101, CG102, CG103
from ..violations import Rule, Violation, Where
from .yamlfile import LocatedList, LocatedMap, line_of

# Public ids (case slugs, consent ids, treatment keys): ASCII only, so look-alike letters and
# stray spaces cannot create two ids that read the same.
# No caption, alt text or disclosure needs more; a longer value is a pasted document or an attack.
MAX_TEXT = 2000
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class Fields:
    """Reads the fields of one mapping, recording a violation for every problem instead of raising."""

    def __init__(self, data: LocatedMap, file: str, path: str, sink: list[Violation], case: str = "") -> None:
        self.data = data
        self.file = file
        self.path = path
        self.sink = sink
        self.case = case

    def where(self, key: str = "") -> Where:
        line = self.data.key_lines.get(key, self.data.line) if key else self.data.line
        return Where(self.file, line, f"{self.path}.{key}" if key and self.path else key or self.path)

    def problem(self, code: Rule, key: str, message: str, fix: str) -> None:
        self.sink.append(Violation(code, self.where(key), message, fix, self.case))

    def reject_unknown(self, allowed: Collection[str]) -> None:
        """CG101 for every key not in `allowed`, with a "did you mean" hint."""
        for key in self.data:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(sorted(allowed))}"
            self.problem(CG101, key, f"unknown key '{key}'", hint)

    def _missing(self, key: str, required: bool, fix: str) -> None:
        if required:
            self.problem(CG102, key, f"'{key}' is required", fix or f"add '{key}:'")

    def _wrong(self, key: str, expected: str, value: object) -> None:
        self.problem(CG103, key, f"'{key}' must be {expected}, not {_describe(value)}", f"write '{key}' as {expected}")

    def text(self, key: str, required: bool = False, fix: str = "") -> str | None:
        """A non-empty string (numbers are accepted and turned into text)."""
        value = self.data.get(key)
        if value is None:
            self._missing(key, required, fix)
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self._wrong(key, "text", value)
            return None
        text = str(value).strip()
        if not text:
            self._missing(key, True, fix)
            return None
        if len(text) > MAX_TEXT:
            self.problem(CG103, key, f"'{key}' is {len(text)} characters long, more than {MAX_TEXT}", f"shorten '{key}'")
            return None
        return text

    def identifier(self, key: str, required: bool = False, fix: str = "") -> str | None:
        """An id: ASCII letters, digits, '.', '_' and '-', no spaces."""
        value = self.data.get(key)
        if value is None:
            self._missing(key, required, fix)
            return None
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.problem(
                CG103,
                key,
                f"'{key}' {_describe(value)} is not a valid id",
                "use only ASCII letters, digits, '.', '_' and '-' (no spaces or look-alike characters)",
            )
            return None
        return value

    def boolean(self, key: str, default: bool | None = None, required: bool = False) -> bool | None:
        value = self.data.get(key)
        if value is None:
            self._missing(key, required, "")
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"true", "yes", "false", "no"}:
            return value.strip().lower() in {"true", "yes"}
        self._wrong(key, "true or false", value)
        return default

    def integer(self, key: str, minimum: int = 0, required: bool = False) -> int | None:
        value = self.data.get(key)
        if value is None:
            self._missing(key, required, "")
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self._wrong(key, f"a whole number of at least {minimum}", value)
            return None
        return value

    def date(self, key: str, required: bool = False, fix: str = "") -> dt.date | None:
        """A calendar date, written YYYY-MM-DD (YAML dates and ISO strings both work)."""
        value = self.data.get(key)
        if value is None or value == "":
            self._missing(key, required, fix)
            return None
        parsed = parse_date(value)
        if parsed is None:
            self._wrong(key, "a date written YYYY-MM-DD", value)
        return parsed

    def texts(self, key: str, required: bool = False) -> tuple[str, ...] | None:
        """A list of strings; a single string is taken as a one-item list."""
        value = self.data.get(key)
        if value is None:
            self._missing(key, required, "")
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
            self._wrong(key, "a list of text items", value)
            return None
        return tuple(str(v).strip() for v in value)

    def mapping(self, key: str, required: bool = False) -> Fields | None:
        value = self.data.get(key)
        if value is None:
            self._missing(key, required, "")
            return None
        if not isinstance(value, LocatedMap):
            self._wrong(key, "a mapping of keys to values", value)
            return None
        return Fields(value, self.file, f"{self.path}.{key}" if self.path else key, self.sink, self.case)

    def items(self, key: str, required: bool = False) -> list[tuple[Any, int]] | None:
        """The items of a list with their lines."""
        value = self.data.get(key)
        if value is None:
            self._missing(key, required, "")
            return None
        if not isinstance(value, LocatedList):
            self._wrong(key, "a list", value)
            return None
        return list(zip(value, value.item_lines, strict=True))

    def line(self, key: str = "") -> int:
        return self.data.key_lines.get(key, self.data.line) if key else line_of(self.data)


def parse_date(value: object) -> dt.date | None:
    """A date from a YAML date or an ISO `YYYY-MM-DD` string; None when it is neither."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _describe(value: object) -> str:
    if isinstance(value, (LocatedMap, dict)):
        return "a mapping"
    if isinstance(value, (LocatedList, list)):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
