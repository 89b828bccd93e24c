"""What reaches a page and the built site, as plain function calls: directives (CG108; code masked, so examples in
code are not placed), the visible disclosure of a rendered card (CG404), and the output guard (CG601-CG604) on
tiny site trees built in tmp_path."""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from mkdocs_compliant_gallery.output.cards import disclosure_problems, rendered_cards
from mkdocs_compliant_gallery.output.directives import (
    Directive,
    code_masked,
    find_directives,
    find_near_misses,
    line_in_source,
    outside_fences,
    parse_directive,
)
from mkdocs_compliant_gallery.output.guard import Forbidden, Secret, guard_site
from mkdocs_compliant_gallery.settings import IMAGE_FOLDER
from mkdocs_compliant_gallery.violations import Where

# -- CG108: directive arguments -------------------------------------------------------------------------------------

WHERE = Where("docs/gallery.md", 3, "directive")

# args as written after `compliant-gallery` -> the directive, or None and the start of each CG108 message
DIRECTIVE_ROWS: dict[str, tuple[str, Directive | None, list[str]]] = {
    "every-case": ("", Directive("D"), []),
    "one-treatment": (" treatment=lip-filler", Directive("D", treatment="lip-filler"), []),
    "one-case": (" case=lips-001", Directive("D", case="lips-001"), []),
    "quoted-value": (' case="lips-001"', Directive("D", case="lips-001"), []),
    "extra-spaces": ("   treatment=lip-filler  ", Directive("D", treatment="lip-filler"), []),
    "CG108-unknown-argument": (" colour=red", None, ["directive argument 'colour=red' is not understood"]),
    "CG108-argument-without-value": (" treatment", None, ["directive argument 'treatment' is not understood"]),
    "CG108-upper-case-key": (" CASE=lips-001", None, ["directive argument 'CASE=lips-001' is not understood"]),
    "space-around-equals": (" case = lips-001", Directive("D", case="lips-001"), []),
    "CG108-argument-typo": (" treatmnet=lip-filler", None, ["directive argument 'treatmnet=lip-filler' is not understood"]),
    "CG108-treatment-and-case": (" treatment=lip-filler case=lips-001", None, ["a directive names both a treatment and a case"]),
}


@pytest.mark.parametrize(("args", "directive", "messages"), DIRECTIVE_ROWS.values(), ids=DIRECTIVE_ROWS.keys())
def test_parse_directive(args: str, directive: Directive | None, messages: list[str]) -> None:
    parsed, problems = parse_directive("D", args, WHERE)
    assert parsed == directive
    assert [v.code for v in problems] == ["CG108"] * len(messages)
    assert all(v.where == WHERE for v in problems)
    for violation, message in zip(problems, messages, strict=True):
        assert violation.message.startswith(message), violation.message


PAGE = """\
# Results

<!-- compliant-gallery -->

```markdown
<!-- compliant-gallery case=in-a-backtick-fence -->
```

~~~
<!-- compliant-gallery case=in-a-tilde-fence -->
```
<!-- compliant-gallery case=after-a-backtick-line-inside-the-tilde-fence -->
~~~

Write `<!-- compliant-gallery case=inline-code -->` in a page to place one case.

`code` then <!-- compliant-gallery treatment=after-inline-code -->
"""


def directives_of(markdown: str) -> list[tuple[int, str]]:
    """(line, arguments) of every directive the CLI places: found in the page with its code masked."""
    masked = code_masked(markdown)
    return [(line_in_source(masked, match.group(0), 0), match.group("args").strip()) for match in find_directives(masked)]


def test_code_masked_hides_fenced_and_inline_code_line_for_line() -> None:
    masked = code_masked(PAGE)
    assert [len(line) for line in masked.split("\n")] == [len(line) for line in PAGE.split("\n")]
    assert directives_of(PAGE) == [(3, ""), (17, "treatment=after-inline-code")]


# (args, the fix a CG108 gives): a mistyped argument names the one that was meant.
ARGUMENT_TYPOS = [
    (" treatmnet=lip-filler", "did you mean 'treatment=lip-filler'?"),
    (" cases=lips-001", "did you mean 'case=lips-001'?"),
    (" CASE=lips-001", "did you mean 'case=lips-001'?"),
    (" colour=red", "write 'treatment=<key>' or 'case=<id>', or nothing for every case"),
]


@pytest.mark.parametrize(("args", "fix"), ARGUMENT_TYPOS)
def test_a_mistyped_argument_says_what_was_meant(args: str, fix: str) -> None:
    _, problems = parse_directive("D", args, WHERE)
    assert [(v.code, v.fix) for v in problems] == [("CG108", fix)]


