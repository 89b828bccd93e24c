"""Approval before publication: real builds of a clinic project, the approvals file as the CLI writes it, the
`approve` and `pending` commands as subprocesses, and the live preview (in-process and a real `mkdocs serve`).

Every other test module builds projects whose cases tests/helpers.py approves as written (the default path,
approved); here `approve_all` is off and a person approves through the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mkdocs_compliant_gallery.records.approvals import (
    ApprovalsWriteError,
    NewApproval,
    append_approvals,
    canonical,
    changes_between,
    load_approvals,
)
from tests.helpers import (
    HOST_CLI,
    Project,
    assert_nothing_published,
    cards_of,
    consent,
    free_port,
    http_get,
    run_build,
    wait_for,
)
from tests.photos import Planted

CLI = [sys.executable, "-m", "mkdocs_compliant_gallery"]
APPROVALS = "gallery/approvals.yml"


def cli(project: Project, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`compliant-gallery ARGS` run in the project's folder, as a clinic runs it."""
    return subprocess.run([*CLI, *args], cwd=project.root, input=stdin, capture_output=True, text=True, timeout=120)


def approve(project: Project, *args: str, by: str = "Dr Lee") -> subprocess.CompletedProcess[str]:
    done = cli(project, "approve", *args, "--by", by, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def log_records(project: Project) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (project.root / ".compliance" / "publications.jsonl").read_text().splitlines()]


def errors_of(log: str, code: str) -> dict[str, str]:
    """Case -> the error line (and its fix) of one code in a failed build's log."""
    found = {}
    for match in re.finditer(rf"^  (\S+ \(case ([\w.-]+)\)): {code} .*\n    fix: .*$", log, re.MULTILINE):
        found[match.group(2)] = match.group(0)
    return found


@pytest.fixture
def reviewed(project: Project) -> Project:
    """The clinic project with lips-001 cropped, every case approved as written; later writes approve nothing."""
    project.case("lips-001")["photos"][0]["crop"] = [10, 10, 280, 200]
    project.write()  # approves every case (tests/helpers.py)
    project.approve_all = False
    return project


# -- the gate in real builds ------------------------------------------------------------------------------------


def test_unapproved_cases_fail_the_build_then_publish_once_approved(project: Project) -> None:
    project.approve_all = False
    refused = project.build()
    assert not refused.ok
    blocked = errors_of(refused.log, "CG406")
    assert sorted(blocked) == ["brow-001", "lips-001", "lips-002"], refused.log
    assert re.search(r"gallery/manifest\.yml:\d+ \(case lips-001\)", blocked["lips-001"])
    assert f"{APPROVALS} holds no approval of case lips-001" in blocked["lips-001"]
    assert "compliant-gallery approve lips-001 --by <your name>" in blocked["lips-001"]
    assert_nothing_published(refused.site, project.root)

    waiting = cli(project, "pending")
    assert waiting.returncode == 1 and "3 cases wait for approval" in waiting.stdout
    assert "lips-001: never approved" in waiting.stdout and "caption: Caption of lips-001." in waiting.stdout
    done = approve(project, "--all-pending", "--note", "first review")
    assert re.search(rf"Approved: lips-001 by Dr Lee \(digest [0-9a-f]{{12}}\.\.\.\), {APPROVALS}:\d+", done.stdout)
    assert cli(project, "pending").returncode == 0

    built = project.build()
    assert built.ok, built.log
    assert list(cards_of(built.site / "gallery" / "index.html")) == ["lips-001", "lips-002", "brow-001"]
    assert "approvals.yml" not in built.site_text() and not list(built.site.rglob("approvals.yml"))
    record = log_records(project)[-1]
    assert record["approval"] == {"mode": "required", "file": APPROVALS, "approvers": []}
    entries = {entry["case"]: entry for entry in yaml.safe_load((project.root / APPROVALS).read_text())["approvals"]}
    for published in record["published"]:
        approval = published["approval"]
        assert approval["by"] == "Dr Lee" and approval["note"] == "first review"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", approval["at"])
        assert approval["digest"] == entries[published["case"]]["digest"]

    report = cli(project, "report")
    assert report.returncode == 0, report.stderr
    assert re.search(r"published\s+lips-001 .*approved by Dr Lee on \d{4}-\d\d-\d\d \d\d:\d\d UTC", report.stdout)
    html = (project.root / ".compliance" / "report.html").read_text()
    assert 'data-field="published-under">approved by Dr Lee on' in html


