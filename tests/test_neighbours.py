"""The gallery beside other plugins, in real builds: Material's search, social, optimize, privacy, offline, tags
and blog, mkdocs-macros, and a hook that copies a raw photo behind MkDocs' back. (glightbox: test_cards.py.)

Each test states what the neighbour could do to a patient's photo and shows that it does not, or that the build
refuses the combination.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image, ImageFont

from mkdocs_compliant_gallery.output.cards import disclosure_problems, rendered_cards
from tests.helpers import TREATMENTS, Project, Result, add_copying_hook, assert_nothing_published, cards_of, run_build, run_serve_builds

DISCLOSURES = {
    "lips-001": [TREATMENTS["lip-filler"]["typical_results"]],
    "lips-002": [TREATMENTS["lip-filler"]["typical_results"]],
    "brow-001": [TREATMENTS["wrinkle-relaxer"]["typical_results"]],
}
PRIVATE = ("C-2026-0001", "P-10001", "C-2026-0002", "P-10002", "C-2026-0003", "P-10003", "lips-001-before.jpg")


def configure(
    project: Project, before: list[Any] | None = None, after: list[Any] | None = None, material: bool = True, **extra: Any
) -> Path:
    """mkdocs.yml with plugins placed before and after compliant-gallery. Material loads no web fonts (no network)."""
    if material:
        project.theme = {"name": "material", "font": False}
    config_file = project.write()
    config = yaml.safe_load(config_file.read_text())
    config["plugins"] = [*(before or []), *config["plugins"], *(after or [])]
    config.update(extra)
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return config_file


def withdraw(project: Project, consent_id: str) -> None:
    project.consent(consent_id)["revoked_on"] = "2026-11-01"


def rewrite_register(project: Project, withdrawn: str) -> None:
    withdraw(project, withdrawn)
    (project.gallery / "consents.yml").write_text(yaml.safe_dump({"consents": project.consents}, sort_keys=False))


def assert_cards_disclose(result: Result) -> list[str]:
    """Every card on every page shows its disclosure under its photos (the build's own CG404 check); no gallery
    photo outside a card. Returns the pages that carry cards."""
    pages = []
    for path in result.site_files():
        if path.suffix != ".html":
            continue
        html = path.read_text()
        cards = rendered_cards(html)
        if cards:
            pages.append(path.relative_to(result.site).as_posix())
            assert disclosure_problems(html, {c: DISCLOSURES[c] for c in cards}) == {}, path
        else:
            assert "compliant-gallery/img/" not in html, f"a gallery photo outside a card: {path}"
    return pages


# What `mkdocs serve` adds for the designer after the output guard has run: it names cases and releases by design.
PREVIEW_MARKUP = re.compile(rb'<aside class="cg-preview-panel.*?</aside>|<div class="cg-preview-problems".*?</div>', re.S)


def assert_nothing_private(result: Result, *also: str) -> None:
    for path in result.site_files():
        data = PREVIEW_MARKUP.sub(b"", path.read_bytes())
        for needle in (*PRIVATE, *also):
            assert needle.encode() not in data, f"{needle} in {path}"


# -- search ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["mkdocs", "material"])
def test_search_index_holds_no_removed_case(project: Project, theme: str) -> None:
    withdraw(project, "C-2026-0001")
    result = run_build(configure(project, material=theme == "material"))
    assert result.ok, result.log[-3000:]
    index = (result.site / "search" / "search_index.json").read_text()
    assert "Caption of lips-002." in index  # the published cards are searchable
    for removed in ("lips-001", "Caption of lips-001", "lips-001 before"):
        assert removed not in index
    assert_nothing_private(result, "lips-001")


# -- social ------------------------------------------------------------------------------------------------------


def seed_social_fonts(project: Project) -> None:
    """The social plugin downloads its font from Google Fonts; without a network it finds Pillow's own font
    (Aileron) where it caches downloads, so the cards are drawn here exactly as on a connected machine."""
    folder = project.root / ".cache" / "plugin" / "social" / "fonts" / "Roboto"
    folder.mkdir(parents=True, exist_ok=True)
    font = ImageFont.load_default(size=20)
    assert isinstance(font, ImageFont.FreeTypeFont)
    for style in ("Regular", "Bold", "Black"):
        (folder / f"{style}.ttf").write_bytes(font.font_bytes)


def photo_pixels(card: Image.Image) -> int:
    """Pixels that are neither the card's background nor its text: a card drawn from text on a flat colour has
    none (anti-aliased edges lie between the two colours), a card holding a photo has many."""
    rgb = card.convert("RGB")
    colours: list[tuple[int, tuple[int, int, int]]] = rgb.getcolors(maxcolors=rgb.width * rgb.height) or []  # type: ignore[assignment]
    background = max(colours)[1]

    def towards(colour: tuple[int, int, int]) -> list[int]:
        return [c - b for c, b in zip(colour, background, strict=True)]

    span = towards(max(colours, key=lambda item: sum(d * d for d in towards(item[1])))[1])
    length = sum(s * s for s in span) or 1
    off = 0
    for count, colour in colours:
        offset = towards(colour)
        share = min(1.0, max(0.0, sum(o * s for o, s in zip(offset, span, strict=True)) / length))
        if sum((o - share * s) ** 2 for o, s in zip(offset, span, strict=True)) > 12**2:
            off += count
    return off


def test_photo_pixels_tells_a_text_card_from_a_card_with_a_photo(project: Project) -> None:
    card = Image.new("RGB", (1200, 630), (63, 81, 181))
    assert photo_pixels(card) == 0
    photo = Image.open(project.gallery / "photos" / "lips-001-after.jpg").resize((300, 200))
    card.paste(photo, (800, 300))
    assert photo_pixels(card) > 10_000


def test_social_cards_show_no_patient_photo(project: Project) -> None:
    seed_social_fonts(project)
    withdraw(project, "C-2026-0002")
    result = run_build(configure(project, after=["social"]))
    assert result.ok, result.log[-3000:]
    cards = sorted((result.site / "assets" / "images" / "social").glob("*.png"))
    assert {c.name for c in cards} == {"index.png", "gallery.png", "lips.png"}
    page = (result.site / "gallery" / "index.html").read_text()
    assert 'property="og:image" content="https://clinic.example/assets/images/social/gallery.png"' in page
    for card in cards:
        with Image.open(card) as image:
            assert photo_pixels(image) == 0, f"{card.name} holds more than its title on a flat colour"
    assert_cards_disclose(result)
    assert_nothing_private(result, "lips-002")


def test_social_card_background_from_the_photo_folder_is_refused(project: Project) -> None:
    seed_social_fonts(project)
    photo = project.gallery / "photos" / "lips-001-after.jpg"
    social = {"social": {"cards_layout_options": {"background_image": str(photo)}}}
    result = run_build(configure(project, after=[social]))
    assert not result.ok
    assert "plugin 'material/social' paints" in result.log and "Use a picture that is not a patient photo" in result.log
    assert_nothing_published(result.site, project.root)
    assert not (result.site / "assets" / "images" / "social").exists()


# -- optimize ----------------------------------------------------------------------------------------------------

# pngquant is not needed: the gallery publishes no PNG, and Material's own favicon is left alone.
OPTIMIZE = {"optimize_png": False}
OPTIMIZE_EXCLUDING_GALLERY = {"optimize": {**OPTIMIZE, "optimize_exclude": ["assets/compliant-gallery/*"]}}


@pytest.mark.parametrize("where", ["before", "after"])
def test_optimize_reaching_the_gallery_is_refused(project: Project, where: str) -> None:
    optimize = {"optimize": OPTIMIZE}
    project.build()  # a previous site, with gallery files in it
    result = run_build(configure(project, **{where: [optimize]}))  # type: ignore[arg-type]
    assert not result.ok
    assert "plugin 'material/optimize' would re-encode the gallery's photos" in result.log
    assert "add 'assets/compliant-gallery/*' to its optimize_exclude" in result.log
    assert_nothing_published(result.site, project.root)


def test_optimize_that_leaves_the_gallery_alone_is_safe(project: Project) -> None:
    """It optimises the clinic's own photo; the gallery's files keep the bytes the gallery wrote and checked.

    The clinic's photo is large enough (0.2 s to re-encode) that optimize's own race (see below) cannot strike.
    """
    (project.root / "docs" / "img").mkdir(parents=True)
    Image.effect_noise((1600, 1200), 64).convert("RGB").save(project.root / "docs" / "img" / "clinic.jpg", quality=95)
    project.pages["index.md"] = "# Home\n\n![Our clinic](img/clinic.jpg)\n"
    result = run_build(configure(project, after=[OPTIMIZE_EXCLUDING_GALLERY]))
    assert result.ok, result.log[-3000:]
    assert "Optimized media file: img/clinic.jpg" in result.log
    assert result.gallery_images() and all(untouched(p) for p in result.gallery_images())


def test_optimize_that_leaves_the_gallery_alone_is_safe_under_serve(project: Project) -> None:
    """A serve rebuild after a withdrawal serves none of the withdrawn case's photos.

    No other image here: optimize itself races on a warm cache (its worker rewrites a File's src_uri before
    on_env removes that File from the collection), which fails serve rebuilds of sites with images of their own
    now and then, with or without the gallery.
    """
    first, second = run_serve_builds(
        configure(project, after=[OPTIMIZE_EXCLUDING_GALLERY]), lambda: rewrite_register(project, "C-2026-0001")
    )
    assert first.ok, first.log[-3000:]
    published = {p.name for p in first.gallery_images()}
    assert published and all(untouched(p) for p in first.gallery_images())
    assert second.ok, second.log[-3000:]
    assert "lips-001" not in cards_of(second.site / "gallery" / "index.html")
    gone = published - {p.name for p in second.gallery_images()}
    assert gone, "the withdrawn case's photos should have left the site"
    assert all(untouched(p) for p in second.gallery_images())
    assert_nothing_private(second, "lips-001")


def untouched(image: Path) -> bool:
    """Gallery files are named by the hash of their bytes: a file re-encoded after the gallery wrote it is not."""
    return hashlib.sha256(image.read_bytes()).hexdigest().startswith(image.stem)


# -- privacy, offline, tags ------------------------------------------------------------------------------------


def test_privacy_plugin(project: Project) -> None:
    result = run_build(configure(project, after=["privacy"]))
    assert result.ok, result.log[-3000:]
    assert list(cards_of(result.site / "gallery" / "index.html")) == ["lips-001", "lips-002", "brow-001"]
    assert_cards_disclose(result)
    assert_nothing_private(result)


def test_offline_plugin_search_index_holds_no_removed_case(project: Project) -> None:
    withdraw(project, "C-2026-0001")
    result = run_build(configure(project, after=["offline"]))
    assert result.ok, result.log[-3000:]
    script = (result.site / "search" / "search_index.js").read_text()
    assert "Caption of lips-002." in script and "lips-001" not in script
    assert list(cards_of(result.site / "gallery.html")) == ["lips-002", "brow-001"]  # offline: no directory URLs
    assert_cards_disclose(result)
    assert_nothing_private(result, "lips-001")


def test_tags_plugin(project: Project) -> None:
    withdraw(project, "C-2026-0001")
    project.pages["gallery.md"] = "---\ntags: [results]\n---\n# Results\n\n<!-- compliant-gallery -->\n"
    project.pages["tags.md"] = "# Tags\n\n<!-- material/tags -->\n"
    result = run_build(configure(project, after=["tags"]))
    assert result.ok, result.log[-3000:]
    listing = (result.site / "tags" / "index.html").read_text()
    assert "results" in listing and 'href="../gallery/"' in listing
    assert assert_cards_disclose(result) == ["gallery/index.html", "lips/index.html"]
    assert_nothing_private(result, "lips-001")


# -- blog --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tripwire", ["configured", "added by the plugin"])
def test_blog_excerpts_show_no_gallery_and_name_no_withdrawn_case(project: Project, tripwire: str) -> None:
    """Excerpts are Markdown the blog renders again, outside the page pipeline: they never show the cards (so
    never a photo without its disclosure), and the directive of a withdrawn case does not survive in them."""
    withdraw(project, "C-2026-0002")
    project.pages["blog/index.md"] = "# Blog\n"
    project.pages["blog/posts/results.md"] = (
        "---\ndate: 2026-11-01\n---\n# Our results\n\nIntro text.\n\n<!-- compliant-gallery case=lips-001 -->\n\n"
        "<!-- compliant-gallery\n     case=lips-002 -->\n\n<!-- more -->\n\nMore text.\n"
    )
    extensions = ["mkdocs_compliant_gallery.tripwire"] if tripwire == "configured" else []
    result = run_build(configure(project, after=["blog"], markdown_extensions=extensions))
    assert result.ok, result.log[-3000:]
    assert "case lips-002 is removed" in result.log
    post = next(p for p in result.site_files() if p.name == "index.html" and "our-results" in p.as_posix())
    assert list(cards_of(post)) == ["lips-001"]
    pages = assert_cards_disclose(result)
    assert post.relative_to(result.site).as_posix() in pages
    for view in ("blog/index.html", "blog/archive/2026/index.html"):
        html = (result.site / view).read_text()
        assert "Intro text." in html and "<!-- compliant-gallery" not in html
        assert rendered_cards(html) == []
    assert_nothing_private(result, "lips-002")


# -- mkdocs-macros ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_macros_render_the_page_but_never_the_captions(project: Project, where: str) -> None:
    project.case("lips-001")["caption"] = "Volume {{ 1234 * 1000 }} and {% if true %}jinja{% endif %}."
    project.pages["gallery.md"] = "# Results\n\nWe treated {{ 6 * 7 }} patients.\n\n<!-- compliant-gallery -->\n"
    result = run_build(configure(project, material=False, **{where: ["macros"]}))
    assert result.ok, result.log[-3000:]
    page = result.site / "gallery" / "index.html"
    assert "We treated 42 patients." in page.read_text()
    caption = cards_of(page)["lips-001"]["text"]
    assert "Volume {{ 1234 * 1000 }} and {% if true %}jinja{% endif %}." in caption
    assert "1234000" not in page.read_text()
    assert_cards_disclose(result)


# -- a hook that bypasses MkDocs' file list (written by tests.helpers.add_copying_hook) ---------------------------


@pytest.mark.parametrize("priority", [0, -100, -1000])
def test_hook_copying_a_raw_photo_fails_the_build_and_empties_the_site(project: Project, priority: int) -> None:
    """Whatever its priority, the hook writes before the output guard looks (the guard moves itself last)."""
    config_file = project.write()
    add_copying_hook(project, config_file, priority)
    result = run_build(config_file)
    assert not result.ok
    assert "site/hero.jpg: CG602 is a byte copy of raw photo gallery/photos/lips-001-after.jpg" in result.log
    assert result.site_files() == []
    assert re.search(r"post_build` event from plugin 'hooks/hero.py'.*post_build` event from plugin 'compliant-gallery'", result.log, re.S)
