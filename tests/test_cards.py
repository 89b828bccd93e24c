"""Case cards as built: the slider option and per-case layout, the shipped script, lightboxes kept off our
photos, and the disclosure check (CG404) against overrides that drop, hide or move the disclosure."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.helpers import Project, Result, cards_of, run_build
from tests.photos import write_photo

CASE_TEMPLATE = (
    Path(__file__).resolve().parent.parent / "mkdocs_compliant_gallery" / "templates" / "fragments" / "compliant-gallery" / "case.html"
)
SCRIPT = Path(__file__).resolve().parent.parent / "mkdocs_compliant_gallery" / "assets" / "compliant-gallery.js"


def layouts(result: Result, page: str = "gallery") -> dict[str, str]:
    """case id -> data-cg-layout of its (first) figure."""
    text = (result.site / page / "index.html").read_text()
    found = re.findall(r'data-cg-case="([^"]+)".*?<figure [^>]*data-cg-layout="([^"]+)"', text, re.S)
    return dict(found)


def test_slider_is_the_default_and_its_script_is_shipped(built_project: tuple[Project, Result]) -> None:
    _, result = built_project
    assert result.ok, result.log
    assert layouts(result) == {"lips-001": "slider", "lips-002": "slider", "brow-001": "slider"}
    page = (result.site / "gallery" / "index.html").read_text()
    assert '<script src="../assets/compliant-gallery/compliant-gallery.js"' in page
    assert 'data-cg-label="Before and after: Lip filler"' in page
    shipped = result.site / "assets" / "compliant-gallery" / "compliant-gallery.js"
    assert shipped.read_bytes() == SCRIPT.read_bytes()
    # Small: what travels over the wire, compressed as a server sends it (slider and filter together).
    assert len(gzip.compress(SCRIPT.read_bytes())) < 1500
    # The page itself is the no-JavaScript view: no range input in the HTML, both photos in every pair.
    assert 'type="range"' not in page
    assert page.count('class="cg-pair__img off-glb"') == 6


def test_slider_option_and_case_layout(project: Project) -> None:
    project.options["slider"] = False
    project.case("lips-002")["layout"] = "slider"
    result = project.build()
    assert result.ok, result.log
    assert layouts(result) == {"lips-001": "side-by-side", "lips-002": "slider", "brow-001": "side-by-side"}

    project.options["slider"] = True
    project.case("lips-002")["layout"] = "side-by-side"
    result = project.build()
    assert result.ok, result.log
    assert layouts(result) == {"lips-001": "slider", "lips-002": "side-by-side", "brow-001": "slider"}


def test_filter_is_offered_only_over_several_treatments(project: Project) -> None:
    result = project.build()
    assert result.ok, result.log
    assert "data-cg-filter" in (result.site / "gallery" / "index.html").read_text()
    assert "data-cg-filter" not in (result.site / "lips" / "index.html").read_text()  # one treatment: nothing to filter
    project.options["filter"] = False
    result = project.build()
    assert result.ok, result.log
    assert "data-cg-filter" not in (result.site / "gallery" / "index.html").read_text()


def test_unknown_layout_is_refused_with_its_line(project: Project) -> None:
    project.case("lips-002")["layout"] = "carousel"
    result = project.build()
    assert not result.ok
    manifest = (project.gallery / "manifest.yml").read_text().splitlines()
    line = next(number for number, text in enumerate(manifest, start=1) if "layout: carousel" in text)
    assert re.search(rf"gallery/manifest.yml:{line} .*CG103 \[case lips-002\] layout 'carousel' is not known", result.log), result.log
    assert "layout: slider" in result.log


def test_misspelt_slider_option_is_refused(project: Project) -> None:
    project.options["slidr"] = False
    result = project.build()
    assert not result.ok and "CG101 unknown option 'slidr'; did you mean 'slider'?" in result.log


class _Anchors(HTMLParser):
    """For every <img>: its class and whether an <a> encloses it."""

    def __init__(self) -> None:
        super().__init__()
        self.open_anchors: list[str] = []
        self.images: list[tuple[str, str | None]] = []  # (img class, enclosing anchor's class or None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a":
            self.open_anchors.append(values.get("class") or "")
        elif tag == "img":
            self.images.append((values.get("class") or "", self.open_anchors[-1] if self.open_anchors else None))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.open_anchors:
            self.open_anchors.pop()


@pytest.mark.parametrize("order", ["glightbox first", "glightbox last"])
def test_glightbox_leaves_gallery_photos_alone(project: Project, order: str) -> None:
    """A lightbox would show a photo without its disclosure: our photos carry off-glb, which glightbox honours."""
    write_photo(project.root / "docs" / "img" / "clinic.jpg", size=(64, 48), seed=9)
    project.pages["gallery.md"] = "# Results\n\n![Our clinic](img/clinic.jpg)\n\n<!-- compliant-gallery -->\n"
    config_file = project.write()
    config = yaml.safe_load(config_file.read_text())
    if order == "glightbox first":
        config["plugins"].insert(1, "glightbox")
    else:
        config["plugins"].append("glightbox")
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    result = run_build(config_file)
    assert result.ok, result.log
    reader = _Anchors()
    reader.feed((result.site / "gallery" / "index.html").read_text())
    ours = [anchor for cls, anchor in reader.images if "cg-pair__img" in cls]
    others = [anchor for cls, anchor in reader.images if "cg-pair__img" not in cls]
    assert len(ours) == 6 and ours == [None] * 6, reader.images
    # glightbox did run on this page: the clinic's own photo got its lightbox anchor.
    assert others == ["glightbox"], reader.images


def _override(project: Project, text: str) -> None:
    folder = project.root / "overrides" / "fragments" / "compliant-gallery"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "case.html").write_text(text)
    project.theme = {"name": "mkdocs", "custom_dir": "overrides"}


def _block(template: str) -> tuple[int, int]:
    start = template.index('  <div class="cg-disclosure"')
    return start, template.index("</div>", start) + len("</div>")


def _wrap(before: str, after: str) -> Callable[[str], str]:
    def change(template: str) -> str:
        start, end = _block(template)
        return template[:start] + before + template[start:end] + after + template[end:]

    return change


def _move_above_photos(template: str) -> str:
    start, end = _block(template)
    block = template[start:end]
    rest = template[:start] + template[end:]
    at = rest.index("  {%- for pair in case.pairs %}")
    return rest[:at] + block + "\n" + rest[at:]


OVERRIDES: list[tuple[str, Callable[[str], str], str]] = [
    ("template element", _wrap("<template>", "</template>"), "does not show its disclosure"),
    ("hidden attribute", _wrap("<div hidden>", "</div>"), "does not show its disclosure"),
    ("screen-reader-only class", _wrap('<div class="sr-only">', "</div>"), "does not show its disclosure"),
    ("noscript", _wrap("<noscript>", "</noscript>"), "does not show its disclosure"),
    ("moved above the photos", _move_above_photos, "above its photos; it must come directly under them"),
    (
        "figure not described by it",
        lambda t: t.replace(' aria-describedby="{{ case.disclosure_id }}"', ""),
        "aria-describedby (missing) does not point at the disclosure",
    ),
    (
        "figure described by something else",
        lambda t: t.replace('aria-describedby="{{ case.disclosure_id }}"', 'aria-describedby="cg-title-{{ case.id }}"'),
        "aria-describedby (cg-title-lips-001) does not point at the disclosure",
    ),
]


@pytest.mark.parametrize(("change", "message"), [pytest.param(c, m, id=name) for name, c, m in OVERRIDES])
def test_override_that_hides_or_moves_the_disclosure_fails(project: Project, change: Callable[[str], str], message: str) -> None:
    original = CASE_TEMPLATE.read_text()
    changed = change(original)
    assert changed != original
    _override(project, changed)
    result = project.build()
    assert not result.ok, result.log
    assert re.search(r"docs/gallery.md: CG404 \[case lips-001\] the rendered card of case lips-001: .*" + re.escape(message), result.log), (
        result.log
    )
    assert not list(result.site.rglob("*.html")), "the failed site was not emptied"


def test_override_that_only_restyles_the_slider_passes(project: Project) -> None:
    """Designers may change the layout and the slider's name: only the disclosure is fixed."""
    template = CASE_TEMPLATE.read_text().replace('data-cg-label="{{ pair.slider_label }}"', 'data-cg-label="Compare {{ case.title }}"')
    _override(project, template.replace('class="cg-disclosure"', 'class="cg-disclosure my-clinic-note"'))
    result = project.build()
    assert result.ok, result.log
    page = (result.site / "gallery" / "index.html").read_text()
    assert 'data-cg-label="Compare Lip filler"' in page and "my-clinic-note" in page


