"""After a takedown: receipts with absolute URLs, the purge list, who handled it, a case's history, and a broken
`.compliance/` that is reported (file, line, repair) and never rewritten."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import HOST_CLI, Project, consent, run_build


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs_compliant_gallery", *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def receipt_of(root: Path, case_id: str) -> tuple[Path, dict[str, Any]]:
    paths = sorted((root / ".compliance" / "takedowns").glob(f"*-{case_id}.json"))
    assert len(paths) == 1, paths
    return paths[0], json.loads(paths[0].read_text())


def urls(output: str) -> list[str]:
    return [line for line in output.splitlines() if line and not line.startswith("#")]


# -- receipts, the purge list and takedown-done on the sample site -------------------------------------------------


def test_sample_site_receipt_purge_list_and_takedown_done(sample: Path) -> None:
    assert run_build(sample / "mkdocs.yml").ok
    assert cli(sample, "withdraw", "C-2026-0101", "--received", "2026-11-22").returncode == 0
    second = run_build(sample / "mkdocs.yml")
    assert second.ok, second.log
    path, receipt = receipt_of(sample, "lips-001")
    assert receipt["site_url"] == "https://clinic.example/"
    assert receipt["removed_file_urls"] == [f"https://clinic.example/{name}" for name in receipt["removed_files"]]
    assert receipt["removed_page_urls"] == ["https://clinic.example/gallery/", "https://clinic.example/gallery/lip-filler/"]
    assert receipt["urls_unavailable"] is None and len(receipt["removed_files"]) == 18
    for url in receipt["removed_file_urls"]:
        assert not (second.site / url.removeprefix("https://clinic.example/")).exists(), url
    assert "lips-001" not in (second.site / "gallery" / "index.html").read_text()
    assert receipt["originals_in_repository"] is None, "the copy is no git repository"

    listed = cli(sample, "purge-list")
    assert listed.returncode == 0, listed.stderr
    assert urls(listed.stdout) == receipt["removed_file_urls"] + receipt["removed_page_urls"]
    assert f"# {path.name}: case lips-001" in listed.stdout
    as_json = json.loads(cli(sample, "purge-list", "--json").stdout)
    assert [(item["case"], item["urls_from"]) for item in as_json["takedowns"]] == [("lips-001", "receipt")]
    assert as_json["takedowns"][0]["file_urls"] == receipt["removed_file_urls"]
    later = cli(sample, "purge-list", "--since", "2099-01-01")
    assert urls(later.stdout) == [] and "no takedown since 2099-01-01 waits" in later.stdout

    before = path.read_bytes()
    done = cli(sample, "takedown-done", path.name, "--by", "Dr Sample", "--note", "CDN purge #4411")
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == before, "the receipt is never rewritten"
    (record,) = [json.loads(line) for line in (sample / ".compliance" / "takedowns-done.jsonl").read_text().splitlines()]
    assert record["receipt"] == path.name and record["done_by"] == "Dr Sample" and record["note"] == "CDN purge #4411"
    assert record["receipt_sha256"] == hashlib.sha256(before).hexdigest()
    assert urls(cli(sample, "purge-list").stdout) == []

    again = cli(sample, "takedown-done", path.stem, "--by", "Someone else")
    assert again.returncode == 2 and "already marked done by Dr Sample" in again.stderr
    unknown = cli(sample, "takedown-done", "20990101T000000Z-nope.json", "--by", "X")
    assert unknown.returncode == 2 and "no takedown receipt '20990101T000000Z-nope.json'" in unknown.stderr


def test_without_site_url_the_receipt_says_so_and_purge_list_completes_it_later(project: Project) -> None:
    config_file = project.write()
    config = yaml.safe_load(config_file.read_text())
    del config["site_url"]
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    assert run_build(config_file).ok
    project.consent("C-2026-0002")["revoked_on"] = "2026-11-20"
    project.write()
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    assert run_build(config_file).ok
    _, receipt = receipt_of(project.root, "lips-002")
    assert receipt["removed_page_urls"] is None and receipt["removed_file_urls"] is None and receipt["site_url"] is None
    assert "site_url is not set in mkdocs.yml" in receipt["urls_unavailable"]

    relative = cli(project.root, "purge-list")
    assert "site_url is not set in mkdocs.yml" in relative.stdout
    assert urls(relative.stdout) == receipt["removed_files"] + receipt["removed_pages"]

    config["site_url"] = "https://www.clinic.example/smile/"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    completed = cli(project.root, "purge-list")
    assert "made from the current site_url https://www.clinic.example/smile/" in completed.stdout
    assert urls(completed.stdout)[-2:] == ["https://www.clinic.example/smile/gallery/", "https://www.clinic.example/smile/lips/"]


# -- history: published, withdrawn, published again under a new release ---------------------------------------------


def test_history_across_publication_withdrawal_and_a_new_release(project: Project) -> None:
    project.options["build_date"] = "2026-11-10"
    assert project.build().ok
    project.consent("C-2026-0002")["revoked_on"] = "2026-11-12"
    project.options["build_date"] = "2026-11-15"
    assert project.build().ok
    receipt_path, _ = receipt_of(project.root, "lips-002")
    report = cli(project.root, "report")
    assert "compliant-gallery history lips-002" in report.stdout
    assert "compliant-gallery history lips-002" in (project.root / ".compliance" / "report.html").read_text()

    renewed = consent("C-2026-0009", "lips-002", "P-10002")
    renewed["signed_on"] = "2026-11-18"
    project.consents.append(renewed)
    project.case("lips-002")["consent"] = "C-2026-0009"
    project.options["build_date"] = "2026-11-20"
    assert project.build().ok

    run = cli(project.root, "history", "lips-002", "--json")
    assert run.returncode == 0, run.stderr
    history = json.loads(run.stdout)
    assert history["builds_recorded"] == 3
    events = [(e["event"], e["build_date"], e.get("consent"), e.get("in_force"), e.get("code")) for e in history["events"]]
    assert events == [
        ("published", "2026-11-10", "C-2026-0002", True, None),
        ("stopped", "2026-11-15", None, None, "CG203"),
        ("published", "2026-11-20", "C-2026-0009", True, None),
    ]
    first, stopped, _ = history["events"]
    assert stopped["receipt"] == receipt_path.name and stopped["reason"] == "consent withdrawn on 2026-11-12"
    assert first["pages"] == ["gallery/", "lips/"] and all(f.startswith("assets/compliant-gallery/img/") for f in first["files"])
    assert len(first["files"]) == 12, "2 photos, 2 widths, 3 formats"
    assert first["command"] == "build" and first["line"] == 1
    assert first["commit"] is None, "no git repository here"

    text = cli(project.root, "history", "lips-002").stdout
    assert "consent C-2026-0002: in force on that date" in text and "STOPPED" in text and "0 of them had no release in force" in text

    # The withdrawal was in fact received before the first build and recorded late: that build is now a breach to assess.
    project.consent("C-2026-0002")["revoked_on"] = "2026-11-09"
    project.write()
    late = cli(project.root, "history", "lips-002")
    assert "NOT IN FORCE: " in late.stdout and "consent withdrawn on 2026-11-09 (CG203)" in late.stdout
    assert "1 of them had no release in force" in late.stdout

    unknown = cli(project.root, "history", "lips-020")
    assert unknown.returncode == 2 and "did you mean 'lips-002'?" in unknown.stderr


# -- a broken .compliance/ -------------------------------------------------------------------------------------------


def test_a_broken_compliance_folder_is_named_line_by_line_and_never_rewritten(project: Project) -> None:
    assert project.build().ok
    project.consent("C-2026-0002")["revoked_on"] = "2026-11-20"
    assert project.build().ok
    log = project.root / ".compliance" / "publications.jsonl"
    lines = log.read_text().splitlines()
    first = json.loads(lines[0])
    first["published"][0]["consent"] = "C-2026-0099"  # an edit that keeps the JSON valid
    log.write_text(json.dumps(first, sort_keys=True) + "\n" + lines[1] + "\n" + lines[1][:200])  # plus a cut-off write
    receipt, _ = receipt_of(project.root, "lips-002")
    receipt.write_text(receipt.read_text()[:-20])

    history = cli(project.root, "history", "lips-001")
    assert history.returncode == 1
    assert (
        "error: .compliance/publications.jsonl:1 was changed after it was written, or lines after it were removed "
        "(line 2 records another hash for the line before it)"
    ) in history.stderr
    assert "error: .compliance/publications.jsonl:3 is not a complete record" in history.stderr
    assert "fix: do not edit the log: restore .compliance/publications.jsonl from your backup" in history.stderr
    assert f"error: .compliance/takedowns/{receipt.name}:" in history.stderr and "is not a JSON receipt" in history.stderr
    assert "Traceback" not in history.stderr
    assert "Case lips-001: publication history" in history.stdout, "what can be read is still shown"

    purge = cli(project.root, "purge-list")
    assert purge.returncode == 1 and f".compliance/takedowns/{receipt.name}" in purge.stderr and "Traceback" not in purge.stderr
    done = cli(project.root, "takedown-done", receipt.name, "--by", "Dr Lee")
    assert done.returncode == 2 and "cannot be marked done while it cannot be read" in done.stderr

    damaged = log.read_bytes()
    rebuilt = project.build()
    assert rebuilt.ok, rebuilt.log
    assert "publication log: .compliance/publications.jsonl:3 is not a complete record" in rebuilt.log
    assert log.read_bytes().startswith(damaged), "the log was rewritten"
    assert len(log.read_text().splitlines()) == 4


def test_a_record_edited_into_another_shape_is_skipped_without_a_traceback(project: Project) -> None:
    assert project.build().ok
    log = project.root / ".compliance" / "publications.jsonl"
    record = json.loads(log.read_text())
    record["published"] = [{"consent": "C-2026-0001"}]
    log.write_text(json.dumps(record) + "\n")
    result = project.build()
    assert result.ok, result.log
    assert "publications.jsonl:1 is not a build record as compliant-gallery writes it (published[0] has no 'case')" in result.log
    check = cli(project.root, "history", "lips-001")
    assert check.returncode == 1 and "Traceback" not in check.stderr


def test_a_takedown_passes_a_strict_build(project: Project) -> None:
    assert project.build().ok
    project.consent("C-2026-0002")["revoked_on"] = "2026-11-20"
    project.write()
    strict = subprocess.run(
        [*HOST_CLI, "build", "--strict", "-f", "mkdocs.yml"], cwd=project.root, capture_output=True, text=True, timeout=300
    )
    assert strict.returncode == 0, strict.stderr[-3000:]
    assert "takedown receipt written: .compliance/takedowns/" in strict.stderr
    receipt_of(project.root, "lips-002")
