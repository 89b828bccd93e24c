"""The content-addressed cache of processed pairs: one folder per pair in the cache folder, named by its key.

A key covers the originals' bytes and everything that changes the outputs (`PairJob.cache_key`), so an entry
is never stale, only unused: `purge_cache` drops those. An entry holds the renditions and `meta.json`; it is
written aside and moved into place in one rename, and verified again before it is trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ..catalogue import CG301, RULES
from ..violations import Violation, Where
from .pipeline import PairJob, PairResult, ProcessedImage, Rendition, process_pair, verify_output


def pair_key(job: PairJob, digest: Callable[[Path], str] | None = None) -> str:
    """The cache key of a pair: its originals' hashes and every setting that changes the output ("" if unreadable)."""
    digest = digest or sha256_file
    try:
        return job.cache_key(digest(job.before.path), digest(job.after.path))
    except OSError:
        return ""


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SourceDigests:
    """SHA-256 of originals, remembered by (size, mtime) so an unchanged rebuild reads no photo."""

    FILE = "sources.json"

    def __init__(self, cache_dir: Path):
        self.path = cache_dir / self.FILE
        try:
            self.known: dict[str, list[Any]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.known = {}
        self.used: dict[str, list[Any]] = {}

    def __call__(self, path: Path) -> str:
        """The SHA-256 of `path`, read again only when its size or mtime changed."""
        stat = path.stat()
        key = str(path)
        entry = self.known.get(key)
        if not (entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns):
            entry = [stat.st_size, stat.st_mtime_ns, sha256_file(path)]
        self.used[key] = entry
        return str(entry[2])

    def save(self) -> None:
        """Keep only the originals this build used (removed cases are forgotten)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.used, sort_keys=True))
        os.replace(temporary, self.path)


def load_cached(job: PairJob, key: str) -> PairResult | None:
    """The pair's verified cached result, or None."""
    cached = _read_entry(Path(job.cache_dir) / key)
    if cached is None:
        return None
    return PairResult(job.case_id, job.view, cached[0], cached[1], cached[2], key)


def _read_entry(folder: Path) -> tuple[ProcessedImage, ProcessedImage, tuple[Violation, ...]] | None:
    """A cached pair's folder read back, every file verified again (structure and name hash) before it is trusted."""
    meta_path = folder / "meta.json"
    try:
        meta = json.loads(meta_path.read_text())
        images = []
        for entry in (meta["before"], meta["after"]):
            renditions = []
            for r in entry["renditions"]:
                path = folder / r["name"]
                data = path.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                if digest[:20] != Path(r["name"]).stem or verify_output(data, r["fmt"], (r["width"], r["height"])):
                    return None
                renditions.append(Rendition(r["fmt"], r["width"], r["height"], r["name"], str(path), digest))
            found = tuple((int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in entry.get("faces", []))
            light = entry.get("light")
            images.append(
                ProcessedImage(
                    entry["source_sha256"],
                    entry["width"],
                    entry["height"],
                    tuple(renditions),
                    entry.get("captured"),
                    bool(entry.get("face_scanned", False)),
                    found,
                    (float(light[0]), float(light[1]), float(light[2])) if light else None,
                )
            )
        violations = tuple(Violation(RULES[v["code"]], Where(**v["where"]), v["message"], v["fix"], v["case"]) for v in meta["violations"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return images[0], images[1], violations


def process_fresh(job: PairJob, key: str) -> PairResult:
    """Decode, check and encode a pair, storing the outputs in the cache under `key`."""
    if not key:
        where = Where(job.manifest_file, job.before.line, f"case {job.case_id}.photos")
        return PairResult(
            job.case_id,
            job.view,
            None,
            None,
            (Violation(CG301, where, "a photo of the pair cannot be read", "check the files' permissions", job.case_id),),
        )
    Path(job.cache_dir).mkdir(parents=True, exist_ok=True)
    final = Path(job.cache_dir) / key
    staged = Path(tempfile.mkdtemp(prefix=f".staging-{key}-", dir=job.cache_dir))
    try:
        result = replace(process_pair(job, staged, final), cache_key=key)
        if result.before is not None and result.after is not None:
            _commit(staged, final, result)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return result


def _commit(staged: Path, final: Path, result: PairResult) -> None:
    """Record the staged outputs and move them into place in one rename, so no half entry is ever read."""
    assert result.before is not None and result.after is not None
    meta = {
        "before": _image_meta(result.before),
        "after": _image_meta(result.after),
        "violations": [
            {"code": v.code, "where": asdict(v.where), "message": v.message, "fix": v.fix, "case": v.case} for v in result.violations
        ],
    }
    (staged / "meta.json").write_text(json.dumps(meta, indent=1))
    if final.exists():
        shutil.rmtree(final)
    os.replace(staged, final)


def _image_meta(image: ProcessedImage) -> dict[str, object]:
    return {
        "source_sha256": image.source_sha256,
        "captured": image.captured,
        "width": image.width,
        "height": image.height,
        "renditions": [{"fmt": r.fmt, "width": r.width, "height": r.height, "name": r.name} for r in image.renditions],
        "face_scanned": image.face_scanned,
        "faces": [list(box) for box in image.faces],
        "light": list(image.light) if image.light else None,
    }


def purge_cache(cache_dir: Path, keep: set[str]) -> list[str]:
    """Delete every cached pair not in `keep` (removed cases, changed settings); returns what went."""
    removed: list[str] = []
    if not cache_dir.is_dir():
        return removed
    for entry in sorted(cache_dir.iterdir()):
        if entry.is_dir() and entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed
