"""Takedown receipts as a to-do list: the URLs still to purge, and who handled each takedown.

A receipt is written once and never changed. That a person handled it (purged the CDN, asked search engines to
drop the URLs) is a separate, appended line of `takedowns-done.jsonl`, with the receipt's SHA-256 so the record
says exactly which receipt was handled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .publications import LogProblem, absolute_urls

FOLDER = "takedowns"
DONE_NAME = "takedowns-done.jsonl"
STAMP = "%Y%m%dT%H%M%SZ"
RECEIPT_REPAIR = (
    "a receipt is written once and never edited: restore {file} from your backup or version control and keep the "
    "damaged copy; if it is lost, 'compliant-gallery history CASE' lists what the case published"
)
DONE_REPAIR = (
    "do not edit {file}: restore it from your backup or version control; a last line cut short by an interrupted "
    "write can stay, later records are appended after it"
)


@dataclass(frozen=True)
class StoredReceipt:
    """A takedown receipt as read back from `takedowns/`."""

    name: str  # the file name, which is how a person names it
    path: Path
    case: str
    time: dt.datetime  # from the file name (UTC)
    reason: str
    code: str
    pages: tuple[str, ...]
    files: tuple[str, ...]
    site_url: str | None
    page_urls: tuple[str, ...] | None
    file_urls: tuple[str, ...] | None
    urls_unavailable: str | None
    sha256: str

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".json")


@dataclass(frozen=True)
class DoneRecord:
    """One line of `takedowns-done.jsonl`: a person handled a receipt."""

    line: int
    receipt: str
    by: str
    time: str
    note: str


@dataclass(frozen=True)
class PurgeItem:
    """A takedown not yet marked done, with the absolute URLs to purge (or the relative paths when none are known)."""

    receipt: StoredReceipt
    page_urls: tuple[str, ...]
    file_urls: tuple[str, ...]
    urls_from: str  # "receipt", "current site_url", or "" when only relative paths are known

    def as_json(self) -> dict[str, Any]:
        return {
            "receipt": self.receipt.name,
            "case": self.receipt.case,
            "time": self.receipt.time.isoformat(),
            "reason": self.receipt.reason,
            "code": self.receipt.code or None,
            "page_urls": list(self.page_urls),
            "file_urls": list(self.file_urls),
            "urls_from": self.urls_from or None,
        }


def load_receipts(compliance_dir: Path, shown: str) -> tuple[list[StoredReceipt], list[LogProblem]]:
    """Every readable receipt, oldest first, and a problem (file, line, repair) for each one that is not.

    `shown` is how the compliance folder is written in problems.
    """
    folder = compliance_dir / FOLDER
    receipts: list[StoredReceipt] = []
    problems: list[LogProblem] = []
    if not folder.is_dir():
        return receipts, problems
    for path in sorted(folder.glob("*.json")):
        name = f"{shown}/{FOLDER}/{path.name}"
        repair = RECEIPT_REPAIR.format(file=name)
        try:
            raw = path.read_bytes()
            data = json.loads(raw.decode("utf-8"))
        except json.JSONDecodeError as error:
            problems.append(LogProblem(name, error.lineno, f"is not a JSON receipt ({error.msg} at column {error.colno})", repair))
            continue
        except (OSError, UnicodeDecodeError) as error:
            problems.append(LogProblem(name, 0, f"cannot be read ({error})", repair))
            continue
        shape = _receipt_problem(data)
        if not shape:
            stamp = path.name.split("-", 1)[0]
            try:
                when = dt.datetime.strptime(stamp, STAMP).replace(tzinfo=dt.timezone.utc)
            except ValueError:
                shape = f"the file name does not start with a UTC time stamp ({stamp})"
        if shape:
            problems.append(
                LogProblem(name, 0, f"is not a takedown receipt as compliant-gallery writes it ({shape}): edited or renamed?", repair)
            )
            continue
        receipts.append(
            StoredReceipt(
                name=path.name,
                path=path,
                case=data["case"],
                time=when,
                reason=str(data.get("reason") or ""),
                code=str(data.get("code") or ""),
                pages=tuple(data.get("removed_pages") or ()),
                files=tuple(data.get("removed_files") or ()),
                site_url=data.get("site_url"),
                page_urls=_optional_tuple(data.get("removed_page_urls")),
                file_urls=_optional_tuple(data.get("removed_file_urls")),
                urls_unavailable=data.get("urls_unavailable"),
                sha256=hashlib.sha256(raw).hexdigest(),
            )
        )
    return sorted(receipts, key=lambda r: (r.time, r.name)), problems


def _receipt_problem(data: Any) -> str:
    if not isinstance(data, dict):
        return "not a JSON object"
    if not isinstance(data.get("case"), str):
        return "no 'case'"
    for key in ("removed_pages", "removed_files", "removed_page_urls", "removed_file_urls"):
        value = data.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            return f"'{key}' is not a list of text"
    return ""


def _optional_tuple(value: Any) -> tuple[str, ...] | None:
    return tuple(value) if isinstance(value, list) else None


def load_done(compliance_dir: Path, shown: str) -> tuple[dict[str, DoneRecord], list[LogProblem]]:
    """Receipt name -> the first record that it was handled, and a problem for each line that cannot be read."""
    path = compliance_dir / DONE_NAME
    done: dict[str, DoneRecord] = {}
    problems: list[LogProblem] = []
    if not path.exists():
        return done, problems
    name = f"{shown}/{DONE_NAME}"
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            problems.append(
                LogProblem(name, number, "is not a complete record (an interrupted write, or edited)", DONE_REPAIR.format(file=name))
            )
            continue
        if not (isinstance(data, dict) and all(isinstance(data.get(key), str) for key in ("receipt", "done_by", "time"))):
            problems.append(LogProblem(name, number, "is not a takedown-done record (edited?)", DONE_REPAIR.format(file=name)))
            continue
        done.setdefault(data["receipt"], DoneRecord(number, data["receipt"], data["done_by"], data["time"], str(data.get("note") or "")))
    return done, problems


def find_receipt(receipts: list[StoredReceipt], wanted: str) -> list[StoredReceipt]:
    """The receipts a person may mean by `wanted`: a path, a file name, a name without `.json`, or a case id."""
    name = Path(wanted).name
    exact = [r for r in receipts if name in (r.name, r.stem)]
    return exact or [r for r in receipts if r.case == wanted]


def mark_done(compliance_dir: Path, receipt: StoredReceipt, by: str, note: str, now: dt.datetime) -> Path:
    """Append that a person handled `receipt`; the receipt itself is not touched."""
    path = compliance_dir / DONE_NAME
    existing = path.read_bytes() if path.exists() else b""
    record = {
        "receipt": receipt.name,
        "receipt_sha256": receipt.sha256,
        "case": receipt.case,
        "done_by": by,
        "time": now.astimezone(dt.timezone.utc).isoformat(),
        "note": note,
    }
    line = ("\n" if existing and not existing.endswith(b"\n") else "") + json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def purge_list(receipts: list[StoredReceipt], done: dict[str, DoneRecord], site_url: str | None, since: dt.date | None) -> list[PurgeItem]:
    """The takedowns not marked done (since a date, if given), oldest first, with the absolute URLs to purge.

    A receipt written without site_url gets its URLs from the site_url configured now, and says so.
    """
    items = []
    for receipt in receipts:
        if receipt.name in done or (since is not None and receipt.time.date() < since):
            continue
        if receipt.page_urls is not None and receipt.file_urls is not None:
            items.append(PurgeItem(receipt, receipt.page_urls, receipt.file_urls, "receipt"))
            continue
        pages, files = absolute_urls(site_url, list(receipt.pages)), absolute_urls(site_url, list(receipt.files))
        if pages is not None and files is not None:
            items.append(PurgeItem(receipt, tuple(pages), tuple(files), "current site_url"))
        else:
            items.append(PurgeItem(receipt, receipt.pages, receipt.files, ""))
    return items
