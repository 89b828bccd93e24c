"""The sample clinic site: builds, publishes exactly the consented cases, and leaks nothing (independent scanner)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import SHARED, Result, cards_of, run_build

PUBLISHED = ["lips-001", "lips-002", "brow-001", "skin-001", "skin-002", "smile-001"]
REMOVED = {"lips-003": "Fuller lips with a defined cupid's bow.", "brow-002": "Smoother forehead two weeks after treatment."}


def build(site: Path) -> Result:
    return run_build(site / "mkdocs.yml")


def test_sample_site_publishes_exactly_the_consented_cases(built_sample: tuple[Path, Result]) -> None:
    _, result = built_sample
    assert result.ok, result.log
    cards = cards_of(result.site / "gallery" / "index.html")
    assert list(cards) == PUBLISHED
    for case_id, card in cards.items():
        assert "Typical results:" in card["text"], case_id
    assert "20% discount" in cards["lips-002"]["text"]
    assert list(cards_of(result.site / "index.html")) == ["smile-001"]
    for case_id, caption in REMOVED.items():
        for path in result.site_files():
            data = path.read_bytes()
            assert case_id.encode() not in data, f"{case_id} in {path}"
            assert caption.encode() not in data, f"{caption} in {path}"
    text = result.site_text()
    for secret in ("P-SAMPLE", "C-2026-01", "C-2025-0077", "marketing-release", "outcome review", "SampleCam", "Dr Sample"):
        assert secret not in text, secret
    assert "lips-002" in (result.site / "search" / "search_index.json").read_text()
    assert "gallery/" in (result.site / "sitemap.xml").read_text()


def test_sample_site_passes_the_independent_leak_scanner(built_sample: tuple[Path, Result]) -> None:
    sample, result = built_sample
    assert result.ok, result.log
    photos = sorted((sample / "gallery" / "photos").iterdir())
    removed_photos = [p for p in photos if p.name.startswith(tuple(REMOVED))]
    assert len(removed_photos) == 4
    register = yaml.safe_load((sample / "gallery" / "consents.yml").read_text())["consents"]
    forbidden = [c["patient_ref"] for c in register] + [c["id"] for c in register] + list(REMOVED) + ["SampleCam", "SN-SAMPLE"]
    command = [
        sys.executable,
        str(SHARED / "tools" / "leak_scan.py"),
        str(result.site),
        "--forbid",
        *forbidden,
        "--forbid-file",
        str(sample / "gallery" / "manifest.yml"),
        str(sample / "gallery" / "consents.yml"),
        *map(str, photos),
        "--forbid-image",
        *map(str, removed_photos),
    ]
    scan = subprocess.run(command, capture_output=True, text=True)
    assert scan.returncode == 0, scan.stdout + scan.stderr
    images, problems = re.search(r"images=(\d+) problems=(\d+)", scan.stdout).groups()  # type: ignore[union-attr]
    assert int(images) > 50 and int(problems) == 0


def _line_of(path: Path, needle: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def test_channel_change_fails_and_revocation_removes(sample: Path) -> None:
    register = sample / "gallery" / "consents.yml"
    original = register.read_text()
    register.write_text(original.replace("channels: {permit: [website, email]}", "channels: {permit: [email]}"))
    result = build(sample)
    assert not result.ok
    line = _line_of(register, "channels: {permit: [email]}")
    assert re.search(rf"gallery/consents.yml:{line} .*CG202 \[case skin-001\]", result.log), result.log
    assert "fix:" in result.log
    assert not (result.site / "assets" / "compliant-gallery").exists()

    register.write_text(
        original.replace("    scope: {cases: [skin-001]}\n", "    scope: {cases: [skin-001]}\n    revoked_on: 2026-11-01\n")
    )
    result = build(sample)
    assert result.ok, result.log
    for path in result.site_files():
        assert b"skin-001" not in path.read_bytes(), path
        assert b"Smoother cheek texture" not in path.read_bytes(), path
    assert "skin-001" not in cards_of(result.site / "gallery" / "index.html")


def test_two_builds_with_a_revocation_leave_two_records_and_one_exact_receipt(sample: Path) -> None:
    import json

    first = build(sample)
    assert first.ok, first.log
    before = {p.relative_to(first.site).as_posix() for p in first.site_files()}
    register = sample / "gallery" / "consents.yml"
    register.write_text(
        register.read_text().replace("    scope: {cases: [lips-002]}\n", "    scope: {cases: [lips-002]}\n    revoked_on: 2026-11-20\n")
    )
    second = build(sample)
    assert second.ok, second.log
    after = {p.relative_to(second.site).as_posix() for p in second.site_files()}
    records = (sample / ".compliance" / "publications.jsonl").read_text().splitlines()
    assert len(records) == 2
    receipts = list((sample / ".compliance" / "takedowns").glob("*.json"))
    assert [r.name.endswith("-lips-002.json") for r in receipts] == [True]
    receipt = json.loads(receipts[0].read_text())
    assert set(receipt["removed_files"]) == before - after
    assert set(receipt["removed_pages"]) == {"gallery/", "gallery/lip-filler/"}
