"""The `compliant-gallery` command, run as a real subprocess on real projects: check, report, withdraw."""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mkdocs_compliant_gallery.output.browser import CHROMIUM_ARGS
from mkdocs_compliant_gallery.records.manifest import PHOTO_SUFFIXES
from mkdocs_compliant_gallery.records.register import load_register
from mkdocs_compliant_gallery.violations import count
from tests.helpers import REPO, Project, cards_of, case, consent, run_build
from tests.photos import Planted

# A register as a clinic keeps it: comments everywhere, mixed flow and block style, quotes, `~`.
COMMENTED_REGISTER = """\
# Consent register of the test clinic, exported 2026-11-01 by the front desk.
# It holds no names: patient_ref is pseudonymous.
consents:
  # Lips, first patient.
  - id: C-2026-0001
    patient_ref: P-10001            # pseudonymous
    signed_on: 2026-03-02
    signer: patient
    expires_on: 2028-03-02          # as written on the form
    channels: {permit: [website, social], deny: [paid_ads]}
    purposes: [marketing]
    scope: {cases: [lips-001]}
    allows: {face: false, name: false, distinctive_marks: false, testimonial: false}
    material_connection: none
    statements: {revocation: true, conditioning: true, redisclosure: true}
    third_party_remuneration: false
    irrevocable: false
    revoked_on: ~                   # set when the clinic receives a withdrawal
    form: {version: marketing-release-v3, sha256: "5f1c0a7d"}

  # Lips, second patient: block style, as another exporter writes it.
  - id: C-2026-0002
    patient_ref: 'P-10002'
    signed_on: 2026-03-02
    signer: patient
    expires_on: 2028-03-02
    channels:
      permit:
        - website
        - social
      deny: [paid_ads]
    purposes: [marketing]
    scope: {cases: [lips-002]}
    allows: {face: false, name: false, distinctive_marks: false, testimonial: false}
    material_connection: none
    statements: {revocation: true, conditioning: true, redisclosure: true}
    third_party_remuneration: false
    irrevocable: false
    form: {version: marketing-release-v3}   # form on file

  # Brow.
  - id: C-2026-0003
    patient_ref: P-10003
    signed_on: 2026-03-02
    signer: patient
    expires_on: 2028-03-02
    channels: {permit: [website, print]}
    purposes: [marketing]
    scope: {cases: [brow-001]}
    allows: {face: false, name: false, distinctive_marks: false, testimonial: false}
    material_connection: none
    statements: {revocation: true, conditioning: true, redisclosure: true}
    third_party_remuneration: false
    irrevocable: false
    form: {version: marketing-release-v3}
# end of export
"""


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m mkdocs_compliant_gallery ARGS` in `cwd`, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs_compliant_gallery", *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def _line_of(path: Path, needle: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def _changes(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith(("+ ", "- "))]


# -- check --------------------------------------------------------------------------------------------------


def test_check_passes_a_clean_project(project: Project) -> None:
    project.write()
    run = cli(project.root, "check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 cases publishable, 0 removed, 0 errors, 0 warnings, 0 consents used by no case" in run.stdout
    assert not (project.root / "site").exists(), "check must not build the site"


def test_check_names_the_out_of_scope_case_and_rule(project: Project) -> None:
    project.consent("C-2026-0002")["scope"] = {"cases": ["lips-001"]}
    project.write()
    lines = (project.gallery / "consents.yml").read_text().splitlines()
    start = lines.index("- id: C-2026-0002")
    line = next(number for number, text in enumerate(lines[start:], start=start + 1) if text.strip() == "scope:")
    run = cli(project.root, "check")
    assert run.returncode == 1, run.stdout + run.stderr
    expected = f"error: gallery/consents.yml:{line} (consent C-2026-0002.scope): CG208 [case lips-002] release covers cases lips-001, not 'lips-002'"
    assert expected in run.stdout.splitlines(), run.stdout
    assert "fix:" in run.stdout
    assert "P-1000" not in run.stdout + run.stderr, "check never prints a patient_ref"


def test_check_json_parses_and_carries_every_finding(project: Project) -> None:
    project.consent("C-2026-0002")["scope"] = {"cases": ["lips-001"]}
    project.consents.append(consent("C-2026-0099", "lips-099", "P-10099"))
    project.write()
    run = cli(project.root, "check", "--format", "json")
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["ok"] is False
    assert report["build_date"] == "2026-11-23"
    scope = [v for v in report["violations"] if v["code"] == "CG208"]
    assert scope and scope[0]["case"] == "lips-002" and scope[0]["severity"] == "error"
    assert scope[0]["file"] == "gallery/consents.yml" and scope[0]["line"] > 0 and scope[0]["fix"]
    assert report["summary"]["errors"] == len([v for v in report["violations"] if v["severity"] == "error"])
    assert [u["consent"] for u in report["unused_consents"]] == ["C-2026-0099"]
    assert "P-10099" not in run.stdout


def test_check_reports_a_consent_used_by_no_case_as_a_warning(project: Project) -> None:
    project.consents.append(consent("C-2026-0099", "lips-099", "P-10099"))
    project.write()
    run = cli(project.root, "check")
    assert run.returncode == 0, run.stdout + run.stderr
    line = _line_of(project.gallery / "consents.yml", "id: C-2026-0099")
    assert f"warning: gallery/consents.yml:{line} (consent C-2026-0099): consent used by no case (in force until 2028-03-02)" in run.stdout
    assert "1 consent used by no case" in run.stdout
    assert "P-10099" not in run.stdout


def test_check_lists_expiring_consents_first(project: Project) -> None:
    project.consent("C-2026-0003")["expires_on"] = "2026-12-01"  # 8 days after the build date
    project.consent("C-2026-0002")["scope"] = {"cases": ["lips-001"]}  # an error, which would sort before it by file/line
    project.write()
    run = cli(project.root, "check")
    assert run.returncode == 1
    first = run.stdout.splitlines()[0]
    assert first.startswith("warning: gallery/consents.yml:") and "CG211 [case brow-001]" in first and "2026-12-01" in first, run.stdout
    data = json.loads(cli(project.root, "check", "--format", "json").stdout)
    assert data["expiring"] == [{"case": "brow-001", "consent": "C-2026-0003", "expires_on": "2026-12-01", "days_left": 8}]


def test_check_finds_a_directive_naming_an_unknown_case(project: Project) -> None:
    project.pages["featured.md"] = (
        "# Featured\n\n```markdown\n<!-- compliant-gallery case=example -->\n```\n\n<!-- compliant-gallery case=lips-404 -->\n"
    )
    project.write()
    run = cli(project.root, "check")
    assert run.returncode == 1
    assert "docs/featured.md:7 (directive): CG108" in run.stdout and "lips-404" in run.stdout
    assert "example" not in run.stdout, "a directive inside a code block is not a directive"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("no-file", "no such file"),
        ("no-plugin", "not listed under 'plugins:'"),
        ("misspelt-option", "did you mean 'channel'"),
    ],
)
def test_check_usage_and_config_errors_exit_2(project: Project, change: str, expected: str) -> None:
    if change == "misspelt-option":
        project.options["chanel"] = "website"
    config_file = project.write()
    if change == "no-plugin":
        config = yaml.safe_load(config_file.read_text())
        config["plugins"] = ["search"]
        config_file.write_text(yaml.safe_dump(config))
    args = ["check", "-f", "elsewhere/mkdocs.yml"] if change == "no-file" else ["check"]
    run = cli(project.root, *args)
    assert run.returncode == 2, run.stdout + run.stderr
    assert expected in run.stderr


def test_check_takes_the_config_file_like_mkdocs(project: Project) -> None:
    project.write()
    run = cli(project.root.parent, "check", "-f", str(project.root / "mkdocs.yml"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert cli(project.root.parent, "check", "--config-file", "clinic/mkdocs.yml").returncode == 0


# -- withdraw -----------------------------------------------------------------------------------------------


def test_withdraw_keeps_every_comment_and_the_build_removes_the_case(project: Project) -> None:
    project.consents_text = COMMENTED_REGISTER
    config_file = project.write()
    register = project.gallery / "consents.yml"
    first = run_build(config_file)
    assert first.ok, first.log
    assert "lips-002" in cards_of(first.site / "gallery" / "index.html")

    before = register.read_text()
    run = cli(project.root, "withdraw", "C-2026-0002", "--received", "2026-11-20")
    assert run.returncode == 0, run.stdout + run.stderr
    after = register.read_text()
    assert _changes(before, after) == ["+     revoked_on: 2026-11-20"]
    assert [line for line in after.splitlines() if "#" in line] == [line for line in before.splitlines() if "#" in line]
    line = _line_of(register, "revoked_on: 2026-11-20")
    assert f"gallery/consents.yml:{line}" in run.stdout
    assert "lips-002" in run.stdout and "mkdocs build" in run.stdout and "takedown receipt" in run.stdout
    assert "social" in run.stdout, "the other channels of the consent need a person"

    second = run_build(config_file)
    assert second.ok, second.log
    assert list(cards_of(second.site / "gallery" / "index.html")) == ["lips-001", "brow-001"]
    for path in second.site_files():
        assert b"lips-002" not in path.read_bytes(), path
    receipts = list((project.root / ".compliance" / "takedowns").glob("*-lips-002.json"))
    assert len(receipts) == 1 and json.loads(receipts[0].read_text())["code"] == "CG203"


def test_withdraw_fills_an_empty_revoked_on_in_place(project: Project) -> None:
    project.consents_text = COMMENTED_REGISTER
    project.write()
    register = project.gallery / "consents.yml"
    before = register.read_text()
    run = cli(project.root, "withdraw", "C-2026-0001", "--received", "2026-11-21")
    assert run.returncode == 0, run.stdout + run.stderr
    assert _changes(before, register.read_text()) == [
        "-     revoked_on: ~                   # set when the clinic receives a withdrawal",
        "+     revoked_on: 2026-11-21          # set when the clinic receives a withdrawal",
    ]


def test_withdraw_edits_a_register_written_by_a_yaml_library(project: Project) -> None:
    project.write()  # yaml.safe_dump: `- id:` at column 0, `revoked_on: null`
    register = project.gallery / "consents.yml"
    before = register.read_text()
    run = cli(project.root, "withdraw", "C-2026-0003", "--received", "2026-11-22")
    assert run.returncode == 0, run.stdout + run.stderr
    assert _changes(before, register.read_text()) == ["-   revoked_on: null", "+   revoked_on: 2026-11-22"]
    check = json.loads(cli(project.root, "check", "--format", "json").stdout)
    assert [(v["case"], v["code"]) for v in check["violations"] if v["severity"] == "removed"] == [("brow-001", "CG203")]


def test_withdraw_refuses_unknown_and_already_withdrawn_consents(project: Project) -> None:
    project.consent("C-2026-0003")["revoked_on"] = "2026-10-01"
    project.write()
    register = project.gallery / "consents.yml"
    before = register.read_text()
    unknown = cli(project.root, "withdraw", "C-2026-0004", "--received", "2026-11-20")
    assert unknown.returncode == 2
    assert "no consent with id 'C-2026-0004'" in unknown.stderr and "did you mean" in unknown.stderr
    again = cli(project.root, "withdraw", "C-2026-0003", "--received", "2026-11-20")
    assert again.returncode == 2
    assert "already withdrawn on 2026-10-01" in again.stderr
    bad_date = cli(project.root, "withdraw", "C-2026-0001", "--received", "20/11/2026")
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    assert register.read_text() == before


def test_withdraw_refuses_a_receipt_date_after_today_unless_forced(project: Project) -> None:
    project.write()
    register = project.gallery / "consents.yml"
    before = register.read_text()
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    refused = cli(project.root, "withdraw", "C-2026-0001", "--received", tomorrow)
    assert refused.returncode == 2 and register.read_text() == before
    assert f"--received {tomorrow} is after today" in refused.stderr and "every build would go on publishing the case" in refused.stderr
    assert "add --force" in refused.stderr
    forced = cli(project.root, "withdraw", "C-2026-0001", "--received", tomorrow, "--force")
    assert forced.returncode == 0, forced.stderr
    assert f"revoked_on: {tomorrow}" in register.read_text()


def test_summaries_count_in_the_singular_too(project: Project) -> None:
    """'1 cases published', '1 gallery problems': every summary says its numbers in the right form."""
    project.manifest["cases"] = project.manifest["cases"][:1]
    project.consents = [*project.consents[:1], consent("C-2026-0009", "lips-009", "P-10009")]
    for name in ("lips-002", "brow-001"):
        for side in ("before", "after"):
            (project.gallery / "photos" / f"{name}-{side}.jpg").unlink()
    project.consent("C-2026-0001")["expires_on"] = "2026-12-01"  # one warning: expires within 30 days
    project.write()
    run = cli(project.root, "check")
    assert "1 case publishable, 0 removed, 0 errors, 1 warning, 1 consent used by no case" in run.stdout, run.stdout
    result = project.build()
    assert result.ok, result.log
    assert "1 case published, 0 removed, 1 warning; 0 photo pairs processed, 1 from cache" in result.log  # check cached it
    report = cli(project.root, "report")
    assert "1 case: 1 published (1 expiring soon), 0 removed, 0 blocked; 1 consent used by no case" in report.stdout, report.stdout


def test_count_says_numbers_in_the_right_form() -> None:
    assert [count(n, "case") for n in (0, 1, 2)] == ["0 cases", "1 case", "2 cases"]
    assert count(1, "gallery problem") == "1 gallery problem" and count(3, "child", "children") == "3 children"


@pytest.mark.parametrize(("name", "kind"), [("consents.csv", "CSV"), ("consents.ndjson", "FHIR")])
def test_withdraw_refuses_csv_and_fhir_registers(project: Project, name: str, kind: str) -> None:
    project.consents_name = name
    project.consents_text = "id,patient_ref\nC-2026-0001,P-10001\n" if kind == "CSV" else '{"resourceType": "Consent"}\n'
    project.write()
    register = project.gallery / name
    before = register.read_bytes()
    run = cli(project.root, "withdraw", "C-2026-0001", "--received", "2026-11-20")
    assert run.returncode == 2
    assert f"is a {kind} export" in run.stderr and "revoked_on" in run.stderr.replace("revocation", "revoked_on")
    assert register.read_bytes() == before


def test_withdraw_in_the_commented_sample_register(sample_site: Path) -> None:
    register = sample_site / "gallery" / "consents.yml"
    before = register.read_text()
    run = cli(sample_site, "withdraw", "C-2026-0105", "--received", "2026-11-20")
    assert run.returncode == 0, run.stdout + run.stderr
    after = register.read_text()
    assert _changes(before, after) == ["+     revoked_on: 2026-11-20"]
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == [
        line for line in before.splitlines() if line.lstrip().startswith("#")
    ]
    consent = load_register(register, "gallery/consents.yml").consents["C-2026-0105"]
    assert str(consent.revoked_on) == "2026-11-20"
    assert consent.lines["revoked_on"] == _line_of(register, "revoked_on: 2026-11-20")


# -- report -------------------------------------------------------------------------------------------------


def _read_report(path: Path) -> dict[str, Any]:
    """Open the report in headless Chromium and read back what a person would see."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.as_uri())
            rows = page.eval_on_selector_all(
                "tr[data-case]",
                """rows => rows.map(row => ({
                    case: row.dataset.case, status: row.dataset.status, consent: row.dataset.consent,
                    takedown: row.dataset.takedown || null, text: row.innerText,
                    images: [...row.querySelectorAll('img')].map(img => ({src: img.src, loaded: img.complete && img.naturalWidth > 0})),
                    receipts: [...row.querySelectorAll('[data-receipt]')].map(el => el.dataset.receipt),
                }))""",
            )
            text = page.inner_text("body")
            build = page.get_attribute("[data-build]", "data-build")
        finally:
            browser.close()
    return {"rows": rows, "text": text, "build": build, "requests": requests}


def test_report_shows_every_status_from_the_records(project: Project) -> None:
    project.manifest["cases"].append(case("lips-004", "C-2026-0004"))
    project.consents.append(consent("C-2026-0004", "lips-004", "P-10004"))
    project.photo("lips-004-before.jpg", seed=7, planted=Planted(taken="2026:01:10 10:00:00"))
    project.photo("lips-004-after.jpg", seed=8, planted=Planted(taken="2026:02:10 10:00:00"))
    assert project.build().ok
    project.consent("C-2026-0002")["revoked_on"] = "2026-11-20"
    second = project.build()
    assert second.ok, second.log  # lips-002 taken down: a receipt
    project.consent("C-2026-0001")["expires_on"] = "2026-12-03"  # expiring soon
    project.consent("C-2026-0003")["scope"] = {"cases": ["brow-009"]}  # blocked (CG208)
    project.write()

    out = project.root / "out" / "report.html"
    run = cli(project.root, "report", "-o", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"report written to {out}" in run.stdout
    summary = run.stdout.splitlines()
    assert "THE NEXT BUILD FAILS" in run.stdout
    assert [line.split()[1] for line in summary if line.startswith("  ") and "consent" in line] == [
        "lips-001",
        "lips-002",
        "brow-001",
        "lips-004",
    ]

    html = out.read_text()
    refs = ["P-10001", "P-10002", "P-10003", "P-10004"]
    for ref in refs:
        assert ref not in html, f"{ref} in the report"
    seen = _read_report(out)
    rows = {row["case"]: row for row in seen["rows"]}
    assert [row["case"] for row in seen["rows"]] == ["lips-001", "lips-002", "brow-001", "lips-004"], "expiring and removed first"
    assert {case_id: row["status"] for case_id, row in rows.items()} == {
        "lips-001": "expiring",
        "lips-002": "removed",
        "brow-001": "blocked",
        "lips-004": "published",
    }
    assert rows["lips-001"]["consent"] == "C-2026-0001" and "2026-12-03" in rows["lips-001"]["text"]
    assert "consent withdrawn on 2026-11-20" in rows["lips-002"]["text"] and "CG203" in rows["lips-002"]["text"]
    assert rows["lips-002"]["takedown"] == "done" and len(rows["lips-002"]["receipts"]) == 1
    assert "social" in rows["lips-002"]["text"], "the receipt's channels to follow up by hand"
    assert "CG208" in rows["brow-001"]["text"]
    assert "permits website, social" in rows["lips-004"]["text"]
    assert seen["build"] == "fails"
    for ref in refs:
        assert ref not in seen["text"]
    assert all(url.startswith(("file:", "data:")) for url in seen["requests"]), "the report is self-contained"

    # Thumbnails: processed JPEGs from the cache, never an original; none for removed or blocked cases.
    cache = project.root / ".cache" / "plugin" / "compliant-gallery"
    cached = {hashlib.sha256(p.read_bytes()).hexdigest() for p in cache.rglob("*.jpg")}
    originals = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (project.gallery / "photos").iterdir()}
    for case_id in ("lips-001", "lips-004"):
        images = rows[case_id]["images"]
        assert len(images) == 2 and all(image["loaded"] for image in images)
        for image in images:
            assert image["src"].startswith("data:image/jpeg;base64,")
            digest = hashlib.sha256(base64.b64decode(image["src"].split(",", 1)[1])).hexdigest()
            assert digest in cached and digest not in originals
    assert rows["lips-002"]["images"] == [] and rows["brow-001"]["images"] == []


def test_report_escapes_text_and_refuses_the_site_folders(project: Project) -> None:
    project.manifest["treatments"]["lip-filler"]["title"] = "Lip <script>alert(1)</script> filler"
    project.write()
    out = project.root / "report.html"
    run = cli(project.root, "report", "-o", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    html = out.read_text()
    assert "<script>" not in html and "Lip &lt;script&gt;alert(1)&lt;/script&gt; filler" in html
    inside = cli(project.root, "report", "-o", "docs/report.html")
    assert inside.returncode == 2 and "docs_dir" in inside.stderr
    assert not (project.root / "docs" / "report.html").exists()


def test_report_on_the_sample_site_after_a_withdrawal(sample: Path) -> None:
    assert run_build(sample / "mkdocs.yml").ok
    withdrawn = cli(sample, "withdraw", "C-2026-0101", "--received", "2026-11-22")
    assert withdrawn.returncode == 0, withdrawn.stdout + withdrawn.stderr
    run = cli(sample, "report")
    assert run.returncode == 0, run.stdout + run.stderr
    out = sample / ".compliance" / "report.html"
    html = out.read_text()
    register = yaml.safe_load((sample / "gallery" / "consents.yml").read_text())["consents"]
    for item in register:
        assert item["patient_ref"] not in html
    seen = _read_report(out)
    for item in register:
        assert item["patient_ref"] not in seen["text"]
    statuses = {row["case"]: row["status"] for row in seen["rows"]}
    assert statuses == {
        "lips-001": "removed",
        "lips-003": "removed",
        "brow-002": "removed",
        "lips-002": "published",
        "brow-001": "published",
        "skin-001": "published",
        "skin-002": "published",
        "smile-001": "published",
    }
    assert [row["case"] for row in seen["rows"]][:3] == ["lips-001", "lips-003", "brow-002"], "the latest removal first"
    takedowns = {row["case"]: row["takedown"] for row in seen["rows"] if row["status"] == "removed"}
    assert takedowns == {"lips-001": "pending", "lips-003": "not-needed", "brow-002": "not-needed"}
    assert "Rebuild and deploy now" in next(row["text"] for row in seen["rows"] if row["case"] == "lips-001")
    assert seen["build"] == "passes"
    assert "STILL ONLINE" in run.stdout


# -- packaging ----------------------------------------------------------------------------------------------


def test_pre_commit_hook_runs_check_on_gallery_changes() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "compliant-gallery-check")
    assert hook["entry"] == "compliant-gallery check" and hook["language"] == "python" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for path in (
        "gallery/manifest.yml",
        "gallery/consents.yml",
        "gallery/consents.csv",
        "gallery/approvals.yml",
        "gallery/photos/lips-001-before.jpg",
        "mkdocs.yml",
        # Not only a folder named photos/: the photo folder is wherever the plugin options say, named anything.
        "gallery/lips-001-before.jpg",
        "clinic/images/lips-002/after.heic",
        "gallery/before.JPG",
        "gallery/raw/lips-003.NEF",
        "records/releases-2026.csv",
        "site/mkdocs.yaml",
    ):
        assert files.search(path), path
    for suffix in PHOTO_SUFFIXES:  # every file the photo folder check (CG107) counts as a photo
        assert files.search(f"any/folder/name{suffix}") and files.search(f"name{suffix.upper()}"), suffix
    for path in ("docs/index.md", "README.md", "src/photo.py", "photos.txt"):
        assert not files.search(path), path


def test_the_command_runs_as_a_console_script() -> None:
    script = Path(sys.executable).parent / "compliant-gallery"
    if not script.exists():
        pytest.skip("the package is not installed with its console script in this environment")
    run = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0 and all(word in run.stdout for word in ("check", "report", "withdraw"))
