"""`mkdocs gh-deploy` pushes only a site that passed the output guard, to a local bare repository as the remote.

gh-deploy builds first and pushes only when the build returns: a guard failure (or a refused `--dirty`) raises
before `ghp-import` runs, so the remote's gh-pages branch gets no commit. A failed `mkdocs build` before it
changes nothing: gh-deploy always builds afresh, and meets the same failure.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import HOST_CLI, Project, add_copying_hook

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Clinic web team",
    "GIT_AUTHOR_EMAIL": "web@clinic.example",
    "GIT_COMMITTER_NAME": "Clinic web team",
    "GIT_COMMITTER_EMAIL": "web@clinic.example",
    "GIT_CONFIG_GLOBAL": os.devnull,  # no user settings (signing, hooks) in the way
}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True).stdout


def clinic_repository(project: Project) -> Path:
    """The project as a git repository whose `origin` is a fresh bare repository; returns the bare one."""
    project.write()
    remote = project.root.parent / "remote.git"
    git("init", "-q", "--bare", str(remote), cwd=project.root.parent)
    git("init", "-q", "-b", "main", cwd=project.root)
    (project.root / ".gitignore").write_text("site/\n.cache/\n")
    git("add", "-A", cwd=project.root)
    git("commit", "-q", "-m", "Clinic site", cwd=project.root)
    git("remote", "add", "origin", str(remote), cwd=project.root)
    return remote


def deploy(project: Project, *options: str) -> subprocess.CompletedProcess[str]:
    command = [*HOST_CLI, "gh-deploy", "-f", "mkdocs.yml", "--ignore-version", *options]
    return subprocess.run(command, cwd=project.root, env=GIT_ENV, capture_output=True, text=True, timeout=300)


def pages_head(repository: Path) -> str:
    """The commit of gh-pages in a repository, '' if it has no such branch."""
    return git("for-each-ref", "--format=%(objectname)", "refs/heads/gh-pages", cwd=repository).strip()


def test_a_passing_build_deploys_and_a_guard_failure_pushes_nothing(project: Project) -> None:
    remote = clinic_repository(project)
    first = deploy(project)
    assert first.returncode == 0, first.stderr[-3000:]
    deployed = pages_head(remote)
    assert deployed
    published = git("ls-tree", "-r", "--name-only", "gh-pages", cwd=remote).split()
    assert "gallery/index.html" in published and any(p.startswith("assets/compliant-gallery/img/") for p in published)
    assert not any(p.endswith("-before.jpg") or p.endswith("-after.jpg") for p in published)
    records = (project.root / ".compliance" / "publications.jsonl").read_text().splitlines()
    assert len(records) == 1, "a deploy is a publication: it is recorded"

    # A hook now copies a raw photo into the site: the guard fails the build, and the remote keeps what it had.
    add_copying_hook(project, project.root / "mkdocs.yml")
    second = deploy(project)
    assert second.returncode != 0
    assert "CG602 is a byte copy of raw photo gallery/photos/lips-001-after.jpg" in second.stderr
    assert pages_head(remote) == deployed
    assert pages_head(project.root) == deployed, "the local gh-pages branch got a commit the remote did not"


@pytest.mark.parametrize("how", ["guard", "dirty"])
def test_a_failing_build_never_reaches_the_remote(project: Project, how: str) -> None:
    remote = clinic_repository(project)
    if how == "guard":
        add_copying_hook(project, project.root / "mkdocs.yml")
        # A plain build failed first and emptied the site; gh-deploy builds afresh and fails the same way.
        build = subprocess.run([*HOST_CLI, "build", "-f", "mkdocs.yml"], cwd=project.root, capture_output=True, text=True)
        assert build.returncode != 0 and not any((project.root / "site").iterdir())
    result = deploy(project, *(["--dirty"] if how == "dirty" else []))
    assert result.returncode != 0
    assert ("CG602" if how == "guard" else "--dirty builds are refused") in result.stderr
    assert pages_head(remote) == "" and pages_head(project.root) == ""
    assert not (project.root / ".compliance" / "publications.jsonl").exists(), "a failed build is not a publication"
