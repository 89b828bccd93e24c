"""The world's files through the real pipeline: ../shared/holdout/images holds 386 real-world files from public
metadata test suites (cameras of ~100 makers, phones, editors, scanners, raw formats, videos, documents, fuzzed
and deliberately corrupted files), none of them made for this project.

Every file is either published with no metadata (exiftool finds nothing beyond the file's own structure, and the
independent leak scanner agrees) or refused with a precise code and a message that names the photo and what the
file is; never a traceback, never a Python object, never a decoder's bare words. The holdout is a sample of the
world: a failure here is a class of files to handle, never one file to special-case.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import AVIF_STRUCTURAL_TAGS, SHARED, STRUCTURAL_GROUPS, Project, Result, cards_of, gallery_of_single_photos

HOLDOUT = SHARED / "holdout" / "images"
BATCHES = 4
# A refusal must name the photo and say what is wrong in the words of a person, not of a library.
VAGUE = re.compile(
    r"object at 0x|Traceback|Error\b|errno|cannot identify image file|decoder error|encoding error|broken data stream|"
    r"is not an image|internal error|\bNone\b"
)
# CG301 and CG303 say what the file is: "is a Nikon NEF raw camera file", "is a PNG image that ...", "is in no image format".
NAMES_THE_FORMAT = re.compile(r"'photos/[^']+' is (a|an|in) ")
IMAGE_CODES = {"CG301", "CG302", "CG303", "CG304", "CG305", "CG306", "CG307", "CG308", "CG311"}


def holdout_files() -> list[Path]:
    if not HOLDOUT.is_dir():
        pytest.skip(f"the real-world holdout is not here ({HOLDOUT}); it sits in ../shared beside the repository")
    return sorted(p for p in HOLDOUT.rglob("*") if p.is_file() and p.name not in ("README.md", "index.json"))


def _project(root: Path, files: list[Path]) -> tuple[Project, dict[str, Path]]:
    """One case per file, the file as both before and after; releases allow the face (this is about the files)."""
    project = Project(root)
    photos = project.gallery / "photos"
    photos.mkdir(parents=True)
    by_case, sources = {}, {}
    for index, path in enumerate(files):
        target = photos / f"{index:03d}{path.suffix.lower() or '.bin'}"
        shutil.copyfile(path, target)  # into the temp project only: the holdout stays in ../shared
        by_case[f"h-{index:03d}"] = path
        sources[f"h-{index:03d}"] = f"photos/{target.name}"
    gallery_of_single_photos(project, sources)
    project.options.update(widths=[320], workers=2)
    return project, by_case


def _refusals(result: Result) -> dict[str, list[str]]:
    """Case id -> the error lines (with their fix lines) of the failed build's report."""
    found: dict[str, list[str]] = {}
    lines = result.log.splitlines()
    for index, line in enumerate(lines):
        match = re.search(r": (CG\d{3}) \[case (h-\d{3})\] ", line)
        if match:
            fix = lines[index + 1] if index + 1 < len(lines) and lines[index + 1].lstrip().startswith("fix:") else ""
            found.setdefault(match.group(2), []).append(f"{line.strip()}\n{fix.strip()}")
    return found


def _metadata(exiftool_json: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """File -> the tags exiftool finds that are not the file's own structure."""
    leftovers = {}
    for entry in exiftool_json:
        extra = {k: v for k, v in entry.items() if k.split(":")[0] not in STRUCTURAL_GROUPS and k not in AVIF_STRUCTURAL_TAGS}
        if extra:
            leftovers[entry["SourceFile"]] = extra
    return leftovers


@pytest.mark.parametrize("batch", range(BATCHES))
def test_real_world_files_are_published_clean_or_refused_precisely(tmp_path: Path, batch: int) -> None:
    if shutil.which("exiftool") is None:
        pytest.fail("exiftool is required (Debian: libimage-exiftool-perl); the test command installs it")
    files = holdout_files()[batch::BATCHES]
    project, by_case = _project(tmp_path / "clinic", files)
    first = project.build()
    assert "Traceback" not in first.log, first.log[-5000:]
    refused = _refusals(first)
    assert first.ok == (not refused), first.log[-5000:]
    problems = []
    for case_id, errors in refused.items():
        for error in errors:
            code = re.search(r"CG\d{3}", error)
            assert code is not None
            if code.group(0) not in IMAGE_CODES or VAGUE.search(error) or "'photos/" not in error:
                problems.append(f"{by_case[case_id].relative_to(HOLDOUT)}: {error}")
            elif code.group(0) in ("CG301", "CG303") and not NAMES_THE_FORMAT.search(error):
                problems.append(f"{by_case[case_id].relative_to(HOLDOUT)} (does not say what the file is): {error}")
    assert not problems, "\n".join(problems)

    # Without the refused files, the rest is published (from the cache), and nothing but pixels leaves.
    kept = [c for c in project.manifest["cases"] if c["id"] not in refused]
    project.manifest["cases"] = kept
    project.consents = [c for c in project.consents if c["scope"]["cases"][0] not in refused]
    for case_id in refused:
        for photo in (project.gallery / "photos").glob(f"{case_id[2:]}.*"):
            photo.unlink()  # an unlisted photo is CG107
    second = project.build()
    assert second.ok, second.log[-5000:]
    cards = cards_of(second.site / "index.html")
    assert set(cards) == {c["id"] for c in kept}
    for card in cards.values():
        assert card["imgs"] and all((second.site / img["src"]).is_file() for img in card["imgs"]), card
    images = second.gallery_images()
    read = subprocess.run(["exiftool", "-j", "-a", "-G1", "-s", "-All", *map(str, images)], capture_output=True, text=True, check=True)
    assert not _metadata(json.loads(read.stdout))
    scan = subprocess.run(
        [
            sys.executable,
            str(SHARED / "tools" / "leak_scan.py"),
            str(second.site),
            "--forbid",
            *[c["patient_ref"] for c in project.consents],
        ],
        capture_output=True,
        text=True,
    )
    assert scan.returncode == 0, scan.stdout[-4000:]
    print(f"batch {batch}: {len(kept)} published, {len(refused)} refused of {len(files)}")
