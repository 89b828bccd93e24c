"""A clinic marks a consent withdrawn and rebuilds: the case is gone everywhere, with a record of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Project, Result, cards_of


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
