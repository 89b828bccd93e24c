"""The live preview: in `mkdocs serve` problems show in the pages; `mkdocs build` still fails on every one."""

from __future__ import annotations

import html.parser
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import HOST_CLI, Project, Result, free_port, http_get, run_build, wait_for


class _Page(html.parser.HTMLParser):
    """What the preview tests look for: panels (with what is inside them), the banner, cards and images."""

    def __init__(self) -> None:
        super().__init__()
        self.panels: dict[str, str] = {}  # case (or kind) -> text of its panel
        self.panel_images = 0
        self.banner = ""
        self.banner_href = ""
        self.cards: list[str] = []
        self.images: list[str] = []
        self._open: list[tuple[str, str]] = []  # (tag, what it is) for panels and the banner

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        kind = values.get("data-cg-preview")
        if kind in ("problem", "removed", "unavailable"):
            self._open.append((tag, values.get("data-cg-preview-case") or kind))
            self.panels.setdefault(self._open[-1][1], "")
        elif kind == "banner":
            self._open.append((tag, "banner"))
        elif self._open:
            self._open.append((tag, ""))
        if values.get("data-cg-case"):
            self.cards.append(values["data-cg-case"])
        if tag in ("img", "source"):
            self.images.append(values.get("src") or values.get("srcset") or "")
            if any(label for _, label in self._open if label != "banner"):
                self.panel_images += 1
        if tag == "a" and any(label == "banner" for _, label in self._open):
            self.banner_href = values.get("href", "")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        labels = [label for _, label in self._open if label]
        if not labels:
            return
        if labels[0] == "banner":
            self.banner += data
        else:
            self.panels[labels[0]] += data


