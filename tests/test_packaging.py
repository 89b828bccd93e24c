"""Installing as the README says: the package is not on PyPI, so it is installed from the clone or a built wheel;
the wheel and the sdist each install in a clean virtualenv and build the sample site there. Plus the files a
package carries (LICENSE, CHANGELOG.md), `--version`, and the pre-commit snippets of the README."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from mkdocs_compliant_gallery import __version__
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_version_is_one_everywhere() -> None:
    run = subprocess.run([sys.executable, "-m", "mkdocs_compliant_gallery", "--version"], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout.strip() == f"compliant-gallery {__version__}", run
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {__version__}" in changelog and "## Unreleased" in changelog


def test_the_license_file_is_the_license_pyproject_declares() -> None:
    assert re.search(r'^license = "MIT"$', (REPO / "pyproject.toml").read_text(encoding="utf-8"), re.MULTILINE)
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text


def test_the_readme_installs_from_a_clone_or_a_wheel_never_from_the_index() -> None:
    installs = re.findall(r"^\s*(?:\.venv/bin/)?pip install (.+)$", README, re.MULTILINE)
    assert installs, "the README shows how to install"
    for line in installs:
        targets = [word.strip("\"'") for word in line.split() if not word.startswith("-")]
        ours = [word for word in targets if "compliant-gallery" in word or "compliant_gallery" in word or word.startswith(".")]
        assert ours, line
        for word in ours:
            assert word.startswith((".", "/", "dist/")), f"installs {word} from the package index, where it is not: {line}"
    assert "not on the Python Package Index" in README


def _yaml_blocks_with(needle: str) -> list[dict[str, object]]:
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)
    return [yaml.safe_load(block) for block in blocks if needle in block]


def test_the_readme_pre_commit_snippets_resolve() -> None:
    """No tag exists: a hook repository is pinned by commit SHA, or the hook is local with the hook file's patterns."""
    hook = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]
    snippets = _yaml_blocks_with("compliant-gallery-check")
    assert len(snippets) == 2
    for snippet in snippets:
        repos = snippet["repos"]
        assert isinstance(repos, list) and len(repos) == 1
        repo = repos[0]
        if repo["repo"] == "local":
            local = repo["hooks"][0]
            assert local["entry"] == hook["entry"] and local["language"] == "system" and local["pass_filenames"] is False
            assert local["files"] == hook["files"]
            re.compile(local["files"])
        else:
            assert re.fullmatch(r"[0-9a-f]{40}", str(repo["rev"])), "rev must be a commit SHA: the repository has no tags"
            assert repo["hooks"] == [{"id": hook["id"]}]


def _install_and_build(artifact: Path, sample: Path, work: Path) -> str:
    """A clean virtualenv with `artifact[material]` installed, then the sample site built by its mkdocs."""
    venv = work / f"venv-{artifact.suffix.strip('.')}"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile", f"{artifact}[material]"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    version = subprocess.run([str(venv / "bin" / "compliant-gallery"), "--version"], capture_output=True, text=True, check=False)
    site = work / f"site-{artifact.suffix.strip('.')}"
    copy = work / f"sample-{artifact.suffix.strip('.')}"
    shutil.copytree(sample.parent, copy, ignore=shutil.ignore_patterns(".cache"))  # cold: the installed encoders at work
    build = subprocess.run(
        [str(venv / "bin" / "mkdocs"), "build", "-f", str(copy / sample.name / "mkdocs.yml"), "-d", str(site)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    images = list((site / "assets" / "compliant-gallery" / "img").iterdir())
    assert images and (site / "gallery" / "index.html").is_file()
    return version.stdout.strip()


def test_the_wheel_and_the_sdist_install_in_clean_virtualenvs_and_build_the_sample_site(tmp_path: Path, sample: Path) -> None:
    """Once per test command (it is not marked `host`): two fresh virtualenvs, installed at the same time."""
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "-o", str(dist), str(REPO)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(dist.glob("*.whl"))
    sdist = next(dist.glob("*.tar.gz"))
    with ThreadPoolExecutor(2) as pool:
        versions = list(pool.map(lambda artifact: _install_and_build(artifact, sample, tmp_path), (wheel, sdist)))
    assert versions == [f"compliant-gallery {__version__}"] * 2
    with tarfile.open(sdist) as archive:
        names = {Path(name).name for name in archive.getnames()}
    assert {"LICENSE", "CHANGELOG.md", "README.md"} <= names