def _caption(project: Project) -> None:
    project.case("lips-001")["caption"] = "Softer volume after one session."


def _alt(project: Project) -> None:
    project.case("lips-001")["photos"][0]["after"]["alt"] = "Lips after one session, seen from the front"


def _box(project: Project) -> None:
    project.case("lips-001")["photos"][0]["crop"] = [20, 10, 280, 200]


def _photo_bytes(project: Project) -> None:
    project.photo("lips-001-after.jpg", seed=9, planted=Planted(taken="2026:02:10 10:00:00"))


def _typical_results(project: Project) -> None:
    project.manifest["treatments"]["lip-filler"]["typical_results"] = "Most patients see fuller lips for 4 to 9 months."


def _consent_swap(project: Project) -> None:
    project.consents.append(consent("C-2026-0009", "lips-001", "P-10009"))
    project.case("lips-001")["consent"] = "C-2026-0009"


CHANGES: list[tuple[Callable[[Project], None], str, list[str]]] = [
    (_caption, "caption changed", ["lips-001"]),
    (_alt, "alt text of the after photo (view front) changed", ["lips-001"]),
    (_box, "crop box (view front) changed", ["lips-001"]),
    (_photo_bytes, "photo photos/lips-001-after.jpg replaced", ["lips-001"]),
    (_typical_results, "typical results text of treatment lip-filler changed", ["lips-001", "lips-002"]),
    (_consent_swap, "consent changed from C-2026-0001 to C-2026-0009", ["lips-001"]),
]


@pytest.mark.parametrize(
    ("change", "named", "cases"), CHANGES, ids=["caption", "alt-text", "box", "photo-bytes", "typical-results", "consent-swap"]
)
def test_each_change_blocks_the_case_with_the_change_named_until_approved_again(
    reviewed: Project, change: Callable[[Project], None], named: str, cases: list[str]
) -> None:
    intact = reviewed.build()
    assert intact.ok, intact.log
    change(reviewed)
    refused = reviewed.build()
    assert not refused.ok
    blocked = errors_of(refused.log, "CG406")
    assert sorted(blocked) == sorted(cases), refused.log
    for case_id in cases:
        assert "changed since it was approved by Test Reviewer on " in blocked[case_id]
        assert named in blocked[case_id], blocked[case_id]
        assert f"compliant-gallery approve {case_id} --by <your name>" in blocked[case_id]
    assert_nothing_published(refused.site, reviewed.root)

    shown = approve(reviewed, *cases)
    assert f"{cases[0]}: changed since approved by Test Reviewer on" in shown.stdout and f"  - {named}" in shown.stdout
    built = reviewed.build()
    assert built.ok, built.log
    assert sorted(cards_of(built.site / "gallery" / "index.html")) == ["brow-001", "lips-001", "lips-002"]
    logged = {entry["case"]: entry["approval"]["by"] for entry in log_records(reviewed)[-1]["published"]}
    assert logged == {case_id: "Dr Lee" if case_id in cases else "Test Reviewer" for case_id in logged}
    assert sorted(logged) == ["brow-001", "lips-001", "lips-002"]


def test_a_withdrawal_needs_no_approval(reviewed: Project) -> None:
    """Expiry and withdrawal are not in what an approval covers: they take the case down whatever was approved."""
    reviewed.consent("C-2026-0001")["revoked_on"] = "2026-11-01"
    built = reviewed.build()
    assert built.ok, built.log
    assert "lips-001" not in cards_of(built.site / "gallery" / "index.html")
    assert "CG406" not in built.log


