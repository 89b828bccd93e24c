"""The fixtures: a real MkDocs project in a temp dir (built in-process), exiftool, and the sample site.

What the fixtures build on lives in tests/helpers.py, which the test modules import directly.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, TREATMENTS, Project, case, consent
from tests.photos import Planted

# benchmarks/bench_preview.py imports these three from here; the explicit re-export keeps it working (and typed).
__all__ = ["Project", "case", "consent"]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """Two treatments, three cases, three valid consents, photos with planted metadata."""
    proj = Project(tmp_path / "clinic")
    proj.manifest = {
        "treatments": copy.deepcopy(TREATMENTS),
        "cases": [case("lips-001", "C-2026-0001"), case("lips-002", "C-2026-0002"), case("brow-001", "C-2026-0003", "wrinkle-relaxer")],
    }
    proj.consents = [
        consent("C-2026-0001", "lips-001", "P-10001"),
        consent("C-2026-0002", "lips-002", "P-10002"),
        consent("C-2026-0003", "brow-001", "P-10003"),
    ]
    for seed, case_id in enumerate(("lips-001", "lips-002", "brow-001")):
        proj.photo(f"{case_id}-before.jpg", seed=seed, planted=Planted(taken="2026:01:10 10:00:00"))
        proj.photo(f"{case_id}-after.jpg", seed=seed + 3, planted=Planted(taken="2026:02:10 10:00:00"))
    proj.pages = {
        "index.md": "# Home\n\nWelcome.\n",
        "gallery.md": "# Results\n\n<!-- compliant-gallery -->\n",
        "lips.md": "# Lips\n\n<!-- compliant-gallery treatment=lip-filler -->\n",
    }
    return proj


@pytest.fixture(scope="session")
def exiftool() -> Callable[[Path], dict[str, Any]]:
    """Reads every tag exiftool finds in a file (`-a -G1`), as a dict."""
    binary = shutil.which("exiftool")
    if binary is None:
        pytest.fail("exiftool is required (Debian: libimage-exiftool-perl); the test command installs it")

    def read(path: Path) -> dict[str, Any]:
        import json

        output = subprocess.run([binary, "-j", "-a", "-G1", "-s", "-All", str(path)], capture_output=True, text=True, check=True).stdout
        return dict(json.loads(output)[0])

    return read


@pytest.fixture
def sample_site(tmp_path: Path) -> Iterator[Path]:
    """A copy of the repository's sample site (with the theme overrides beside it)."""
    target = tmp_path / "repo"
    shutil.copytree(REPO / "sample_site", target / "sample_site", ignore=shutil.ignore_patterns("site", ".cache", ".compliance"))
    shutil.copytree(REPO / "theme_overrides", target / "theme_overrides")
    yield target / "sample_site"


@pytest.fixture(scope="session")
def sample_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample photos, generated once per test session by the repository's own script."""
    folder = tmp_path_factory.mktemp("sample-photos")
    subprocess.run([sys.executable, str(REPO / "sample_site" / "make_photos.py"), "--out", str(folder)], check=True, capture_output=True)
    return folder


@pytest.fixture
def sample(tmp_path: Path, sample_photos: Path) -> Iterator[Path]:
    """A fresh copy of the sample site with its photos and the theme overrides beside it."""
    target = tmp_path / "repo"
    shutil.copytree(REPO / "sample_site", target / "sample_site", ignore=shutil.ignore_patterns("site", ".cache", ".compliance", "photos"))
    shutil.copytree(REPO / "theme_overrides", target / "theme_overrides")
    shutil.copytree(sample_photos, target / "sample_site" / "gallery" / "photos")
    yield target / "sample_site"
