"""Generate deterministic synthetic "clinic" before/after photos for the sample site.

Every picture is drawn procedurally with Pillow: there are no real people and
no faces, only stylised close-ups of a treatment area (lips, forehead, cheek
skin, a smile) on a plain clinic backdrop.  The "after" image of a pair
shares framing, pose, backdrop and lighting with its "before" and only differs
where a treatment would make a difference.  Each case has its own skin tone,
backdrop colour and framing (see ``LOOKS``), so that no case looks like
another to a perceptual matcher: the leak scanner must be able to tell that
the photos of removed cases are not published.

The files deliberately carry identifying metadata (EXIF with GPS, camera
serial number and an uncropped EXIF thumbnail, XMP, ICC profile, JPEG
comment, PNG text chunks) so that the plugin's stripping can be demonstrated
and tested against real, tool-readable metadata.

All randomness comes from ``random.Random`` instances with fixed string seeds
and every timestamp is fixed, so two runs produce byte-identical files.  The
bytes also stay the same across library versions and platforms where that is
in our hands: the ICC profile is fixed bytes (LittleCMS stamps its version and
platform into the ones it makes) and the PNG streams are stored, not deflated
(zlib and zlib-ng compress differently).  That matters because the sample
site's approvals (``gallery/approvals.yml``) pin the SHA-256 of every photo;
after writing into the sample site the script checks them, and says how to
approve the photos again should a JPEG encoder ever write other bytes.

Usage::

    python sample_site/make_photos.py [--out DIR] [--size WxH]
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import hashlib
import io
import json
import math
import random
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import piexif
from PIL import (
    Image,
    ImageChops,
    ImageDraw,
    ImageFilter,
    ImageFont,
    ImageOps,
    ImageStat,
)
from PIL.PngImagePlugin import PngInfo

RGB = tuple[int, int, int]
Point = tuple[float, float]
Size = tuple[int, int]
Warp = Callable[[float, float], Point]

BASE_SIZE: Size = (1800, 1350)
PNG_SIZE: Size = (1600, 1200)
JPEG_QUALITY = 88
THUMB_SIZE: Size = (160, 120)
DEFAULT_OUT = Path(__file__).resolve().parent / "gallery" / "photos"

# Planted metadata values (fake, but realistic enough for exiftool).
CAMERA_MAKE = "SampleCam"
CAMERA_MODEL = "SC-1 Clinic"
CAMERA_FIRMWARE = "SampleCam Firmware 1.0"
PHOTOGRAPHER = "Dr Sample"
GPS_LAT = 40.7128  # north
GPS_LON = 74.0060  # west
GPS_ALT_M = 10.0
# The sRGB profile LittleCMS 2.19 wrote (dated 2026-01-01), kept as bytes so the photos do not change with the
# LittleCMS version or the platform it runs on.
SRGB_ICC_BASE64 = (
    "AAACTGxjbXMEQAAAbW50clJHQiBYWVogB+oAAQABAAAAAAAAYWNzcEFQUEwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPbWAAEA"
    "AAAA0y1sY21zAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALZGVzYwAAAQgAAAA2Y3BydAAA"
    "AUAAAABMd3RwdAAAAYwAAAAUY2hhZAAAAaAAAAAsclhZWgAAAcwAAAAUYlhZWgAAAeAAAAAUZ1hZWgAAAfQAAAAUclRSQwAAAggA"
    "AAAgZ1RSQwAAAggAAAAgYlRSQwAAAggAAAAgY2hybQAAAigAAAAkbWx1YwAAAAAAAAABAAAADGVuVVMAAAAaAAAAHABzAFIARwBC"
    "ACAAYgB1AGkAbAB0AC0AaQBuAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAADAAAAAcAE4AbwAgAGMAbwBwAHkAcgBpAGcAaAB0ACwA"
    "IAB1AHMAZQAgAGYAcgBlAGUAbAB5WFlaIAAAAAAAAPbWAAEAAAAA0y1zZjMyAAAAAAABDEIAAAXe///zJQAAB5MAAP2Q///7of//"
    "/aIAAAPcAADAblhZWiAAAAAAAABvoAAAOPUAAAOQWFlaIAAAAAAAACSfAAAPhAAAtsNYWVogAAAAAAAAYpcAALeHAAAY2XBhcmEA"
    "AAAAAAMAAAACZmYAAPKnAAANWQAAE9AAAApbY2hybQAAAAAAAwAAAACj1wAAVHsAAEzNAACZmgAAJmYAAA9c"
)

# "Before" timestamp of each case and the number of weeks until the "after".
CASE_SCHEDULE: dict[str, tuple[datetime, int]] = {
    "lips-001": (datetime(2026, 1, 10, 10, 0, 0), 4),
    "lips-002": (datetime(2026, 1, 12, 11, 30, 0), 3),
    "lips-003": (datetime(2026, 1, 14, 9, 15, 0), 5),
    "brow-001": (datetime(2026, 1, 16, 14, 0, 0), 4),
    "brow-002": (datetime(2026, 1, 20, 16, 45, 0), 6),
    "skin-001": (datetime(2026, 1, 22, 10, 20, 0), 8),
    "skin-002": (datetime(2026, 1, 27, 12, 5, 0), 10),
    "smile-001": (datetime(2026, 2, 2, 15, 40, 0), 3),
}


@dataclass(frozen=True)
class Look:
    """How one case was photographed: skin tone, backdrop, hair, framing and key light.

    Before and after of a case share one look (same backdrop, same framing),
    as a real pair would.  Different cases get clearly different looks so that
    a perceptual matcher (such as the leak scanner's 32x32 signature, which
    calls a difference below 24 of 255 "the same photo") never takes one case
    for another: the sample site must be able to prove that the photos of its
    removed cases (lips-003 withdrawn, brow-002 expired) are not published.
    With these looks every published photo differs from every removed one by
    more than 45, and photos of different published cases by more than 29.
    """

    skin: RGB
    backdrop: tuple[RGB, RGB]  # top and bottom colour of the backdrop gradient
    hair: RGB = (60, 44, 34)
    # Framing: the treatment area is scaled by ``scale`` about the frame centre
    # and then moved by ``shift`` (fractions of the frame width and height).
    # Cheek close-ups only use ``shift[0]``: how far the cheek's edge sits
    # inside the frame, i.e. how much backdrop shows beside it.
    scale: float = 1.0
    shift: Point = (0.0, 0.0)
    light: Point = (0.4, 0.3)  # key light position (0..1 frame coordinates)


# Skin tones: light, olive, medium brown and deep brown, with a few shades of each.
FAIR_PINK: RGB = (243, 214, 200)
LIGHT_PEACH: RGB = (228, 181, 150)
LIGHT_WARM: RGB = (226, 184, 156)
GOLDEN_TAN: RGB = (214, 168, 116)
OLIVE: RGB = (188, 152, 106)
MEDIUM_BROWN: RGB = (156, 104, 74)
DEEP_BROWN_WARM: RGB = (90, 58, 42)
DEEP_BROWN: RGB = (80, 52, 38)

# Backdrops as (top, bottom) colours of a vertical gradient.
LAVENDER_GREY: tuple[RGB, RGB] = ((204, 198, 216), (150, 144, 168))
WARM_BEIGE: tuple[RGB, RGB] = ((226, 210, 186), (178, 160, 136))
SAGE_GREEN: tuple[RGB, RGB] = ((170, 188, 158), (110, 130, 102))
PALE_BLUE_GREY: tuple[RGB, RGB] = ((200, 208, 216), (146, 160, 176))
SLATE_BLUE: tuple[RGB, RGB] = ((112, 132, 160), (62, 78, 104))
PALE_AQUA: tuple[RGB, RGB] = ((196, 222, 216), (140, 170, 166))
LIGHT_GREY: tuple[RGB, RGB] = ((214, 214, 210), (156, 158, 162))
CHARCOAL: tuple[RGB, RGB] = ((78, 80, 84), (44, 46, 50))

LOOKS: dict[str, Look] = {
    # light skin on lavender grey, default framing (the manifest crops the frame edges)
    "lips-001": Look(LIGHT_PEACH, LAVENDER_GREY),
    # olive skin on warm beige, lips larger, higher and a little to the right
    "lips-002": Look(OLIVE, WARM_BEIGE, scale=1.2, shift=(0.04, -0.05), light=(0.55, 0.3)),
    # (withdrawn) deep brown skin on sage green, zoomed out with the mouth low and to the left
    "lips-003": Look(DEEP_BROWN, SAGE_GREEN, scale=0.82, shift=(-0.1, 0.08), light=(0.3, 0.45)),
    # light skin on pale blue-grey, brown hair
    "brow-001": Look(LIGHT_WARM, PALE_BLUE_GREY, hair=(78, 56, 40)),
    # (expired) deep brown skin on slate blue, black hair, the head smaller and lower in the frame
    "brow-002": Look(DEEP_BROWN_WARM, SLATE_BLUE, hair=(26, 22, 22), scale=0.8, shift=(0.08, 0.16)),
    # fair skin on pale aqua, a wide strip of backdrop beside the left cheek
    "skin-001": Look(FAIR_PINK, PALE_AQUA, shift=(0.14, 0.0)),
    # golden tan skin on charcoal, a wide strip of backdrop beside the right cheek
    "skin-002": Look(GOLDEN_TAN, CHARCOAL, shift=(0.14, 0.0)),
    # medium brown skin on light grey
    "smile-001": Look(MEDIUM_BROWN, LIGHT_GREY, light=(0.5, 0.3)),
}

Drawer = Callable[[Size, int, bool, str, Look], tuple[Image.Image, Image.Image]]


@dataclass(frozen=True)
class PhotoSpec:
    """One output file: which subject/variant/view/stage and how to store it."""

    filename: str
    subject: str
    variant: int
    view: str
    after: bool
    rotated: bool = False

    @property
    def case(self) -> str:
        """Case id such as ``lips-001`` (first two parts of the file name)."""
        return "-".join(self.filename.split("-")[:2])

    @property
    def is_png(self) -> bool:
        """True when the file is stored as PNG instead of JPEG."""
        return self.filename.endswith(".png")


def _pair(stem: str, subject: str, variant: int, view: str, ext: str, rotated: bool = False) -> list[PhotoSpec]:
    """Return the before and after specs of one case/view."""
    return [PhotoSpec(f"{stem}-{stage}.{ext}", subject, variant, view, stage == "after", rotated) for stage in ("before", "after")]


PHOTOS: list[PhotoSpec] = [
    *_pair("lips-001-front", "lips", 1, "front", "jpg"),
    *_pair("lips-002-front", "lips", 2, "front", "jpg", rotated=True),
    *_pair("lips-003-front", "lips", 3, "front", "jpg"),
    *_pair("brow-001-front", "forehead", 1, "front", "jpg"),
    *_pair("brow-001-oblique", "forehead", 1, "oblique", "jpg"),
    *_pair("brow-002-front", "forehead", 2, "front", "jpg"),
    *_pair("skin-001-cheek", "skin", 1, "cheek", "jpg"),
    *_pair("skin-002-cheek", "skin", 2, "cheek", "png"),
    *_pair("smile-001-front", "smile", 1, "front", "jpg"),
]


# --------------------------------------------------------------------------
# Small image helpers
# --------------------------------------------------------------------------


def _unit(size: Size) -> float:
    """Pixel scale factor relative to the 1800 px wide base design."""
    return size[0] / BASE_SIZE[0]


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    """Clamp ``value`` into ``[low, high]``."""
    return max(low, min(high, value))


def _pow(base: float, exponent: float) -> float:
    """``base ** exponent`` with negative bases clamped to zero (always a real float)."""
    return float(max(0.0, base) ** exponent)


def _lerp(a: RGB, b: RGB, t: float) -> RGB:
    """Linear interpolation between two colours."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _shade(colour: RGB, factor: float) -> RGB:
    """Multiply a colour by ``factor`` (clamped to 0..255)."""
    r, g, b = (round(_clamp(c * factor, 0, 255)) for c in colour)
    return (r, g, b)


