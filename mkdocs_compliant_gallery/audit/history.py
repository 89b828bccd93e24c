"""The publication history of one case, from the publication log: for an auditor, or a breach notice.

Every build that published the case (when, under which release, whether the current register says that release
was in force on that build date, what files, from which commit), and each time it stopped being published (when,
why, and the takedown receipt).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..records.register import Register
from ..rules.consent import release_ended
from .publications import LogEntry
from .takedowns import STAMP, StoredReceipt


@dataclass(frozen=True)
class Publication:
    """One build that published the case."""

    line: int  # of the publication log
    time: str
    build_date: str
    command: str
    consent: str
    in_force: bool | None  # None when the current register cannot say (unknown consent, unreadable register)
    in_force_note: str
    files: tuple[str, ...]
    pages: tuple[str, ...]
    commit: str | None
    dirty: bool | None

    def as_json(self) -> dict[str, Any]:
        return {"event": "published", **{key: _plain(getattr(self, key)) for key in self.__dataclass_fields__}}


@dataclass(frozen=True)
class Stop:
    """The first build after a publication that no longer published the case."""

    line: int
    time: str
    build_date: str
    command: str
    reason: str
    code: str | None
    receipt: str | None  # the takedown receipt written by that build

    def as_json(self) -> dict[str, Any]:
        return {"event": "stopped", **{key: _plain(getattr(self, key)) for key in self.__dataclass_fields__}}


@dataclass
class CaseHistory:
    """Everything the log says about one case, oldest first."""

    case: str
    builds: int  # intact records read
    events: list[Publication | Stop] = field(default_factory=list)

    @property
    def published(self) -> list[Publication]:
        return [event for event in self.events if isinstance(event, Publication)]

    @property
    def not_in_force(self) -> list[Publication]:
        """Publications the current register says were made without a release in force: the ones a breach notice is about."""
        return [event for event in self.published if event.in_force is False]


def case_history(case_id: str, entries: list[LogEntry], register: Register | None, receipts: list[StoredReceipt]) -> CaseHistory:
    """The case's publications and stops, judged against the current register (None when it cannot be read)."""
    history = CaseHistory(case_id, len(entries))
    published_before = False
    for entry in entries:
        record = entry.record
        item = next((p for p in record.get("published") or [] if p["case"] == case_id), None)
        git: dict[str, Any] = record["git"] if isinstance(record.get("git"), dict) else {}
        time, build_date, command = str(record["time"]), str(record["build_date"]), str(record.get("command") or "build")
        if item is not None:
            consent = str(item.get("consent") or "")
            in_force, note = _in_force(consent, build_date, register)
            history.events.append(
                Publication(
                    entry.line,
                    time,
                    build_date,
                    command,
                    consent,
                    in_force,
                    note,
                    files=tuple(item.get("images") or ()),
                    pages=tuple(page or "/" for page in item.get("pages") or ()),
                    commit=git.get("commit"),
                    dirty=git.get("dirty"),
                )
            )
            published_before = True
        elif published_before:
            removed = next((r for r in record.get("removed") or [] if r["case"] == case_id), None)
            reason = str(removed.get("reason") or "") if removed else "no longer published (removed from the manifest or from every page)"
            code = str(removed["code"]) if removed and removed.get("code") else None
            receipt = _receipt_of(case_id, time, receipts)
            history.events.append(Stop(entry.line, time, build_date, command, reason, code, receipt))
            published_before = False
    return history


def _in_force(consent_id: str, build_date: str, register: Register | None) -> tuple[bool | None, str]:
    """Whether the current register says the release was in force on the build date, and how it puts it."""
    if register is None or not register.loaded:
        return None, "unknown: the current register cannot be read"
    consent = register.consents.get(consent_id)
    if consent is None:
        return None, f"unknown: {consent_id or 'no consent'} is not in the current register"
    day = dt.date.fromisoformat(build_date)
    if consent.signed_on is not None and consent.signed_on > day:
        return False, f"NOT in force: signed on {consent.signed_on}, after that date"
    ended = release_ended(consent, day)
    if ended is not None:
        return False, f"NOT in force: {ended[2]} ({ended[0].code})"
    return True, "in force on that date"


def _receipt_of(case_id: str, time: str, receipts: list[StoredReceipt]) -> str | None:
    """The receipt a build wrote for the case: it carries the build's time, to the second, in its name."""
    try:
        stamp = dt.datetime.fromisoformat(time).astimezone(dt.timezone.utc).strftime(STAMP)
    except ValueError:
        return None
    return next((r.name for r in receipts if r.case == case_id and r.name.startswith(stamp)), None)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
