"""The compliance record: an append-only publication log and one takedown receipt per removed case."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOG_NAME = "publications.jsonl"


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


def read_log(compliance_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """All intact records of the log, and a description of every line that could not be read."""
    path = compliance_dir / LOG_NAME
    if not path.exists():
        return [], []
    records, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            problems.append(f"{path}:{number} is not a complete record (an interrupted write?); it was kept as it is")
    return records, problems


def append_record(compliance_dir: Path, record: BuildRecord) -> Path:
    """Append one record; earlier lines are never rewritten. The write is one `write` of one line."""
    compliance_dir.mkdir(parents=True, exist_ok=True)
    path = compliance_dir / LOG_NAME
    line = json.dumps(_plain(record), sort_keys=True, ensure_ascii=False) + "\n"
    needs_newline = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
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
    reminder: str = (
        "Deploy this build now; a deployed site keeps serving the case until then. Purge any CDN cache, "
        "and remember that old gh-pages commits still hold the removed files."
    )


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
    for name in ("mkdocs-compliant-gallery", "mkdocs", "mkdocs-material", "properdocs", "pillow", "pillow-heif", "jinja2", "pyyaml"):
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