def _solid(size: Size, colour: RGB) -> Image.Image:
    """A flat RGB image."""
    return Image.new("RGB", size, colour)


def _blank(size: Size) -> Image.Image:
    """A black ``L`` mask."""
    return Image.new("L", size, 0)


def _blur(image: Image.Image, radius: float) -> Image.Image:
    """Gaussian blur that is a no-op for tiny radii."""
    return image.filter(ImageFilter.GaussianBlur(radius)) if radius >= 0.3 else image


def _scale_mask(mask: Image.Image, factor: float) -> Image.Image:
    """Scale the values of an ``L`` mask by ``factor``."""
    return mask.point([round(_clamp(v * factor, 0, 255)) for v in range(256)])


def _tint(base: Image.Image, colour: RGB, mask: Image.Image, strength: float = 1.0) -> Image.Image:
    """Blend ``colour`` into ``base`` where ``mask`` is set."""
    if strength <= 0:
        return base
    if strength != 1.0:
        mask = _scale_mask(mask, strength)
    return Image.composite(_solid(base.size, colour), base, mask)


def _multiply(base: Image.Image, field: Image.Image) -> Image.Image:
    """Multiply an RGB image by a grey ``L`` field (255 = unchanged)."""
    return ImageChops.multiply(base, Image.merge("RGB", (field, field, field)))


def _field(size: Size, func: Callable[[float, float], float], grid: Size = (64, 48)) -> Image.Image:
    """Sample ``func(u, v)`` (u, v in 0..1, result 0..1) on a coarse grid and upscale it."""
    gw, gh = grid
    values = [round(255 * _clamp(func(i / (gw - 1), j / (gh - 1)))) for j in range(gh) for i in range(gw)]
    small = Image.new("L", grid)
    small.putdata(values)
    return small.resize(size, Image.Resampling.BICUBIC)


def _noise(size: Size, rng: random.Random, cell: float) -> Image.Image:
    """Uniform noise with a feature size of roughly ``cell`` pixels."""
    w, h = size
    sw = max(2, min(w, round(w / max(cell, 1.0))))
    sh = max(2, min(h, round(h / max(cell, 1.0))))
    small = Image.frombytes("L", (sw, sh), rng.randbytes(sw * sh))
    if (sw, sh) == size:
        return small
    resample = Image.Resampling.BICUBIC if cell > 6 else Image.Resampling.BILINEAR
    return small.resize(size, resample)


def _add_noise(base: Image.Image, noise: Image.Image, amount: float) -> Image.Image:
    """Add ``noise`` (centred on 128) to every channel, at most +-``amount`` levels."""
    lut = [round(_clamp(128 + (v - 128) * amount / 128, 0, 255)) for v in range(256)]
    grey = noise.point(lut)
    return ImageChops.add(base, Image.merge("RGB", (grey, grey, grey)), 1.0, -128)


def _ellipse_points(cx: float, cy: float, rx: float, ry: float, count: int = 180) -> list[Point]:
    """Points along an ellipse outline."""
    return [(cx + rx * math.cos(2 * math.pi * k / count), cy + ry * math.sin(2 * math.pi * k / count)) for k in range(count)]


def _polygon_mask(size: Size, polygons: Sequence[Sequence[Point]]) -> Image.Image:
    """An ``L`` mask with the given polygons filled."""
    mask = _blank(size)
    draw = ImageDraw.Draw(mask)
    for poly in polygons:
        draw.polygon(list(poly), fill=255)
    return mask


