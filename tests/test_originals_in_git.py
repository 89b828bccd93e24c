"""Raw originals in the site's git repository: warned about on every build (CG115), declared once, recorded in
the log and in receipts, and the steps `withdraw` prints really take a withdrawn case's originals out of history."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import GIT_ENV, HOST_CLI, Project, cli_in_git, git, run_build


def commit_everything(project: Project, ignore: str = "site/\n.cache/\n") -> None:
    """The project as a git repository with every file committed, as many clinics keep their site."""
    project.write()
    git("init", "-q", "-b", "main", cwd=project.root)
    (project.root / ".gitignore").write_text(ignore)
    git("add", "-A", cwd=project.root)
    git("commit", "-q", "-m", "Clinic site", cwd=project.root)


def strict_build(project: Project) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HOST_CLI, "build", "--strict", "-f", "mkdocs.yml"], cwd=project.root, capture_output=True, text=True, timeout=300
    )


def test_tracked_inputs_warn_on_every_build_until_the_clinic_declares_a_private_repository(project: Project) -> None:
    commit_everything(project)
    result = run_build(project.root / "mkdocs.yml")
    assert result.ok, result.log
    warnings = [line for line in result.log.splitlines() if line.startswith("WARNING") and "CG115" in line]
    assert len(warnings) == 1, result.log
    # The photo folder is the manifest's folder here: six photos and the approvals file, beside the two records.
    assert "tracked by git: gallery/ (7 tracked files), gallery/manifest.yml, gallery/consents.yml" in warnings[0]
    assert "git rm -r --cached gallery', add 'gallery/' to .gitignore" in result.log
    assert "originals_in_git: private" in result.log
    assert strict_build(project).returncode != 0, "--strict fails on the warning"
    record = json.loads((project.root / ".compliance" / "publications.jsonl").read_text().splitlines()[-1])
    assert record["originals_in_git"]["declared"] == "warn"

    project.options["originals_in_git"] = "private"
    declared = project.build()
    assert declared.ok and "CG115" not in declared.log
    assert "INFO: mkdocs_compliant_gallery: tracked by git: gallery/ (7 tracked files)" in declared.log
    assert "declared a private, access-controlled repository" in declared.log
    strict = strict_build(project)
    assert strict.returncode == 0, strict.stderr[-3000:]
    record = json.loads((project.root / ".compliance" / "publications.jsonl").read_text().splitlines()[-1])
    assert record["originals_in_git"] == {
        "tracked": ["gallery/ (7 tracked files)", "gallery/manifest.yml", "gallery/consents.yml"],
        "declared": "private",
    }


def test_inputs_kept_out_of_the_repository_give_no_warning(project: Project) -> None:
    commit_everything(project, ignore="site/\n.cache/\ngallery/\n")
    assert "gallery/manifest.yml" not in git("ls-files", cwd=project.root)
    result = run_build(project.root / "mkdocs.yml")
    assert result.ok and "CG115" not in result.log and "tracked by git" not in result.log
    assert strict_build(project).returncode == 0
    records = [json.loads(line) for line in (project.root / ".compliance" / "publications.jsonl").read_text().splitlines()]
    assert [record["originals_in_git"] for record in records] == [None, None]


def test_withdraw_prints_the_steps_that_take_the_originals_out_of_the_remote(project: Project) -> None:
    commit_everything(project)
    remote = project.root.parent / "site.git"
    git("init", "-q", "--bare", str(remote), cwd=project.root.parent)
    git("remote", "add", "origin", str(remote), cwd=project.root)
    git("push", "-q", "origin", "main", cwd=project.root)
    photos = project.gallery / "photos"
    withdrawn = {git("hash-object", str(photos / f"lips-002-{side}.jpg"), cwd=project.root).strip() for side in ("before", "after")}
    kept = git("hash-object", str(photos / "lips-001-before.jpg"), cwd=project.root).strip()
    assert run_build(project.root / "mkdocs.yml").ok

    run = cli_in_git(project.root, "withdraw", "C-2026-0002", "--received", "2026-11-20")
    assert run.returncode == 0, run.stderr
    assert "are in this git repository" in run.stdout and "1 commit(s) of its history hold" in run.stdout
    assert "git filter-repo --invert-paths --path gallery/photos/lips-002-before.jpg --path gallery/photos/lips-002-after.jpg" in run.stdout
    assert "contact GitHub Support" in run.stdout
    second = run_build(project.root / "mkdocs.yml")
    assert second.ok, second.log
    receipt = json.loads(next((project.root / ".compliance" / "takedowns").glob("*-lips-002.json")).read_text())
    found = receipt["originals_in_repository"]
    assert found["tracked"] == found["in_history"] == ["gallery/photos/lips-002-before.jpg", "gallery/photos/lips-002-after.jpg"]
    assert found["commits"] == 1 and found["declared"] == "warn"

    # Follow the printed steps as a clinic would, one command line after another.
    steps = [line.strip() for line in run.stdout.splitlines() if line.strip().startswith(("git ", "echo "))]
    assert len(steps) == 5, run.stdout
    untrack, ignore, clone, rewrite, push = steps
    env = {**GIT_ENV, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{GIT_ENV['PATH']}"}  # git-filter-repo from the test extra

    def shell(line: str, cwd: Path) -> None:
        done = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"

    shell(untrack, project.root)
    shell(ignore, project.root)
    shell("git push -q origin main", project.root)
    assert withdrawn <= reachable_objects(remote), "still in the history before the rewrite"
    work = project.root.parent / "rewrite"
    work.mkdir()
    shell(clone.removesuffix(" && cd site-mirror.git"), work)
    shell(rewrite, work / "site-mirror.git")
    shell(push, work / "site-mirror.git")
    reachable = reachable_objects(remote)
    assert not withdrawn & reachable, "the withdrawn originals are still reachable on the remote"
    assert kept in reachable, "the other cases' files are untouched"


def reachable_objects(repository: Path) -> set[str]:
    return {line.split()[0] for line in git("rev-list", "--objects", "--all", cwd=repository).splitlines()}
