"""The compliance record and the claims lint: what an auditor and a careful copywriter rely on."""

from __future__ import annotations

import json

from tests.helpers import Project, Result, cards_of


def _log(project: Project) -> list[dict[str, object]]:
    path = project.root / ".compliance" / "publications.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_clinic_words_extend_the_claims_lint(project: Project) -> None:
    project.case("lips-001")["caption"] = "A life-changing result."
    assert project.build().ok
    project.options["claims_forbidden"] = ["life-changing"]
    result = project.build()
    assert not result.ok and "CG405" in result.log and "life-changing" in result.log


def test_an_allowed_phrase_needs_a_reason_and_is_recorded(project: Project) -> None:
    project.case("lips-001")["caption"] = "Permanent makeup for a natural lip line."
    result = project.build()
    assert not result.ok and "CG405" in result.log
    project.case("lips-001")["allow_claims"] = [{"phrase": "Permanent makeup"}]
    result = project.build()
    assert not result.ok and "CG102" in result.log and "reason" in result.log
    project.case("lips-001")["allow_claims"] = [{"phrase": "Permanent makeup", "reason": "the name of the treatment, not a promise"}]
    result = project.build()
    assert result.ok, result.log
    assert "lips-001" in cards_of(result.site / "gallery" / "index.html")
    published = _log(project)[-1]["published"]
    assert isinstance(published, list)
    record = next(p for p in published if p["case"] == "lips-001")
    assert record["allowed_claims"] == [{"phrase": "Permanent makeup", "reason": "the name of the treatment, not a promise"}]


def test_the_allowed_phrase_does_not_excuse_other_claims(project: Project) -> None:
    project.case("lips-001")["caption"] = "Permanent makeup, guaranteed painless."
    project.case("lips-001")["allow_claims"] = [{"phrase": "Permanent makeup", "reason": "treatment name"}]
    result = project.build()
    assert not result.ok and "'guaranteed'" in result.log


def test_publication_record_names_versions_hashes_and_urls(built_project: tuple[Project, Result]) -> None:
    project, result = built_project
    assert result.ok
    record = _log(project)[-1]
    libraries = record["libraries"]
    assert isinstance(libraries, dict) and {"mkdocs", "pillow", "mkdocs-compliant-gallery"} <= set(libraries)
    assert record["build_date"] == "2026-11-23" and len(str(record["config_sha256"])) == 64
    published = record["published"]
    assert isinstance(published, list)
    lips = next(p for p in published if p["case"] == "lips-001")
    originals = {(project.gallery / "photos" / f"lips-001-{w}.jpg").read_bytes() for w in ("before", "after")}
    import hashlib

    assert set(lips["originals"]) == {hashlib.sha256(data).hexdigest() for data in originals}
    published_hashes = {hashlib.sha256((result.site / image).read_bytes()).hexdigest() for image in lips["images"]}
    assert set(lips["outputs"]) == published_hashes
    assert set(lips["pages"]) == {"gallery/", "lips/"}


def test_a_broken_last_line_is_reported_and_nothing_is_lost(project: Project) -> None:
    assert project.build().ok
    log_file = project.root / ".compliance" / "publications.jsonl"
    first = log_file.read_text()
    log_file.write_text(first + '{"time": "2026-11-23T10:')  # an interrupted write
    result = project.build()
    assert result.ok, result.log
    assert "publications.jsonl:2 is not a complete record" in result.log
    text = log_file.read_text()
    assert text.startswith(first + '{"time": "2026-11-23T10:\n')
    assert len(_log_tolerant(text)) == 2


def _log_tolerant(text: str) -> list[dict[str, object]]:
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
