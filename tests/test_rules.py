"""Every rule: this input must fail the build with this code, at this file and line, leaving no gallery behind."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.helpers import Project, assert_nothing_published
from tests.photos import Planted

Mutation = Callable[[Project], None]


def _set(path: str, value: object, target: str = "consent", ident: str = "C-2026-0001") -> Mutation:
    """A mutation that sets a (dotted) field of one consent or case; None deletes it."""

    def mutate(project: Project) -> None:
        record = project.consent(ident) if target == "consent" else project.case(ident)
        *parents, leaf = path.split(".")
        for key in parents:
            record = record.setdefault(key, {})
        if value is None:
            record.pop(leaf, None)
        else:
            record[leaf] = value

    return mutate


def _case(path: str, value: object, ident: str = "lips-001") -> Mutation:
    return _set(path, value, "case", ident)


def _pair(key: str, value: object) -> Mutation:
    def mutate(project: Project) -> None:
        project.case("lips-001")["photos"][0][key] = value

    return mutate


def _src(which: str, src: str) -> Mutation:
    def mutate(project: Project) -> None:
        project.case("lips-001")["photos"][0][which]["src"] = src

    return mutate


def _drop_alt(project: Project) -> None:
    del project.case("lips-001")["photos"][0]["before"]["alt"]


def _page(text: str) -> Mutation:
    def mutate(project: Project) -> None:
        project.pages["extra.md"] = f"# Extra\n\nSome text.\n\n{text}\n"

    return mutate


def _symlink_out(project: Project) -> None:
    outside = project.root.parent / "elsewhere.jpg"
    outside.write_bytes((project.gallery / "photos" / "lips-001-before.jpg").read_bytes())
    link = project.gallery / "photos" / "linked.jpg"
    link.symlink_to(outside)
    project.case("lips-001")["photos"][0]["before"]["src"] = "photos/linked.jpg"


def _unlisted(project: Project) -> None:
    project.photo("forgotten-patient.jpg", seed=9)


def _truncated(project: Project) -> None:
    path = project.gallery / "photos" / "lips-001-after.jpg"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _svg(project: Project) -> None:
    path = project.gallery / "photos" / "lips-001-after.jpg"
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')


def _edited(project: Project) -> None:
    project.photo(
        "lips-001-after.jpg", seed=4, planted=Planted(software="Adobe Photoshop Lightroom Classic 13.0", taken="2026:02:10 10:00:00")
    )


def _swapped_dates(project: Project) -> None:
    project.photo("lips-001-after.jpg", seed=4, planted=Planted(taken="2025:12:01 09:00:00"))


def _other_shape(project: Project) -> None:
    project.photo("lips-001-after.jpg", seed=4, size=(320, 320), planted=Planted(taken="2026:02:10 10:00:00"))


def _duplicate_case(project: Project) -> None:
    project.manifest["cases"].append(dict(project.case("lips-001")))


def _duplicate_consent(project: Project) -> None:
    twin = dict(project.consent("C-2026-0001"))
    twin["patient_ref"] = "P-99999"
    project.consents.append(twin)


def _duplicate_yaml_key(project: Project) -> None:
    project.write()
    text = (project.gallery / "manifest.yml").read_text()
    project.manifest_text = text.replace("  sessions: 1\n", "  sessions: 1\n  sessions: 2\n", 1)


def _broken_yaml(project: Project) -> None:
    project.write()
    text = (project.gallery / "consents.yml").read_text()
    project.consents_text = text.replace("  signer: patient\n", "  signer: [patient\n", 1)


def _register_missing(project: Project) -> None:
    project.options["consents"] = "gallery/nowhere.yml"


def _register_wrong_format(project: Project) -> None:
    (project.gallery).mkdir(parents=True, exist_ok=True)
    (project.gallery / "consents.txt").write_text("C-2026-0001 ok\n")
    project.options["consents"] = "gallery/consents.txt"


def _csv_unknown_column(project: Project) -> None:
    project.consents_name = "consents.csv"
    header = "id,patient_ref,signed_on,signer,expires_on,channels.permit,purposes,scope.cases,allows.face,statements.revocation,statements.conditioning,statements.redisclosure,material_connection,third_party_remuneration,irrevocable,chanels.deny\n"
    rows = "".join(
        f"C-2026-000{n},P-1000{n},2026-03-02,patient,2028-03-02,website;social,marketing,{c},false,true,true,true,none,false,false,paid_ads\n"
        for n, c in ((1, "lips-001"), (2, "lips-002"), (3, "brow-001"))
    )
    project.consents_text = header + rows


def _no_typical_results(project: Project) -> None:
    del project.manifest["treatments"]["lip-filler"]["typical_results"]


def _vague_typical_results(project: Project) -> None:
    project.manifest["treatments"]["lip-filler"]["typical_results"] = "Results may vary."


def _revoked(project: Project) -> None:
    project.options["on_withdrawn"] = "fail"
    project.consent("C-2026-0001")["revoked_on"] = "2026-11-01"


def _expired(project: Project) -> None:
    project.options["on_withdrawn"] = "fail"
    project.consent("C-2026-0001")["expires_on"] = "2026-11-22"


REGISTER = "gallery/consents.yml"
MANIFEST = "gallery/manifest.yml"

CASES: list[tuple[str, Mutation, str, str]] = [
    # (name, mutation, code, file the error must point at with a line number)
    ("case without consent", _case("consent", None), "CG201", MANIFEST),
    ("unknown consent id", _case("consent", "C-2099-0001"), "CG201", MANIFEST),
    ("channel not permitted", _set("channels", {"permit": ["social"]}), "CG202", REGISTER),
    ("channel denied", _set("channels", {"permit": ["website"], "deny": ["website"]}), "CG202", REGISTER),
    ("revoked, on_withdrawn fail", _revoked, "CG203", REGISTER),
    ("expired, on_withdrawn fail", _expired, "CG204", REGISTER),
    ("superseded", _set("superseded_by", "C-2026-0009"), "CG205", REGISTER),
    ("no signed date", _set("signed_on", None), "CG206", REGISTER),
    ("no expiry", _set("expires_on", None), "CG206", REGISTER),
    ("statement missing", _set("statements.redisclosure", False), "CG206", REGISTER),
    ("representative without authority", _set("signer", "representative"), "CG206", REGISTER),
    ("third party pays, undisclosed", _set("third_party_remuneration", True), "CG206", REGISTER),
    ("irrevocable", _set("irrevocable", True), "CG207", REGISTER),
    ("scope names another case", _set("scope", {"cases": ["lips-002"]}), "CG208", REGISTER),
    ("educational purpose only", _set("purposes", ["education"]), "CG208", REGISTER),
    ("no scope", _set("scope", None), "CG208", REGISTER),
    ("image outside image scope", _set("scope", {"images": ["photos/lips-001-before.jpg"]}), "CG208", MANIFEST),
    ("face shown, not allowed", _case("shows.face", True), "CG209", MANIFEST),
    ("marks shown, not allowed", _case("shows.distinctive_marks", True), "CG209", MANIFEST),
    ("testimonial not allowed", _case("testimonial", "I love my new lips, the team was kind."), "CG209", MANIFEST),
    ("signed in the future", _set("signed_on", "2026-12-01"), "CG210", REGISTER),
    ("unknown consent key", _set("chanels", {"permit": ["website"]}), "CG101", REGISTER),
    ("unknown case key", _case("captoin", "typo"), "CG101", MANIFEST),
    ("unknown photo key", _pair("crpo", [0, 0, 10, 10]), "CG101", MANIFEST),
    ("missing shows", _case("shows", None), "CG102", MANIFEST),
    ("missing alt text", _drop_alt, "CG102", MANIFEST),
    ("sessions not a number", _case("sessions", "many"), "CG103", MANIFEST),
    ("look-alike id", _case("id", "lips-00\u0031\u200b"), "CG103", MANIFEST),
    ("id with trailing space", _set("id", "C-2026-0001 "), "CG103", REGISTER),
    ("bad edit kind", _pair("edits", ["liquify"]), "CG103", MANIFEST),
    ("bad crop box", _pair("crop", [0, 0, -5, 10]), "CG103", MANIFEST),
    ("bad signer", _set("signer", "nurse"), "CG103", REGISTER),
    ("duplicate case id", _duplicate_case, "CG104", MANIFEST),
    ("duplicate consent id", _duplicate_consent, "CG104", REGISTER),
    ("duplicate YAML key", _duplicate_yaml_key, "CG104", MANIFEST),
    ("missing photo", _src("after", "photos/nope.jpg"), "CG105", MANIFEST),
    ("path with ..", _src("after", "../photos/lips-001-after.jpg"), "CG106", MANIFEST),
    ("absolute path", _src("after", "/etc/passwd"), "CG106", MANIFEST),
    ("windows separators", _src("after", "photos\\lips-001-after.jpg"), "CG106", MANIFEST),
    ("symlink out of project", _symlink_out, "CG106", MANIFEST),
    ("unlisted photo in photo folder", _unlisted, "CG107", "gallery/photos/forgotten-patient.jpg"),
    ("directive names unknown case", _page("<!-- compliant-gallery case=lips-999 -->"), "CG108", "docs/extra.md"),
    ("directive names unknown treatment", _page("<!-- compliant-gallery treatment=nose-job -->"), "CG108", "docs/extra.md"),
    ("directive argument misspelt", _page("<!-- compliant-gallery cases=lips-001 -->"), "CG108", "docs/extra.md"),
    ("malformed YAML", _broken_yaml, "CG109", REGISTER),
    ("case names unknown treatment", _case("treatment", "nose-job"), "CG110", MANIFEST),
    ("register missing", _register_missing, "CG105", "gallery/nowhere.yml"),
    ("register in an unknown format", _register_wrong_format, "CG103", "gallery/consents.txt"),
    ("CSV register with a misspelt column", _csv_unknown_column, "CG101", "gallery/consents.csv"),
    ("truncated photo", _truncated, "CG301", MANIFEST),
    ("SVG posing as a photo", _svg, "CG303", MANIFEST),
    ("undeclared editing software", _edited, "CG304", MANIFEST),
    ("before and after of different shape", _other_shape, "CG305", MANIFEST),
    ("after taken before before", _swapped_dates, "CG306", MANIFEST),
    ("crop outside the photo", _pair("crop", [100, 100, 300, 200]), "CG307", MANIFEST),
    ("treatment without typical results", _no_typical_results, "CG401", MANIFEST),
    ("results may vary only", _vague_typical_results, "CG402", MANIFEST),
    ("material connection without text", _set("material_connection", "yes"), "CG403", REGISTER),
    ("guarantee language", _case("caption", "Guaranteed results, completely painless."), "CG405", MANIFEST),
]


@pytest.mark.parametrize(("name", "mutate", "code", "where"), CASES, ids=[c[0] for c in CASES])
def test_input_fails_with_code(project: Project, name: str, mutate: Mutation, code: str, where: str) -> None:
    mutate(project)
    result = project.build()
    assert not result.ok, f"{name}: the build passed\n{result.log}"
    lines = [line for line in result.log.splitlines() if re.search(rf"\b{code}\b", line)]
    assert lines, f"{name}: {code} not reported\n{result.log}"
    pattern = re.escape(where) + r"(:\d+)?"
    assert any(re.search(pattern, line) for line in lines), f"{name}: {code} does not point at {where}\n{result.log}"
    if where in (MANIFEST, REGISTER):
        assert any(re.search(re.escape(where) + r":\d+", line) for line in lines), f"{name}: no line number\n{result.log}"
    fix_lines = [line for line in result.log.splitlines() if line.strip().startswith("fix:")]
    assert fix_lines, f"{name}: no fix is suggested\n{result.log}"
    assert_nothing_published(result.site, project.root)


def test_every_error_is_reported_in_one_pass(project: Project) -> None:
    """A designer fixes everything at once: independent problems in both files all appear, sorted."""
    project.case("lips-001")["consent"] = "C-2099-0001"
    project.consent("C-2026-0002")["channels"] = {"permit": ["print"]}
    project.case("brow-001")["captoin"] = "typo"
    result = project.build()
    assert not result.ok
    for code in ("CG201", "CG202", "CG101"):
        assert code in result.log
    report = result.log[result.log.index("cannot be published") :]
    positions = [report.index(f) for f in ("gallery/consents.yml", "gallery/manifest.yml")]
    assert positions == sorted(positions), "violations are sorted by file"


def test_unknown_key_hint_names_the_right_key(project: Project) -> None:
    project.consent("C-2026-0001")["chanels"] = project.consent("C-2026-0001").pop("channels")
    result = project.build()
    assert not result.ok
    assert "CG101" in result.log and "did you mean 'channels'" in result.log