# Comments meant as directives but written otherwise -> the directive they mean; written correctly or unrelated: none.
NEAR_MISSES = [
    ("<!-- compliant_gallery -->", "<!-- compliant-gallery -->"),
    ("<!-- Compliant-Gallery -->", "<!-- compliant-gallery -->"),
    ("<!-- COMPLIANT-GALLERY case=lips-001 -->", "<!-- compliant-gallery case=lips-001 -->"),
    ("<!-- compliant gallery treatment=lip-filler -->", "<!-- compliant-gallery treatment=lip-filler -->"),
    ("<!-- compliant-gallery: case=lips-001 -->", "<!-- compliant-gallery case=lips-001 -->"),
    ("<!-- compliant-galery -->", "<!-- compliant-gallery -->"),
    ("<!--compliantgallery-->", "<!-- compliant-gallery -->"),
    ("<!-- compliant-gallery case=lips-001 -->", None),
    ("<!--compliant-gallery-->", None),
    ("<!-- compliance review: Dr Lee -->", None),
    ("<!-- TODO: gallery for lips -->", None),
]


@pytest.mark.parametrize(("comment", "meant"), NEAR_MISSES)
def test_near_miss_directives_are_found_with_the_directive_they_mean(comment: str, meant: str | None) -> None:
    found = find_near_misses(f"<p>Intro</p>\n{comment}\n<p>Outro</p>")
    assert [m for _, m in found] == ([meant] if meant else [])


FENCED = """\
# Placing a case

````markdown
Write this in a page:
```
<!-- compliant-gallery case=shown-in-an-example -->
```
````

<!-- compliant-gallery case=after-the-example -->

    <!-- compliant-gallery case=in-indented-code -->

- A list item

    <!-- compliant-gallery case=continuing-the-item -->

        <!-- compliant-gallery case=in-code-inside-the-item -->
"""


def test_a_fence_closes_only_at_a_fence_as_long_as_its_own() -> None:
    text = [number for number, _, is_text in outside_fences(FENCED.split("\n")) if is_text]
    assert 6 not in text and 10 in text, text
    assert directives_of(FENCED)[0] == (10, "case=after-the-example")


def test_indented_code_is_masked_but_a_list_item_continued_is_not() -> None:
    assert directives_of(FENCED) == [(10, "case=after-the-example"), (16, "case=continuing-the-item")]


def test_a_page_without_directives() -> None:
    assert directives_of("# Home\n\nNo gallery here: compliant-gallery is a plugin.\n") == []


def test_a_directive_split_over_lines_is_found_at_its_first_line() -> None:
    assert directives_of("# Lips\n\n<!-- compliant-gallery\n     case=lips-001 -->\n") == [(3, "case=lips-001")]


# -- CG404: the visible disclosure of each rendered card ----------------------------------------------------------

DISCLOSURE = "Most patients see fuller lips for 6 to 12 months."


def card(body: str, case_id: str = "lips-001") -> str:
    return f'<article class="cg-case" data-cg-case="{case_id}">{body}</article>'


FIGURE = '<figure aria-describedby="cg-d-1"><img src="a.jpg" alt="Lips before"><img src="b.jpg" alt="Lips after"></figure>'
BLOCK = f'<p id="cg-d-1" class="cg-disclosure">{DISCLOSURE}</p>'

# page HTML -> the start of the CG404 problem of lips-001 ("" when the card is right)
CARD_ROWS: dict[str, tuple[str, str]] = {
    "disclosure-under-the-photos": (card(FIGURE + BLOCK), ""),
    "disclosure-in-nested-markup": (
        card(FIGURE + '<div id="cg-d-1"><p>Most patients see <em>fuller lips</em></p><p>for 6 to 12 months.</p></div>'),
        "",
    ),
    "entity-escaped-text": (card(FIGURE + '<p id="cg-d-1">Most patients see fuller lips for 6&#160;to 12 months.</p>'), ""),
    "CG404-card-missing": (card(FIGURE + BLOCK, case_id="lips-002"), "no card for this case in the page"),
    "CG404-disclosure-absent": (card(FIGURE + '<p id="cg-d-1">Results may vary.</p>'), "the card does not show its disclosure"),
    "CG404-disclosure-sr-only": (
        card(FIGURE + f'<p id="cg-d-1" class="sr-only">{DISCLOSURE}</p>'),
        "the card does not show its disclosure",
    ),
    "CG404-disclosure-hidden-attribute": (
        card(FIGURE + f'<p id="cg-d-1" hidden>{DISCLOSURE}</p>'),
        "the card does not show its disclosure",
    ),
    "CG404-disclosure-display-none": (
        card(FIGURE + f'<p id="cg-d-1" style="display: none">{DISCLOSURE}</p>'),
        "the card does not show its disclosure",
    ),
    "CG404-disclosure-in-closed-details": (
        card(FIGURE + f'<details><summary>More</summary><p id="cg-d-1">{DISCLOSURE}</p></details>'),
        "the card does not show its disclosure",
    ),
    "CG404-disclosure-aria-hidden": (
        card(FIGURE + f'<div aria-hidden="true"><p id="cg-d-1">{DISCLOSURE}</p></div>'),
        "the card does not show its disclosure",
    ),
    "CG404-disclosure-above-the-photos": (card(BLOCK + FIGURE), "the card shows its disclosure above its photos"),
    "CG404-aria-describedby-missing": (
        card(FIGURE.replace(' aria-describedby="cg-d-1"', "") + BLOCK),
        "a photo figure's aria-describedby (missing) does not point at the disclosure block",
    ),
    "CG404-aria-describedby-elsewhere": (
        card(FIGURE.replace("cg-d-1", "cg-caption") + '<p id="cg-caption">Caption.</p>' + BLOCK),
        "a photo figure's aria-describedby (cg-caption) does not point at the disclosure block",
    ),
    "aria-describedby-lists-the-block-among-others": (
        card(FIGURE.replace('"cg-d-1"', '"cg-caption cg-d-1"') + '<p id="cg-caption">Caption.</p>' + BLOCK),
        "",
    ),
}


