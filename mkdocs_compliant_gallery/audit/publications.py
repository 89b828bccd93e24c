"""The compliance record: an append-only publication log and one takedown receipt per removed case.

The log is never rewritten. Each record carries the SHA-256 of the line before it (`previous_sha256`), so a line
changed or removed after it was written shows: `read_entries` names it, with the file, the line and the repair.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOG_NAME = "publications.jsonl"
# What to do about a damaged line: the log is evidence, so it is restored or annotated, never edited in place.
LOG_REPAIR = (
    "do not edit the log: restore {file} from your backup or version control (git log -p -- {file}) and keep the "
    "damaged copy for the record; a last line cut short by an interrupted write can stay as it is, later builds "
    "append after it"
)


@dataclass
class PublishedRecord:
    """One published case in the log: its consent, the hashes of what went in and out, its URLs."""

    case: str
    consent: str
    treatment: str
    originals: list[str]
    outputs: list[str]
    pages: list[str]
    images: list[str]
    allowed_claims: list[dict[str, str]] = field(default_factory=list)
    # Per photo: what the face guard did (scanned, reviewed by whom and why, not needed, off).
    face_checks: list[dict[str, str]] = field(default_factory=list)
    # The approval the case went live under: by, at (UTC), digest, note; None when approval was off.
    approval: dict[str, str] | None = None
    # The raw originals, relative to the project: a withdrawal must find them in git even after the case left the manifest.
    sources: list[str] = field(default_factory=list)
    # Per photo: the edits declared on it (kind and note), an empty list when none.
    edits: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BuildRecord:
    """One successful build, as written to the publication log."""

    time: str
    build_date: str
    tool_version: str
    libraries: dict[str, str]
    config_sha256: str
    channel: str
    git: dict[str, Any] | None
    face_guard: dict[str, Any] = field(default_factory=dict)  # on or off, and the detector that scanned
    approval: dict[str, Any] = field(default_factory=dict)  # mode required (with file and approvers) or off
    # Site images outside the gallery: path, source, hash, and the face check's verdict (or who reviewed it).
    other_images: list[dict[str, Any]] = field(default_factory=list)
    published: list[PublishedRecord] = field(default_factory=list)
    removed: list[dict[str, str]] = field(default_factory=list)
    command: str = "build"  # the host command that made the build: build or gh-deploy
    site_url: str | None = None  # what the pages' absolute URLs started with
    # gh-deploy only: the remote and branch, the commit the deploy sits on (None: no history kept) and why.
    deploy: dict[str, Any] | None = None
    # Which of the photo folder, manifest and register git tracked, and what the clinic declared about it.
    originals_in_git: dict[str, Any] | None = None
    previous_sha256: str | None = None  # set by append_record: the SHA-256 of the line before


@dataclass(frozen=True)
class LogProblem:
    """A line of a compliance file that cannot be trusted, where it is, and how to repair it."""

    file: str
    line: int
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where} {self.message}; fix: {self.fix}"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class LogEntry:
    """One intact record of the log and the line it is on."""

    line: int
    record: dict[str, Any]


def read_entries(compliance_dir: Path, shown: str | None = None) -> tuple[list[LogEntry], list[LogProblem]]:
    """Every intact record with its line, and a problem for every line that is damaged, edited or out of sequence.

    `shown` is how the log's path is written in problems (default: the path as given).
    """
    path = compliance_dir / LOG_NAME
    if not path.exists():
        return [], []
    name = shown or str(path)
    repair = LOG_REPAIR.format(file=name)
    entries: list[LogEntry] = []
    problems: list[LogProblem] = []
    previous: tuple[int, bytes] | None = None  # the last non-empty line, as written
    chained = False
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            problems.append(
                LogProblem(name, number, f"is not a complete record ({_json_error(error)}): an interrupted write, or edited", repair)
            )
            previous = (number, raw)
            continue
        shape = _record_problem(record)
        if shape:
            problems.append(LogProblem(name, number, f"is not a build record as compliant-gallery writes it ({shape}): edited?", repair))
        link = record.get("previous_sha256") if isinstance(record, dict) else None
        if isinstance(link, str) and previous is not None and link != hashlib.sha256(previous[1]).hexdigest():
            problems.append(
                LogProblem(
                    name,
                    previous[0],
                    f"was changed after it was written, or lines after it were removed (line {number} records another hash for the line before it)",
                    repair,
                )
            )
        elif link is None and chained and not shape:
            problems.append(LogProblem(name, number, "has no previous_sha256 although earlier records do: added by hand?", repair))
        chained = chained or isinstance(link, str)
        previous = (number, raw)
        if not shape:
            entries.append(LogEntry(number, record))
    return entries, problems


def read_log(compliance_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """All intact records of the log, and a description (with the repair) of every line that could not be trusted."""
    entries, problems = read_entries(compliance_dir)
    return [entry.record for entry in entries], [str(problem) for problem in problems]


def _json_error(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at column {error.colno}"
    return "not UTF-8 text"


def _record_problem(record: Any) -> str:
    """What makes a parsed line not a build record ('' when it is one)."""
    if not isinstance(record, dict):
        return "not a JSON object"
    for key in ("time", "build_date"):
        if not isinstance(record.get(key), str):
            return f"'{key}' is missing or not text"
    try:
        dt.date.fromisoformat(record["build_date"])
        dt.datetime.fromisoformat(record["time"])
    except ValueError:
        return "'time' or 'build_date' is not an ISO date"
    for key in ("published", "removed"):
        items = record.get(key, [])
        if not isinstance(items, list):
            return f"'{key}' is not a list"
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("case"), str):
                return f"{key}[{index}] has no 'case'"
            for listed in ("pages", "images", "sources") if key == "published" else ():
                value = item.get(listed, [])
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    return f"{key}[{index}].{listed} is not a list of text"
    deploy = record.get("deploy")
    if deploy is not None and not (isinstance(deploy, dict) and isinstance(deploy.get("branch"), str)):
        return "'deploy' is not a deploy record"
    return ""


@dataclass(frozen=True)
class Publication:
    """One build that published a case, as the log recorded it."""

    build_date: dt.date
    time: str
    consent: str
    pages: tuple[str, ...]


@dataclass(frozen=True)
class Removal:
    """The latest time a case was taken down for withdrawal or expiry: the first build of that removal."""

    build_date: dt.date
    ended_on: dt.date  # when its release stopped being in force; the build date when the log does not say
    code: str
    consent: str
    reason: str


@dataclass(frozen=True)
class PublicationHistory:
    """What the publication log says about each case: every build that published it, and its latest removal."""

    publications: dict[str, tuple[Publication, ...]] = field(default_factory=dict)
    removals: dict[str, Removal] = field(default_factory=dict)


# Removals after which a case comes back only under a new release that names it (rules/consent.py).
TAKEDOWN_CODES = ("CG203", "CG204")


def history_of(records: list[Any]) -> PublicationHistory:
    """The history of every case in the log, oldest build first. Entries it cannot read are skipped, never guessed."""
    published: dict[str, list[Publication]] = {}
    removals: dict[str, Removal] = {}
    state: dict[str, str] = {}  # case -> "published" | "removed", as of the build read last
    for record in records:
        if not isinstance(record, dict):
            continue
        build_date = _date(record.get("build_date"))
        if build_date is None:
            continue
        for entry in _entries(record.get("published")):
            case, consent = entry.get("case"), entry.get("consent")
            if isinstance(case, str):
                pages = tuple(str(page) for page in entry.get("pages") or () if isinstance(page, str))
                published.setdefault(case, []).append(Publication(build_date, str(record.get("time", "")), str(consent or ""), pages))
                state[case] = "published"
        for entry in _entries(record.get("removed")):
            case = entry.get("case")
            if not isinstance(case, str) or entry.get("code") not in TAKEDOWN_CODES:
                continue
            if state.get(case) != "removed":
                ended = _date(entry.get("ended_on")) or build_date
                removals[case] = Removal(
                    build_date, min(ended, build_date), str(entry["code"]), str(entry.get("consent") or ""), str(entry.get("reason") or "")
                )
            state[case] = "removed"
    return PublicationHistory({case: tuple(items) for case, items in published.items()}, removals)


def _entries(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def append_record(compliance_dir: Path, record: BuildRecord) -> Path:
    """Append one record, chained to the line before it; earlier lines are never rewritten. One `write` of one line."""
    compliance_dir.mkdir(parents=True, exist_ok=True)
    path = compliance_dir / LOG_NAME
    existing = path.read_bytes() if path.exists() else b""
    lines = [line for line in existing.split(b"\n") if line.strip()]
    record.previous_sha256 = hashlib.sha256(lines[-1]).hexdigest() if lines else None
    line = json.dumps(_plain(record), sort_keys=True, ensure_ascii=False) + "\n"
    needs_newline = bool(existing) and not existing.endswith(b"\n")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (("\n" if needs_newline else "") + line).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


@dataclass(frozen=True)
class TakedownReceipt:
    """What was taken down when a case stopped being published, and what is left for a person to do."""

    case: str
    consent: str | None
    reason: str
    code: str | None
    removed_pages: list[str]
    removed_files: list[str]
    other_channels_to_follow_up: list[str]
    cache_entries_purged: bool = True
    reminder: str = "Deploy this build now, purge the CDN ('compliant-gallery purge-list'), then run 'compliant-gallery takedown-done'."
    # Absolute URLs (from site_url) for a CDN purge and a search engine's removal request; None without site_url.
    site_url: str | None = None
    removed_page_urls: list[str] | None = None
    removed_file_urls: list[str] | None = None
    urls_unavailable: str | None = None  # why there are no absolute URLs
    deploy: dict[str, Any] | None = None  # how this build was deployed (gh-deploy: whether the old history went)
    # Whether the case's raw originals are in the git repository (tracked now, or in the history of any ref).
    originals_in_repository: dict[str, Any] | None = None


def absolute_urls(site_url: str | None, paths: list[str]) -> list[str] | None:
    """`paths` (relative to the site root, as MkDocs writes page and file URLs) as absolute URLs; None without site_url."""
    if not site_url:
        return None
    base = site_url if site_url.endswith("/") else site_url + "/"
    return [urllib.parse.urljoin(base, urllib.parse.quote(path.lstrip("/"), safe="/%#?=&~+")) for path in paths]


def write_takedown(compliance_dir: Path, now: dt.datetime, receipt: TakedownReceipt) -> Path:
    """Write `takedowns/<UTC timestamp>-<case>.json` atomically and return its path."""
    folder = compliance_dir / "takedowns"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}-{receipt.case}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(_plain(receipt), indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def library_versions() -> dict[str, str]:
    """Versions of everything that decides what a build publishes."""
    from importlib import metadata

    from PIL import features

    versions = {}
    names = ("mkdocs-compliant-gallery", "mkdocs", "mkdocs-material", "properdocs", "pillow", "pillow-heif", "jinja2", "pyyaml")
    for name in (*names, "ai-edge-litert"):  # the face guard's runtime (its models: face_guard.detector)
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    for codec in ("jpg", "webp", "avif", "littlecms2"):
        version = features.version(codec)
        if version:
            versions[f"lib{codec}"] = str(version)
    return versions


def git_state(folder: Path) -> dict[str, Any] | None:
    """The commit and dirty flag of the checkout holding `folder`, or None outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=folder, capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())}


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {key: _plain(getattr(value, key)) for key in value.__dataclass_fields__}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
