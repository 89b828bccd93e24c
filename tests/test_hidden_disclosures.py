"""A disclosure cannot be hidden by style (CG404): real builds with a hiding rule planted in `extra_css`, in an
inline `<style>` of a page, or in a `style=` attribute of a template override, each refused with the
stylesheet, the line and the selector named and nothing of the gallery left in site/; and look-alikes that
hide nothing, which must build."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mkdocs_compliant_gallery.output.stylesheets import Applies, media_applies
from mkdocs_compliant_gallery.output.values import Lengths, colour, contrast, font_size_px, to_px
from tests.helpers import Project, Result, assert_nothing_published, run_build

CASE_TEMPLATE = (
    Path(__file__).resolve().parent.parent / "mkdocs_compliant_gallery" / "templates" / "fragments" / "compliant-gallery" / "case.html"
)
# The planted rule is always on this line of the clinic's stylesheet: two harmless lines come first.
EXTRA_CSS_PREFIX = "/* Clinic styles */\nh1 { letter-spacing: 0.01em; }\n"
RULE_LINE = 3


# Material with its palette toggle, as the sample site has it: a visitor can switch to the dark (slate) scheme.
MATERIAL = {
    "name": "material",
    "palette": [
        {"scheme": "default", "toggle": {"icon": "material/weather-night", "name": "Switch to dark mode"}},
        {"scheme": "slate", "toggle": {"icon": "material/weather-sunny", "name": "Switch to light mode"}},
    ],
}


def build_with_extra_css(project: Project, css: str, theme: str = "mkdocs") -> Result:
    """A build whose mkdocs.yml lists docs/css/clinic.css in extra_css."""
    project.theme = MATERIAL if theme == "material" else {"name": theme}
    stylesheet = project.root / "docs" / "css" / "clinic.css"
    stylesheet.parent.mkdir(parents=True, exist_ok=True)
    stylesheet.write_text(EXTRA_CSS_PREFIX + css + "\n")
    config_file = project.write()
    config = yaml.safe_load(config_file.read_text())
    config["extra_css"] = ["css/clinic.css"]
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return run_build(config_file)


def assert_refused(result: Result, project: Project, where: str, selector: str, words: str) -> None:
    assert not result.ok, result.log
    line = next((line for line in result.log.splitlines() if f"{where} (selector {selector})" in line), None)
    assert line is not None, result.log
    assert "CG404" in line and words in line, line
    assert "fix: remove this rule, or narrow its selector" in result.log
    assert_nothing_published(result.site, project.root)


# (technique, rule planted in extra_css, selector named, words in the message)
EXTRA_CSS: list[tuple[str, str, str, str]] = [
    ("display none", ".cg-disclosure { display: none }", ".cg-disclosure", "removes the disclosure from the page"),
    ("display none on the card", "article.cg-case { display: none }", "article.cg-case", "removes the card from the page"),
    ("display none on the gallery", "div.cg-gallery { display: none }", "div.cg-gallery", "removes the card from the page"),
    ("display none on the text", ".cg-disclosure p { display: none }", ".cg-disclosure p", "removes the disclosure from the page"),
    ("visibility hidden", ".cg-disclosure { visibility: hidden }", ".cg-disclosure", "makes the disclosure invisible"),
    ("visibility collapse on the card", ".cg-case { visibility: collapse }", ".cg-case", "makes the disclosure invisible"),
    ("opacity zero", ".cg-disclosure { opacity: 0 }", ".cg-disclosure", "(nearly) transparent"),
    ("opacity near zero, as a percentage", ".cg-disclosure { opacity: 3% }", ".cg-disclosure", "(nearly) transparent"),
    ("filter opacity", ".cg-disclosure { filter: opacity(0.1) }", ".cg-disclosure", "(nearly) transparent"),
    ("tiny font-size", "article.cg-case .cg-disclosure p { font-size: 5px }", "article.cg-case .cg-disclosure p", "text 5.0px"),
    ("font shorthand 0/0", "article.cg-case .cg-disclosure { font: 0/0 a }", "article.cg-case .cg-disclosure", "text 0.0px"),
    ("tiny font on the card, relative", ".cg-case { font-size: 30% }", ".cg-case", "against"),
    ("clip rect", ".cg-disclosure { position: absolute; clip: rect(0 0 0 0) }", ".cg-disclosure", "clips the disclosure away"),
    ("clip-path inset", ".cg-disclosure { clip-path: inset(50%) }", ".cg-disclosure", "clips the disclosure"),
    ("clip-path circle", ".cg-disclosure { -webkit-clip-path: circle(0) }", ".cg-disclosure", "clips the disclosure"),
    ("off-screen left", ".cg-disclosure { position: absolute; left: -9999px }", ".cg-disclosure", "off the screen"),
    ("off-screen fixed top", ".cg-disclosure { position: fixed; top: -100vh }", ".cg-disclosure", "off the screen"),
    ("off-screen with calc", ".cg-disclosure { position: relative; left: calc(-100vw - 20px) }", ".cg-disclosure", "off the screen"),
    ("off-screen margin", "div .cg-case .cg-disclosure { margin-left: -9999px }", "div .cg-case .cg-disclosure", "off the screen"),
    ("text-indent", ".cg-disclosure { text-indent: -9999px }", ".cg-disclosure", "pushes the disclosure's text off the screen"),
    ("text-indent on the card", ".cg-case { text-indent: 100%; white-space: nowrap }", ".cg-case", "off the screen"),
    ("zero height, overflow hidden", ".cg-disclosure { height: 0; overflow: hidden }", ".cg-disclosure", "can cut the disclosure off"),
    ("max-height with overflow clip", ".cg-disclosure { max-height: 1px; overflow-y: clip }", ".cg-disclosure", "can cut"),
    ("fixed card height, overflow hidden", ".cg-case { height: 200px; overflow: hidden }", ".cg-case", "can cut the card off"),
    ("scale(0)", ".cg-disclosure { transform: scale(0) }", ".cg-disclosure", "shrinks the disclosure"),
    ("scale property", ".cg-disclosure { scale: 0.1 }", ".cg-disclosure", "shrinks the disclosure"),
    ("translate off the screen", ".cg-disclosure { transform: translateX(-200vw) }", ".cg-disclosure", "off the screen"),
    ("text colour of the background", "body .cg-case .cg-disclosure { color: #fff }", "body .cg-case .cg-disclosure", "contrast 1.00:1"),
    ("transparent text", ".cg-case .cg-disclosure p { color: transparent !important }", ".cg-case .cg-disclosure p", "below 4.5:1"),
    ("light grey text", "div.cg-gallery .cg-disclosure { color: #c8c8c8 }", "div.cg-gallery .cg-disclosure", "below 4.5:1"),
    ("text fill colour", ".cg-disclosure { -webkit-text-fill-color: white }", ".cg-disclosure", "below 4.5:1"),
    ("custom property the colours read", ".cg-gallery { --md-default-fg-color: #ffffff }", ".cg-gallery", "below 4.5:1"),
    (
        "::after overlay",
        '.cg-disclosure { position: relative }\n.cg-disclosure::after { content: ""; position: absolute; inset: 0; background: #fff }',
        ".cg-disclosure::after",
        "positioned over the disclosure",
    ),
    ("content replaces the text", ".cg-disclosure p { content: '' }", ".cg-disclosure p", "replaces the disclosure's text"),
    ("z-index behind the card", ".cg-disclosure { position: relative; z-index: -1 }", ".cg-disclosure", "behind the card"),
    ("content-visibility", ".cg-disclosure { content-visibility: hidden }", ".cg-disclosure", "skips drawing"),
    ("under a screen media query", "@media (max-width: 600px) { .cg-disclosure { display: none } }", ".cg-disclosure", "@media"),
    ("under prefers-color-scheme dark", "@media (prefers-color-scheme: dark) { .cg-disclosure { opacity: 0 } }", ".cg-disclosure", "dark"),
    ("on hover only", ".cg-case:hover .cg-disclosure { visibility: hidden }", ".cg-case:hover .cg-disclosure", ":hover"),
    (
        "revealed only on hover",
        ".cg-disclosure { display: none }\n.cg-case:hover .cg-disclosure { display: block }",
        ".cg-disclosure",
        "removes",
    ),
    ("!important beats the plugin", ".cg-disclosure { font-size: 2px !important }", ".cg-disclosure", "text 2.0px"),
    ("CSS nesting", ".cg-case {\n  .cg-disclosure { display: none }\n}", ":is(.cg-case) .cg-disclosure", "removes"),
    ("inside @supports", "@supports (display: grid) { .cg-disclosure { display: none } }", ".cg-disclosure", "removes"),
    ("inside a cascade layer", "@layer clinic { .cg-disclosure { visibility: hidden } }", ".cg-disclosure", "invisible"),
    ("attribute selector", "[data-cg-case] .cg-disclosure { display: none }", "[data-cg-case] .cg-disclosure", "removes"),
    ("by id", "#case-lips-001 > .cg-disclosure { display: none }", "#case-lips-001 > .cg-disclosure", "removes"),
]


@pytest.mark.parametrize(("technique", "css", "selector", "words"), EXTRA_CSS, ids=[row[0] for row in EXTRA_CSS])
def test_hiding_rule_in_extra_css_fails_the_build(project: Project, technique: str, css: str, selector: str, words: str) -> None:
    result = build_with_extra_css(project, css)
    written_as = selector.replace(":is(.cg-case) ", "")
    line = RULE_LINE + next(index for index, text in enumerate(css.split("\n")) if written_as in text)
    assert_refused(result, project, f"docs/css/clinic.css:{line}", selector, words)


def test_imported_stylesheet_is_checked_too(project: Project) -> None:
    (project.root / "docs" / "css").mkdir(parents=True, exist_ok=True)
    (project.root / "docs" / "css" / "hide.css").write_text("\n.cg-disclosure { display: none }\n")
    result = build_with_extra_css(project, '@import url("hide.css");')
    assert_refused(result, project, "docs/css/hide.css:2", ".cg-disclosure", "removes the disclosure")


def test_a_stylesheet_the_clinic_imports_from_another_server_fails_closed(project: Project) -> None:
    """No build can read a stylesheet from another server: one the clinic added itself may hide the disclosure, so
    the build stops, naming the @import and the fix (a copy in docs_dir is checked like the clinic's own)."""
    result = build_with_extra_css(project, '@import url("https://cdn.example/clinic.css");')
    assert not result.ok, result.log
    line = next(line for line in result.log.splitlines() if "CG404" in line and "cdn.example" in line)
    assert f"docs/css/clinic.css:{RULE_LINE} (@import): CG404" in line, line
    assert "imports https://cdn.example/clinic.css, which is not part of the site" in line, line
    assert "copy the stylesheet into docs_dir" in result.log
    assert_nothing_published(result.site, project.root)


def test_a_stylesheet_the_clinic_links_from_another_server_fails_closed(project: Project) -> None:
    project.theme = {"name": "mkdocs"}
    config_file = project.write()
    config = yaml.safe_load(config_file.read_text())
    config["extra_css"] = ["https://cdn.example/brand.css"]
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    result = run_build(config_file)
    assert not result.ok, result.log
    line = next(line for line in result.log.splitlines() if "CG404" in line and "cdn.example" in line)
    assert "mkdocs.yml (extra_css): CG404" in line and "links the stylesheet https://cdn.example/brand.css" in line, line
    assert_nothing_published(result.site, project.root)


def test_the_themes_own_stylesheets_from_another_server_are_named_as_not_checked(project: Project) -> None:
    """MkDocs' own theme links highlight.js's stylesheet from a CDN: the theme's choice, named in the log (the
    browser check loads it), not a refusal."""
    project.theme = {"name": "mkdocs"}
    result = project.build()
    assert result.ok, result.log
    assert "not checked for hidden disclosures (not part of the site):" in result.log
    assert "links the stylesheet https://cdnjs.cloudflare.com/ajax/libs/highlight.js/" in result.log


def test_material_slate_scheme_rule_fails(project: Project) -> None:
    """A rule written for Material's dark scheme hides the disclosure whenever a visitor switches to it."""
    result = build_with_extra_css(project, "[data-md-color-scheme=slate] .cg-case .cg-disclosure { color: #1e2129 }", theme="material")
    assert_refused(result, project, f"docs/css/clinic.css:{RULE_LINE}", "[data-md-color-scheme=slate] .cg-case .cg-disclosure", "slate")


def test_material_custom_property_that_whitens_the_text_fails(project: Project) -> None:
    result = build_with_extra_css(project, ".md-typeset { --md-default-fg-color: #fff }", theme="material")
    assert_refused(result, project, f"docs/css/clinic.css:{RULE_LINE}", ".md-typeset", "contrast 1.00:1")


INLINE: list[tuple[str, str, str]] = [
    ("display none", ".cg-disclosure { display: none }", "removes the disclosure"),
    ("transparent text", "#case-lips-001 .cg-disclosure { color: rgba(0, 0, 0, 0) }", "below 4.5:1"),
    ("tiny text", ".cg-case .cg-disclosure { font-size: 0.2em }", "against"),
    ("off-screen", ".cg-disclosure { position: absolute; top: -2000px }", "off the screen"),
]


@pytest.mark.parametrize(("technique", "css", "words"), INLINE, ids=[row[0] for row in INLINE])
def test_hiding_rule_in_an_inline_style_of_a_page_fails(project: Project, technique: str, css: str, words: str) -> None:
    project.pages["gallery.md"] = f"# Results\n\n<style>\n{css}\n</style>\n\n<!-- compliant-gallery -->\n"
    result = project.build()
    # Named in the Markdown page the clinic wrote, at the rule's own line.
    assert_refused(result, project, "docs/gallery.md:4", css.split(" {")[0], words)


def _override_disclosure_style(project: Project, style: str) -> None:
    folder = project.root / "overrides" / "fragments" / "compliant-gallery"
    folder.mkdir(parents=True, exist_ok=True)
    template = CASE_TEMPLATE.read_text().replace('<div class="cg-disclosure"', f'<div class="cg-disclosure" style="{style}"')
    (folder / "case.html").write_text(template)
    project.theme = {"name": "mkdocs", "custom_dir": "overrides"}


ATTRIBUTES: list[tuple[str, str, str]] = [
    ("opacity", "opacity: 0.02", "(nearly) transparent"),
    ("font size", "font-size: 3px", "text 3.0px"),
    ("clip-path", "clip-path: polygon(0 0, 0 0, 0 0)", "clips the disclosure"),
    ("colour", "color: var(--nothing, #fdfdfd)", "below 4.5:1"),
]


@pytest.mark.parametrize(("technique", "style", "words"), ATTRIBUTES, ids=[row[0] for row in ATTRIBUTES])
def test_hiding_style_attribute_in_a_template_override_fails(project: Project, technique: str, style: str, words: str) -> None:
    _override_disclosure_style(project, style)
    result = project.build()
    assert not result.ok, result.log
    found = re.search(
        r"site/(gallery/index\.html):(\d+) \(selector style attribute of <div class='cg-disclosure'>\): CG404 \[case (\S+)\] (.*)",
        result.log,
    )
    assert found is not None, result.log
    assert words in found.group(4), found.group(0)
    assert_nothing_published(result.site, project.root)


def test_style_attribute_line_is_the_line_of_the_element(project: Project) -> None:
    """Read the built page of a passing build with a harmless attribute, then plant a hiding one: same line."""
    _override_disclosure_style(project, "font-size: 1.2em")
    passing = project.build()
    assert passing.ok, passing.log
    page = (passing.site / "gallery" / "index.html").read_text().splitlines()
    expected = next(number for number, text in enumerate(page, start=1) if 'class="cg-disclosure" style=' in text)
    _override_disclosure_style(project, "display: none")
    result = project.build()
    assert not result.ok
    assert f"site/gallery/index.html:{expected} (selector style attribute of <div class='cg-disclosure'>): CG404" in result.log


# Rules that look like the ones above but hide nothing of a disclosure: the build must pass.
HARMLESS: list[tuple[str, str]] = [
    ("hides something else", ".cg-facts { display: none }"),
    ("print only", "@media print { .cg-disclosure { display: none } }"),
    ("speech only", "@media speech { .cg-disclosure { visibility: hidden } }"),
    ("overridden by a stronger rule", ".cg-disclosure { display: none }\n.cg-case .cg-disclosure { display: block }"),
    ("overridden later", ".cg-disclosure { opacity: 0 }\n.cg-disclosure { opacity: 1 }"),
    ("slight transparency", ".cg-disclosure { opacity: 0.95 }"),
    ("larger text", ".cg-case .cg-disclosure { font-size: 1.15em }"),
    ("dark text", ".cg-case .cg-disclosure { color: #111 }"),
    ("a little nudge", ".cg-disclosure { position: relative; left: 4px }"),
    ("an icon before it", '.cg-disclosure::before { content: "i "; font-weight: bold }'),
    ("a positioned decoration without a background", '.cg-disclosure::after { content: ""; position: absolute; border: 1px solid }'),
    ("overflow without a height", ".cg-case { overflow: hidden }"),
    ("a screen-reader class of the theme", ".sr-only { position: absolute; clip: rect(0 0 0 0); width: 1px; height: 1px }"),
    ("the before/after label moved", ".cg-pair__label { position: absolute; left: -9999px }"),
    ("a slight zoom", ".cg-disclosure { transform: scale(1.02) }"),
    ("a hover that changes nothing hidden", ".cg-case:hover { border-color: #333 }"),
    ("clip-path that clips nothing", ".cg-disclosure { clip-path: inset(0) }"),
    ("a link colour", ".cg-disclosure a { color: #0645ad }"),
]


@pytest.mark.parametrize(("look_alike", "css"), HARMLESS, ids=[row[0] for row in HARMLESS])
def test_look_alikes_that_hide_nothing_build(project: Project, look_alike: str, css: str) -> None:
    result = build_with_extra_css(project, css)
    assert result.ok, result.log
    assert "CG404" not in result.log


def test_material_sample_palette_builds_clean(project: Project) -> None:
    """Material's own stylesheets, both palettes and the Google Fonts link pass: no false alarm on the theme."""
    project.theme = MATERIAL
    result = project.build()
    assert result.ok, result.log
    assert "fonts.googleapis.com" in (result.site / "gallery" / "index.html").read_text()


# -- the pure parts, fast ------------------------------------------------------------------------------------

MEDIA: list[tuple[str, Applies]] = [
    ("", Applies.ALWAYS),
    ("all", Applies.ALWAYS),
    ("screen", Applies.ALWAYS),
    ("print", Applies.NEVER),
    ("speech, print", Applies.NEVER),
    ("not print", Applies.ALWAYS),
    ("not screen", Applies.NEVER),
    ("screen and (max-width: 30em)", Applies.SOMETIMES),
    ("(prefers-color-scheme: dark)", Applies.SOMETIMES),
    ("print, (min-width: 10px)", Applies.SOMETIMES),
    ("only screen", Applies.ALWAYS),
    ("tv", Applies.NEVER),
]


@pytest.mark.parametrize(("query", "expected"), MEDIA)
def test_media_queries_that_reach_a_screen(query: str, expected: Applies) -> None:
    assert media_applies(query) is expected


def test_lengths_colours_and_contrast() -> None:
    import tinycss2

    def parts(text: str) -> list[Any]:
        return list(tinycss2.parse_component_value_list(text))

    lengths = Lengths(16.0, 20.0, 1000.0)
    assert to_px(parts("-9999px"), lengths) == -9999
    assert to_px(parts("2em"), lengths) == 32
    assert to_px(parts("1.5rem"), lengths) == 30
    assert to_px(parts("-50%"), lengths) == -500
    assert to_px(parts("calc(-100vw - 20px)"), lengths) == -1300
    assert to_px(parts("max(1px, 3px)"), lengths) == 3
    assert to_px(parts("auto"), lengths) is None
    assert font_size_px(parts("smaller"), 12.0, 16.0) == pytest.approx(10)
    assert font_size_px(parts("80%"), 20.0, 16.0) == 16
    assert colour(parts("#fff")) == (1.0, 1.0, 1.0, 1.0)
    assert colour(parts("transparent")) == (0.0, 0.0, 0.0, 0.0)
    assert colour(parts("currentcolor")) == "currentcolor"
    assert contrast((0.0, 0.0, 0.0, 1.0), (1.0, 1.0, 1.0, 1.0)) == pytest.approx(21)
    assert contrast((0.5, 0.5, 0.5, 1.0), (0.5, 0.5, 0.5, 1.0)) == pytest.approx(1)


# -- compliant-gallery verify, without a browser, and how it reports what it cannot do ------------------------


def _verify(*args: str, block_playwright: bool = False) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh interpreter; with `block_playwright` as on a machine without the [browser] extra."""
    prelude = "import sys; sys.modules['playwright'] = None; " if block_playwright else ""
    code = prelude + "from mkdocs_compliant_gallery.hosts.cli import main; raise SystemExit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", "import sys; " + code, "verify", *args], capture_output=True, text=True, timeout=300)


def test_verify_reads_a_built_site_and_names_the_hiding_rule(project: Project) -> None:
    result = project.build()
    assert result.ok, result.log
    clean = _verify(str(result.site))
    assert clean.returncode == 0 and "every disclosure is visible" in clean.stdout, clean.stdout + clean.stderr
    (result.site / "gallery" / "late.css").write_text("\n\nbody .cg-case .cg-disclosure { visibility: hidden }\n")
    page = result.site / "gallery" / "index.html"
    page.write_text(page.read_text().replace("</head>", '<link rel="stylesheet" href="late.css"></head>'))
    tampered = _verify(str(result.site))
    assert tampered.returncode == 1, tampered.stdout
    assert "site/gallery/late.css:3 (selector body .cg-case .cg-disclosure): CG404 [case lips-001]" in tampered.stdout
    assert "makes the disclosure invisible" in tampered.stdout


def test_verify_browser_without_playwright_says_what_to_install(project: Project) -> None:
    result = project.build()
    assert result.ok, result.log
    run = _verify("--browser", str(result.site), block_playwright=True)
    assert run.returncode == 2, run.stdout + run.stderr
    assert 'the browser check needs Playwright, which is not installed: pip install "mkdocs-compliant-gallery[browser]"' in run.stderr
    assert "Traceback" not in run.stderr


def test_verify_browser_without_chromium_says_where_it_looked(project: Project, tmp_path: Path) -> None:
    result = project.build()
    assert result.ok, result.log
    missing = tmp_path / "no-chromium"
    run = _verify("--browser", "--chromium", str(missing), str(result.site))
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"{missing}: no Chromium there" in run.stderr and "'playwright install' is not needed" in run.stderr


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_verify_refuses_what_is_not_a_built_gallery(tmp_path: Path, folder: str) -> None:
    target = tmp_path / folder
    if folder == "empty":
        target.mkdir()
        (target / "index.html").write_text("<html><body><p>No gallery here.</p></body></html>")
    run = _verify(str(target))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "no such folder" in run.stderr if folder == "missing" else "no page of this site shows a case card" in run.stderr
