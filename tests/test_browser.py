"""The sample gallery in a real browser: Debian's chromium driven by Playwright, against the built sample site.

Checks what a patient and a regulator meet: every disclosure visible right under its photos, the slider
usable by keyboard, touch and screen reader, no WCAG 2.2 AA violation found by axe-core inside the gallery,
and everything still there with JavaScript off. Screenshots land in test-artifacts/browser/; with
CG_UPDATE_SCREENSHOTS=1 the card crops are also written to docs/screenshots/ (see docs/gallery.md).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, FloatRect, Page, Playwright, sync_playwright

from mkdocs_compliant_gallery.output.browser import CHROMIUM_ARGS, serving
from tests.helpers import REPO, Project, run_build

CHROMIUM = Path(os.environ.get("CG_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = Path(os.environ.get("CG_AXE_JS", REPO / ".cache" / "browser-tools" / "node_modules" / "axe-core" / "axe.min.js"))
ARTIFACTS = REPO / "test-artifacts" / "browser"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# axe looks at what the plugin renders and adds, not at the theme around it (Material's footer fails contrast).
AXE_CONTEXT = {"include": [".cg-gallery", ".cg-filter", ".cg-filter__status"]}

VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "mobile": {"viewport": {"width": 375, "height": 812}, "has_touch": True, "is_mobile": True},
}
SCHEMES = ("light", "dark")
# The sample gallery page: six published cases, brow-001 with two views, so seven photo pairs.
GALLERY = "gallery/"
CASES = ["lips-001", "lips-002", "brow-001", "skin-001", "skin-002", "smile-001"]
PAIRS = 7
# "Directly under the photos": the gap between the last photo and the disclosure block, in CSS pixels.
MAX_GAP = 40

# With `pytest --dist loadgroup` (scripts/test.sh) these run on one worker, which builds the sample site once.
pytestmark = pytest.mark.xdist_group("browser")


@dataclass(frozen=True)
class Site:
    """The built sample site, served over HTTP on 127.0.0.1."""

    root: Path
    url: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A fresh copy of the sample site, built with its site_url set to where it is served.

    Material's instant navigation only takes over links listed in the sitemap, so the sitemap must name
    the address the browser uses: the port is taken first, the site built second, served third.
    """
    target = tmp_path_factory.mktemp("browser") / "repo"
    shutil.copytree(REPO / "sample_site", target / "sample_site", ignore=shutil.ignore_patterns("site", ".cache", ".compliance", "photos"))
    shutil.copytree(REPO / "theme_overrides", target / "theme_overrides")
    sample = target / "sample_site"
    subprocess.run(
        [sys.executable, str(REPO / "sample_site" / "make_photos.py"), "--out", str(sample / "gallery" / "photos")],
        check=True,
        capture_output=True,
    )
    built = sample / "site"
    built.mkdir()
    with serving(built) as url:
        config = sample / "mkdocs.yml"
        text = config.read_text()
        assert "site_url: https://clinic.example/" in text
        config.write_text(text.replace("site_url: https://clinic.example/", f"site_url: {url}"))
        result = run_build(config)
        assert result.ok, result.log
        yield Site(built, url)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium; a missing browser is a failure, never a skip (the test command installs it)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); scripts/test.sh does this")
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def axe_js() -> Path:
    if not AXE_JS.exists():
        pytest.fail(
            f"{AXE_JS} is missing: run 'npm install --no-save --prefix .cache/browser-tools axe-core@4' (scripts/test.sh does this)"
        )
    return AXE_JS


def open_page(browser: Browser, site: Site, path: str, viewport: str, **options: Any) -> Page:
    """A page in its own context, reduced motion unless asked otherwise; errors in the page fail the test."""
    context = browser.new_context(**VIEWPORTS[viewport], **{"reduced_motion": "reduce", **options})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site.url + path)
    page.wait_for_load_state("load")
    # The mkdocs theme loads highlight.js from a CDN, which tests cannot reach; every other error fails.
    assert [e for e in errors if e != "hljs is not defined"] == [], errors
    return page


def use_scheme(page: Page, scheme: str) -> None:
    """Switch Material's palette the way a visitor does: the toggle in the header."""
    background = page.evaluate("getComputedStyle(document.querySelector('.cg-case')).backgroundColor")
    if scheme == "dark":
        page.locator('label[for="__palette_1"]').click()
        page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
        assert page.evaluate("getComputedStyle(document.querySelector('.cg-case')).backgroundColor") != background
    else:
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "default"