@pytest.mark.parametrize(("page", "problem"), CARD_ROWS.values(), ids=CARD_ROWS.keys())
def test_disclosure_problems(page: str, problem: str) -> None:
    problems = disclosure_problems(f"<html><body><main>{page}</main></body></html>", {"lips-001": [DISCLOSURE]})
    if problem:
        assert list(problems) == ["lips-001"] and problems["lips-001"].startswith(problem), problems
    else:
        assert problems == {}


def test_disclosure_problems_per_case_and_rendered_cards_in_order() -> None:
    page = card(FIGURE + BLOCK, "lips-002") + card(BLOCK.replace(DISCLOSURE, "Something else.") + FIGURE, "brow-001")
    problems = disclosure_problems(page, {"lips-002": [DISCLOSURE], "brow-001": ["Most patients see softer lines."]})
    assert list(problems) == ["brow-001"] and problems["brow-001"].startswith("the card does not show its disclosure")
    assert rendered_cards(page) == ["lips-002", "brow-001"]


def test_every_text_of_a_disclosure_must_show() -> None:
    page = card(FIGURE + BLOCK)
    connection = "This patient received a 20% discount on treatment."
    problems = disclosure_problems(page, {"lips-001": [DISCLOSURE, connection]})
    assert problems["lips-001"] == f"the card does not show its disclosure ({connection})"