def _soft_round_shading(image: Image.Image, mask: Image.Image, strength: float) -> Image.Image:
    """Darken ``image`` towards the edges of ``mask`` so the area looks rounded."""
    w, h = mask.size
    small = mask.resize((max(8, w // 8), max(8, h // 8)), Image.Resampling.BILINEAR)
    small = _blur(small, small.width * 0.06)
    soft = small.resize(mask.size, Image.Resampling.BILINEAR)
    lut = [round(255 * (1 - strength * (1 - v / 255) ** 1.4)) for v in range(256)]
    return _multiply(image, soft.point(lut))


def _key_light(size: Size, light: Point, strength: float) -> Image.Image:
    """Soft light fall-off field around ``light`` (in 0..1 coordinates)."""

    def func(u: float, v: float) -> float:
        return 1 - strength * ((u - light[0]) ** 2 + 0.8 * (v - light[1]) ** 2)

    return _field(size, func)


def _framing(size: Size, look: Look) -> Warp:
    """Map default-framing coordinates to the case's framing (scale about the centre, then shift)."""
    w, h = size
    dx, dy = look.shift

    def warp(x: float, y: float) -> Point:
        return w / 2 + (x - w / 2) * look.scale + dx * w, h / 2 + (y - h / 2) * look.scale + dy * h

    return warp


# --------------------------------------------------------------------------
# Shared scene pieces
# --------------------------------------------------------------------------


def _backdrop(size: Size, look: Look, seed: str) -> Image.Image:
    """Plain clinic backdrop in the case's colour with a soft vertical gradient and vignette."""
    gradient = Image.linear_gradient("L").resize(size, Image.Resampling.BICUBIC)
    top, bottom = look.backdrop
    image = Image.composite(_solid(size, bottom), _solid(size, top), gradient)
    image = _multiply(image, _key_light(size, (look.light[0], look.light[1] + 0.05), 0.28))
    return _add_noise(image, _noise(size, random.Random(f"backdrop-{seed}"), 60), 3)


def _skin_layer(size: Size, tone: RGB, seed: str, smooth: float = 0.0) -> Image.Image:
    """Skin-coloured area with blotches, pores and grain.

    ``smooth`` (0..1) reduces the fine texture and redness (used for "after"
    skin) while keeping exactly the same random pattern.
    """
    rng = random.Random(seed)
    unit = _unit(size)
    image = _solid(size, tone)
    redness = _blur(_noise(size, rng, 160 * unit), 70 * unit)
    red_lut = [round(_clamp((v - 110) / 60) * 55 * (1 - 0.6 * smooth)) for v in range(256)]
    image = Image.composite(_solid(size, _lerp(tone, (205, 100, 100), 0.4)), image, redness.point(red_lut))
    for cell, amount, fine in ((90.0, 5.0, False), (24.0, 3.5, False), (3.5, 8.0, True), (1.0, 5.0, True)):
        layer = _noise(size, rng, cell * unit)
        if cell <= 1.5:
            layer = _blur(layer, 0.7 * unit)
        image = _add_noise(image, layer, amount * (1 - 0.55 * smooth) if fine else amount)
    return image


def _lower_face_mask(size: Size, rng: random.Random, look: Look) -> Image.Image:
    """Mask of the lower-face skin around the mouth (jaw corners show backdrop)."""
    w, h = size
    cx, cy = _framing(size, look)(w * (0.5 + rng.uniform(-0.02, 0.02)), h * 0.38)
    k = max(1.0, look.scale)  # zoomed out, the jaw still reaches past the frame (only its corner shows)
    return _polygon_mask(size, [_ellipse_points(cx, cy, w * 0.64 * k, h * 0.78 * k)])


def _label(image: Image.Image) -> Image.Image:
    """Put a small, unobtrusive "SYNTHETIC SAMPLE" label in the bottom-right corner."""
    unit = _unit(image.size)
    font = ImageFont.load_default(size=max(9, round(20 * unit)))
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    text = "SYNTHETIC SAMPLE"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    margin = round(18 * unit)
    x = image.width - (right - left) - margin
    y = image.height - (bottom - top) - margin
    draw.text((x + 1, y + 1), text, font=font, fill=(0, 0, 0, 70))
    draw.text((x, y), text, font=font, fill=(255, 255, 255, 150))
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


# --------------------------------------------------------------------------
# Lips and smile
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LipShape:
    """Parametric lips; ``opening`` > 0 gives a parted (smiling) mouth."""

    cx: float
    cy: float
    half_w: float
    upper_h: float
    lower_h: float
    peak: float
    bow: float
    lift: float
    opening: float = 0.0

    def x(self, t: float) -> float:
        """Horizontal position for parameter ``t`` in -1..1."""
        return self.cx + self.half_w * t

    def base(self, t: float) -> float:
        """Height of the line joining both mouth corners (curved by ``lift``)."""
        return self.cy - self.lift * t * t

    def _bow(self, t: float) -> float:
        """Upper lip thickness profile with the cupid's bow (0..1)."""
        s = abs(t)
        if s < self.peak:
            return 1 - self.bow * (1 - s / self.peak) ** 2
        u = (s - self.peak) / (1 - self.peak)
        return _pow(1 - u**1.7, 1.1)

    def top_inner(self, t: float) -> float:
        """Lower edge of the upper lip."""
        s = min(1.0, abs(t))
        if self.opening <= 0:
            return self.base(t) + 0.09 * self.upper_h * (1 - s * s) ** 2
        return self.base(t) - 0.5 * self.opening * _pow(1 - s * s, 0.35)

    def bottom_inner(self, t: float) -> float:
        """Upper edge of the lower lip."""
        if self.opening <= 0:
            return self.top_inner(t)
        s = min(1.0, abs(t))
        return self.base(t) + 0.5 * self.opening * _pow(1 - s * s, 0.7)

    def upper_outer(self, t: float) -> float:
        """Top contour of the upper lip."""
        return self.top_inner(t) - self.upper_h * self._bow(t)

    def lower_outer(self, t: float) -> float:
        """Bottom contour of the lower lip."""
        s = min(1.0, abs(t))
        return self.bottom_inner(t) + self.lower_h * _pow(1 - s**2.2, 0.75)

    def polygons(self, count: int = 160) -> tuple[list[Point], list[Point], list[Point]]:
        """Upper lip, lower lip and mouth-opening polygons."""
        ts = [-1 + 2 * k / count for k in range(count + 1)]
        rev = ts[::-1]
        upper = [(self.x(t), self.upper_outer(t)) for t in ts] + [(self.x(t), self.top_inner(t)) for t in rev]
        lower = [(self.x(t), self.bottom_inner(t)) for t in ts] + [(self.x(t), self.lower_outer(t)) for t in rev]
        opening = [(self.x(t), self.top_inner(t)) for t in ts] + [(self.x(t), self.bottom_inner(t)) for t in rev]
        return upper, lower, opening


def _random_lip_shape(size: Size, rng: random.Random, opening: float = 0.0) -> LipShape:
    """Draw the per-variant lip geometry (same calls for before and after)."""
    w, h = size
    return LipShape(
        cx=w * rng.uniform(0.48, 0.52),
        cy=h * rng.uniform(0.53, 0.57),
        half_w=w * rng.uniform(0.28, 0.34),
        upper_h=h * rng.uniform(0.1, 0.13),
        lower_h=h * rng.uniform(0.13, 0.17),
        peak=rng.uniform(0.15, 0.24),
        bow=rng.uniform(0.12, 0.3),
        lift=h * rng.uniform(-0.01, 0.025),
        opening=opening,
    )


def _frame_lips(shape: LipShape, size: Size, look: Look) -> LipShape:
    """Move and scale default-framing lips into the case's framing."""
    cx, cy = _framing(size, look)(shape.cx, shape.cy)
    k = look.scale
    return replace(
        shape,
        cx=cx,
        cy=cy,
        half_w=shape.half_w * k,
        upper_h=shape.upper_h * k,
        lower_h=shape.lower_h * k,
        lift=shape.lift * k,
        opening=shape.opening * k,
    )


def _lip_surroundings(skin: Image.Image, shape: LipShape, tone: RGB) -> Image.Image:
    """Philtrum ridges, the light lip border roll and the shadow under the lower lip."""
    size = skin.size
    unit = _unit(size)
    draw_light = _blank(size)
    light = ImageDraw.Draw(draw_light)
    for side in (-1, 1):
        x0 = shape.x(side * shape.peak)
        y0 = shape.upper_outer(side * shape.peak)
        light.line(
            [(x0, y0), (x0 - side * shape.half_w * 0.05, y0 - size[1] * 0.2)],
            fill=150,
            width=max(1, round(16 * unit)),
        )
    ts = [-0.95 + 1.9 * k / 120 for k in range(121)]
    light.line(
        [(shape.x(t), shape.upper_outer(t) - 5 * unit) for t in ts],
        fill=170,
        width=max(1, round(7 * unit)),
    )
    skin = _tint(skin, _lerp(tone, (255, 240, 230), 0.4), _blur(draw_light, 9 * unit), 0.45)
    shadow = _blank(size)
    ImageDraw.Draw(shadow).ellipse(
        (
            shape.cx - shape.half_w * 0.55,
            shape.lower_outer(0) + size[1] * 0.005,
            shape.cx + shape.half_w * 0.55,
            shape.lower_outer(0) + size[1] * 0.07,
        ),
        fill=255,
    )
    return _tint(skin, _shade(tone, 0.72), _blur(shadow, 30 * unit), 0.45)


def _draw_lips(
    image: Image.Image,
    shape: LipShape,
    lip: RGB,
    rng: random.Random,
    crease_strength: float,
    gloss: float,
) -> Image.Image:
    """Paint both lips (texture, creases, shading, highlight) onto ``image``."""
    size = image.size
    unit = _unit(size)
    upper, lower, _ = shape.polygons()
    layer = _add_noise(_solid(size, lip), _blur(_noise(size, rng, 18 * unit), 6 * unit), 9)
    layer = _add_noise(layer, _blur(_noise(size, rng, 2 * unit), 1.2 * unit), 6)
    layer = _tint(layer, _shade(lip, 0.78), _blur(_polygon_mask(size, [upper]), 8 * unit), 0.5)

    creases = _blank(size)
    draw = ImageDraw.Draw(creases)
    for _ in range(90):
        t = rng.uniform(-0.85, 0.85)
        reach = rng.uniform(0.35, 0.9)
        drift = rng.uniform(-0.03, 0.03)
        value = rng.randint(60, 150)
        on_upper = rng.random() < 0.45
        inner = shape.top_inner(t) if on_upper else shape.bottom_inner(t)
        outer = shape.upper_outer(t + drift) if on_upper else shape.lower_outer(t + drift)
        end_y = inner + (outer - inner) * reach
        draw.line(
            [(shape.x(t), inner), (shape.x(t + drift), end_y)],
            fill=value,
            width=max(1, round(3.5 * unit)),
        )
    layer = _tint(layer, _shade(lip, 0.7), _blur(creases, 2.5 * unit), crease_strength)

    if shape.opening <= 0:
        line = _blank(size)
        ts = [-1 + 2 * k / 160 for k in range(161)]
        ImageDraw.Draw(line).line(
            [(shape.x(t), shape.top_inner(t)) for t in ts],
            fill=255,
            width=max(1, round(10 * unit)),
        )
        layer = _tint(layer, _shade(lip, 0.38), _blur(line, 7 * unit), 0.9)

    highlight = _blank(size)
    hy = shape.bottom_inner(0) + shape.lower_h * 0.42
    ImageDraw.Draw(highlight).ellipse(
        (
            shape.cx - shape.half_w * 0.38,
            hy - shape.lower_h * 0.16,
            shape.cx + shape.half_w * 0.3,
            hy + shape.lower_h * 0.14,
        ),
        fill=255,
    )
    layer = _tint(layer, _lerp(lip, (255, 236, 236), 0.55), _blur(highlight, 22 * unit), gloss)

    border = _blank(size)
    ts = [-0.97 + 1.94 * k / 160 for k in range(161)]
    ImageDraw.Draw(border).line([(shape.x(t), shape.upper_outer(t)) for t in ts], fill=255, width=max(1, round(4 * unit)))
    layer = _tint(layer, _lerp(lip, (235, 170, 160), 0.5), _blur(border, 2.5 * unit), 0.35)

    mask = _blur(_polygon_mask(size, [upper, lower]), 2.0 * unit)
    return Image.composite(layer, image, mask)


def _lip_colour(tone: RGB, after: bool) -> RGB:
    """Lip colour derived from the skin tone; slightly more vivid after treatment."""
    lip = _shade(_lerp(tone, (180, 78, 92), 0.55), 0.92)
    return _lerp(lip, (196, 70, 90), 0.12) if after else lip


def draw_lips_subject(size: Size, variant: int, after: bool, view: str, look: Look) -> tuple[Image.Image, Image.Image]:
    """Close-up of closed lips; "after" has fuller lips in the same pose."""
    del view  # only one view exists for lips
    rng = random.Random(f"lips-{variant}")
    tone = look.skin
    mask = _lower_face_mask(size, rng, look)
    shape = _frame_lips(_random_lip_shape(size, rng), size, look)
    if after:
        shape = replace(
            shape,
            upper_h=shape.upper_h * 1.32,
            lower_h=shape.lower_h * 1.24,
            half_w=shape.half_w * 1.02,
            bow=min(0.38, shape.bow * 1.15),
        )
    skin = _skin_layer(size, tone, f"lips-{variant}-texture")
    skin = _multiply(skin, _key_light(size, look.light, 0.25))
    skin = _lip_surroundings(skin, shape, tone)
    image = _draw_lips(
        skin,
        shape,
        _lip_colour(tone, after),
        rng,
        crease_strength=0.35 if after else 0.75,
        gloss=0.55 if after else 0.35,
    )
    return _soft_round_shading(image, mask, 0.35), mask


def _draw_teeth(shape: LipShape, size: Size, whiteness: float, rng: random.Random) -> Image.Image:
    """The mouth interior with gums and two rows of teeth (RGB, full frame)."""
    unit = _unit(size)
    tooth = _lerp((212, 186, 132), (246, 245, 238), whiteness)
    interior = _solid(size, (58, 22, 26))
    draw = ImageDraw.Draw(interior)
    ts = [-1 + 2 * k / 160 for k in range(161)]
    gum_band = shape.opening * 0.14
    draw.polygon(
        [(shape.x(t), shape.top_inner(t) - gum_band) for t in ts] + [(shape.x(t), shape.top_inner(t) + gum_band) for t in ts[::-1]],
        fill=(196, 104, 112),
    )
    widths = [0.19, 0.15, 0.13, 0.11, 0.095, 0.08]
    lengths = [0.8, 0.7, 0.76, 0.62, 0.54, 0.46]
    gap = 0.006
    stains = _blank(size)
    stain_draw = ImageDraw.Draw(stains)
    for row in ("lower", "upper"):
        start = 0.0
        for index, (width, length) in enumerate(zip(widths, lengths, strict=True)):
            for side in (-1, 1):
                t0, t1 = start + gap, start + width - gap
                tc = side * (t0 + t1) / 2
                xa, xb = sorted((shape.x(side * t0), shape.x(side * t1)))
                top = shape.top_inner(tc)
                span = shape.bottom_inner(tc) - top
                shade = 1 - 0.5 * abs(tc) ** 1.3
                if row == "upper":
                    box = (xa, top - span * 0.05, xb, top + span * length)
                    colour = _shade(tooth, shade)
                else:
                    box = (xa, top + span * 0.8, xb, top + span * 1.05)
                    colour = _shade(tooth, shade * 0.72)
                radius = (xb - xa) * 0.3
                draw.rounded_rectangle(box, radius=radius, fill=colour)
                if row == "upper":
                    edge = (xa, box[3] - span * length * 0.18, xb, box[3])
                    draw.rounded_rectangle(edge, radius=radius, fill=_lerp(colour, (170, 178, 190), 0.3))
                    sx = rng.uniform(xa, xb)
                    sy = top + span * rng.uniform(0.02, 0.2)
                    sr = (xb - xa) * rng.uniform(0.15, 0.35)
                    stain_draw.ellipse((sx - sr, sy - sr * 0.6, sx + sr, sy + sr * 0.6), fill=rng.randint(90, 200))
                    if index < 2:
                        hx = (xa + xb) / 2 - side * (xb - xa) * 0.12
                        draw.ellipse(
                            (hx - (xb - xa) * 0.08, top + span * 0.12, hx + (xb - xa) * 0.08, top + span * 0.45),
                            fill=_lerp(colour, (255, 255, 255), 0.45),
                        )
            start += width
    interior = _blur(interior, 1.6 * unit)
    interior = _tint(interior, (168, 128, 74), _blur(stains, 6 * unit), 0.55 * (1 - whiteness))

    def corridor(u: float, v: float) -> float:
        del v
        d = abs(shape.x(0) / size[0] - u) * size[0] / shape.half_w
        return 1 - 0.75 * _pow(_clamp((d - 0.5) / 0.5), 1.5)

    return _multiply(interior, _field(size, corridor))


def draw_smile_subject(size: Size, variant: int, after: bool, view: str, look: Look) -> tuple[Image.Image, Image.Image]:
    """Smile with visible teeth; "after" has whiter teeth, nothing else changes."""
    del view
    rng = random.Random(f"smile-{variant}")
    tone = look.skin
    mask = _lower_face_mask(size, rng, look)
    shape = _random_lip_shape(size, rng, opening=size[1] * 0.17)
    shape = replace(shape, upper_h=shape.upper_h * 0.7, lower_h=shape.lower_h * 0.8, lift=size[1] * 0.06)
    shape = _frame_lips(shape, size, look)
    skin = _skin_layer(size, tone, f"smile-{variant}-texture")
    skin = _multiply(skin, _key_light(size, look.light, 0.25))
    skin = _lip_surroundings(skin, shape, tone)
    _, _, opening = shape.polygons()
    mouth = _draw_teeth(shape, size, 1.0 if after else 0.0, random.Random(f"smile-{variant}-teeth"))
    image = Image.composite(mouth, skin, _blur(_polygon_mask(size, [opening]), 1.5 * _unit(size)))
    image = _draw_lips(image, shape, _lip_colour(tone, False), rng, crease_strength=0.5, gloss=0.4)
    return _soft_round_shading(image, mask, 0.35), mask


# --------------------------------------------------------------------------
# Forehead
# --------------------------------------------------------------------------


def _yaw_warp(size: Size, yaw: float) -> Warp:
    """Map front-view coordinates to a head turned by ``yaw`` radians (cylinder model)."""
    w, h = size
    cx, cy = w / 2, h * 0.55
    radius = 0.95 * w
    shift = -radius * math.sin(yaw) - 0.08 * w

    def warp(x: float, y: float) -> Point:
        theta = math.asin(_clamp((x - cx) / radius, -1, 1)) + yaw
        scale = 1 + 0.3 * (math.cos(theta) - math.cos(yaw))
        return cx + radius * math.sin(theta) + shift, cy + (y - cy) * scale

    return warp


def _no_warp(x: float, y: float) -> Point:
    """Identity warp for the front view."""
    return x, y


@dataclass(frozen=True)
class Crease:
    """One forehead wrinkle, described in front-view coordinates."""

    x0: float
    x1: float
    y0: float
    amp: float
    period: float
    phase: float
    arc: float
    depth: float
    width: float
    gaps: tuple[tuple[float, float], ...] = ()

    def samples(self, step: float) -> list[tuple[float, float, float]]:
        """``(x, y, envelope)`` samples along the crease."""
        length = self.x1 - self.x0
        count = max(2, int(abs(length) / step))
        out: list[tuple[float, float, float]] = []
        for k in range(count + 1):
            u = k / count
            along = self.x0 + length * u
            env = math.sin(math.pi * u) ** 0.6
            for centre, half in self.gaps:
                env *= _clamp(abs(u - centre) / half) ** 2
            across = self.y0 + self.amp * math.sin(2 * math.pi * along / self.period + self.phase)
            across += self.arc * (u - 0.5) ** 2 * 4
            out.append((along, across, env))
        return out


def _random_creases(size: Size, rng: random.Random) -> list[Crease]:
    """Deep horizontal expression lines plus a few fine, shallow ones."""
    w, h = size
    unit = _unit(size)
    creases: list[Crease] = []
    count = rng.randint(4, 6)
    for index in range(count):
        y0 = h * (0.36 + 0.38 * index / (count - 1)) + rng.uniform(-0.015, 0.015) * h
        half = w * rng.uniform(0.2, 0.33)
        centre = w * (0.5 + rng.uniform(-0.05, 0.05))
        gaps = tuple((rng.uniform(0.2, 0.8), rng.uniform(0.03, 0.08)) for _ in range(rng.randint(0, 2)))
        creases.append(
            Crease(
                x0=centre - half,
                x1=centre + half,
                y0=y0,
                amp=h * rng.uniform(0.003, 0.01),
                period=w * rng.uniform(0.15, 0.35),
                phase=rng.uniform(0, 2 * math.pi),
                arc=h * rng.uniform(-0.01, 0.035),
                depth=rng.uniform(0.65, 1.0),
                width=unit * rng.uniform(10.0, 15.0),
                gaps=gaps,
            )
        )
    for _ in range(8):
        centre = w * rng.uniform(0.25, 0.75)
        half = w * rng.uniform(0.05, 0.12)
        creases.append(
            Crease(
                x0=centre - half,
                x1=centre + half,
                y0=h * rng.uniform(0.33, 0.78),
                amp=h * 0.003,
                period=w * rng.uniform(0.1, 0.2),
                phase=rng.uniform(0, 2 * math.pi),
                arc=h * rng.uniform(-0.005, 0.01),
                depth=rng.uniform(0.3, 0.5),
                width=unit * 5.0,
            )
        )
    return creases


def _paint_creases(size: Size, creases: Sequence[Crease], warp: Warp, width_factor: float) -> tuple[Image.Image, Image.Image]:
    """Return (groove, ridge highlight) masks for the creases."""
    unit = _unit(size)
    groove = _blank(size)
    ridge = _blank(size)
    g_draw = ImageDraw.Draw(groove)
    r_draw = ImageDraw.Draw(ridge)
    for crease in creases:
        for x, y, env in crease.samples(2.5 * unit):
            if env <= 0.02:
                continue
            px, py = warp(x, y)
            r = max(0.6, crease.width * width_factor * (0.35 + 0.65 * env) / 2)
            value = round(255 * crease.depth * env**0.5)
            offset = 2.2 * r + 2 * unit
            hx, hy = px, py + offset
            r_draw.ellipse((hx - r * 1.3, hy - r * 1.3, hx + r * 1.3, hy + r * 1.3), fill=value // 2)
            g_draw.ellipse((px - r, py - r, px + r, py + r), fill=value)
    return _blur(groove, 3.5 * unit), _blur(ridge, 6.0 * unit)


def _hair_layer(size: Size, colour: RGB, rng: random.Random, hairline: Callable[[float], float], warp: Warp) -> Image.Image:
    """Hair above the hairline: dark base with thin strands."""
    w, h = size
    unit = _unit(size)
    layer = _add_noise(_solid(size, colour), _noise(size, rng, 12 * unit), 14)
    draw = ImageDraw.Draw(layer)
    for _ in range(320):
        x = w * rng.uniform(0.1, 0.9)
        y = hairline(x) + h * rng.uniform(-0.01, 0.012)
        direction = 1 if x > w / 2 else -1
        length = h * rng.uniform(0.06, 0.22)
        bend = rng.uniform(0.2, 0.9)
        shade = rng.uniform(0.6, 1.6)
        points = []
        for k in range(9):
            f = k / 8
            points.append(warp(x + direction * bend * length * f * f, y - length * f))
        draw.line(points, fill=_shade(colour, shade), width=max(1, round(rng.uniform(1.5, 3.0) * unit)))
    return _blur(layer, 0.8 * unit)


def draw_forehead_subject(size: Size, variant: int, after: bool, view: str, look: Look) -> tuple[Image.Image, Image.Image]:
    """Forehead with expression lines; "after" keeps the lines but much fainter.

    The ``oblique`` view re-projects the same forehead as if the head were
    turned slightly, using the same random geometry as the front view.
    """
    w, h = size
    unit = _unit(size)
    rng = random.Random(f"forehead-{variant}")
    tone = look.skin
    pose = _yaw_warp(size, 0.45) if view == "oblique" else _no_warp
    frame = _framing(size, look)

    def warp(x: float, y: float) -> Point:
        return frame(*pose(x, y))

    head_cx = w * (0.5 + rng.uniform(-0.02, 0.02))
    head = [warp(x, y) for x, y in _ellipse_points(head_cx, h * 0.86, w * 0.6, h * 1.02, 240)]
    mask = _polygon_mask(size, [head])
    temple = rng.uniform(0.02, 0.04)
    crown = rng.uniform(0.12, 0.16)

    def hairline(x: float) -> float:
        d = (x - head_cx) / (0.4 * w)
        recess = temple * math.exp(-(((abs(x - head_cx) - 0.2 * w) / (0.07 * w)) ** 2))
        return h * (crown + 0.09 * d * d - recess)

    xs = [w * (-0.2 + 1.4 * k / 200) for k in range(201)]
    hair_poly = [warp(x, hairline(x)) for x in xs] + [warp(w * 1.2, -h), warp(-w * 0.2, -h)]
    hair_mask = ImageChops.multiply(_blur(_polygon_mask(size, [hair_poly]), 4 * unit), mask)

    skin = _skin_layer(size, tone, f"forehead-{variant}-texture")
    creases = _random_creases(size, rng)
    groove, ridge = _paint_creases(size, creases, warp, 0.7 if after else 1.0)
    skin = _tint(skin, _shade(_lerp(tone, (150, 80, 70), 0.15), 0.62), groove, 0.16 if after else 0.6)
    skin = _tint(skin, _lerp(tone, (255, 240, 228), 0.45), ridge, 0.06 if after else 0.35)

    sheen = _polygon_mask(size, [[warp(x, y) for x, y in _ellipse_points(head_cx, h * 0.45, w * 0.22, h * 0.12)]])
    skin = _tint(skin, _lerp(tone, (255, 246, 238), 0.5), _blur(sheen, 70 * unit), 0.22)
    if view == "oblique":
        skin = _multiply(skin, _field(size, lambda u, v: 1 - 0.3 * u**1.5))
    else:
        skin = _multiply(skin, _key_light(size, (look.light[0] + 0.05, look.light[1] + 0.05), 0.2))

    hair = _hair_layer(size, look.hair, rng, hairline, warp)
    image = Image.composite(hair, skin, hair_mask)
    return _soft_round_shading(image, mask, 0.4), mask


# --------------------------------------------------------------------------
# Cheek skin
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Spot:
    """One blemish: ``scar`` (atrophic), ``red`` (inflamed) or ``mark`` (pigment)."""

    x: float
    y: float
    radius: float
    aspect: float
    kind: str
    strength: float
    heal: float


def _random_spots(size: Size, rng: random.Random, contour: Callable[[float], float], mirror: bool) -> list[Spot]:
    """Acne-like spots, mostly in a few clusters, all inside the skin area."""
    w, h = size
    unit = _unit(size)
    clusters = [(w * rng.uniform(0.4, 0.8), h * rng.uniform(0.3, 0.75)) for _ in range(3)]
    spots: list[Spot] = []
    for _ in range(110):
        if rng.random() < 0.7:
            cx, cy = rng.choice(clusters)
            x, y = rng.gauss(cx, w * 0.09), rng.gauss(cy, h * 0.08)
        else:
            x, y = w * rng.uniform(0.2, 0.97), h * rng.uniform(0.04, 0.96)
        kind = rng.choices(("scar", "red", "mark"), weights=(0.4, 0.35, 0.25))[0]
        low, high = {"scar": (5.0, 13.0), "red": (9.0, 22.0), "mark": (10.0, 26.0)}[kind]
        radius = unit * rng.uniform(low, high)
        aspect = rng.uniform(0.75, 1.3)
        strength = rng.uniform(0.5, 1.0)
        heal = rng.random()
        if mirror:
            x = w - x
        edge = contour(y)
        inside = x > edge + 0.04 * w if not mirror else x < edge - 0.04 * w
        if inside and 0 < y < h and 0 < x < w:
            spots.append(Spot(x, y, radius, aspect, kind, strength, heal))
    return spots


def draw_skin_subject(size: Size, variant: int, after: bool, view: str, look: Look) -> tuple[Image.Image, Image.Image]:
    """Cheek skin with acne scars and redness; "after" is smoother with fewer spots."""
    del view
    w, h = size
    unit = _unit(size)
    rng = random.Random(f"skin-{variant}")
    tone = look.skin
    mirror = variant % 2 == 0
    bulge = rng.uniform(0.05, 0.09)
    offset = rng.uniform(0.1, 0.14) + look.shift[0]  # a case's framing shows more or less backdrop

    def contour(y: float) -> float:
        x = w * (offset + bulge * ((y / h - 0.55) / 0.55) ** 2)
        return w - x if mirror else x

    ys = [h * (-0.05 + 1.1 * k / 100) for k in range(101)]
    edge = [(contour(y), y) for y in ys]
    far = w * 1.1 if not mirror else -w * 0.1
    mask = _polygon_mask(size, [[*edge, (far, h * 1.05), (far, -h * 0.05)]])

    skin = _skin_layer(size, tone, f"skin-{variant}-texture", smooth=0.6 if after else 0.0)
    spots = _random_spots(size, rng, contour, mirror)

    patches = _blank(size)
    patch_draw = ImageDraw.Draw(patches)
    for _ in range(6):
        px, py = w * rng.uniform(0.3, 0.85), h * rng.uniform(0.2, 0.8)
        if mirror:
            px = w - px
        pr = w * rng.uniform(0.07, 0.15)
        patch_draw.ellipse((px - pr, py - pr * 0.8, px + pr, py + pr * 0.8), fill=rng.randint(60, 110))
    skin = _tint(skin, _lerp(tone, (214, 90, 92), 0.55), _blur(patches, 90 * unit), 0.3 if after else 0.85)

    layers = {name: _blank(size) for name in ("red", "core", "rim", "pit", "mark")}
    draws = {name: ImageDraw.Draw(layer) for name, layer in layers.items()}
    for spot in spots:
        if after and spot.heal > 0.2:
            continue
        factor = 0.45 if after else 1.0
        rx, ry = spot.radius * spot.aspect, spot.radius / spot.aspect
        value = round(255 * spot.strength * factor)
        box = (spot.x - rx, spot.y - ry, spot.x + rx, spot.y + ry)
        if spot.kind == "scar":
            draws["rim"].ellipse(box, fill=value // 2)
            inner = (spot.x - rx * 0.6, spot.y - ry * 0.6, spot.x + rx * 0.6, spot.y + ry * 0.6)
            draws["pit"].ellipse(inner, fill=round(value * 0.7))
            draws["red"].ellipse(box, fill=value // 4)
        elif spot.kind == "red":
            draws["red"].ellipse(box, fill=round(value * 0.7))
            core = (spot.x - rx * 0.4, spot.y - ry * 0.4, spot.x + rx * 0.4, spot.y + ry * 0.4)
            draws["core"].ellipse(core, fill=round(value * 0.6))
        else:
            draws["mark"].ellipse(box, fill=round(value * 0.6))
    skin = _tint(skin, _lerp(tone, (200, 70, 76), 0.5), _blur(layers["red"], 11 * unit))
    skin = _tint(skin, _lerp(tone, (160, 50, 60), 0.55), _blur(layers["core"], 4 * unit))
    skin = _tint(skin, _lerp(tone, (120, 70, 52), 0.5), _blur(layers["mark"], 7 * unit))
    skin = _tint(skin, _lerp(tone, (255, 236, 226), 0.4), _blur(layers["rim"], 3 * unit))
    skin = _tint(skin, _shade(_lerp(tone, (150, 90, 80), 0.2), 0.7), _blur(layers["pit"], 2.5 * unit))

    light = (0.7, 0.3) if mirror else (0.3, 0.3)
    skin = _multiply(skin, _key_light(size, light, 0.3))
    return _soft_round_shading(skin, mask, 0.45), mask


DRAWERS: dict[str, Drawer] = {
    "lips": draw_lips_subject,
    "forehead": draw_forehead_subject,
    "skin": draw_skin_subject,
    "smile": draw_smile_subject,
}


def render_photo(spec: PhotoSpec, size: Size) -> Image.Image:
    """Render the upright image of one spec: backdrop, cast shadow, subject, label, sensor noise."""
    unit = _unit(size)
    look = LOOKS[spec.case]
    subject, mask = DRAWERS[spec.subject](size, spec.variant, spec.after, spec.view, look)
    backdrop = _backdrop(size, look, spec.case)
    shadow = _blank(size)
    shadow.paste(mask, (round(24 * unit), round(30 * unit)))
    shadow = _blur(shadow, 40 * unit)
    backdrop = _multiply(backdrop, shadow.point([255 - round(v * 0.3) for v in range(256)]))
    image = Image.composite(subject, backdrop, _blur(mask, 2.5 * unit))
    image = _blur(image, 0.6 * unit)
    sensor = random.Random(f"sensor-{spec.filename}")
    image = _add_noise(image, _blur(_noise(size, sensor, 1), 0.5), 4)
    return _label(image)


# --------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------


def srgb_icc_profile() -> bytes:
    """The sRGB ICC profile every sample photo embeds (fixed bytes; see ``SRGB_ICC_BASE64``)."""
    return base64.b64decode("".join(SRGB_ICC_BASE64))


def shot_time(spec: PhotoSpec) -> datetime:
    """Capture time: "after" weeks later than "before", oblique a bit after front."""
    before, weeks = CASE_SCHEDULE[spec.case]
    when = before + timedelta(weeks=weeks, minutes=25) if spec.after else before
    if spec.view == "oblique":
        when += timedelta(seconds=95)
    return when


def _dms(value: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Degrees/minutes/seconds rationals for EXIF GPS."""
    value = abs(value)
    degrees = int(value)
    minutes_f = (value - degrees) * 60
    minutes = int(minutes_f)
    seconds = round((minutes_f - minutes) * 60 * 100)
    return (degrees, 1), (minutes, 1), (seconds, 100)


def build_exif(spec: PhotoSpec, stored_size: Size, orientation: int, thumbnail: bytes | None) -> bytes:
    """EXIF block (``Exif\\0\\0`` + TIFF) with identifying tags, GPS and optional thumbnail."""
    case = spec.case
    when = shot_time(spec)
    stamp = when.strftime("%Y:%m:%d %H:%M:%S").encode("ascii")
    zeroth = {
        piexif.ImageIFD.Make: CAMERA_MAKE.encode("ascii"),
        piexif.ImageIFD.Model: CAMERA_MODEL.encode("ascii"),
        piexif.ImageIFD.Software: CAMERA_FIRMWARE.encode("ascii"),
        piexif.ImageIFD.ImageDescription: f"patient P-SAMPLE-{case}".encode("ascii"),
        piexif.ImageIFD.Artist: PHOTOGRAPHER.encode("ascii"),
        piexif.ImageIFD.Orientation: orientation,
        piexif.ImageIFD.DateTime: stamp,
        piexif.ImageIFD.XResolution: (300, 1),
        piexif.ImageIFD.YResolution: (300, 1),
        piexif.ImageIFD.ResolutionUnit: 2,
    }
    exif_ifd = {
        piexif.ExifIFD.ExifVersion: b"0232",
        piexif.ExifIFD.DateTimeOriginal: stamp,
        piexif.ExifIFD.DateTimeDigitized: stamp,
        piexif.ExifIFD.BodySerialNumber: f"SN-SAMPLE-{case}".encode("ascii"),
        piexif.ExifIFD.ColorSpace: 1,
        piexif.ExifIFD.PixelXDimension: stored_size[0],
        piexif.ExifIFD.PixelYDimension: stored_size[1],
    }
    gps = {
        piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
        piexif.GPSIFD.GPSLatitudeRef: b"N" if GPS_LAT >= 0 else b"S",
        piexif.GPSIFD.GPSLatitude: _dms(GPS_LAT),
        piexif.GPSIFD.GPSLongitudeRef: b"W",
        piexif.GPSIFD.GPSLongitude: _dms(GPS_LON),
        piexif.GPSIFD.GPSAltitudeRef: 0,
        piexif.GPSIFD.GPSAltitude: (round(GPS_ALT_M * 100), 100),
        piexif.GPSIFD.GPSDateStamp: when.strftime("%Y:%m:%d").encode("ascii"),
        piexif.GPSIFD.GPSTimeStamp: ((when.hour, 1), (when.minute, 1), (when.second, 1)),
    }
    exif_dict: dict[str, object] = {"0th": zeroth, "Exif": exif_ifd, "GPS": gps, "Interop": {}}
    if thumbnail is not None:
        exif_dict["1st"] = {
            piexif.ImageIFD.Compression: 6,
            piexif.ImageIFD.XResolution: (72, 1),
            piexif.ImageIFD.YResolution: (72, 1),
            piexif.ImageIFD.ResolutionUnit: 2,
            piexif.ImageIFD.JPEGInterchangeFormat: 0,
            piexif.ImageIFD.JPEGInterchangeFormatLength: 0,
        }
        exif_dict["thumbnail"] = thumbnail
    dumped: bytes = piexif.dump(exif_dict)
    return dumped


def build_xmp(spec: PhotoSpec) -> bytes:
    """A small XMP packet naming the photographer and the patient."""
    label = f"patient P-SAMPLE-{spec.case}"
    created = shot_time(spec).isoformat()
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/">\n'
        f"   <dc:creator><rdf:Seq><rdf:li>{PHOTOGRAPHER}</rdf:li></rdf:Seq></dc:creator>\n"
        f"   <xmp:Label>{label}</xmp:Label>\n"
        f"   <xmp:CreateDate>{created}</xmp:CreateDate>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def make_thumbnail(stored: Image.Image) -> bytes:
    """160x120 JPEG (120x160 for portrait storage) of a wider, uncropped framing.

    The image is shrunk and surrounded by a coloured band standing for the
    wider scene the camera saw; the plugin must drop this thumbnail because it
    shows more than the published crop.
    """
    landscape = stored.width >= stored.height
    tw, th = THUMB_SIZE if landscape else THUMB_SIZE[::-1]
    bx, by = (12, 9) if landscape else (9, 12)
    canvas = Image.new("RGB", (tw, th), (0, 128, 128))
    ImageDraw.Draw(canvas).rectangle((0, th - by, tw, th), fill=(0, 96, 110))
    canvas.paste(stored.resize((tw - 2 * bx, th - 2 * by), Image.Resampling.LANCZOS), (bx, by))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def plant_jpeg_metadata(stored: Image.Image, path: Path, spec: PhotoSpec, icc: bytes) -> None:
    """Save ``stored`` as JPEG with EXIF (+GPS, serial, thumbnail), XMP, ICC and a comment."""
    orientation = 6 if spec.rotated else 1
    exif = build_exif(spec, stored.size, orientation, make_thumbnail(stored))
    stored.save(
        path,
        "JPEG",
        quality=JPEG_QUALITY,
        dpi=(300, 300),
        exif=exif,
        xmp=build_xmp(spec),
        icc_profile=icc,
        comment=f"patient P-SAMPLE-{spec.case} clinic camera 3".encode("ascii"),
    )


def plant_png_metadata(stored: Image.Image, path: Path, spec: PhotoSpec, icc: bytes) -> None:
    """Save ``stored`` as PNG with tEXt/iTXt chunks, eXIf, tIME, XMP and ICC."""
    label = f"patient P-SAMPLE-{spec.case}"
    when = shot_time(spec)
    info = PngInfo()
    info.add_text("Comment", f"{label} clinic camera 3")
    info.add_itxt("Description", label, lang="en", tkey="Description")
    info.add_text("Creation Time", email.utils.format_datetime(when))
    info.add_itxt("XML:com.adobe.xmp", build_xmp(spec).decode("utf-8"))
    info.add(
        b"tIME",
        struct.pack(">HBBBBB", when.year, when.month, when.day, when.hour, when.minute, when.second),
    )
    exif = build_exif(spec, stored.size, 1, None)
    buffer = io.BytesIO()
    stored.save(buffer, "PNG", pnginfo=info, exif=exif, icc_profile=icc)
    path.write_bytes(_stored_png_streams(buffer.getvalue(), stored))


def _stored_zlib(data: bytes) -> bytes:
    """A zlib stream of ``data`` in stored (uncompressed) deflate blocks: the same bytes whatever zlib is installed."""
    blocks = [data[start : start + 65535] for start in range(0, len(data), 65535)] or [b""]
    out = bytearray(b"\x78\x01")
    for index, block in enumerate(blocks):
        out.append(1 if index == len(blocks) - 1 else 0)
        out += struct.pack("<HH", len(block), len(block) ^ 0xFFFF) + block
    out += struct.pack(">I", zlib.adler32(data))
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _stored_png_streams(png: bytes, image: Image.Image) -> bytes:
    """Pillow's PNG with its deflated streams replaced by stored ones: the pixels unfiltered in one IDAT, the
    ICC profile in iCCP. Everything else (the text chunks, eXIf, tIME) is kept as Pillow wrote it."""
    out = bytearray(png[:8])
    position = 8
    row = image.width * len(image.getbands())
    pixels = image.tobytes()
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IDAT":
            if b"IDAT" not in out:  # the first IDAT carries all the pixels; later ones are dropped
                rows = b"".join(b"\x00" + pixels[start : start + row] for start in range(0, len(pixels), row))
                out += _png_chunk(kind, _stored_zlib(rows))
            continue
        if kind == b"iCCP":
            name, _, rest = data.partition(b"\x00")
            data = name + b"\x00" + rest[:1] + _stored_zlib(zlib.decompress(rest[1:]))
        out += _png_chunk(kind, data)
    return bytes(out)


def check_orientation(path: Path, upright: Image.Image) -> None:
    """Make sure an EXIF-aware reader turns a rotated file back into ``upright``."""
    with Image.open(path) as loaded:
        shown = ImageOps.exif_transpose(loaded)
    if shown.size != upright.size:
        raise RuntimeError(f"{path.name}: EXIF orientation gives {shown.size}, expected {upright.size}")
    diff = ImageStat.Stat(ImageChops.difference(shown.convert("RGB"), upright)).mean
    if max(diff) > 8:
        raise RuntimeError(f"{path.name}: oriented pixels differ from the upright image ({diff})")


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def parse_size(text: str) -> Size:
    """Parse ``WxH`` into a size tuple."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected WxH, got {text!r}") from exc
    if width < 64 or height < 48:
        raise argparse.ArgumentTypeError("size must be at least 64x48")
    return width, height


def size_for(spec: PhotoSpec, base: Size) -> Size:
    """Upright size of a spec when the standard (1800x1350) size is ``base``."""
    if not spec.is_png:
        return base
    return (
        round(base[0] * PNG_SIZE[0] / BASE_SIZE[0]),
        round(base[1] * PNG_SIZE[1] / BASE_SIZE[1]),
    )


def generate(out_dir: Path, base: Size = BASE_SIZE) -> list[Path]:
    """Render and save every photo into ``out_dir``; return the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    icc = srgb_icc_profile()
    written: list[Path] = []
    for spec in PHOTOS:
        upright = render_photo(spec, size_for(spec, base))
        path = out_dir / spec.filename
        if spec.is_png:
            plant_png_metadata(upright, path, spec, icc)
        elif spec.rotated:
            plant_jpeg_metadata(upright.transpose(Image.Transpose.ROTATE_90), path, spec, icc)
            check_orientation(path, upright)
        else:
            plant_jpeg_metadata(upright, path, spec, icc)
        written.append(path)
    return written


def main(out_dir: Path | None = None, argv: Sequence[str] | None = None) -> list[Path]:
    """Command-line entry point.

    ``argv`` defaults to no arguments (so tests can call ``main(tmp_path)``);
    an explicit ``out_dir`` wins over ``--out``.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument(
        "--size",
        type=parse_size,
        default=BASE_SIZE,
        metavar="WxH",
        help="size of the standard photos (default 1800x1350); the PNG pair scales along",
    )
    args = parser.parse_args(list(argv) if argv is not None else [])
    target: Path = out_dir or args.out or DEFAULT_OUT
    written = generate(target, args.size)
    print(f"wrote {len(written)} files to {target}")
    approvals = target.parent / "approvals.yml"
    if approvals.is_file() and args.size == BASE_SIZE:
        differing = photos_differing_from_approvals(approvals, written)
        if differing:
            print(
                f"note: {len(differing)} photos differ from the ones {approvals.name} approved ({', '.join(differing)}): this "
                "Pillow encodes them differently. The build will say so; after looking at them, approve them with:\n"
                f"  compliant-gallery approve --all-pending --by <your name> -f {approvals.parent.parent / 'mkdocs.yml'}"
            )
    return written


def photos_differing_from_approvals(approvals: Path, written: Sequence[Path]) -> list[str]:
    """The photos whose SHA-256 is not the one the latest approval naming them pins (the sample's own check)."""
    import yaml

    pinned: dict[str, str] = {}
    for entry in (yaml.safe_load(approvals.read_text(encoding="utf-8")) or {}).get("approvals") or []:
        content = json.loads(entry.get("content") or "{}") if isinstance(entry, dict) else {}
        pinned.update({Path(src).name: digest for src, digest in (content.get("photos") or {}).items()})
    return [path.name for path in written if path.name in pinned and pinned[path.name] != hashlib.sha256(path.read_bytes()).hexdigest()]


if __name__ == "__main__":
    main(argv=sys.argv[1:])
