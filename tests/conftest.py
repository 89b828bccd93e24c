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

from mkdocs_compliant_gallery.settings import CACHE_DIR
from tests.helpers import REPO, TREATMENTS, Project, Result, case, consent, run_build
from tests.photos import Planted

# benchmarks/bench_preview.py imports these three from here; the explicit re-export keeps it working (and typed).
__all__ = ["Project", "case", "consent"]

# Which test modules depend on the site generator: they exercise the plugin's events, the build lifecycle, the
# neighbouring plugins, serve and gh-deploy. They carry the `host` marker, and scripts/test.sh runs them a second
# time under ProperDocs (`-m host`). The others test the engine (through a build or as plain calls), the CLI, the
# files and the package, which behave alike on either host: they run once. Every module is in one of the two sets
# (tests/test_catalogue.py checks), so a new module is a decision, not an accident; a host-dependent test in a
# host-free module carries `@pytest.mark.host` itself.
HOST_MODULES = {
    "test_build",
    "test_cards",
    "test_deploy",
    "test_guard",
    "test_hidden_disclosures",
    "test_hosts",
    "test_neighbours",
    "test_other_images",
    "test_preview",
    "test_records",
    "test_sample_site",
    "test_speaks",
    "test_truthful_text",
    "test_withdrawal",
}
HOST_FREE_MODULES = {
    "test_admission",
    "test_approvals",  # its `mkdocs serve` test is marked `host` on its own
    "test_browser",
    "test_canaries",
    "test_catalogue",
    "test_cli",
    "test_comparable",
    "test_corpus",
    "test_edits",
    "test_faces",
    "test_fail_closed",
    "test_fhir",
    "test_fuzz",
    "test_holdout",
    "test_hostile",
    "test_jurisdictions",
    "test_one_error",
    "test_originals_in_git",
    "test_packaging",
    "test_pixel_cap",
    "test_properties",
    "test_rules",
    "test_takedown",
    "test_unit_audit",
    "test_unit_output",
    "test_unit_records",
    "test_unit_rules",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `host` marker on every test of a host-dependent module (see HOST_MODULES)."""
    for item in items:
        if item.path.stem in HOST_MODULES:
            item.add_marker(pytest.mark.host)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """Two treatments, three cases, three valid consents, photos with planted metadata."""
    return default_project(tmp_path / "clinic")


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Result]:
    """The `project` fixture's clinic built once per test worker, for the tests that only read what it published
    (its site, images and publication record); never change either."""
    proj = default_project(tmp_path_factory.mktemp("built-project") / "clinic")
    return proj, proj.build()


def default_project(root: Path) -> Project:
    """Two treatments, three cases, three valid consents, photos with planted metadata."""
    proj = Project(root)
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


def _copy_sample(target: Path, photos: Path) -> Path:
    """A copy of the sample site under `target` with its photos and the theme overrides beside it."""
    shutil.copytree(REPO / "sample_site", target / "sample_site", ignore=shutil.ignore_patterns("site", ".cache", ".compliance", "photos"))
    shutil.copytree(REPO / "theme_overrides", target / "theme_overrides")
    shutil.copytree(photos, target / "sample_site" / "gallery" / "photos")
    return target / "sample_site"


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory: pytest.TempPathFactory, sample_photos: Path) -> tuple[Path, Result]:
    """The sample site built once per test worker, for the tests that only read what it published; never change
    either. Its image cache also warms every `sample` copy."""
    sample = _copy_sample(tmp_path_factory.mktemp("built-sample") / "repo", sample_photos)
    return sample, run_build(sample / "mkdocs.yml")


@pytest.fixture
def sample(tmp_path: Path, sample_photos: Path, built_sample: tuple[Path, Result]) -> Iterator[Path]:
    """A fresh copy of the sample site to change and build, with a warm image cache (the cache is keyed by the
    photos' bytes and every setting, and verified when read: sharing it changes nothing but the time)."""
    sample = _copy_sample(tmp_path / "repo", sample_photos)
    cache = built_sample[0] / CACHE_DIR
    if cache.is_dir():
        shutil.copytree(cache, sample / CACHE_DIR)
    yield sample