def test_approval_off_publishes_with_a_warning_and_the_log_says_so(project: Project) -> None:
    project.approve_all = False
    project.options["approval"] = "off"
    config_file = project.write()
    # Written as a clinic writes it: YAML reads a bare `off` as false, which means the same.
    config_file.write_text(config_file.read_text().replace("approval: 'off'", "approval: off"))
    assert "approval: off\n" in config_file.read_text()
    built = run_build(config_file)
    assert built.ok, built.log
    assert built.log.count("approval is off: cases are published without anyone approving what goes live") == 1
    record = log_records(project)[-1]
    assert record["approval"] == {"mode": "off"}
    assert [entry["approval"] for entry in record["published"]] == [None, None, None]
    again = run_build(config_file)
    assert again.ok and "approval is off" in again.log, "said on every build"


def test_the_approval_option_takes_required_or_off() -> None:
    from mkdocs.config.base import ValidationError

    from mkdocs_compliant_gallery.hosts.mkdocs.config import ApprovalMode

    option = ApprovalMode("required")
    assert [option.run_validation(value) for value in ("required", "off", " Off ", False, True)] == [
        "required",
        "off",
        "off",
        "off",
        "required",
    ]
    with pytest.raises(ValidationError, match="expected 'required' or 'off'"):
        option.run_validation("later")


def test_only_the_listed_approvers_may_approve(project: Project) -> None:
    project.approve_all = False
    project.options["approvers"] = ["Dr Lee", "Dr Ng"]
    project.write()
    refused = cli(project, "approve", "lips-001", "--by", "Dr Smith", "--yes")
    assert refused.returncode == 2
    assert "'Dr Smith' may not approve cases: the approvers in mkdocs.yml are Dr Lee, Dr Ng" in refused.stderr
    assert not (project.root / APPROVALS).exists()
    approve(project, "--all-pending", by="Dr Ng")
    assert project.build().ok

    # An approval written by hand in someone else's name: its digest still matches its content, its approver does not.
    approvals = project.root / APPROVALS
    text = approvals.read_text()
    first = text.index('by: "Dr Ng"')
    approvals.write_text(text[:first] + 'by: "Dr Smith"' + text[first + len('by: "Dr Ng"') :])
    line = text[:first].count("\n") + 1
    refused_build = project.build()
    assert not refused_build.ok
    assert re.search(
        rf"{APPROVALS}:{line - 1} \(approval of lips-001\): CG112 \[case lips-001\] case lips-001 was approved by 'Dr Smith'",
        refused_build.log,
    )
    assert "who is not among the approvers in mkdocs.yml (Dr Lee, Dr Ng)" in refused_build.log
    assert sorted(errors_of(refused_build.log, "CG406")) == ["lips-001"], "only that case loses its approval"
    assert_nothing_published(refused_build.site, project.root)


# -- bad approvals files in real builds --------------------------------------------------------------------------


def _truncate(text: str) -> str:
    return text[: text.rindex("content:") + 60]


def _not_hex(text: str) -> str:
    return re.sub(r'digest: "[0-9a-f]{64}"', 'digest: "not-a-sha256"', text, count=1)


def _edited_content(text: str) -> str:
    return text.replace("Caption of lips-001.", "Caption of lips-001, better.", 1)


def _unknown_case(text: str) -> str:
    return text.replace('case: "brow-001"', 'case: "brow-009"', 1)


BAD_FILES: list[tuple[Callable[[str], str], str, str, bool]] = [
    (_truncate, "CG109", "is not valid YAML", True),
    (_not_hex, "CG103", "digest 'not-a-sha256' is not a SHA-256 (64 lower-case hex digits)", True),
    (_edited_content, "CG113", "does not match the content recorded with it", True),
    (_unknown_case, "CG112", "approves case 'brow-009', which is not in the manifest", False),
]


@pytest.mark.parametrize(("damage", "code", "message", "approves_nothing"), BAD_FILES, ids=[row[1] for row in BAD_FILES])
def test_a_damaged_approvals_file_is_an_error_with_its_line_and_approves_nothing(
    reviewed: Project, damage: Callable[[str], str], code: str, message: str, approves_nothing: bool
) -> None:
    config_file = reviewed.write()
    approvals = reviewed.root / APPROVALS
    approvals.write_text(damage(approvals.read_text()))
    result = run_build(config_file)
    assert not result.ok
    located = re.search(rf"{APPROVALS}:(\d+)[^\n]*: {code} [^\n]*{re.escape(message)}[^\n]*\n    fix: \S", result.log)
    assert located, result.log
    assert int(located.group(1)) > 1
    blocked = errors_of(result.log, "CG406")
    if approves_nothing:
        assert sorted(blocked) == ["brow-001", "lips-001", "lips-002"]
        assert "a damaged approvals file approves nothing" in blocked["lips-001"]
    else:
        assert sorted(blocked) == ["brow-001"], "an approval of an unknown case spoils only itself"
    assert_nothing_published(result.site, reviewed.root)


