"""Comparable photos (CG309): a pair lit differently is a warning, and an error under AU and US-CA.

Each row is a real build whose lips-001 pair is drawn in code and then changed by a known amount: brightness scaled
(Pillow's ImageEnhance.Brightness, as a photo editor's slider), or white balance shifted by red and blue gains.
The light is measured on the published pixels, after redaction and crop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from PIL import Image, ImageEnhance

from tests.helpers import Project, assert_nothing_published, cards_of, under_packs
from tests.photos import draw

MANIFEST = "gallery/manifest.yml"
Change = Callable[[Image.Image], Image.Image]


def brightness(factor: float) -> Change:
    return lambda image: ImageEnhance.Brightness(image).enhance(factor)


def white_balance(gain: float) -> Change:
    """Red times `gain` and blue divided by it (a warmer light for a gain above 1)."""

    def change(image: Image.Image) -> Image.Image:
        red, green, blue = image.split()
        return Image.merge("RGB", (red.point(lambda v: min(255, round(v * gain))), green, blue.point(lambda v: round(v / gain))))

    return change


def same(image: Image.Image) -> Image.Image:
    return image


def gradient(seed: int) -> Image.Image:
    return draw((320, 240), seed)


def skin(seed: int) -> Image.Image:
    """A flat skin tone with a small marker: whatever part of it is redacted, the rest is lit the same."""
    image = Image.new("RGB", (320, 240), (206, 160, 138))
    image.paste((120, 60, 60), (150 + seed, 150, 170 + seed, 170))
    return image


@dataclass(frozen=True)
class Row:
    jurisdictions: tuple[str, ...]
    before: Change
    after: Change
    outcome: str  # "error", "warning" or "pass"
    redact_before: bool = False
    photo: Callable[[int], Image.Image] = gradient


ROWS: dict[str, Row] = {
    "45-and-150-percent-warns-under-US": Row(("US",), brightness(0.45), brightness(1.5), "warning"),
    "45-and-150-percent-fails-under-AU": Row(("AU",), brightness(0.45), brightness(1.5), "error"),
    "45-and-150-percent-fails-under-US-CA": Row(("US", "US-CA"), brightness(0.45), brightness(1.5), "error"),
    "after-darkened-to-60-percent-fails-under-US-CA": Row(("US", "US-CA"), same, brightness(0.6), "error"),
    "warmer-after-warns-under-US": Row(("US",), same, white_balance(1.5), "warning"),
    "cooler-after-fails-under-AU": Row(("AU",), same, white_balance(1 / 1.5), "error"),
    "a-10-percent-difference-passes-under-US-CA": Row(("US", "US-CA"), same, brightness(0.9), "pass"),
    # Half the before blacked out: counted, it would make the before 1.1 stops darker.
    "a-black-redaction-box-is-not-a-darker-photo": Row(("US", "US-CA"), same, same, "pass", redact_before=True, photo=skin),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_comparable_light(project: Project, row: Row) -> None:
    under_packs(*row.jurisdictions)(project)
    photos = project.gallery / "photos"
    row.before(row.photo(0)).save(photos / "lips-001-before.jpg", quality=92)
    row.after(row.photo(3)).save(photos / "lips-001-after.jpg", quality=92)
    if row.redact_before:
        project.case("lips-001")["photos"][0]["before"]["redact"] = [[0, 0, 320, 130]]
    result = project.build()
    lines = (project.root / MANIFEST).read_text().splitlines()
    after_line = next(n for n, text in enumerate(lines, start=1) if "src: photos/lips-001-after.jpg" in text)
    found = [text for text in result.log.splitlines() if f"{MANIFEST}:{after_line} " in text and " CG309 [case lips-001]" in text]
    if row.outcome == "pass":
        assert result.ok, result.log
        assert not [text for text in result.log.splitlines() if "CG309" in text], result.log
        return
    assert found, f"no CG309 at {MANIFEST}:{after_line}:\n{result.log}"
    if row.outcome == "warning":
        assert result.ok, result.log
        assert any(text.startswith("WARNING:") and "CG309" in text for text in result.log.splitlines())
        assert "lips-001" in cards_of(result.site / "lips" / "index.html")
    else:
        assert not result.ok
        assert "fix:" in result.log and ("AHPRA" in result.log or "651" in result.log)
        assert_nothing_published(result.site, project.root)


def test_the_message_says_how_far_apart(project: Project) -> None:
    photos = project.gallery / "photos"
    brightness(0.45)(draw((320, 240), 0)).save(photos / "lips-001-before.jpg", quality=92)
    brightness(1.5)(draw((320, 240), 3)).save(photos / "lips-001-after.jpg", quality=92)
    result = project.build()
    line = next(text for text in result.log.splitlines() if "CG309" in text)
    assert "stops brighter than the before" in line, line