# -- CG601-CG604: the output guard ----------------------------------------------------------------------------------


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (90, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(colour: tuple[int, int, int] = (200, 120, 90), exif: bool = False) -> bytes:
    """A small JPEG made by Pillow: JFIF only, or with an EXIF (APP1) segment naming a camera."""
    buffer = io.BytesIO()
    options: dict[str, bytes] = {}
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "TestCam"  # Make
        options["exif"] = tags.tobytes()
    Image.new("RGB", (16, 12), colour).save(buffer, "JPEG", **options)
    return buffer.getvalue()


RAW_PHOTO = jpeg((10, 20, 30), exif=True)
OWN_IMAGE = "0123456789abcdef0123.jpg"
SECRETS: dict[str, tuple[Secret, str]] = {
    "P-10001": (Secret.PATIENT_REF, "the patient_ref of consent C-2026-0001"),
    "C-2026-0001": (Secret.CONSENT_ID, "consent id C-2026-0001"),
    "lips-001-before.jpg": (Secret.RAW_PHOTO_NAME, "raw photo file name lips-001-before.jpg"),
    "lips-003": (Secret.REMOVED_CASE, "removed case lips-003"),
}
FORBIDDEN = Forbidden(
    strings=SECRETS,
    file_hashes={hashlib.sha256(RAW_PHOTO).hexdigest(): "raw photo gallery/photos/lips-001-before.jpg"},
    own_images=frozenset({OWN_IMAGE}),
)


def guard(site: Path, files: dict[str, bytes | str]) -> list[tuple[str, str, str]]:
    """(code, file, message) of every violation the guard finds in a site of `files`, sorted."""
    for name, content in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return sorted((v.code, v.where.file, v.message) for v in guard_site(site, FORBIDDEN, IMAGE_FOLDER))


def html(text: str) -> str:
    return f"<!doctype html><html><body><p>{text}</p></body></html>"


IMG = f"{IMAGE_FOLDER}/{OWN_IMAGE}"
STRAY = f"{IMAGE_FOLDER}/fedcba9876543210fedc.jpg"

# site files -> (code, file, start of the message) of every violation
GUARD_ROWS: dict[str, tuple[dict[str, bytes | str], list[tuple[str, str, str]]]] = {
    "clean-site": ({"index.html": html("Welcome."), IMG: jpeg(), "assets/logo.png": png()}, []),
    "CG601-exif-in-a-published-image": (
        {IMG: jpeg(exif=True)},
        [("CG601", f"site/{IMG}", "published image holds more than pixels: segment 0xE1")],
    ),
    "CG602-byte-copy-of-a-raw-photo": (
        {"hero.jpg": RAW_PHOTO},
        [("CG602", "site/hero.jpg", "is a byte copy of raw photo gallery/photos/lips-001-before.jpg")],
    ),
    "CG602-byte-copy-in-the-gallery-folder": (
        {IMG: RAW_PHOTO},
        [("CG602", f"site/{IMG}", "is a byte copy of raw photo")],
    ),
    "CG603-consent-id": ({"index.html": html("Case C-2026-0001.")}, [("CG603", "site/index.html", "contains consent id C-2026-0001")]),
    "CG603-consent-id-in-lower-case": (
        {"index.html": html("case c-2026-0001")},
        [("CG603", "site/index.html", "contains consent id C-2026-0001")],
    ),
    "CG603-patient-ref-in-any-letter-case": (
        {"search/search_index.json": '{"docs": [{"text": "p-10001"}]}', "a.html": html("P-10001"), "b.html": html("p-10001")},
        [
            ("CG603", "site/a.html", "contains the patient_ref of consent C-2026-0001"),
            ("CG603", "site/b.html", "contains the patient_ref of consent C-2026-0001"),
            ("CG603", "site/search/search_index.json", "contains the patient_ref of consent C-2026-0001"),
        ],
    ),
    "CG603-patient-ref-html-escaped": (
        {"index.html": html("P&#45;10001")},
        [("CG603", "site/index.html", "contains the patient_ref of consent C-2026-0001")],
    ),
    "CG603-patient-ref-in-gzipped-sitemap": (
        {"sitemap.xml.gz": gzip.compress(b"<urlset><url><loc>https://x/P-10001/</loc></url></urlset>")},
        [("CG603", "site/sitemap.xml.gz", "contains the patient_ref of consent C-2026-0001")],
    ),
    "CG603-raw-photo-name": (
        {"index.html": html('<img src="LIPS-001-BEFORE.JPG">')},
        [("CG603", "site/index.html", "contains raw photo file name lips-001-before.jpg")],
    ),
    "CG603-removed-case-as-written": ({"index.html": html("lips-003")}, [("CG603", "site/index.html", "contains removed case lips-003")]),
    "removed-case-in-another-letter-case-is-not-it": ({"index.html": html("LIPS-003 and Lips-003")}, []),
    "removed-case-inside-a-longer-slug-is-not-it": ({"index.html": html("lips-0031 and xlips-003 and lips-003_b")}, []),
    "CG603-removed-case-in-a-file-path": (
        {"lips-003/index.html": html("A page.")},
        [("CG603", "site/lips-003/index.html", "file path contains removed case lips-003")],
    ),
    "CG604-image-not-produced-by-this-build": (
        {STRAY: jpeg()},
        [("CG604", f"site/{STRAY}", "image in the gallery folder was not produced by this build")],
    ),
    "CG604-png-not-produced-by-this-build": (
        {f"{IMAGE_FOLDER}/stray.png": png()},
        [("CG604", f"site/{IMAGE_FOLDER}/stray.png", "image in the gallery folder was not produced by this build")],
    ),
    "images-outside-the-gallery-folder-are-not-strays": ({"assets/images/hero.jpg": jpeg(), "img/x.jpg": jpeg(exif=True)}, []),
}


@pytest.mark.parametrize(("files", "expected"), GUARD_ROWS.values(), ids=GUARD_ROWS.keys())
def test_guard_site(tmp_path: Path, files: dict[str, bytes | str], expected: list[tuple[str, str, str]]) -> None:
    found = guard(tmp_path / "site", files)
    assert [(code, file) for code, file, _ in found] == [(code, file) for code, file, _ in expected], found
    for (_, _, message), (_, _, start) in zip(found, expected, strict=True):
        assert message.startswith(start), message


def test_guard_site_reports_every_problem_of_a_site_in_one_pass(tmp_path: Path) -> None:
    files: dict[str, bytes | str] = {
        IMG: jpeg(exif=True),
        STRAY: jpeg(),
        "hero.jpg": RAW_PHOTO,
        "index.html": html("C-2026-0001 lips-003"),
    }
    assert [(code, file) for code, file, _ in guard(tmp_path / "site", files)] == [
        ("CG601", f"site/{IMG}"),
        ("CG602", "site/hero.jpg"),
        ("CG603", "site/index.html"),
        ("CG603", "site/index.html"),
        ("CG604", f"site/{STRAY}"),
    ]
