"""A clinic marks a consent withdrawn and rebuilds: the case is gone everywhere, with a record of it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import HOST_CLI, Project, Result, cards_of


def _mentions(result: Result, needle: str) -> list[str]:
    found = []
    for path in result.site_files():
        if needle.encode() in path.read_bytes():
            found.append(path.relative_to(result.site).as_posix())
    return found


def test_revoking_a_consent_removes_the_case_everywhere(project: Project) -> None:
    first = project.build()
    assert first.ok, first.log
    assert "lips-002" in cards_of(first.site / "gallery" / "index.html")
    lips_two = set(_image_names(first, "lips-002"))
    others_before = {p.name for p in first.gallery_images()} - lips_two

    project.consent("C-2026-0002")["revoked_on"] = "2026-11-20"
    second = project.build()
    assert second.ok, second.log
    assert "case lips-002 removed: consent withdrawn on 2026-11-20" in second.log
    assert _mentions(second, "lips-002") == []
    assert _mentions(second, "Caption of lips-002") == []
    published = {p.name for p in second.gallery_images()}
    assert not (published & lips_two), "an image of the withdrawn case is still published"
    assert published == others_before, "nothing else changed"
    index = (second.site / "search" / "search_index.json").read_text()
    assert "lips-002" not in index
    assert list(cards_of(second.site / "lips" / "index.html")) == ["lips-001"]

    receipts = sorted((project.root / ".compliance" / "takedowns").glob("*-lips-002.json"))
    assert len(receipts) == 1
    receipt = json.loads(receipts[0].read_text())
    assert receipt["case"] == "lips-002" and receipt["code"] == "CG203"
    assert set(receipt["removed_files"]) == {f"assets/compliant-gallery/img/{name}" for name in lips_two}
    assert set(receipt["removed_pages"]) == {"gallery/", "lips/"}
    assert receipt["other_channels_to_follow_up"] == ["social"]

    log = [json.loads(line) for line in (project.root / ".compliance" / "publications.jsonl").read_text().splitlines()]
    assert len(log) == 2
    assert [p["case"] for p in log[0]["published"]] == ["brow-001", "lips-001", "lips-002"]
    assert [p["case"] for p in log[1]["published"]] == ["brow-001", "lips-001"]
    assert log[1]["removed"] == [
        {
            "case": "lips-002",
            "consent": "C-2026-0002",
            "code": "CG203",
            "reason": "consent withdrawn on 2026-11-20",
            "ended_on": "2026-11-20",
        }
    ]

    cache = project.root / ".cache" / "plugin" / "compliant-gallery"
    cached_names = {p.name for p in cache.rglob("*") if p.is_file()}
    assert not (cached_names & lips_two), "the cache still holds the withdrawn case's images"


def _image_names(result: Result, case_id: str) -> list[str]:
    card = cards_of(result.site / "gallery" / "index.html")[case_id]
    names: list[str] = []
    for img in card["imgs"]:
        names.extend(Path(item.split()[0]).name for item in img["srcset"].split(","))
    for source in card["sources"]:
        names.extend(Path(item.split()[0]).name for item in source["srcset"].split(","))
    return names


def test_expiry_boundary(project: Project) -> None:
    """Valid through its expires_on date, removed from the next day."""
    project.consent("C-2026-0001")["expires_on"] = "2026-11-23"
    result = project.build()
    assert result.ok and "lips-001" in cards_of(result.site / "gallery" / "index.html")
    project.options["build_date"] = "2026-11-24"
    result = project.build()
    assert result.ok, result.log
    assert "case lips-001 removed: consent expired on 2026-11-23" in result.log
    assert "lips-001" not in cards_of(result.site / "gallery" / "index.html")


def test_revocation_takes_effect_on_its_date(project: Project) -> None:
    project.consent("C-2026-0001")["revoked_on"] = "2026-11-24"
    result = project.build()
    assert result.ok and "lips-001" in cards_of(result.site / "gallery" / "index.html")
    project.consent("C-2026-0001")["revoked_on"] = "2026-11-23"
    result = project.build()
    assert result.ok and "lips-001" not in cards_of(result.site / "gallery" / "index.html")


def test_expiry_event_removes(project: Project) -> None:
    consent = project.consent("C-2026-0001")
    del consent["expires_on"]
    consent["expiry_event"] = "end of treatment programme"
    result = project.build()
    assert result.ok, result.log
    consent["event_occurred_on"] = "2026-11-01"
    result = project.build()
    assert result.ok
    assert "lips-001" not in cards_of(result.site / "gallery" / "index.html")


def test_directive_naming_a_withdrawn_case_renders_nothing(project: Project) -> None:
    project.pages["featured.md"] = "# Featured\n\n<!-- compliant-gallery case=lips-001 -->\n"
    project.consent("C-2026-0001")["revoked_on"] = "2026-10-01"
    result = project.build()
    assert result.ok, result.log
    assert "docs/featured.md:3" in result.log and "case lips-001 is removed" in result.log
    assert cards_of(result.site / "featured" / "index.html") == {}


def test_source_date_epoch_sets_the_build_date(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.options["build_date"] = None  # no fixed date: SOURCE_DATE_EPOCH decides
    project.consent("C-2026-0001")["expires_on"] = "2026-06-30"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")  # 2026-05-28
    result = project.build()
    assert result.ok, result.log
    assert "lips-001" in cards_of(result.site / "gallery" / "index.html")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")  # 2026-09-21
    result = project.build()
    assert result.ok, result.log
    assert "lips-001" not in cards_of(result.site / "gallery" / "index.html")


def _strict_build(project: Project) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict`, the usual CI setting, as a user runs it (ProperDocs' own command under that host)."""
    config = project.write()
    return subprocess.run([*HOST_CLI, "build", "--strict", "-f", str(config)], capture_output=True, text=True)


