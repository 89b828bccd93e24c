"""Patient photos outside the gallery (CG310): every other raster image the site publishes goes past the face guard.

The face is the corpus portrait `Samsung GT-I9000 (Galaxy S).jpg` (../shared/corpus, free to use), copied into the
temporary project only, as a clinic would drop a photo into docs/. Every row is a real build.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import SHARED, Mutation, Project, all_of, assert_nothing_published, cli_in_git, run_build
from tests.photos import write_photo

PORTRAIT = SHARED / "corpus" / "drewnoakes" / "jpg" / "Samsung GT-I9000 (Galaxy S).jpg"
PAGE = "# About us\n\nOur clinic.\n\n![Our patient](img/team.jpg)\n\n<!-- compliant-gallery case=lips-001 -->\n"


def _portrait(project: Project, name: str = "img/team.jpg") -> Path:
    if not PORTRAIT.is_file():
        pytest.fail(f"the photo corpus is missing: expected {PORTRAIT}")
    target = project.root / "docs" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(PORTRAIT.read_bytes())
    return target


def _placed(project: Project) -> None:
    _portrait(project)
    project.pages["about.md"] = PAGE


def _fail(project: Project) -> None:
    project.options["other_images"] = "fail"


def _reviewed(sha256: str | None = None) -> Mutation:
    def mutate(project: Project) -> None:
        entry: dict[str, Any] = {"path": "img/team.jpg", "reviewed_by": "Dr Lee", "reason": "staff portrait, model release on file"}
        if sha256 is not None:
            entry["sha256"] = sha256
        project.options["other_images_reviewed"] = [entry]

    return mutate


def _unreferenced(project: Project) -> None:
    _portrait(project, "img/hidden.jpg")


def _no_face(project: Project) -> None:
    write_photo(project.root / "docs" / "img" / "team.jpg", size=(320, 240), seed=5)
    project.pages["about.md"] = PAGE


@dataclass(frozen=True)
class Row:
    mutate: Mutation
    outcome: str  # "warning", "error" or "pass"
    where: str = ""  # the file:line the CG310 names
    verdict: str = ""  # what the publication log records for the image


ROWS: dict[str, Row] = {
    "face-in-a-page-image-warns-at-the-page-line": Row(_placed, "warning", "docs/about.md:5", "face"),
    "face-fails-with-other_images-fail": Row(all_of(_placed, _fail), "error", "docs/about.md:5"),
    "face-in-an-image-no-page-names": Row(all_of(_unreferenced, _fail), "error", "docs/img/hidden.jpg"),
    "reviewed-staff-photo-passes": Row(all_of(_placed, _fail, _reviewed()), "pass", verdict="reviewed"),
    "review-bound-to-hash-of-the-reviewed-file-passes": Row(
        all_of(_placed, _fail, _reviewed(hashlib.sha256(PORTRAIT.read_bytes()).hexdigest() if PORTRAIT.is_file() else "")),
        "pass",
        verdict="reviewed",
    ),
    "review-of-other-bytes-does-not-apply": Row(all_of(_placed, _fail, _reviewed("0" * 64)), "error", "docs/about.md:5"),
    "image-without-a-face-passes": Row(all_of(_no_face, _fail), "pass", verdict="no face"),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_other_images(project: Project, row: Row) -> None:
    row.mutate(project)
    result = project.build()
    found = [line for line in result.log.splitlines() if " CG310 " in line]
    if row.outcome == "pass":
        assert result.ok, result.log
        assert not found, found
        record = json.loads((project.root / ".compliance" / "publications.jsonl").read_text().splitlines()[-1])
        entry = next(item for item in record["other_images"] if item["path"] == "img/team.jpg")
        assert entry["check"] == row.verdict, entry
        if row.verdict == "reviewed":
            assert entry["reviewed_by"] == "Dr Lee"
        return
    assert any(line.split(": CG310")[0].endswith(row.where) or f"{row.where} (" in line for line in found), (
        f"no CG310 at {row.where}:\n{result.log}"
    )
    assert "other_images_reviewed" in result.log  # the fix names the way out for a staff photo
    if row.outcome == "warning":
        assert result.ok, result.log
        assert any(line.startswith("WARNING:") for line in found)
        record = json.loads((project.root / ".compliance" / "publications.jsonl").read_text().splitlines()[-1])
        assert next(item for item in record["other_images"] if item["path"] == "img/team.jpg")["check"] == row.verdict
    else:
        assert not result.ok
        assert_nothing_published(result.site, project.root)
        assert not (result.site / "img" / "team.jpg").exists() and not (result.site / "img" / "hidden.jpg").exists()


def test_an_image_a_hook_writes_into_the_site_is_checked_too(project: Project) -> None:
    _fail(project)
    hook = project.root / "hooks" / "hero.py"
    hook.parent.mkdir(parents=True)
    hook.write_text(
        "import shutil\nfrom pathlib import Path\n\n\n"
        f"def on_post_build(config):\n    shutil.copyfile({str(PORTRAIT)!r}, Path(config.site_dir) / 'hero.jpg')\n"
    )
    config_file = project.write()
    config = yaml.safe_load(config_file.read_text())
    config["hooks"] = ["hooks/hero.py"]
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    result = run_build(config_file)
    assert not result.ok
    assert any("site/hero.jpg: CG310" in line for line in result.log.splitlines()), result.log
    assert_nothing_published(result.site, project.root)


def test_each_distinct_file_is_scanned_once_and_then_known_from_the_cache(project: Project) -> None:
    _placed(project)
    _portrait(project, "img/copy-of-team.jpg")
    first = project.build()
    assert first.ok, first.log
    # The two copies, and the mkdocs theme's img/grid.png: two distinct files.
    assert "3 site images outside the gallery checked for faces (2 scanned" in first.log, first.log
    assert len([line for line in first.log.splitlines() if line.startswith("WARNING:") and "CG310" in line]) == 2
    cache = json.loads((project.root / ".cache" / "plugin" / "compliant-gallery" / "other-images.json").read_text())
    assert hashlib.sha256(PORTRAIT.read_bytes()).hexdigest() in [key.split(":")[0] for key in cache] and len(cache) == 2
    second = project.build()
    assert "3 site images outside the gallery checked for faces (0 scanned" in second.log, second.log


def test_report_lists_every_image_outside_the_gallery(project: Project) -> None:
    _placed(project)
    write_photo(project.root / "docs" / "img" / "logo.png", size=(96, 64), seed=2)
    project.options["other_images_reviewed"] = [{"path": "img/logo.png", "reviewed_by": "Sam (designer)"}]
    project.write()
    run = cli_in_git(project.root, "report")
    assert run.returncode == 0, run.stderr
    assert "img/team.jpg" in run.stdout and "face" in run.stdout, run.stdout
    assert "reviewed by Sam (designer)" in run.stdout, run.stdout
    html = (project.root / ".compliance" / "report.html").read_text()
    assert 'data-other-image="img/team.jpg" data-verdict="face"' in html
    assert 'data-other-image="img/logo.png" data-verdict="reviewed"' in html
    check = cli_in_git(project.root, "check")
    assert "docs/about.md:5 (image docs/img/team.jpg): CG310" in check.stdout, check.stdout
