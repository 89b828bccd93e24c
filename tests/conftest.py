"""A real MkDocs project in a temp dir, built in-process, for every test that needs one."""

from __future__ import annotations

import copy
import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, MkDocsException

from tests import HOST
from tests.photos import Planted, write_photo

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
BUILD_DATE = "2026-11-23"
# The command line of the host under test, for tests that run it as a user would.
HOST_CLI = [sys.executable, "-m", HOST]
# Debian chromium on a machine without network: no background connections, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

TREATMENTS: dict[str, Any] = {
    "lip-filler": {
        "title": "Lip filler",
        "typical_results": "Most patients see fuller lips for 6 to 12 months.",
        "substantiation": "internal review n=40",
    },
    "wrinkle-relaxer": {
        "title": "Wrinkle relaxer",
        "typical_results": "Most patients see softer lines for 3 to 4 months.",
    },
}


def case(case_id: str, consent: str, treatment: str = "lip-filler") -> dict[str, Any]:
    return {
        "id": case_id,
        "consent": consent,
        "treatment": treatment,
        "procedures": ["hyaluronic acid filler"],
        "sessions": 1,
        "time_after": "2 weeks",
        "shows": {"face": False, "distinctive_marks": False},
        "caption": f"Caption of {case_id}.",
        "photos": [
            {
                "view": "front",
                "before": {"src": f"photos/{case_id}-before.jpg", "alt": f"{case_id} before, front view"},
                "after": {"src": f"photos/{case_id}-after.jpg", "alt": f"{case_id} after, front view"},
            }
        ],
    }


def consent(consent_id: str, case_id: str, patient_ref: str) -> dict[str, Any]:
    return {
        "id": consent_id,
        "patient_ref": patient_ref,
        "signed_on": "2026-03-02",
        "signer": "patient",
        "expires_on": "2028-03-02",
        "channels": {"permit": ["website", "social"], "deny": ["paid_ads"]},
        "purposes": ["marketing"],
        "scope": {"cases": [case_id]},
        "allows": {"face": False, "name": False, "distinctive_marks": False, "testimonial": False},
        "material_connection": "none",
        "third_party_remuneration": False,
        "statements": {"revocation": True, "conditioning": True, "redisclosure": True},
        "irrevocable": False,
        "revoked_on": None,
        "superseded_by": None,
        "form": {"version": "marketing-release-v3"},
    }


@dataclass
class Result:
    """What a build did: success, the log text, and the site folder."""

    ok: bool
    log: str
    site: Path

    def site_files(self) -> list[Path]:
        return sorted(p for p in self.site.rglob("*") if p.is_file()) if self.site.exists() else []

    def site_text(self) -> str:
        """Every text file of the site concatenated (HTML, search index, sitemap, CSS, JS)."""
        parts = []
        for path in self.site_files():
            if path.suffix in {".html", ".json", ".xml", ".js", ".css", ".txt"}:
                parts.append(path.read_text("utf-8", "replace"))
        return "\n".join(parts)

    def gallery_images(self) -> list[Path]:
        folder = self.site / "assets" / "compliant-gallery" / "img"
        return sorted(folder.iterdir()) if folder.exists() else []