def _log_lines(project: Project) -> list[dict[str, Any]]:
    path = project.root / ".compliance" / "publications.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_strict_mode_takes_a_withdrawn_case_down_and_records_only_a_completed_build(project: Project) -> None:
    """A removal is INFO, so --strict lets the takedown through; a build strict mode aborts records nothing."""
    first = _strict_build(project)
    assert first.returncode == 0, first.stderr
    assert len(_log_lines(project)) == 1
    takedowns = project.root / ".compliance" / "takedowns"

    # Withdrawn, and another warning in the same build (a link to a page that does not exist): strict aborts it
    # after every plugin ran, so neither the publication log nor a takedown receipt may speak of it.
    project.consent("C-2026-0002")["revoked_on"] = "2026-11-20"
    project.pages["index.md"] = "# Home\n\nSee [the price list](prices.md).\n"
    aborted = _strict_build(project)
    assert aborted.returncode != 0
    assert "in strict mode" in aborted.stdout + aborted.stderr and "prices.md" in aborted.stderr, aborted.stderr
    assert "nothing is recorded" in aborted.stderr, aborted.stderr
    assert len(_log_lines(project)) == 1, "an aborted build appended to the publication log"
    assert not takedowns.exists() or not list(takedowns.iterdir()), "an aborted build wrote a takedown receipt"

    # The warning fixed: the strict build completes, takes the case down and records it, with no warning of its own.
    project.pages["index.md"] = "# Home\n\nWelcome.\n"
    done = _strict_build(project)
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    assert re.search(r"INFO\s+-\s+.*takedown receipt written: \.compliance/takedowns/\S+-lips-002\.json", done.stderr), done.stderr
    assert re.search(r"INFO\s+-\s+.*case lips-002 removed", done.stderr), done.stderr
    log = _log_lines(project)
    assert len(log) == 2 and [p["case"] for p in log[1]["published"]] == ["brow-001", "lips-001"]
    assert [p.name.endswith("-lips-002.json") for p in takedowns.iterdir()] == [True]
    assert "lips-002" not in (project.root / "site" / "search" / "search_index.json").read_text()
