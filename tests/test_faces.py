"""The identifiability guard (CG209 from pixels): real builds of a real portrait through the real face detector.

The portrait is `Samsung GT-I9000 (Galaxy S).jpg` of the photo corpus (../shared/corpus, free to use as its
README says): a man by a train window, his face three-quarter on, with his reflection in the glass. It is
copied into the temporary project only. Its "after" is the same photo mirrored, so both photos of the pair
show a face and both must be scanned.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from tests.helpers import HOST_CLI, SHARED, Project, Result, consent

PORTRAIT = SHARED / "corpus" / "drewnoakes" / "jpg" / "Samsung GT-I9000 (Galaxy S).jpg"
FACE = (118, 135, 100, 115)  # the man's face in the upright original, measured by eye
BOX = re.compile(r"\[(\d+), (\d+), (\d+), (\d+)\]")


def _overlaps(box: tuple[int, ...], face: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    fx, fy, fw, fh = face
    return x < fx + fw and fx < x + w and y < fy + fh and fy < y + h


@pytest.fixture
def portrait(tmp_path: Path) -> Project:
    """One case whose two photos show a face, under a release that does not allow the face."""
    if not PORTRAIT.is_file():
        pytest.fail(f"the photo corpus is missing: expected {PORTRAIT} (CI checks out ../shared beside the repo)")
    project = Project(tmp_path / "clinic")
    photos = project.gallery / "photos"
    photos.mkdir(parents=True)
    (photos / "portrait-before.jpg").write_bytes(PORTRAIT.read_bytes())
    with Image.open(PORTRAIT) as original:
        ImageOps.mirror(ImageOps.exif_transpose(original).convert("RGB")).save(photos / "portrait-after.jpg", quality=92)
    project.manifest = {
        "treatments": {"skin": {"title": "Skin", "typical_results": "Most patients see smoother skin for a year."}},
        "cases": [
            {
                "id": "portrait-001",
                "consent": "C-2026-0100",
                "treatment": "skin",
                "shows": {"face": False, "name": False, "distinctive_marks": False},
                "photos": [
                    {
                        "view": "front",
                        "before": {"src": "photos/portrait-before.jpg", "alt": "Before treatment"},
                        "after": {"src": "photos/portrait-after.jpg", "alt": "After treatment"},
                    }
                ],
            }
        ],
    }
    project.consents = [consent("C-2026-0100", "portrait-001", "P-20100")]
    project.pages = {"index.md": "# Results\n\n<!-- compliant-gallery -->\n"}
    return project


def _pair(project: Project) -> dict[str, Any]:
    pair: dict[str, Any] = project.case("portrait-001")["photos"][0]
    return pair


def _face_lines(result: Result) -> list[str]:
    return [line for line in result.log.splitlines() if "CG209" in line]


def _log(project: Project) -> list[dict[str, Any]]:
    path = project.root / ".compliance" / "publications.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _nothing_published(result: Result) -> bool:
    return not (result.site / "assets" / "compliant-gallery").exists() and "portrait-before" not in result.site_text()


def test_a_face_the_release_forbids_stops_the_build(portrait: Project) -> None:
    # A crop that keeps the face: the box must still come back in pixels of the whole upright photo.
    _pair(portrait)["crop"] = [40, 60, 360, 480]
    result = portrait.build()
    assert not result.ok
    lines = _face_lines(result)
    assert len(lines) == 2, result.log  # before and after, each on its own line
    manifest = (portrait.gallery / "manifest.yml").read_text().splitlines()
    for line, name in zip(lines, ("portrait-before.jpg", "portrait-after.jpg"), strict=True):
        number = int(re.search(r"gallery/manifest\.yml:(\d+)", line).group(1))  # type: ignore[union-attr]
        assert name in manifest[number - 1], (line, manifest[number - 1])  # the photo's own entry
        assert f"'photos/{name}' shows" in line
    before_box = tuple(int(v) for v in BOX.search(lines[0]).groups())  # type: ignore[union-attr]
    assert _overlaps(before_box, FACE), before_box
    assert before_box[0] >= 40 and before_box[1] >= 60  # inside the crop, counted from the photo's corner
    mirrored = (480 - FACE[0] - FACE[2], FACE[1], FACE[2], FACE[3])
    after_box = tuple(int(v) for v in BOX.search(lines[1]).groups())  # type: ignore[union-attr]
    assert _overlaps(after_box, mirrored), after_box
    fixes = [line for line in result.log.splitlines() if line.strip().startswith("fix:") and "redact: [[" in line]
    assert len(fixes) == 2
    assert "crop" in fixes[0] and "release that allows the face" in fixes[0] and "face_check" in fixes[0]
    assert _nothing_published(result)


def test_the_suggested_redaction_lets_it_through(portrait: Project) -> None:
    config = portrait.write()
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs_compliant_gallery", "suggest-redactions", "portrait-001", "-f", str(config)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # Per photo: a heading line naming the photo, then the options, each followed by its `redact:` line.
    suggestions: dict[str, list[list[int]]] = {}
    current = ""
    lines = run.stdout.splitlines()
    for index, line in enumerate(lines):
        heading = re.search(r"(before|after): photos/", line)
        if heading and "manifest.yml:" in line:
            current = heading.group(1)
        if line.strip().startswith("full face (clears the face guard)"):
            suggestions[current] = json.loads(lines[index + 1].strip().removeprefix("redact:"))
    assert set(suggestions) == {"before", "after"}, run.stdout
    pair = _pair(portrait)
    for key, boxes in suggestions.items():
        assert any(_overlaps(tuple(box), FACE if key == "before" else (262, 135, 100, 115)) for box in boxes), (key, boxes)
        pair[key]["redact"] = boxes
    result = portrait.build()
    assert result.ok, result.log
    assert result.gallery_images()
    checks = _log(portrait)[-1]["published"][0]["face_checks"]
    assert [c["check"] for c in checks] == ["scanned: no face", "scanned: no face"]


def test_a_release_that_allows_the_face_publishes_it(portrait: Project) -> None:
    portrait.consents[0]["allows"]["face"] = True
    portrait.case("portrait-001")["shows"]["face"] = True
    result = portrait.build()
    assert result.ok, result.log
    checks = _log(portrait)[-1]["published"][0]["face_checks"]
    assert {c["check"] for c in checks} == {"not needed: the release allows the face"}


def test_a_crop_to_the_treatment_area_passes(portrait: Project) -> None:
    """The same portrait cropped to the folded arms: scanned, no face, published."""
    _pair(portrait)["crop"] = [0, 400, 240, 200]
    _pair(portrait)["after"]["crop"] = [240, 400, 240, 200]  # the mirrored arms
    result = portrait.build()
    assert result.ok, result.log
    checks = _log(portrait)[-1]["published"][0]["face_checks"]
    assert [c["check"] for c in checks] == ["scanned: no face", "scanned: no face"]


def test_a_reviewed_photo_is_published_and_the_review_recorded(portrait: Project) -> None:
    review = {"reviewed_by": "Dr Lee", "reason": "the face is the patient's own, shown with the clinic's written consent form 7"}
    _pair(portrait)["after"]["face_check"] = review
    result = portrait.build()
    assert not result.ok
    assert [line for line in _face_lines(result) if "portrait-after" in line] == []  # the review covers that photo only
    assert any("portrait-before" in line for line in _face_lines(result))
    _pair(portrait)["face_check"] = review  # on the pair: both photos
    result = portrait.build()
    assert result.ok, result.log
    assert "face check of 'photos/portrait-before.jpg' skipped, reviewed by Dr Lee" in result.log
    checks = _log(portrait)[-1]["published"][0]["face_checks"]
    assert checks == [{"photo": f"photos/portrait-{k}.jpg", "check": "reviewed", **review} for k in ("before", "after")]


@pytest.mark.parametrize(
    ("review", "code", "words"),
    [
        ({"reviewed_by": "Dr Lee"}, "CG102", "'reason' is required"),
        ({"reviewed_by": " ", "reason": "a poster on the wall"}, "CG102", "'reviewed_by' is required"),
        ({"reviewed_by": "Dr Lee", "reason": "a poster", "date": "2026-11-01"}, "CG101", "unknown key 'date'"),
        ("Dr Lee", "CG103", "'face_check' must be a mapping"),
    ],
)
def test_a_review_names_who_and_why(portrait: Project, review: object, code: str, words: str) -> None:
    _pair(portrait)["before"]["face_check"] = review
    result = portrait.build()
    assert not result.ok
    assert any(code in line and words in line for line in result.log.splitlines()), result.log


def test_switching_the_guard_off_is_warned_and_recorded(portrait: Project) -> None:
    portrait.options["face_guard"] = False
    for _ in range(2):  # on every build, not once
        result = portrait.build()
        assert result.ok, result.log
        assert any(line.startswith("WARNING:") and "face_guard is off" in line for line in result.log.splitlines()), result.log
    record = _log(portrait)[-1]
    assert record["face_guard"] == {"enabled": False, "detector": None}
    assert {c["check"] for c in record["published"][0]["face_checks"]} == {"off"}


def test_a_cached_rebuild_keeps_the_verdict(portrait: Project) -> None:
    first = portrait.build()
    assert not first.ok
    entries = [p for p in (portrait.root / ".cache" / "plugin" / "compliant-gallery").iterdir() if p.is_dir()]
    assert len(entries) == 1
    meta = entries[0] / "meta.json"
    stored = json.loads(meta.read_text())
    assert stored["before"]["face_scanned"] and stored["before"]["faces"]
    inode = meta.stat().st_ino
    second = portrait.build()
    assert not second.ok
    assert meta.stat().st_ino == inode  # read from the cache, not processed again
    assert _face_lines(second) == _face_lines(first)
    assert _nothing_published(second)


def test_without_the_detector_the_build_fails_closed(portrait: Project) -> None:
    """OpenCV made unimportable in a real `mkdocs build` subprocess: CG111 names the extra and the switch."""
    config = portrait.write()
    blocker = portrait.root / "blocker"
    blocker.mkdir()
    # Found first on sys.path, this makes `import cv2` fail as it does when the extra is not installed.
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['cv2'] = None\n")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), *filter(None, [os.environ.get("PYTHONPATH")])])}

    def build() -> subprocess.CompletedProcess[str]:
        command = [*HOST_CLI, "build", "-f", str(config)]
        return subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment, check=False)

    run = build()
    assert run.returncode != 0
    assert "CG111" in run.stderr and 'pip install "mkdocs-compliant-gallery[faces]"' in run.stderr and "face_guard: false" in run.stderr
    assert not (portrait.root / "site" / "assets" / "compliant-gallery").exists()
    portrait.consents[0]["allows"]["face"] = True  # nothing needs the check: no detector needed
    portrait.case("portrait-001")["shows"]["face"] = True
    config = portrait.write()
    run = build()
    assert run.returncode == 0, run.stderr