def _read(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _serve_build(project: Project) -> Result:
    """The build `mkdocs serve` runs, in-process: the plugin knows the command from on_startup."""
    return run_build(project.write(), command="serve")


def _no_preview_markup(site: Path) -> None:
    for path in site.rglob("*"):
        if path.is_file():
            assert b"cg-preview" not in path.read_bytes(), f"preview markup in a built site: {path}"


def test_an_out_of_scope_case_becomes_a_problem_panel_with_no_photo(project: Project) -> None:
    intact = project.build()
    assert intact.ok, intact.log
    card = (intact.site / "lips" / "index.html").read_text(encoding="utf-8").split('data-cg-case="lips-001"')[1].split("</article>")[0]
    photos = {value.split("/")[-1] for value in _attribute_values(card, "src")}
    assert len(photos) == 2
    project.consent("C-2026-0001")["channels"] = {"permit": ["social"]}
    result = _serve_build(project)
    assert result.ok, result.log
    gallery = _read(result.site / "lips" / "index.html")
    panel = gallery.panels["lips-001"]
    assert "CG202" in panel and "does not permit the 'website' channel" in panel
    assert "gallery/consents.yml:" in panel and "Fix:" in panel
    assert gallery.panel_images == 0
    assert gallery.cards == ["lips-002"], "the case is never rendered as a card"
    # The blocked case's photos are neither referenced nor written; the other cases' are.
    written = {path.name for path in result.gallery_images()}
    assert written and not photos & written
    assert not any(name in " ".join(gallery.images) for name in photos)
    # Every page carries the banner, the home page too, and it links to the list of problems.
    for page_path in ("index.html", "gallery/index.html", "lips/index.html"):
        page = _read(result.site / page_path)
        assert "1 problem would stop mkdocs build" in " ".join(page.banner.split()), page_path
    home = _read(result.site / "index.html")
    assert home.banner_href == "compliant-gallery-preview/"
    problems = (result.site / "compliant-gallery-preview" / "index.html").read_text(encoding="utf-8")
    assert "CG202" in problems and "case lips-001" in problems and "Fix: remove the case from this site" in problems
    # The terminal has one line for the problem.
    assert result.log.count("lips-001 CG202 release does not permit the 'website' channel") == 1


def test_the_same_project_fails_mkdocs_build_and_leaves_no_preview_markup(project: Project) -> None:
    project.consent("C-2026-0001")["channels"] = {"permit": ["social"]}
    assert _serve_build(project).ok
    result = project.build()
    assert not result.ok
    assert "CG202" in result.log
    assert not result.gallery_images()
    _no_preview_markup(result.site)
    project.consent("C-2026-0001")["channels"] = {"permit": ["website"]}
    result = project.build()
    assert result.ok, result.log
    _no_preview_markup(result.site)
    assert not (result.site / "compliant-gallery-preview").exists()


def test_a_removed_case_leaves_a_neutral_note_and_no_banner(project: Project) -> None:
    project.consent("C-2026-0001")["revoked_on"] = "2026-11-01"
    project.pages["single.md"] = "# One case\n\n<!-- compliant-gallery case=lips-001 -->\n"
    result = _serve_build(project)
    assert result.ok, result.log
    single = _read(result.site / "single" / "index.html")
    assert "Removed: consent withdrawn on 2026-11-01" in single.panels["lips-001"]
    assert single.panel_images == 0 and not single.cards
    assert not single.banner, "a removal is not a problem"
    assert "No problems" in (result.site / "compliant-gallery-preview" / "index.html").read_text(encoding="utf-8")


def test_unreadable_inputs_and_unknown_cases_show_where_the_gallery_would_be(project: Project) -> None:
    project.pages["single.md"] = "# One case\n\n<!-- compliant-gallery case=lips-404 -->\n"
    result = _serve_build(project)
    assert result.ok, result.log
    single = _read(result.site / "single" / "index.html")
    assert "CG108" in single.panels["lips-404"] and "single.md:3" in single.panels["lips-404"]
    assert "1 problem" in single.banner

    config_file = project.write()
    (project.gallery / "manifest.yml").write_text("cases: [\n  - id: lips-001\n", encoding="utf-8")
    result = run_build(config_file, command="serve")
    assert result.ok, result.log
    gallery = _read(result.site / "gallery" / "index.html")
    assert "input files have errors" in gallery.panels["unavailable"]
    assert "gallery/manifest.yml" in gallery.panels["unavailable"]
    assert not gallery.images and not gallery.cards


def test_a_site_that_fails_the_output_guard_is_replaced_by_the_list_of_problems(project: Project) -> None:
    project.pages["index.md"] = "# Home\n\nAsk about consent C-2026-0002.\n"
    result = _serve_build(project)
    assert result.ok, result.log
    assert sorted(p.name for p in result.site.iterdir()) == ["404.html", "index.html"]
    text = (result.site / "index.html").read_text(encoding="utf-8")
    assert "The built site failed verification" in text and "consent id C-2026-0002" in text


@pytest.mark.xdist_group("serve")
def test_serve_shows_the_problem_then_the_case_once_the_register_is_fixed(sample_site: Path) -> None:
    """The acceptance scenario: a real `mkdocs serve` of the sample site with one out-of-scope case."""
    subprocess.run([sys.executable, "make_photos.py"], cwd=sample_site, check=True, capture_output=True)
    register = sample_site / "gallery" / "consents.yml"
    original = register.read_text(encoding="utf-8")
    assert original.count("channels: {permit: [website, email]}") == 1
    # A real build of the intact site first: the names of skin-001's published photos.
    built = subprocess.run([*HOST_CLI, "build", "-q"], cwd=sample_site, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    laser = (sample_site / "site" / "gallery" / "laser-resurfacing" / "index.html").read_text(encoding="utf-8")
    card = laser.split('data-cg-case="skin-001"')[1].split("</article>")[0]
    photos = {src.split("/")[-1] for src in _attribute_values(card, "src")}
    assert len(photos) == 2

    register.write_text(original.replace("channels: {permit: [website, email]}", "channels: {permit: [email]}"), encoding="utf-8")
    broken = subprocess.run([*HOST_CLI, "build"], cwd=sample_site, capture_output=True, text=True)
    assert broken.returncode != 0 and "CG202" in broken.stderr

    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [*HOST_CLI, "serve", "-a", f"127.0.0.1:{port}"],
        cwd=sample_site,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    page_url = base + "gallery/laser-resurfacing/"
    try:
        assert wait_for(lambda: http_get(page_url)[0] == 200, 90), "the preview was not served"
        page = http_get(page_url)[1]
        assert 'data-cg-preview-case="skin-001"' in page and "CG202" in page
        assert 'data-cg-preview="banner"' in page
        assert 'data-cg-case="skin-001"' not in page
        for name in photos:
            assert name not in page
            assert http_get(base + "assets/compliant-gallery/img/" + name)[0] == 404, "a photo of the blocked case is served"

        register.write_text(original, encoding="utf-8")
        fixed_at = time.monotonic()
        assert wait_for(lambda: 'data-cg-case="skin-001"' in http_get(page_url)[1], 60), "the fixed case was not rendered"
        rebuilt_in = time.monotonic() - fixed_at
        page = http_get(page_url)[1]
        assert "cg-preview-banner" not in page and 'data-cg-preview-case="skin-001"' not in page
        for name in photos:
            assert name in page, "the fixed case is shown with the same photos (the cache kept them)"
            assert http_get(base + "assets/compliant-gallery/img/" + name)[0] == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert rebuilt_in < 30
    # First build: one line for the problem; the rebuild: only what changed.
    assert output.count("skin-001 CG202 release does not permit the 'website' channel") == 1, output
    assert "fixed: skin-001 CG202" in output
    assert output.count("lips-003 CG203") == 1, "an unchanged removal is logged once, not on every rebuild"
    assert "0 photo pairs processed" in output.split("fixed: skin-001 CG202")[1], "the rebuild reprocessed cached photos"

    # A real build in the same directory after the serve session: nothing of the preview.
    built = subprocess.run([*HOST_CLI, "build", "-q"], cwd=sample_site, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    _no_preview_markup(sample_site / "site")


def _attribute_values(html_text: str, name: str) -> list[str]:
    return [piece.split('"')[0] for piece in html_text.split(f' {name}="')[1:]]


def test_rebuilds_log_only_what_changed(project: Project) -> None:
    """MkDocs keeps the plugin instance across serve rebuilds (and in this process): the second build reports changes."""
    project.consent("C-2026-0001")["channels"] = {"permit": ["social"]}
    project.consent("C-2026-0003")["revoked_on"] = "2026-11-01"
    first = _serve_build(project)
    assert first.log.count("lips-001 CG202") == 1 and first.log.count("brow-001 CG203") == 1
    project.consent("C-2026-0001")["channels"] = {"permit": ["website"]}
    project.consent("C-2026-0002")["channels"] = {"permit": ["social"]}
    second = _serve_build(project)
    assert "fixed: lips-001 CG202" in second.log
    assert "new: lips-002 CG202 release does not permit the 'website' channel" in second.log
    shown = [line for line in second.log.splitlines() if not line.startswith("DEBUG")]
    assert not [line for line in shown if "brow-001" in line], "an unchanged removal is not logged again"