def test_generated_pages_list_treatments_and_render_their_cards(project: Project) -> None:
    """`pages: true`: an index of treatments plus one page per treatment, generated, never written to docs/."""
    project.options["pages"] = True
    project.consent("C-2026-0003")["revoked_on"] = "2026-11-01"  # brow-001 withdrawn: wrinkle relaxer has nothing left
    project.write()
    docs_before = sorted(p.relative_to(project.root) for p in (project.root / "docs").rglob("*"))
    result = project.build()
    assert result.ok, result.log
    assert sorted(p.relative_to(project.root) for p in (project.root / "docs").rglob("*")) == docs_before
    index = (result.site / "results" / "index.html").read_text()
    assert '<a href="lip-filler/">Lip filler</a>' in index and "2 results" in index
    assert "Most patients see fuller lips for 6 to 12 months." in index
    assert "Wrinkle relaxer" not in index and not (result.site / "results" / "wrinkle-relaxer").exists()
    assert "cg-pair__img" not in index and "assets/compliant-gallery/img" not in index  # no photo without its card
    cards = cards_of(result.site / "results" / "lip-filler" / "index.html")
    assert list(cards) == ["lips-001", "lips-002"]
    assert all("Most patients see fuller lips" in card["text"] for card in cards.values())


def test_generated_pages_never_replace_an_authors_page(project: Project) -> None:
    project.options["pages"] = True
    project.pages["results/lip-filler.md"] = "# Our lip filler page\n"
    result = project.build()
    assert not result.ok
    assert "docs/results/lip-filler.md: CG104 a page exists where the plugin generates one" in result.log, result.log
    assert "set 'pages_dir' to a folder other than 'results'" in result.log


def test_generated_pages_follow_pages_dir_and_plain_urls(project: Project) -> None:
    project.options["pages"] = True
    project.options["pages_dir"] = "before-and-after"
    config_file = project.write()
    config = yaml.safe_load(config_file.read_text())
    config["use_directory_urls"] = False
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    result = run_build(config_file)
    assert result.ok, result.log
    index = (result.site / "before-and-after" / "index.html").read_text()
    assert '<a href="lip-filler.html">Lip filler</a>' in index and '<a href="wrinkle-relaxer.html">Wrinkle relaxer</a>' in index
    assert list(cards_of(result.site / "before-and-after" / "wrinkle-relaxer.html")) == ["brow-001"]


def test_pages_dir_must_stay_inside_the_site(project: Project) -> None:
    project.options["pages"] = True
    project.options["pages_dir"] = "../outside"
    result = project.build()
    assert not result.ok
    assert "expected a folder inside the site such as 'results', got '../outside'" in result.log, result.log
