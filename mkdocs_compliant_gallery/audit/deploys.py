"""Whether a `gh-deploy` may keep the deploy branch's history: it may not while that history holds a withdrawn case.

`mkdocs gh-deploy` hands the built site to ghp-import, which commits it on top of the branch it finds (the
remote-tracking `origin/gh-pages`, else the local `gh-pages`) and pushes. Every earlier deploy stays reachable
from that branch, withdrawn photos included, unless `--no-history` makes the new commit a root.

What the kept history holds is known from the publication log: each gh-deploy record names the commit it was
built on (`deploy.base`). Walking the branch from the commit the new deploy would sit on, each step must be a
recorded deploy (its parent is that record's base) down to a root commit. Then the history holds exactly the
cases those records published. A step no record explains (a deploy before the plugin, from another checkout or
another tool, or a damaged log) means the history is unknown, and unknown is treated as unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import repository
from .publications import LogEntry


@dataclass(frozen=True)
class DeployTarget:
    """Where a gh-deploy pushes and how; `no_history` is None when the host cannot tell (then history is kept)."""

    remote: str = "origin"
    branch: str = "gh-pages"
    no_history: bool | None = False
    force: bool = False


@dataclass(frozen=True)
class DeployCheck:
    """What the deploy would keep reachable, and whether that is allowed."""

    target: DeployTarget
    git: bool  # whether the folder is a git work tree at all (without one, gh-deploy cannot push)
    base: str | None  # the commit the new deploy commit will have as parent; None: nothing is kept
    withdrawn: dict[str, str] = field(default_factory=dict)  # case -> the deploy (time) that put it in the kept history
    unknown: str = ""  # why the kept history cannot be accounted for ('' when it can)
    quirk: bool = False  # --no-history was asked for, but ghp-import will still build on the local branch

    @property
    def history(self) -> str:
        """'dropped' (--no-history with a history to drop), 'new' (no branch yet), 'kept', or 'none' (no git)."""
        if not self.git:
            return "none"
        if self.base is not None:
            return "kept"
        return "dropped" if self.target.no_history else "new"

    @property
    def refused(self) -> bool:
        """True when the deploy would leave a withdrawn case, or history nobody can vouch for, reachable."""
        return self.base is not None and bool(self.withdrawn or self.unknown)

    def reason(self) -> str:
        """Why the deploy is refused, in the clinic's words ('' when it is not)."""
        if not self.refused:
            return ""
        branch = self.target.branch
        if self.withdrawn:
            cases = ", ".join(f"{case} (deployed {when})" for case, when in sorted(self.withdrawn.items()))
            why = f"the history of '{branch}' still holds the photos and pages of cases this build no longer publishes: {cases}"
        else:
            why = f"the history of '{branch}' cannot be accounted for by the publication log ({self.unknown}), so it may hold photos of withdrawn cases"
        if self.quirk:
            return (
                f"{why}. '--no-history' would not drop it: '{self.target.remote}/{branch}' is not known in this checkout, "
                f"so ghp-import builds on the local '{branch}' branch"
            )
        return why

    def record(self) -> dict[str, Any]:
        """The publication log's `deploy` entry: enough for the next deploy to account for this commit."""
        return {
            "remote": self.target.remote,
            "branch": self.target.branch,
            "base": self.base,
            "history": self.history,
            "force": self.target.force,
        }


def check_deploy(
    folder: Path, entries: list[LogEntry], damaged_lines: list[int], published_now: set[str], target: DeployTarget
) -> DeployCheck:
    """What a gh-deploy run in `folder` would keep reachable, judged against the publication log.

    `damaged_lines` are the log's lines that cannot be trusted: one inside the span of the recorded deploys that
    make up the kept history may have been one of them, so that history is unknown. Older ones do not matter.
    """
    if repository.git(folder, "rev-parse", "--is-inside-work-tree") is None:
        return DeployCheck(target, git=False, base=None)
    remote_tip = repository.commit_of(folder, f"{target.remote}/{target.branch}")
    local_tip = repository.commit_of(folder, f"refs/heads/{target.branch}")
    # As ghp-import decides: it resets the local branch to the remote-tracking one when that exists (or deletes it
    # with --no-history); otherwise it commits on top of whatever the local branch holds.
    base = local_tip if remote_tip is None else None if target.no_history else remote_tip
    quirk = bool(target.no_history) and base is not None
    if base is None:
        return DeployCheck(target, git=True, base=None)
    covered, unknown = _recorded_chain(folder, base, entries, target)
    damaged = [line for line in damaged_lines if covered and line > min(entry.line for entry in covered)]
    if damaged and not unknown:
        unknown = f"line {damaged[0]} of the publication log is damaged, and may be one of the deploys in it"
    withdrawn: dict[str, str] = {}
    for entry in covered:
        for item in entry.record.get("published") or []:
            if item["case"] not in published_now:
                withdrawn.setdefault(item["case"], str(entry.record.get("time", ""))[:16].replace("T", " "))
    return DeployCheck(target, git=True, base=base, withdrawn=withdrawn, unknown=unknown, quirk=quirk)


def _recorded_chain(folder: Path, tip: str, entries: list[LogEntry], target: DeployTarget) -> tuple[list[LogEntry], str]:
    """The deploy records whose commits make up the history from `tip` down to its root, or why they do not."""
    deploys = [
        entry
        for entry in entries
        if isinstance(entry.record.get("deploy"), dict)
        and entry.record["deploy"].get("branch") == target.branch
        and entry.record["deploy"].get("remote") == target.remote
    ]
    covered: list[LogEntry] = []
    current = tip
    for entry in reversed(deploys):
        base = entry.record["deploy"].get("base")
        if current == base:
            continue  # that deploy never reached the branch (its push failed, or it was refused)
        found = repository.parents(folder, current)
        if found is None:
            return covered, f"commit {current[:12]} cannot be read"
        if found != ([base] if base else []):
            break
        covered.append(entry)
        if not base:
            return covered, ""
        current = base
    if not deploys:
        return (
            covered,
            f"no deploy to '{target.branch}' is recorded, but the branch has commits (made before compliant-gallery, or by another tool)",
        )
    return (
        covered,
        f"commit {current[:12]} of '{target.branch}' was not made by a deploy this log records (an older deploy, another checkout or another tool)",
    )