def box(page: Page, selector: str, index: int = 0) -> FloatRect:
    found = page.locator(selector).nth(index).bounding_box()
    assert found is not None, selector
    return found


def slider_state(page: Page, index: int = 0) -> dict[str, Any]:
    """Value, value text, the custom property and the before photo's clip of one slider."""
    return dict(
        page.locator(".cg-slider__range")
        .nth(index)
        .evaluate(
            """input => {
                const stack = input.closest('.cg-pair__images');
                const clip = getComputedStyle(stack.querySelector('.cg-pair__side--before picture')).clipPath;
                const right = /inset\\(0px ([\\d.]+)% 0px 0px\\)/.exec(clip);
                return {value: Number(input.value), text: input.getAttribute('aria-valuetext'),
                        position: getComputedStyle(stack).getPropertyValue('--cg-position').trim(),
                        clip: clip, clipRight: right ? Number(right[1]) : null};
            }"""
        )
    )


def save_screenshots(page: Page, name: str) -> None:
    """The whole page, and a crop of the first two cards (the crop is what docs/gallery.md shows)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Lazy photos load only near the viewport: scroll past each one so the screenshots show them all.
    for index in range(page.locator(".cg-pair").count()):
        page.locator(".cg-pair").nth(index).scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('.cg-gallery img')].every(i => i.complete && i.naturalWidth > 0)")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}-page.png"), full_page=True)
    first, second = box(page, ".cg-gallery__item", 0), box(page, ".cg-gallery__item", 1)
    margin = 8
    width = page.viewport_size["width"] if page.viewport_size else 1280
    x = max(0.0, first["x"] - margin)
    clip: FloatRect = {
        "x": x,
        "y": max(0.0, first["y"] - margin),
        "width": min(width - x, first["width"] + 2 * margin),
        "height": second["y"] + second["height"] - first["y"] + 2 * margin,
    }
    crop = page.screenshot(clip=clip, full_page=True)
    (ARTIFACTS / f"{name}-cards.png").write_bytes(crop)
    if os.environ.get("CG_UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with Image.open(io.BytesIO(crop)) as image:
            # A palette PNG keeps the committed screenshots small enough for the docs (< 300 KB).
            small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
            small.save(DOCS_SCREENSHOTS / f"{name}.png", optimize=True)
        assert (DOCS_SCREENSHOTS / f"{name}.png").stat().st_size < 300_000


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_card_shows_its_disclosure_under_its_photos(browser: Browser, site: Site, axe_js: Path, viewport: str, scheme: str) -> None:
    page = open_page(browser, site, GALLERY, viewport)
    use_scheme(page, scheme)
    assert page.locator(".cg-case").evaluate_all("cards => cards.map(c => c.dataset.cgCase)") == CASES
    assert page.locator(".cg-pair--slider").count() == PAIRS
    for index, case_id in enumerate(CASES):
        card = page.locator(".cg-case").nth(index)
        disclosure = card.locator(".cg-disclosure")
        assert disclosure.is_visible(), case_id
        assert "Typical results:" in disclosure.inner_text()
        card_box, disclosure_box = card.bounding_box(), disclosure.bounding_box()
        photos_box = card.locator(".cg-pair__images").last.bounding_box()
        assert card_box and disclosure_box and photos_box
        gap = disclosure_box["y"] - (photos_box["y"] + photos_box["height"])
        assert 0 <= gap <= MAX_GAP, f"{case_id}: disclosure {gap:.0f}px below its photos"
        assert card_box["y"] <= disclosure_box["y"] and disclosure_box["y"] + disclosure_box["height"] <= card_box["y"] + card_box["height"]
        assert disclosure_box["width"] > 0.8 * photos_box["width"], f"{case_id}: the disclosure is squeezed"
        # Clear and conspicuous: at least the size of the page's text around the gallery, never a footnote.
        sizes = card.evaluate(
            """card => [card.querySelector('.cg-disclosure p'), card.closest('.cg-gallery').parentElement]
                       .map(e => parseFloat(getComputedStyle(e).fontSize))"""
        )
        assert sizes[0] >= sizes[1], f"{case_id}: disclosure {sizes[0]}px is smaller than the page's text {sizes[1]}px"
        # The disclosure is body text in the scheme's full text colour, never a lighter grey.
        colours = card.evaluate(
            "card => [card, card.querySelector('.cg-disclosure'), card.querySelector('.cg-disclosure p')].map(e => getComputedStyle(e).color)"
        )
        assert colours[0] == colours[1] == colours[2], case_id
    images = page.locator(".cg-gallery img").evaluate_all(
        """imgs => imgs.map(i => ({w: i.getAttribute('width'), h: i.getAttribute('height'), alt: i.alt,
                                  loading: i.getAttribute('loading'), priority: i.getAttribute('fetchpriority'), box: [i.getBoundingClientRect().width, i.getBoundingClientRect().height]}))"""
    )
    assert len(images) == 2 * PAIRS
    for image in images:
        assert image["w"] and image["h"] and image["alt"], image
        # Width and height reserve the photo's box before it loads (lazy ones too): no layout shift.
        width, height = image["box"]
        assert width > 0 and abs(height - width * int(image["h"]) / int(image["w"])) <= 1.5, image
    # The first case is above the fold: loaded at once, its first photo first; every later photo lazily.
    assert [image["loading"] for image in images[:2]] == [None, None]
    assert {image["loading"] for image in images[2:]} == {"lazy"}
    assert [image["priority"] for image in images] == ["high"] + [None] * (2 * PAIRS - 1)

    page.add_script_tag(path=str(axe_js))
    result = page.evaluate("([context, runOnly]) => axe.run(context, {runOnly})", [AXE_CONTEXT, WCAG])
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:5]) for v in result["violations"]]
    assert violations == [], json.dumps(violations, indent=1)
    passed = {rule["id"] for rule in result["passes"]}
    assert {"color-contrast", "image-alt", "label", "target-size", "aria-valid-attr-value"} <= passed
    # axe cannot measure text over a photo: those must be the Before/After labels, on a dark plate whose
    # contrast with white text holds over any photo (plate over pure white: 0.28*255 grey vs white).
    for rule in result["incomplete"]:
        if rule["id"] == "color-contrast":
            for node in rule["nodes"]:
                assert node["target"][0].endswith(".cg-pair__label"), node["target"]
    plate = page.locator(".cg-pair__label").first.evaluate("e => getComputedStyle(e).backgroundColor")
    alpha = float(plate.rsplit(",", 1)[1].strip(" )")) if plate.startswith("rgba(0, 0, 0,") else 1.0
    assert plate.startswith(("rgba(0, 0, 0,", "rgb(0, 0, 0)")) and _contrast_with_white(round(255 * (1 - alpha))) >= 4.5, plate
    save_screenshots(page, f"{viewport}-{scheme}")
    page.context.close()


def _contrast_with_white(grey: int) -> float:
    channel = grey / 255
    luminance = channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_slider_works_by_keyboard_touch_and_screen_reader(browser: Browser, site: Site, viewport: str) -> None:
    page = open_page(browser, site, GALLERY, viewport)
    # Tab from the top of the page reaches the first card's slider.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('cg-slider__range')"):
            break
    else:
        pytest.fail("Tab never reached a slider")
    assert page.evaluate("document.activeElement.closest('.cg-case').dataset.cgCase") == "lips-001"
    tree = page.locator(".cg-case").first.aria_snapshot()
    assert 'slider "Before and after: Lip filler"' in tree, tree
    assert 'img "Lips before lip filler, front view"' in tree and "text: Before" in tree and "text: After" in tree
    assert page.get_by_role("slider", name="Before and after: Wrinkle relaxer (forehead lines), oblique left view").count() == 1

    assert slider_state(page) == {
        "value": 50,
        "text": "50% before",
        "position": "50%",
        "clip": "inset(0px 50% 0px 0px)",
        "clipRight": 50,
    }
    for key, value in [
        ("ArrowRight", 51),
        ("ArrowRight", 52),
        ("ArrowLeft", 51),
        ("Home", 0),
        ("PageUp", 10),
        ("End", 100),
        ("PageDown", 90),
    ]:
        page.keyboard.press(key)
        state = slider_state(page)
        assert (state["value"], state["text"], state["position"]) == (value, f"{value}% before", f"{value}%"), (key, state)
        assert state["clipRight"] == 100 - value, (key, state)

    # A tap (or click) a quarter of the way across the photos shows a quarter of the before photo.
    stack = box(page, ".cg-pair__images")
    x, y = stack["x"] + 0.25 * stack["width"], stack["y"] + stack["height"] / 2
    if viewport == "mobile":
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)
    state = slider_state(page)
    assert 23 <= state["value"] <= 27 and state["clipRight"] == 100 - state["value"], state
    assert state["text"] == f"{state['value']}% before"

    # Hit area: the input spans the photos; the visible knob is at least 24 px across.
    input_box = box(page, ".cg-slider__range")
    assert input_box["height"] >= 24 and input_box["width"] >= stack["width"]
    knob = page.locator(".cg-slider__handle").first.evaluate(
        "h => { const s = getComputedStyle(h, '::after'); return [parseFloat(s.width), parseFloat(s.height)]; }"
    )
    assert min(knob) >= 24, knob
    page.context.close()


def test_slider_reports_change_events_too(browser: Browser, site: Site) -> None:
    """iOS VoiceOver moves a range and fires only "change": the clip and the value text must follow it."""
    page = open_page(browser, site, GALLERY, "desktop")
    page.locator(".cg-slider__range").first.evaluate("i => { i.value = 70; i.dispatchEvent(new Event('change')); }")
    assert slider_state(page) == {"value": 70, "text": "70% before", "position": "70%", "clip": "inset(0px 30% 0px 0px)", "clipRight": 30}
    page.context.close()


@pytest.mark.parametrize(("motion", "duration"), [("reduce", "0s"), ("no-preference", "0.15s")])
def test_slider_moves_only_for_visitors_who_accept_motion(browser: Browser, site: Site, motion: str, duration: str) -> None:
    page = open_page(browser, site, GALLERY, "desktop", reduced_motion=motion)
    durations = page.locator(".cg-pair--slider").first.evaluate(
        """f => [f.querySelector('.cg-pair__side--before picture'), f.querySelector('.cg-slider__handle')]
                 .map(e => getComputedStyle(e).transitionDuration)"""
    )
    assert durations == [duration, duration]
    page.context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_without_javascript_every_case_shows_both_photos_and_its_disclosure(browser: Browser, site: Site, viewport: str) -> None:
    page = open_page(browser, site, GALLERY, viewport, java_script_enabled=False)
    assert page.locator(".cg-slider__range").count() == 0 and page.locator(".cg-pair--slider").count() == 0
    assert page.locator(".cg-filter").count() == 0
    assert page.locator(".cg-case").count() == len(CASES)
    for index in range(len(CASES)):
        card = page.locator(".cg-case").nth(index)
        assert card.locator(".cg-disclosure").is_visible()
        for pair in range(card.locator(".cg-pair").count()):
            images = card.locator(".cg-pair").nth(pair).locator("img")
            assert images.count() == 2
            boxes = [images.nth(i).bounding_box() for i in range(2)]
            assert all(b and b["width"] > 40 and b["height"] > 40 for b in boxes)
            before, after = boxes[0], boxes[1]
            assert before and after
            # Side by side (desktop) or one above the other (narrow phones), never on top of each other.
            apart = before["x"] + before["width"] <= after["x"] or before["y"] + before["height"] <= after["y"]
            assert apart, (before, after)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{viewport}-no-javascript-page.png"), full_page=True)
    page.context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_treatment_filter_narrows_the_list_and_says_so(browser: Browser, site: Site, axe_js: Path, viewport: str) -> None:
    page = open_page(browser, site, GALLERY, viewport)
    group = page.get_by_role("group", name="Show results for")
    buttons = group.get_by_role("button")
    assert buttons.all_inner_texts() == [
        "All treatments",
        "Lip filler",
        "Wrinkle relaxer (forehead lines)",
        "Fractional laser resurfacing",
        "In-office teeth whitening",
    ]
    status = page.get_by_role("status")
    assert status.inner_text() == "Showing 6 of 6 results"
    assert buttons.evaluate_all("bs => bs.map(b => b.getAttribute('aria-pressed'))") == ["true", "false", "false", "false", "false"]

    lips = group.get_by_role("button", name="Lip filler")
    lips.focus()
    page.keyboard.press("Enter")
    assert lips.get_attribute("aria-pressed") == "true" and buttons.first.get_attribute("aria-pressed") == "false"
    visible = [c for c in page.locator(".cg-case").all() if c.is_visible()]
    assert [c.get_attribute("data-cg-case") for c in visible] == ["lips-001", "lips-002"]
    assert status.inner_text() == "Showing 2 of 6 results"
    sizes = [b.bounding_box() for b in buttons.all()]
    assert all(b and b["height"] >= 24 and b["width"] >= 24 for b in sizes), sizes

    page.add_script_tag(path=str(axe_js))
    found = page.evaluate("([context, runOnly]) => axe.run(context, {runOnly})", [AXE_CONTEXT, WCAG])
    assert [v["id"] for v in found["violations"]] == [], found["violations"]

    buttons.first.click()
    assert status.inner_text() == "Showing 6 of 6 results"
    assert all(c.is_visible() for c in page.locator(".cg-case").all())
    page.context.close()


def test_slider_is_set_up_again_after_instant_navigation(browser: Browser, site: Site) -> None:
    page = open_page(browser, site, "", "desktop")
    page.wait_for_load_state("networkidle")  # Material reads the sitemap before it takes over links
    assert page.locator(".cg-pair--slider").count() == 1
    page.evaluate("window.cgSamePage = true")
    page.get_by_role("link", name="See all results").click()
    page.wait_for_url("**/gallery/")
    page.wait_for_function(f"document.querySelectorAll('.cg-case').length === {len(CASES)}")
    assert page.evaluate("window.cgSamePage") is True, "Material reloaded the page: instant navigation was not exercised"
    page.wait_for_function(f"document.querySelectorAll('.cg-pair--slider').length === {PAIRS}", timeout=5000)
    assert page.locator(".cg-slider__range").count() == PAIRS
    page.context.close()


def test_plain_mkdocs_theme_gets_a_working_accessible_gallery(browser: Browser, project: Project, axe_js: Path) -> None:
    """MkDocs' own theme has none of Material's --md-* variables: the fallbacks must carry the cards."""
    result = project.build()
    assert result.ok, result.log
    with serving(result.site) as url:
        page = open_page(browser, Site(result.site, url), GALLERY, "desktop")
        assert page.locator(".cg-pair--slider").count() == 3
        for index in range(3):
            card = page.locator(".cg-case").nth(index)
            photos, disclosure = card.locator(".cg-pair__images").bounding_box(), card.locator(".cg-disclosure").bounding_box()
            assert photos and disclosure and 0 <= disclosure["y"] - photos["y"] - photos["height"] <= MAX_GAP
        page.keyboard.press("Tab")
        page.locator(".cg-slider__range").first.focus()
        page.keyboard.press("End")
        assert slider_state(page)["clipRight"] == 0
        page.add_script_tag(path=str(axe_js))
        found = page.evaluate("([context, runOnly]) => axe.run(context, {runOnly})", [AXE_CONTEXT, WCAG])
        assert [v["id"] for v in found["violations"]] == [], found["violations"]
        assert "color-contrast" in {rule["id"] for rule in found["passes"]}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "mkdocs-theme-page.png"), full_page=True)
        page.context.close()


@pytest.mark.parametrize("theme", ["material", "mkdocs"])
def test_preview_panels_and_banner_are_visible_and_accessible(browser: Browser, project: Project, axe_js: Path, theme: str) -> None:
    """The `mkdocs serve` preview of a case out of scope: a visible panel in its place, a banner on top, no photo."""
    project.theme = {"name": theme}
    project.consent("C-2026-0001")["channels"] = {"permit": ["social"]}
    project.consent("C-2026-0003")["revoked_on"] = "2026-11-01"
    result = run_build(project.write(), command="serve")
    assert result.ok, result.log
    with serving(result.site) as url:
        page = open_page(browser, Site(result.site, url), GALLERY, "desktop")
        banner, panel = box(page, ".cg-preview-banner"), box(page, ".cg-preview-panel--problem")
        assert banner["y"] < 5 and banner["height"] > 20, "the banner is the first thing on the page"
        assert panel["height"] > 40 and page.locator(".cg-preview-panel--problem").is_visible()
        assert page.locator(".cg-preview-panel--removed").is_visible()
        assert page.locator(".cg-preview-panel img, .cg-preview-panel picture").count() == 0
        assert page.locator(".cg-case").count() == 1, "only lips-002 is rendered as a card"
        page.add_script_tag(path=str(axe_js))
        context = {"include": [".cg-preview-banner", ".cg-preview-panel"]}
        found = page.evaluate("([context, runOnly]) => axe.run(context, {runOnly})", [context, WCAG])
        assert [v["id"] for v in found["violations"]] == [], found["violations"]
        assert "color-contrast" in {rule["id"] for rule in found["passes"]}
        page.locator(".cg-preview-banner a").click()
        page.wait_for_url("**/compliant-gallery-preview/")
        assert "CG202" in page.locator(".cg-preview-problems").inner_text()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.goto(url + GALLERY)
        page.screenshot(path=str(ARTIFACTS / f"preview-{theme}-page.png"), full_page=True)
        if theme == "material" and os.environ.get("CG_UPDATE_SCREENSHOTS") == "1":
            # The whole page at half size: the banner on top, the card, then the two panels.
            page.wait_for_function("[...document.querySelectorAll('.cg-gallery img')].every(i => i.complete && i.naturalWidth > 0)")
            with Image.open(io.BytesIO(page.screenshot(full_page=True))) as image:
                half = image.convert("RGB").resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
                half.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(DOCS_SCREENSHOTS / "preview.png", optimize=True)
        page.context.close()


# -- compliant-gallery verify --browser ---------------------------------------------------------------------


def run_verify(site_dir: Path) -> tuple[int, str]:
    """`compliant-gallery verify --browser SITE_DIR` as a user runs it."""
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs_compliant_gallery", "verify", "--browser", "--chromium", str(CHROMIUM), str(site_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return completed.returncode, completed.stdout + completed.stderr


def test_verify_browser_passes_the_sample_site_in_light_dark_and_slate(site: Site) -> None:
    code, output = run_verify(site.root)
    assert code == 0, output
    assert "6 gallery pages checked" in output and "0 failures" in output, output
    assert "every disclosure is visible" in output


def test_verify_browser_passes_the_mkdocs_theme(project: Project) -> None:
    result = project.build()
    assert result.ok, result.log
    code, output = run_verify(result.site)
    assert code == 0, output
    assert "2 gallery pages checked" in output, output


def test_verify_browser_fails_on_a_script_that_hides_the_disclosure(site: Site, tmp_path: Path) -> None:
    """What no build can see: a script that styles the page after it loads. One line per card and scheme."""
    tampered = tmp_path / "site"
    shutil.copytree(site.root, tampered)
    page = tampered / "gallery" / "lip-filler" / "index.html"
    script = "<script>document.head.insertAdjacentHTML('beforeend', '<style>.cg-case .cg-disclosure { opacity: 0.15 }</style>')</script>"
    page.write_text(page.read_text().replace("</body>", script + "</body>"))
    code, output = run_verify(tampered)
    assert code == 1, output
    failures = [line for line in output.splitlines() if line.startswith("error: site/gallery/lip-filler/index.html")]
    # Two lip-filler cases, each in the light, dark and slate schemes.
    cases_and_schemes = {(line.split("[case ")[1].split("]")[0], line.split("(")[1].split(" scheme")[0]) for line in failures}
    assert cases_and_schemes == {(case, scheme) for case in ("lips-001", "lips-002") for scheme in ("light", "dark", "Material 'slate'")}, (
        output
    )
    assert all("not rendered visibly" in line or "contrast" in line for line in failures), failures
    assert "fix: " in output
    assert not any(line.startswith("error: site/gallery/index.html") for line in output.splitlines()), "other pages are untouched"


def test_verify_browser_fails_on_a_planted_hiding_stylesheet(site: Site, tmp_path: Path) -> None:
    """A stylesheet that shrinks and greys the disclosure: the static check names the rule, the browser measures it."""
    tampered = tmp_path / "site"
    shutil.copytree(site.root, tampered)
    (tampered / "clinic.css").write_text("body .cg-case .cg-disclosure { font-size: 9px; color: #aaa }\n")
    page = tampered / "gallery" / "index.html"
    page.write_text(page.read_text().replace("</head>", '<link rel="stylesheet" href="../clinic.css"></head>'))
    code, output = run_verify(tampered)
    assert code == 1, output
    assert "site/clinic.css:1 (selector body .cg-case .cg-disclosure): CG404" in output, output
    lines = [line for line in output.splitlines() if line.startswith("error: site/gallery/index.html [case lips-001] (light scheme)")]
    assert any("smaller than the page's text" in line for line in lines), output
    assert any("below 4.5:1" in line for line in lines), output