@dataclass
class Project:
    """A clinic site: mkdocs.yml, pages, manifest, register, photos. Mutate, then `build()`."""

    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    consents: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    theme: dict[str, Any] = field(default_factory=lambda: {"name": "mkdocs"})
    plugins_before: list[Any] = field(default_factory=lambda: ["search"])
    manifest_text: str | None = None
    consents_text: str | None = None
    consents_name: str = "consents.yml"

    @property
    def gallery(self) -> Path:
        return self.root / "gallery"

    def photo(self, name: str, **kwargs: Any) -> Path:
        path = self.gallery / "photos" / name
        write_photo(path, **kwargs)
        return path

    def write(self) -> Path:
        (self.root / "docs").mkdir(parents=True, exist_ok=True)
        for name, text in self.pages.items():
            page = self.root / "docs" / name
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(text)
        self.gallery.mkdir(parents=True, exist_ok=True)
        (self.gallery / "manifest.yml").write_text(
            self.manifest_text if self.manifest_text is not None else yaml.safe_dump(self.manifest, sort_keys=False)
        )
        register = self.gallery / self.consents_name
        if self.consents_text is not None:
            register.write_text(self.consents_text)
        elif self.consents_name.endswith((".yml", ".yaml")):
            register.write_text(yaml.safe_dump({"consents": self.consents}, sort_keys=False))
        options = {
            "manifest": "gallery/manifest.yml",
            "consents": f"gallery/{self.consents_name}",
            "build_date": BUILD_DATE,
            "widths": [160, 320],
            "workers": 1,
            **self.options,
        }
        options = {key: value for key, value in options.items() if value is not None}
        config = {
            "site_name": "Test clinic",
            "site_url": "https://clinic.example/",
            "theme": self.theme,
            "plugins": [*self.plugins_before, {"compliant-gallery": options}],
            "markdown_extensions": ["mkdocs_compliant_gallery.tripwire"],
        }
        path = self.root / "mkdocs.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def build(self, command: str = "build") -> Result:
        config_file = self.write()
        return run_build(config_file, command)

    def consent(self, consent_id: str) -> dict[str, Any]:
        return next(c for c in self.consents if c["id"] == consent_id)

    def case(self, case_id: str) -> dict[str, Any]:
        return next(c for c in self.manifest["cases"] if c["id"] == case_id)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


class _Capture:
    """Collects the host's log records (ProperDocs logs under `properdocs`, plugins still under `mkdocs`)."""

    def __init__(self) -> None:
        self.handler = _Collect()
        self.loggers = [logging.getLogger(name) for name in dict.fromkeys(("mkdocs", HOST))]
        self.levels = [logger.level for logger in self.loggers]

    def __enter__(self) -> list[str]:
        for logger in self.loggers:
            logger.addHandler(self.handler)
            logger.setLevel(logging.DEBUG)
        return self.handler.lines

    def __exit__(self, *exc: object) -> None:
        for logger, level in zip(self.loggers, self.levels, strict=True):
            logger.removeHandler(self.handler)
            logger.setLevel(level)


def run_build(config_file: Path, command: str = "build", dirty: bool = False) -> Result:
    """A real `mkdocs build` in-process; never raises, returns what happened."""
    site = config_file.parent / "site"
    ok = False
    with _Capture() as lines:
        try:
            config = load_config(config_file=str(config_file), site_dir=str(site))
            config.plugins.on_startup(command=command, dirty=dirty)  # type: ignore[arg-type]
            try:
                build(config, dirty=dirty)
                ok = True
            finally:
                config.plugins.on_shutdown()
        except (Abort, MkDocsException) as error:
            lines.append(f"ERROR: {error}")
    return Result(ok, "\n".join(lines), site)


def run_serve_builds(config_file: Path, between: Callable[[], object]) -> tuple[Result, Result]:
    """Two builds the way `mkdocs serve` makes them: one startup, the config reloaded for the rebuild (plugin
    instances kept), `between` run in between. The second site is copied aside before the first is reported."""
    site = config_file.parent / "site"
    results = []
    with _Capture() as lines:
        config = load_config(config_file=str(config_file), site_dir=str(site))
        config.plugins.on_startup(command="serve", dirty=False)
        try:
            for index in range(2):
                start = len(lines)
                ok = False
                if index:
                    between()
                    config = load_config(config_file=str(config_file), site_dir=str(site))
                try:
                    build(config)
                    ok = True
                except (Abort, MkDocsException) as error:
                    lines.append(f"ERROR: {error}")
                kept = config_file.parent / f"site-{index + 1}"
                if site.exists():
                    shutil.copytree(site, kept)
                results.append(Result(ok, "\n".join(lines[start:]), kept))
        finally:
            config.plugins.on_shutdown()
    return results[0], results[1]


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
