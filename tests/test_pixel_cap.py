"""The pixel cap is `max_pixels`, applied per photo: Pillow's process-wide `Image.MAX_IMAGE_PIXELS` belongs to
every plugin of the build and is left as the build found it, and Pillow's own size warnings and errors come out
as CG302 with a message a designer can act on, never as a warning or a traceback.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from PIL import Image

from mkdocs_compliant_gallery.images.cache import process_fresh
from mkdocs_compliant_gallery.images.pipeline import PairJob, PairResult
from mkdocs_compliant_gallery.records.manifest import Box, ImageRef
from mkdocs_compliant_gallery.settings import ImageSettings
from tests.helpers import Project


def _process(folder: Path, side: int, max_pixels: int, crop: Box | None = None) -> PairResult:
    """A square `side` x `side` before photo and a small square after photo through the pipeline.

    Any warning that escapes the pipeline fails the test.
    """
    # Grey PNGs: cheap to write and to decode at any size.
    Image.new("L", (side, side), 128).save(folder / "before.png")
    Image.new("L", (10, 10), 128).save(folder / "after.png")
    before, after = (ImageRef(name, folder / name, "alt", box, (), 7) for name, box in (("before.png", crop), ("after.png", None)))
    settings = ImageSettings(widths=(8,), formats=("jpeg",), max_pixels=max_pixels)
    job = PairJob("lips-001", "front", "gallery/manifest.yml", before, after, (), settings, str(folder / "cache"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return process_fresh(job, "key")


def _messages(result: PairResult) -> list[tuple[str, str, str]]:
    return [(v.code, v.message, v.fix) for v in result.violations]


def test_a_build_leaves_pillows_pixel_limit_alone(project: Project) -> None:
    project.options["max_pixels"] = 50_000_000
    limit = Image.MAX_IMAGE_PIXELS
    result = project.build()  # one worker (conftest): the photos are decoded in this process
    assert result.ok, result.log
    assert result.gallery_images()
    assert limit == Image.MAX_IMAGE_PIXELS


def test_a_photo_above_pillows_default_limit_within_max_pixels_is_published(tmp_path: Path) -> None:
    """9500 x 9500 (cropped to 9500 x 9450) is past Pillow's default 89,478,485 pixels, on open and on crop."""
    side, crop = 9500, (0, 0, 9500, 9450)
    limit = Image.MAX_IMAGE_PIXELS
    assert limit is not None and side * side > limit and crop[2] * crop[3] > limit  # else this test proves nothing
    result = _process(tmp_path, side, max_pixels=100_000_000, crop=crop)
    assert _messages(result) == []
    assert result.before is not None
    assert limit == Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize(
    ("side", "max_pixels", "expected"),
    [
        (40, 10_000, None),  # past Pillow's limit (it warns), within max_pixels: published
        (40, 1_200, ("'before.png' has more than 1200 pixels", "export a smaller photo, or raise 'max_pixels' in the plugin config")),
        (50, 1_500, ("'before.png' has more than 1500 pixels", "export a smaller photo, or raise 'max_pixels' in the plugin config")),
        (
            50,
            10_000,
            (
                "'before.png' has more than 2000 pixels, the most the imaging library (Pillow) decodes in this build",
                "export a smaller photo; 'max_pixels' (10000) cannot raise Pillow's own limit",
            ),
        ),
    ],
    ids=["warned-within-cap", "warned-over-cap", "refused-over-cap", "refused-within-cap"],
)
def test_pillows_own_limit_becomes_cg302_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side: int, max_pixels: int, expected: tuple[str, str] | None
) -> None:
    """Pillow warns past its MAX_IMAGE_PIXELS and refuses past twice that. A process where it is 1000 (another
    plugin may set it) stands in for photos of hundreds of megapixels, which would be slow to make."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    result = _process(tmp_path, side, max_pixels)
    if expected is None:
        assert _messages(result) == []
        assert result.before is not None
    else:
        assert _messages(result) == [("CG302", *expected)]
        assert result.before is None
    assert Image.MAX_IMAGE_PIXELS == 1000