def test_the_approvals_file_is_kept_out_of_the_site(project: Project) -> None:
    project.options["approvals"] = "docs/approvals.yml"
    built = project.build()
    assert built.ok, built.log
    assert not list(built.site.rglob("approvals.yml"))
    # Copied into the site behind the plugin's back, the guard recognises its bytes (CG602).
    hook = project.root / "hooks" / "copy.py"
    hook.parent.mkdir()
    hook.write_text(
        "import shutil\nfrom pathlib import Path\n\n\ndef on_post_build(config):\n"
        "    shutil.copyfile(Path(config.config_file_path).parent / 'docs' / 'approvals.yml', Path(config.site_dir) / 'notes.txt')\n"
    )
    config_file = project.write()
    config = yaml.safe_load(config_file.read_text())
    config["hooks"] = ["hooks/copy.py"]
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    copied = run_build(config_file)
    assert not copied.ok
    assert re.search(r"CG602 .*docs/approvals\.yml", copied.log), copied.log


# -- the CLI ----------------------------------------------------------------------------------------------------


def test_approve_shows_the_change_asks_and_appends_keeping_the_file(reviewed: Project) -> None:
    approvals = reviewed.root / APPROVALS
    approvals.write_text("# Reviewed weekly by the clinic's marketing lead.\n" + approvals.read_text())
    _caption(reviewed)
    reviewed.write()
    before = approvals.read_bytes()

    waiting = cli(reviewed, "pending")
    assert waiting.returncode == 1
    assert "lips-001: changed since approved by Test Reviewer on" in waiting.stdout
    assert "  - caption changed\n      was: Caption of lips-001.\n      now: Softer volume after one session." in waiting.stdout
    assert "approve: compliant-gallery approve lips-001 --by <your name>" in waiting.stdout
    assert "1 case waits for approval, 2 approved as they are" in waiting.stdout

    no_answer = cli(reviewed, "approve", "lips-001", "--by", "Dr Lee")
    assert no_answer.returncode == 2 and "pass --yes to approve from a script" in no_answer.stderr
    declined = cli(reviewed, "approve", "lips-001", "--by", "Dr Lee", stdin="n\n")
    assert declined.returncode == 1 and "Nothing was approved." in declined.stdout
    unknown = cli(reviewed, "approve", "lips-01", "--by", "Dr Lee", "--yes")
    assert unknown.returncode == 2 and "no case 'lips-01'; did you mean 'lips-001'?" in unknown.stderr
    assert approvals.read_bytes() == before, "nothing was written"

    accepted = cli(reviewed, "approve", "lips-001", "lips-002", "--by", "Dr Lee", "--note", "new caption checked", stdin="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "lips-002: approved by Test Reviewer on" in accepted.stdout and "unchanged; nothing to do" in accepted.stdout
    assert "Approve 1 case as Dr Lee, exactly as shown? [y/N]" in accepted.stdout
    after = approvals.read_bytes()
    assert after.startswith(before), "earlier approvals and comments are kept byte for byte"
    added = yaml.safe_load("approvals:\n" + after[len(before) :].decode())
    assert [entry["case"] for entry in added["approvals"]] == ["lips-001"]
    assert added["approvals"][0]["note"] == "new caption checked"
    assert cli(reviewed, "pending").returncode == 0
    assert reviewed.build().ok


def test_approve_all_pending_and_nothing_to_do(reviewed: Project) -> None:
    nothing = cli(reviewed, "approve", "--all-pending", "--by", "Dr Lee", "--yes")
    assert nothing.returncode == 0 and "Nothing waits for approval." in nothing.stdout
    neither = cli(reviewed, "approve", "--by", "Dr Lee", "--yes")
    assert neither.returncode == 2 and "name the cases to approve, or pass --all-pending" in neither.stderr
    both = cli(reviewed, "approve", "lips-001", "--all-pending", "--by", "Dr Lee", "--yes")
    assert both.returncode == 2 and "(not both)" in both.stderr
    reviewed.consent("C-2026-0003")["revoked_on"] = "2026-11-01"
    _caption(reviewed)
    reviewed.write()
    removed = cli(reviewed, "approve", "brow-001", "--by", "Dr Lee", "--yes")
    assert "brow-001: removed from the site: consent withdrawn on 2026-11-01 (CG203); it needs no approval" in removed.stdout
    everything = approve(reviewed, "--all-pending")
    assert "Approved: lips-001" in everything.stdout and "brow-001" not in everything.stdout.split("Approved:", 1)[1]


# -- the live preview ---------------------------------------------------------------------------------------------


def test_the_preview_shows_a_changed_case_as_a_panel_until_it_is_approved(reviewed: Project) -> None:
    _caption(reviewed)
    config_file = reviewed.write()
    preview = run_build(config_file, command="serve")
    assert preview.ok, preview.log
    page = (preview.site / "lips" / "index.html").read_text()
    panel = page.split('data-cg-preview-case="lips-001"')[1].split("</aside>")[0]
    assert "CG406" in panel and "caption changed" in panel
    assert "compliant-gallery approve lips-001 --by &lt;your name&gt;" in panel
    assert 'data-cg-case="lips-001"' not in page and 'data-cg-case="lips-002"' in page
    approve(reviewed, "lips-001")
    again = run_build(config_file, command="serve")
    assert again.ok
    page = (again.site / "lips" / "index.html").read_text()
    assert 'data-cg-case="lips-001"' in page and "Softer volume after one session." in page
    assert 'data-cg-preview-case="lips-001"' not in page


@pytest.mark.host
@pytest.mark.xdist_group("serve")
def test_mkdocs_serve_publishes_a_case_once_it_is_approved_without_a_restart(reviewed: Project) -> None:
    _caption(reviewed)
    reviewed.write()
    port = free_port()
    page_url = f"http://127.0.0.1:{port}/lips/"
    server = subprocess.Popen(
        [*HOST_CLI, "serve", "-a", f"127.0.0.1:{port}"], cwd=reviewed.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert wait_for(lambda: http_get(page_url)[0] == 200, 90), "the preview was not served"
        page = http_get(page_url)[1]
        assert 'data-cg-preview-case="lips-001"' in page and "caption changed" in page
        assert 'data-cg-case="lips-001"' not in page
        approve(reviewed, "lips-001")
        approved_at = time.monotonic()
        assert wait_for(lambda: 'data-cg-case="lips-001"' in http_get(page_url)[1], 60), "the approved case was not rendered"
        shown_in = time.monotonic() - approved_at
        page = http_get(page_url)[1]
        assert "Softer volume after one session." in page and 'data-cg-preview-case="lips-001"' not in page
        assert server.poll() is None, "the same server, not a restart"
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert shown_in < 30
    assert "fixed: lips-001 CG406" in output, output


# -- the file format, without a build -----------------------------------------------------------------------------


def test_photo_digests_are_the_sha256_of_the_files(reviewed: Project) -> None:
    import hashlib

    entry = next(e for e in yaml.safe_load((reviewed.root / APPROVALS).read_text())["approvals"] if e["case"] == "lips-001")
    content = json.loads(entry["content"])
    photo = reviewed.gallery / "photos" / "lips-001-after.jpg"
    assert content["photos"]["photos/lips-001-after.jpg"] == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert entry["digest"] == hashlib.sha256(entry["content"].encode()).hexdigest()
    assert content["consent"]["id"] == "C-2026-0001" and content["treatment"]["typical_results"].startswith("Most patients")
    assert "P-10001" not in entry["content"], "the patient_ref is not part of what an approval covers"


def _one_approval(folder: Path, case_id: str = "lips-001", by: str = "Dr Lee", caption: str = "A caption.") -> Path:
    """An approvals file with one approval, written by the module the CLI writes with."""
    path = folder / "approvals.yml"
    document = {"version": 1, "case": {"id": case_id, "caption": caption}, "photos": {}, "treatment": None, "consent": None}
    moment = dt.datetime(2026, 11, 20, 14, 3, 11, tzinfo=dt.timezone.utc)
    append_approvals(path, "gallery/approvals.yml", [NewApproval(case_id, by, moment, canonical(document))])
    return path


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BROKEN: list[tuple[str, Callable[[str], str], str, str]] = [
    ("unknown key", lambda t: _edit(t, "    by:", "    approver: x\n    by:"), "CG101", "unknown key 'approver'"),
    ("missing name", lambda t: _edit(t, '    by: "Dr Lee"\n', ""), "CG102", "'by' is required"),
    ("empty", lambda t: "", "CG102", "the approvals file is empty"),
    ("no list", lambda t: "approved: []\n", "CG102", "needs a top-level 'approvals:' list"),
    ("not a list", lambda t: "approvals: {lips-001: yes}\n", "CG103", "'approvals' must be a list"),
    ("entry not a mapping", lambda t: "approvals:\n  - lips-001\n", "CG103", "each approval must be a mapping"),
    ("time without zone", lambda t: _edit(t, '"2026-11-20T14:03:11Z"', '"2026-11-20T14:03:11"'), "CG103", "'at' must be a UTC time"),
    ("time not a time", lambda t: _edit(t, '"2026-11-20T14:03:11Z"', "yesterday"), "CG103", "'at' must be a UTC time"),
    ("digest cut", lambda t: re.sub(r'(digest: "[0-9a-f]{20})[0-9a-f]+"', r'\1"', t), "CG103", "is not a SHA-256"),
    (
        "digest upper case",
        lambda t: re.sub(r'digest: "([0-9a-f]{64})"', lambda m: f'digest: "{m.group(1).upper()}"', t),
        "CG103",
        "is not a SHA-256",
    ),
    ("content cut", lambda t: _edit(t, "caption", "'\n    x: '"), "CG103", "is not the JSON document of a case"),
    ("content edited", lambda t: _edit(t, "A caption.", "A better caption."), "CG113", "does not match the content recorded with it"),
    ("duplicate key", lambda t: _edit(t, "    by:", '    by: "Dr Ng"\n    by:'), "CG104", "duplicate key 'by'"),
    ("syntax", lambda t: _edit(t, "    by:", "    by: [unclosed\n    x:"), "CG109", "is not valid YAML"),
]


@pytest.mark.parametrize(("name", "damage", "code", "message"), BROKEN, ids=[row[0] for row in BROKEN])
def test_each_damage_to_the_file_is_named_with_its_line_and_approves_nothing(
    tmp_path: Path, name: str, damage: Callable[[str], str], code: str, message: str
) -> None:
    path = _one_approval(tmp_path)
    path.write_text(damage(path.read_text()))
    loaded = load_approvals(path, "gallery/approvals.yml", ["lips-001"])
    found = [v for v in loaded.violations if v.code == code and message in v.message]
    assert found, [v.format() for v in loaded.violations]
    assert found[0].where.file == "gallery/approvals.yml" and found[0].where.line >= 1 and found[0].fix
    assert loaded.damaged, "a damaged file approves nothing"


def test_unknown_cases_and_approvers_spoil_only_their_entries(tmp_path: Path) -> None:
    path = _one_approval(tmp_path, "lips-009")
    loaded = load_approvals(path, "gallery/approvals.yml", ["lips-001", "lips-002"])
    assert [(v.code, v.where.line) for v in loaded.violations] == [("CG112", 7)]
    assert "did you mean 'lips-002'?" in loaded.violations[0].fix and not loaded.damaged
    path = _one_approval(tmp_path / "other", by="Dr Smith")
    loaded = load_approvals(path, "gallery/approvals.yml", ["lips-001"], ("Dr Lee",))
    assert [v.code for v in loaded.violations] == ["CG112"] and "'Dr Smith'" in loaded.violations[0].message
    # Approvals that are no longer in force are history: only the latest approval of a case must be by an approver.
    document = {"version": 1, "case": {"id": "lips-001"}, "photos": {}, "treatment": None, "consent": None}
    later = NewApproval("lips-001", "Dr Lee", dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc), canonical(document))
    append_approvals(path, "gallery/approvals.yml", [later])
    loaded = load_approvals(path, "gallery/approvals.yml", ["lips-001"], ("Dr Lee",))
    assert not loaded.violations and loaded.latest()["lips-001"].by == "Dr Lee"


def test_appending_keeps_the_text_and_reads_back_exactly(tmp_path: Path) -> None:
    path = _one_approval(tmp_path)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    before = path.read_bytes()
    tricky = 'Dr "Zoë" O\'Neil \U0001f600 \\ end'
    caption = "It's \u2028 \U0001f600 'quoted' \"double\""
    document = {"version": 1, "case": {"id": "lips-002", "caption": caption}, "photos": {}, "treatment": None, "consent": None}
    lines = append_approvals(
        path, "gallery/approvals.yml", [NewApproval("lips-002", tricky, dt.datetime.now(dt.timezone.utc), canonical(document), "note: #1")]
    )
    after = path.read_bytes()
    assert after.startswith(before) and b"\r\n" in after[len(before) :] and b"\n" not in after[len(before) :].replace(b"\r\n", b"")
    loaded = load_approvals(path, "gallery/approvals.yml", ["lips-001", "lips-002"])
    assert not loaded.violations
    entry = loaded.latest()["lips-002"]
    assert (entry.by, entry.note, entry.document()["case"]["caption"]) == (tricky, "note: #1", caption)
    assert entry.where.line == lines[0] == 12  # 5 header lines, 'approvals:', then 5 lines of the first entry


@pytest.mark.parametrize(
    ("text", "appendable"),
    [
        ("approvals: []\n", True),
        ("# kept\napprovals:\n", True),
        ("# only a comment\n", True),
        ("approvals: [{case: lips-001}]\n", False),
        ("approvals:\n  - case: lips-001\nextra: 1\n", False),
    ],
)
def test_appending_to_other_shapes_of_the_file(tmp_path: Path, text: str, appendable: bool) -> None:
    path = tmp_path / "approvals.yml"
    path.write_text(text)
    document = {"version": 1, "case": {"id": "lips-002"}, "photos": {}, "treatment": None, "consent": None}
    new = [NewApproval("lips-002", "Dr Lee", dt.datetime.now(dt.timezone.utc), canonical(document))]
    if not appendable:
        with pytest.raises(ApprovalsWriteError):
            append_approvals(path, "gallery/approvals.yml", new)
        assert path.read_text() == text, "left as it was"
        return
    append_approvals(path, "gallery/approvals.yml", new)
    assert path.read_text().startswith(text.replace("approvals: []\n", "approvals:\n"))
    assert [e.case for e in load_approvals(path, "gallery/approvals.yml", ["lips-002"]).entries] == ["lips-002"]


def test_changes_are_told_in_the_words_of_the_manifest() -> None:
    def doc(**parts: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "version": 1,
            "case": {"id": "c", "consent": "C-1", "patient_ref": "P-1", "photos": [{"view": "front", "before": {"src": "a.jpg"}}]},
            "photos": {"a.jpg": "1" * 64},
            "treatment": {"key": "t", "title": "T", "typical_results": "r", "risks": None},
            "consent": {"id": "C-1", "channels": {"permit": ["website"], "deny": []}},
        }
        base.update(parts)
        return base

    old = doc()
    new = doc(
        case={"id": "c", "consent": "C-9", "patient_ref": "P-2", "photos": [{"view": "left", "before": {"src": "a.jpg"}}]},
        consent=None,
    )
    told = changes_between(old, new)
    assert [c.summary for c in told] == [
        "patient_ref changed",
        "view 'front' removed",
        "view 'left' added",
        "consent changed from C-1 to C-9 (not in the register)",
    ]
    assert told[0].was == told[0].now == "", "a patient_ref is named, never shown"
    assert [c.summary for c in changes_between(old, doc(consent={"id": "C-1", "channels": {"permit": ["website", "social"]}}))] == [
        "channels of consent C-1 changed"
    ]
    assert [c.summary for c in changes_between(old, doc(photos={"a.jpg": None}))] == ["photo a.jpg can no longer be read"]
    assert "older format" in changes_between({**old, "version": 0}, old)[0].summary
    assert changes_between(old, doc()) == []
