"""The compliance records as plain function calls, no build: the chained log, URLs, the purge list, and which
deploy-branch histories a gh-deploy may keep (on small git repositories made here)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from mkdocs_compliant_gallery.audit import publications, takedowns
from mkdocs_compliant_gallery.audit.deploys import DeployTarget, check_deploy
from mkdocs_compliant_gallery.audit.publications import BuildRecord, LogEntry, PublishedRecord, absolute_urls, append_record, read_entries
from mkdocs_compliant_gallery.audit.repository import TrackedInputs
from tests.helpers import git

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


def record(day: int, *cases: str, deploy: dict[str, object] | None = None) -> BuildRecord:
    published = [PublishedRecord(case, f"C-{case}", "lip-filler", [], [], ["gallery/"], [f"img/{case}.jpg"]) for case in cases]
    return BuildRecord(
        f"2026-11-{day:02d}T10:00:00+00:00", f"2026-11-{day:02d}", "0", {}, "", "website", None, published=published, deploy=deploy
    )


def write_log(folder: Path, *records: BuildRecord) -> Path:
    for item in records:
        append_record(folder, item)
    return folder / publications.LOG_NAME


# -- the chained log ------------------------------------------------------------------------------------------------


def test_an_intact_log_reads_back_with_its_lines(tmp_path: Path) -> None:
    write_log(tmp_path, record(1, "a"), record(2, "a", "b"), record(3, "b"))
    entries, problems = read_entries(tmp_path)
    assert problems == []
    assert [(e.line, [p["case"] for p in e.record["published"]]) for e in entries] == [(1, ["a"]), (2, ["a", "b"]), (3, ["b"])]
    assert entries[0].record["previous_sha256"] is None and all(e.record["previous_sha256"] for e in entries[1:])


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("edit", [(2, "was changed after it was written")]),
        ("remove", [(1, "was changed after it was written, or lines after it were removed (line 2")]),
        ("truncate", [(3, "is not a complete record (")]),
        (
            "array",
            [(2, "is not a build record as compliant-gallery writes it (not a JSON object)"), (2, "was changed after it was written")],
        ),
        ("unchained", [(4, "has no previous_sha256 although earlier records do")]),
    ],
)
def test_a_damaged_log_names_the_line_and_the_repair(tmp_path: Path, damage: str, expected: list[tuple[int, str]]) -> None:
    log = write_log(tmp_path, record(1, "a"), record(2, "a", "b"), record(3, "b"))
    lines = log.read_text().splitlines()
    if damage == "edit":
        lines[1] = lines[1].replace('"C-a"', '"C-z"')
    elif damage == "remove":
        del lines[1]
    elif damage == "truncate":
        lines[2] = lines[2][:120]
    elif damage == "array":
        lines[1] = "[1, 2]"
    elif damage == "unchained":
        added = json.loads(lines[2])
        del added["previous_sha256"]
        lines.append(json.dumps(added))
    log.write_text("\n".join(lines) + "\n")
    _, problems = read_entries(tmp_path, ".compliance/publications.jsonl")
    assert [(p.line, p.message[: len(text)]) for p, (_, text) in zip(problems, expected, strict=True)] == expected
    assert all(p.file == ".compliance/publications.jsonl" and p.fix.startswith("do not edit the log") for p in problems)
    assert all(str(p).startswith(f".compliance/publications.jsonl:{p.line} ") for p in problems)


def test_appending_after_an_interrupted_write_keeps_the_cut_line_and_the_chain(tmp_path: Path) -> None:
    log = write_log(tmp_path, record(1, "a"))
    log.write_bytes(log.read_bytes() + b'{"time": "2026-11-02T1')
    cut = log.read_bytes()
    append_record(tmp_path, record(3, "a"))
    assert log.read_bytes().startswith(cut)
    entries, problems = read_entries(tmp_path)
    assert [e.line for e in entries] == [1, 3] and [(p.line, p.message[:26]) for p in problems] == [(2, "is not a complete record (")]


# -- URLs and the purge list ----------------------------------------------------------------------------------------


def test_absolute_urls_follow_the_site_url() -> None:
    assert absolute_urls("https://clinic.example", ["", "gallery/", "img/a b.jpg"]) == [
        "https://clinic.example/",
        "https://clinic.example/gallery/",
        "https://clinic.example/img/a%20b.jpg",
    ]
    assert absolute_urls("https://clinic.example/smile/", ["gallery/"]) == ["https://clinic.example/smile/gallery/"]
    assert absolute_urls(None, ["gallery/"]) is None and absolute_urls("", ["gallery/"]) is None


def test_the_purge_list_skips_what_is_done_and_completes_urls_from_todays_site_url(tmp_path: Path) -> None:
    folder = tmp_path / "takedowns"
    folder.mkdir()
    with_urls = {"case": "a", "removed_pages": ["gallery/"], "removed_files": ["img/a.jpg"]}
    with_urls |= {"removed_page_urls": ["https://old.example/gallery/"], "removed_file_urls": ["https://old.example/img/a.jpg"]}
    (folder / "20261101T100000Z-a.json").write_text(json.dumps(with_urls))
    (folder / "20261102T100000Z-b.json").write_text(json.dumps({"case": "b", "removed_pages": [""], "removed_files": ["img/b.jpg"]}))
    (folder / "20261103T100000Z-c.json").write_text(json.dumps({"case": "c", "removed_pages": [], "removed_files": []}))
    (folder / "20261104T100000Z-d.json").write_text('{"case": "d",')
    receipts, problems = takedowns.load_receipts(tmp_path, ".compliance")
    assert [r.case for r in receipts] == ["a", "b", "c"]
    assert [(p.file, p.line) for p in problems] == [(".compliance/takedowns/20261104T100000Z-d.json", 1)]
    takedowns.mark_done(tmp_path, receipts[2], "Dr Lee", "", NOW)
    done, _ = takedowns.load_done(tmp_path, ".compliance")
    items = takedowns.purge_list(receipts, done, "https://clinic.example/", None)
    assert [(i.receipt.case, i.urls_from, i.file_urls, i.page_urls) for i in items] == [
        ("a", "receipt", ("https://old.example/img/a.jpg",), ("https://old.example/gallery/",)),
        ("b", "current site_url", ("https://clinic.example/img/b.jpg",), ("https://clinic.example/",)),
    ]
    assert [i.urls_from for i in takedowns.purge_list(receipts, done, None, None)] == ["receipt", ""]
    assert [i.receipt.case for i in takedowns.purge_list(receipts, done, None, dt.date(2026, 11, 2))] == ["b"]
    assert [r.name for r in takedowns.find_receipt(receipts, "b")] == ["20261102T100000Z-b.json"]
    assert [r.name for r in takedowns.find_receipt(receipts, "x/20261101T100000Z-a")] == ["20261101T100000Z-a.json"]


def test_tracked_inputs_name_the_photo_folder_once() -> None:
    tracked = TrackedInputs(("gallery/photos/a.jpg", "gallery/photos/b.jpg"), ("gallery/manifest.yml",))
    assert tracked.names("gallery/photos") == ["gallery/photos/ (2 tracked files)", "gallery/manifest.yml"]
    assert tracked.paths("gallery/photos") == ["gallery/photos", "gallery/manifest.yml"]
    assert tracked.paths("gallery") == ["gallery"], "records inside the photo folder go with it"
    assert not TrackedInputs()


# -- which deploy histories may be kept -----------------------------------------------------------------------------


def deploy_commit(repository: Path, parent: str | None) -> str:
    """A commit as ghp-import makes it (one parent or none), on an empty tree."""
    tree = git("mktree", cwd=repository, input_text="").strip()
    return git("commit-tree", tree, "-m", "Deployed", *(["-p", parent] if parent else []), cwd=repository).strip()


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    git("init", "-q", "-b", "main", cwd=tmp_path)
    return tmp_path


def entries_of(*records: BuildRecord) -> list[LogEntry]:
    return [LogEntry(line, dataclasses.asdict(item)) for line, item in enumerate(records, start=1)]


def deployed(base: str | None) -> dict[str, object]:
    return {"remote": "origin", "branch": "gh-pages", "base": base, "history": "kept" if base else "new", "force": False}


def test_a_history_of_recorded_deploys_may_be_kept_until_it_holds_a_withdrawn_case(repository: Path) -> None:
    first = deploy_commit(repository, None)
    second = deploy_commit(repository, first)
    git("update-ref", "refs/remotes/origin/gh-pages", second, cwd=repository)
    log = entries_of(record(1, "a", "b", deploy=deployed(None)), record(2, "a", "b"), record(3, "a", "b", deploy=deployed(first)))
    kept = check_deploy(repository, log, [], {"a", "b"}, DeployTarget())
    assert not kept.refused and kept.history == "kept" and kept.base == second
    withdrawn = check_deploy(repository, log, [], {"a"}, DeployTarget())
    assert withdrawn.refused and list(withdrawn.withdrawn) == ["b"] and "still holds" in withdrawn.reason()
    dropped = check_deploy(repository, log, [], {"a"}, DeployTarget(no_history=True))
    assert not dropped.refused and dropped.history == "dropped" and dropped.record()["base"] is None
    assert check_deploy(repository, log, [], {"a"}, DeployTarget(force=True)).refused, "--force keeps the history"
    assert check_deploy(repository, log, [], {"a"}, DeployTarget(no_history=None)).refused, "flags unknown: history kept"


def test_a_deploy_that_never_landed_is_skipped_and_an_unknown_commit_is_unsafe(repository: Path) -> None:
    first = deploy_commit(repository, None)
    git("update-ref", "refs/remotes/origin/gh-pages", first, cwd=repository)
    log = entries_of(record(1, "a", deploy=deployed(None)), record(2, "a", deploy=deployed(first)))  # the second push failed
    assert not check_deploy(repository, log, [], {"a"}, DeployTarget()).refused
    foreign = deploy_commit(repository, first)  # pushed by another tool
    git("update-ref", "refs/remotes/origin/gh-pages", foreign, cwd=repository)
    unknown = check_deploy(repository, log[:1], [], {"a"}, DeployTarget())
    assert unknown.refused and f"commit {foreign[:12]}" in unknown.unknown
    older = check_deploy(repository, [], [], {"a"}, DeployTarget())
    assert older.refused and "no deploy to 'gh-pages' is recorded" in older.unknown


def test_damaged_lines_matter_only_among_the_deploys_the_history_is_made_of(repository: Path) -> None:
    first = deploy_commit(repository, None)
    git("update-ref", "refs/remotes/origin/gh-pages", first, cwd=repository)
    log = [LogEntry(5, dataclasses.asdict(record(5, "a", deploy=deployed(None))))]
    assert not check_deploy(repository, log, [2], {"a"}, DeployTarget()).refused, "damage before the chain's first deploy"
    assert check_deploy(repository, log, [7], {"a"}, DeployTarget()).refused


def test_without_git_there_is_no_history_to_keep(tmp_path: Path) -> None:
    check = check_deploy(tmp_path, [], [], set(), DeployTarget())
    assert not check.refused and check.history == "none"
