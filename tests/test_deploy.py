"""`mkdocs gh-deploy` pushes only a site that passed the output guard, to a local bare repository as the remote.

gh-deploy builds first and pushes only when the build returns: a guard failure (or a refused `--dirty`) raises
before `ghp-import` runs, so the remote's gh-pages branch gets no commit. A failed `mkdocs build` before it
changes nothing: gh-deploy always builds afresh, and meets the same failure.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import GIT_ENV, HOST_CLI, Project, add_copying_hook, cli_in_git, git


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


# -- a withdrawal reaches the deploy branch: no commit of it keeps the withdrawn files --------------------------------


def deployed_blobs(repository: Path) -> dict[str, str]:
    """Path -> blob id of every file of gh-pages as the remote has it now."""
    listing = git("ls-tree", "-r", "gh-pages", cwd=repository)
    return {line.split("\t", 1)[1]: line.split()[2] for line in listing.splitlines()}


def reachable_objects(repository: Path) -> set[str]:
    """Every object reachable from any ref of a repository (what a clone or a fetch can still get)."""
    return {line.split()[0] for line in git("rev-list", "--objects", "--all", cwd=repository).splitlines()}


def case_blobs(project: Project, remote: Path, case_id: str) -> dict[str, str]:
    """The blobs of a case as deployed: its images (from the publication log) and every page that shows it."""
    record = json.loads((project.root / ".compliance" / "publications.jsonl").read_text().splitlines()[-1])
    entry = next(item for item in record["published"] if item["case"] == case_id)
    tree = deployed_blobs(remote)
    blobs = {path: tree[path] for path in entry["images"]}
    for path, blob in tree.items():
        if path.endswith((".html", ".json", ".xml")) and case_id in git("cat-file", "-p", blob, cwd=remote):
            blobs[path] = blob
    assert len(blobs) > len(entry["images"]), "the case's pages were found too"
    return blobs


def log_lines(project: Project) -> int:
    return len((project.root / ".compliance" / "publications.jsonl").read_text().splitlines())


def assert_refused(result: subprocess.CompletedProcess[str], command: str) -> None:
    assert result.returncode != 0, result.stderr[-3000:]
    assert "deploy refused, nothing was pushed" in result.stderr
    assert command in result.stderr, result.stderr[-3000:]


def test_after_a_withdrawal_gh_deploy_refuses_to_keep_history_and_no_history_forgets_the_case(project: Project) -> None:
    remote = clinic_repository(project)
    first = deploy(project)
    assert first.returncode == 0, first.stderr[-3000:]
    withdrawn = case_blobs(project, remote, "lips-002")
    others = {path for path in deployed_blobs(remote) if path.startswith("assets/compliant-gallery/img/")} - set(withdrawn)

    # The documented takedown: record the withdrawal, then deploy.
    recorded = cli_in_git(project.root, "withdraw", "C-2026-0002", "--received", "2026-11-20")
    assert recorded.returncode == 0, recorded.stderr
    assert "mkdocs gh-deploy --no-history" in recorded.stdout
    head, lines = pages_head(remote), log_lines(project)
    refused = deploy(project)
    assert_refused(refused, "gh-deploy -f mkdocs.yml --ignore-version --no-history")
    assert "lips-002 (deployed" in refused.stderr
    assert pages_head(remote) == head, "a refused deploy pushed"
    assert log_lines(project) == lines and not (project.root / ".compliance" / "takedowns").exists(), "a refused deploy is no publication"
    assert not any((project.root / "site").iterdir()), "a refused deploy leaves no site behind"

    forgotten = deploy(project, "--no-history")
    assert forgotten.returncode == 0, forgotten.stderr[-3000:]
    reachable = reachable_objects(remote)
    still = sorted(path for path, blob in withdrawn.items() if blob in reachable)
    assert still == [], f"files of the withdrawn case still reachable on the remote: {still}"
    tree = deployed_blobs(remote)
    assert others <= set(tree), "every other case is still deployed"
    assert git("rev-list", "--count", "gh-pages", cwd=remote).strip() == "1"
    receipt = json.loads(next((project.root / ".compliance" / "takedowns").glob("*-lips-002.json")).read_text())
    assert receipt["deploy"] == {
        "command": "gh-deploy",
        "remote": "origin",
        "branch": "gh-pages",
        "base": None,
        "history": "dropped",
        "force": False,
    }

    history = json.loads(cli_in_git(project.root, "history", "lips-002", "--json").stdout)
    assert [(event["event"], event["command"]) for event in history["events"]] == [("published", "gh-deploy"), ("stopped", "gh-deploy")]
    assert history["events"][0]["commit"] == git("rev-parse", "HEAD", cwd=project.root).strip()

    # The next deploy keeps history again: every commit of it is a recorded deploy without the case.
    (project.root / "docs" / "about.md").write_text("# About\n")
    again = deploy(project)
    assert again.returncode == 0, again.stderr[-3000:]
    assert git("rev-list", "--count", "gh-pages", cwd=remote).strip() == "2"
    assert not set(withdrawn.values()) & reachable_objects(remote)


def test_force_alone_keeps_the_history_and_is_refused_too(project: Project) -> None:
    remote = clinic_repository(project)
    assert deploy(project, "--force").returncode == 0
    withdrawn = case_blobs(project, remote, "lips-002")
    assert cli_in_git(project.root, "withdraw", "C-2026-0002", "--received", "2026-11-20").returncode == 0
    head = pages_head(remote)
    refused = deploy(project, "--force")
    assert_refused(refused, "gh-deploy -f mkdocs.yml --ignore-version --force --no-history")
    assert pages_head(remote) == head
    done = deploy(project, "--force", "--no-history")
    assert done.returncode == 0, done.stderr[-3000:]
    assert not set(withdrawn.values()) & reachable_objects(remote)
    assert "lips-001" in git("show", "gh-pages:gallery/index.html", cwd=remote)


def test_a_deploy_branch_older_than_the_plugin_is_dropped_once(project: Project) -> None:
    """Before the plugin the clinic deployed its photos as plain files: that history holds them, and no log knows it."""
    remote = clinic_repository(project)
    legacy = project.root / "legacy"
    (legacy / "img").mkdir(parents=True)
    raw = project.gallery / "photos" / "lips-002-after.jpg"
    (legacy / "img" / "lips-002-after.jpg").write_bytes(raw.read_bytes())
    (legacy / "index.md").write_text("# Results\n\n![Lips after](img/lips-002-after.jpg)\n")
    (project.root / "legacy.yml").write_text("site_name: Test clinic\ndocs_dir: legacy\ntheme: {name: mkdocs}\n")
    old = subprocess.run(
        [*HOST_CLI, "gh-deploy", "-f", "legacy.yml", "--ignore-version"], cwd=project.root, env=GIT_ENV, capture_output=True, text=True
    )
    assert old.returncode == 0, old.stderr[-3000:]
    raw_blob = git("hash-object", str(raw), cwd=project.root).strip()
    assert raw_blob in reachable_objects(remote)

    refused = deploy(project)
    assert_refused(refused, "--no-history")
    assert "no deploy to 'gh-pages' is recorded" in refused.stderr
    first = deploy(project, "--no-history")
    assert first.returncode == 0, first.stderr[-3000:]
    assert raw_blob not in reachable_objects(remote), "the pre-plugin photo is still reachable"
    # From then on the log accounts for every commit of the branch: history is kept.
    (project.root / "docs" / "about.md").write_text("# About\n")
    assert deploy(project).returncode == 0
    assert git("rev-list", "--count", "gh-pages", cwd=remote).strip() == "2"


def test_a_deploy_whose_push_failed_does_not_count_as_history(project: Project) -> None:
    remote = clinic_repository(project)
    assert deploy(project).returncode == 0
    git("remote", "set-url", "origin", str(project.root.parent / "unreachable.git"), cwd=project.root)
    (project.root / "docs" / "about.md").write_text("# About\n")
    failed = deploy(project)
    assert failed.returncode != 0 and log_lines(project) == 2, "the build was recorded, its push failed"
    git("remote", "set-url", "origin", str(remote), cwd=project.root)
    again = deploy(project)
    assert again.returncode == 0, again.stderr[-3000:]
    assert git("rev-list", "--count", "gh-pages", cwd=remote).strip() == "2", "history kept: every commit is accounted for"


def test_no_history_without_the_remote_tracking_branch_is_refused_with_the_branch_to_delete(project: Project) -> None:
    """ghp-import builds on the local gh-pages when origin/gh-pages is unknown, even with --no-history."""
    remote = clinic_repository(project)
    assert deploy(project).returncode == 0
    withdrawn = case_blobs(project, remote, "lips-002")
    git("update-ref", "-d", "refs/remotes/origin/gh-pages", cwd=project.root)
    assert cli_in_git(project.root, "withdraw", "C-2026-0002", "--received", "2026-11-20").returncode == 0
    refused = deploy(project, "--no-history")
    assert_refused(refused, "git branch -D gh-pages && ")
    assert "'origin/gh-pages' is not known in this checkout" in refused.stderr
    git("branch", "-D", "gh-pages", cwd=project.root)
    done = deploy(project, "--no-history")
    assert done.returncode == 0, done.stderr[-3000:]
    assert not set(withdrawn.values()) & reachable_objects(remote)
