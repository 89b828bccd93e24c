"""Every place a camera, phone or editor hides data, planted with a canary: none may reach the site."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.canaries import SECONDARY_RGB, canaries_json, write_canary_files
from tests.helpers import SHARED, Project, cards_of, consent


def _canary_project(tmp_path: Path) -> tuple[Project, list[str], Path]:
    project = Project(tmp_path / "clinic")
    photos = project.gallery / "photos"
    files = write_canary_files(photos)
    assert len(files) >= 5
    cases, consents = [], []
    for index, item in enumerate(files):
        case_id = f"canary-{index}"
        cases.append(
            {
                "id": case_id,
                "consent": f"C-{index:04d}",
                "treatment": "t",
                "shows": {"face": False, "name": False, "distinctive_marks": False},
                "photos": [
                    {
                        "view": "front",
                        "before": {"src": f"photos/{item.name}", "alt": "before"},
                        "after": {"src": f"photos/{item.name}", "alt": "after"},
                    }
                ],
            }
        )
        consents.append(consent(f"C-{index:04d}", case_id, f"P-{index:05d}"))
    project.manifest = {"treatments": {"t": {"title": "T", "typical_results": "Most patients see a change."}}, "cases": cases}
    project.consents = consents
    project.pages = {"index.md": "# All\n\n<!-- compliant-gallery -->\n"}
    project.options["widths"] = [120, 240, 480]
    canaries_file = tmp_path / "canaries.json"
    canaries_file.write_text(json.dumps(canaries_json(files)))
    strings = [canary for item in files for canary in item.canaries]
    return project, strings, canaries_file


def test_no_canary_reaches_any_published_byte(tmp_path: Path) -> None:
    project, strings, canaries_file = _canary_project(tmp_path)
    result = project.build()
    assert result.ok, result.log
    assert len(cards_of(result.site / "index.html")) == len(project.manifest["cases"])
    for path in result.site_files():
        data = path.read_bytes()
        for canary in strings:
            for encoded in (canary.encode(), canary.encode("utf-16-be"), canary.encode("utf-16-le")):
                assert encoded not in data, f"{canary} in {path}"
    scan = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "leak_scan.py"), str(result.site), "--canaries", str(canaries_file)],
        capture_output=True,
        text=True,
    )
    assert scan.returncode == 0, scan.stdout[-4000:]


def test_only_the_primary_picture_is_published(tmp_path: Path) -> None:
    """Thumbnails, MPF frames, second TIFF pages and HEIF side images are all magenta: none may show."""
    project, _, _ = _canary_project(tmp_path)
    result = project.build()
    assert result.ok, result.log
    images = result.gallery_images()
    assert images
    for path in images:
        with Image.open(path) as image:
            small = image.convert("RGB").resize((16, 16))
        raw = small.tobytes()
        pixels = [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]
        magenta = sum(1 for r, g, b in pixels if abs(r - SECONDARY_RGB[0]) < 60 and g < 70 and abs(b - SECONDARY_RGB[2]) < 60)
        assert magenta < len(pixels) // 4, f"{path.name} shows a secondary picture"
