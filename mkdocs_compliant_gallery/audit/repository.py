"""What the site's git repository holds: tracked inputs, originals in its history, the commits of a deploy branch.

Every call tolerates a machine without git and a folder outside any repository: the answer is then "nothing
known" (None or empty), never an exception. Only read-only git commands are run.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT = 60


def git(folder: Path, *args: str) -> str | None:
    """The output of `git ARGS` run in `folder`, or None when git is missing, the folder is no repository, or it fails."""
    try:
        done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def toplevel(folder: Path) -> Path | None:
    """The root of the work tree holding `folder`, or None outside git."""
    out = git(folder, "rev-parse", "--show-toplevel")
    return Path(out.strip()) if out and out.strip() else None


def commit_of(folder: Path, revision: str) -> str | None:
    """The commit a revision (a branch, `origin/gh-pages`) names, or None when it names none."""
    out = git(folder, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    return out.strip() if out and out.strip() else None


def parents(folder: Path, commit: str) -> list[str] | None:
    """The parents of a commit (empty for a root commit), or None when it cannot be read."""
    out = git(folder, "rev-list", "--parents", "-n", "1", commit)
    if out is None or not out.split():
        return None
    return out.split()[1:]


@dataclass(frozen=True)
class TrackedInputs:
    """The gallery's inputs that git tracks in the project's repository (paths relative to the project)."""

    photos: tuple[str, ...] = ()  # tracked files inside the photo folder
    records: tuple[str, ...] = ()  # the manifest and the register, when tracked

    def __bool__(self) -> bool:
        return bool(self.photos or self.records)

    def names(self, photo_folder: str) -> list[str]:
        """One name per input: the photo folder (with its count of tracked files), then the records."""
        named = [f"{photo_folder}/ ({len(self.photos)} tracked file{'s' if len(self.photos) != 1 else ''})"] if self.photos else []
        return named + list(self.records)

    def paths(self, photo_folder: str) -> list[str]:
        """What to stop tracking: the photo folder as a whole, then the records outside it."""
        if not self.photos:
            return list(self.records)
        inside = "" if photo_folder == "." else f"{photo_folder}/"
        return [photo_folder, *(record for record in self.records if not record.startswith(inside))]


def tracked_inputs(project_root: Path, photos: Path, records: list[Path]) -> TrackedInputs:
    """Which of the photo folder and the record files git tracks (nothing outside git, or without git)."""
    root = project_root.resolve()
    wanted = [photos, *records]
    relative = [_relative(path, root) for path in wanted]
    out = git(root, "ls-files", "-z", "--", *[r for r in relative if r is not None])
    if not out:
        return TrackedInputs()
    listed = [item for item in out.split("\0") if item]
    photo_folder = _relative(photos, root)
    record_files = tuple(r for r in relative[1:] if r is not None and r in listed)
    inside = "" if photo_folder in (None, ".") else f"{photo_folder}/"
    photo_files = tuple(item for item in listed if photo_folder is not None and item.startswith(inside) and item not in record_files)
    return TrackedInputs(photo_files, record_files)


@dataclass(frozen=True)
class OriginalsInHistory:
    """Where a case's raw originals are in git: tracked now, or in a commit of any branch or tag."""

    repository: str  # the work tree's root
    tracked: tuple[str, ...] = ()  # paths relative to the repository root
    in_history: tuple[str, ...] = ()
    commits: tuple[str, ...] = field(default=())  # commits that add, change or remove one of them

    def record(self) -> dict[str, object]:
        """The receipt's entry."""
        return {
            "repository": self.repository,
            "tracked": list(self.tracked),
            "in_history": list(self.in_history),
            "commits": len(self.commits),
        }


def originals_in_history(project_root: Path, originals: list[Path]) -> OriginalsInHistory | None:
    """Whether these raw originals are tracked or in any commit reachable from a ref; None outside git.

    A photo is found by its path, and (while it still exists) by its content, so a renamed copy is found too.
    """
    root = project_root.resolve()
    top = toplevel(root)
    if top is None:
        return None
    tracked, found, commits = [], [], set()
    for original in originals:
        path = original if original.is_absolute() else root / original
        in_repo = _relative(path, top.resolve())
        if in_repo is None:
            continue
        if git(top, "ls-files", "--error-unmatch", "--", in_repo) is not None:
            tracked.append(in_repo)
        touching = set((git(top, "log", "--all", "--format=%H", "--", in_repo) or "").split())
        if path.is_file():
            blob = (git(top, "hash-object", "--", str(path)) or "").strip()
            if blob:
                touching |= set((git(top, "log", "--all", "--format=%H", f"--find-object={blob}") or "").split())
        if touching:
            found.append(in_repo)
            commits |= touching
    return OriginalsInHistory(str(top), tuple(tracked), tuple(found), tuple(sorted(commits)))


def _relative(path: Path, root: Path) -> str | None:
    resolved = path.resolve()
    if resolved != root and not resolved.is_relative_to(root):
        return None
    return resolved.relative_to(root).as_posix() or "."
