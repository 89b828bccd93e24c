"""Whether a before and an after were taken under comparable light (CG309), measured on the published pixels.

AHPRA's guidelines and California B&P Code 651 ask that before and after photos be taken under the same
conditions: a dim, flat "before" beside a bright, warm "after" sells the lighting, not the treatment. Each photo's
light is the mean linear-light red, green and blue of what is published (after redaction and crop; redacted
pixels left out). Two figures compare a pair:

- brightness: how many stops (factors of two in mean relative luminance) one photo is brighter than the other;
- white balance: the distance between the two photos' grey-world colour casts, each the natural logarithms of
  mean red / mean green and mean blue / mean green (0.1 is about a 10 % shift of one channel against green).

The thresholds were tuned with benchmarks/bench_comparable.py on the photo corpus and the sample site (the figures
are in README.md, "Comparable photos"): pairs of one scene, treated, taken again or reframed, stay below them (one
reframed corpus pair of 35 aside); darkening to 70 %, the 45 %/150 % pair of the issue and a red/blue gain of 1.5
always exceed them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

Light = tuple[float, float, float]  # mean linear R, G, B in 0..1

# Tuned with benchmarks/bench_comparable.py; see README.md "Comparable photos" for the figures.
MAX_STOPS = 1.0
MAX_CAST = 0.3
_FLOOR = 1e-4  # a black photo still has a (tiny) brightness, so ratios stay finite


def _linear(value: int) -> float:
    channel = value / 255
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


_LINEAR = [_linear(value) for value in range(256)]


def light_of(image: Image.Image, mask: Image.Image | None = None) -> Light | None:
    """Mean linear R, G, B of an RGB image over the pixels where `mask` is not 0 (all without one); None if none."""
    histogram = image.convert("RGB").histogram(mask)
    means = []
    for band in range(3):
        counts = histogram[band * 256 : (band + 1) * 256]
        total = sum(counts)
        if total == 0:
            return None
        means.append(sum(count * _LINEAR[value] for value, count in enumerate(counts)) / total)
    return (means[0], means[1], means[2])


def luminance(light: Light) -> float:
    """Relative luminance (Rec. 709 / sRGB weights) of a mean colour."""
    red, green, blue = light
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def cast(light: Light) -> tuple[float, float]:
    """The grey-world colour cast: ln(mean red / mean green), ln(mean blue / mean green)."""
    red, green, blue = (max(_FLOOR, channel) for channel in light)
    return math.log(red / green), math.log(blue / green)


@dataclass(frozen=True)
class Mismatch:
    """How differently a pair is lit: brightness in stops (after minus before) and white balance distance."""

    stops: float
    cast_distance: float
    warmer: float  # after minus before: ln(R/G) - ln(B/G); above 0 the after is warmer (more orange)

    @property
    def too_large(self) -> bool:
        return abs(self.stops) > MAX_STOPS or self.cast_distance > MAX_CAST

    def describe(self) -> str:
        """What differs, for an error message."""
        parts = []
        if abs(self.stops) > MAX_STOPS:
            factor = 2 ** abs(self.stops)
            parts.append(
                f"the after is {abs(self.stops):.1f} stops {'brighter' if self.stops > 0 else 'darker'} than the before "
                f"({factor:.1f} times the light; at most {MAX_STOPS} stops pass)"
            )
        if self.cast_distance > MAX_CAST:
            tone = "warmer (more orange)" if self.warmer > 0 else "cooler (bluer)" if self.warmer < 0 else "differently tinted"
            parts.append(f"its white balance differs by {self.cast_distance:.2f}, the after looking {tone} (at most {MAX_CAST} passes)")
        return "; ".join(parts)


def mismatch(before: Light, after: Light) -> Mismatch:
    """How the after's light differs from the before's."""
    stops = math.log2(max(_FLOOR, luminance(after)) / max(_FLOOR, luminance(before)))
    (red_b, blue_b), (red_a, blue_a) = cast(before), cast(after)
    distance = math.hypot(red_a - red_b, blue_a - blue_b)
    return Mismatch(stops, distance, (red_a - blue_a) - (red_b - blue_b))
