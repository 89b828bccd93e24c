"""The comparable-light check (CG309) on real photos: where matched pairs fall, where mismatched ones do.

Run from the repository root (needs ../shared/corpus beside the repository, or `--corpus DIR`):

    python benchmarks/bench_comparable.py             # the table README.md quotes
    python benchmarks/bench_comparable.py --details   # also every pair that crosses a threshold

Pairs, each measured the way the build measures them (`images.compare`, mean linear light of the published pixels):
- matched, same photo: the corpus' eight orientation variants of one photo (a printed digit differs), upright;
- matched, reframed: every decodable corpus photo as two crops of 85 % of its width and height, one from the top-left
  and one from the bottom-right corner (a patient who moved, a camera moved a little);
- matched, treated: the sample site's before/after pairs (drawn by sample_site/make_photos.py; the "after" changes
  where a treatment would: fuller lips, fainter lines, less redness, whiter teeth);
- mismatched: every corpus photo against itself with a known change: brightness scaled by a factor (Pillow's
  ImageEnhance.Brightness, which multiplies the stored sRGB values), or white balance shifted by a red/blue gain
  (red times g and blue divided by g, "warmer"; the inverse, "cooler"), and the issue's example, a before at 45 %
  and an after at 150 % brightness.
A row says, per kind of pair, how many pairs there are, the largest and median brightness difference in stops and
white-balance distance, and how many pairs the thresholds (`MAX_STOPS`, `MAX_CAST`) flag.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mkdocs_compliant_gallery.images import compare  # noqa: E402

WORKING = 1024  # pixels on the longer side; means barely change with size, time does
STILLS = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".heic")


@dataclass
class Row:
    """One kind of pair and its measurements."""

    kind: str
    stops: list[float]
    casts: list[float]
    flagged: int
    details: list[str]

    def line(self) -> str:
        count = len(self.stops)
        if not count:
            return f"| {self.kind} | 0 | | | | | |"
        return (
            f"| {self.kind} | {count} | {statistics.median(self.stops):.2f} | {max(self.stops):.2f} | "
            f"{statistics.median(self.casts):.3f} | {max(self.casts):.3f} | {self.flagged} ({100 * self.flagged / count:.0f} %) |"
        )


def _load(path: Path) -> Image.Image | None:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:
        pass
    try:
        with Image.open(path) as image:
            if getattr(image, "is_animated", False):
                return None
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, SyntaxError):
        return None
    upright.thumbnail((WORKING, WORKING))
    return upright


def _corpus_photos(corpus: Path) -> Iterator[tuple[str, Image.Image]]:
    for path in sorted(corpus.rglob("*")):
        if path.suffix.lower() in STILLS and "orientation" not in path.parts:
            image = _load(path)
            if image is not None and min(image.size) >= 64:
                yield path.name, image


def _measure(row: Row, name: str, before: Image.Image, after: Image.Image) -> None:
    light_b, light_a = compare.light_of(before), compare.light_of(after)
    if light_b is None or light_a is None:
        return
    found = compare.mismatch(light_b, light_a)
    row.stops.append(abs(found.stops))
    row.casts.append(found.cast_distance)
    if found.too_large:
        row.flagged += 1
        row.details.append(f"  {row.kind}: {name}: {found.stops:+.2f} stops, cast {found.cast_distance:.3f}")


def _white_balance(image: Image.Image, gain: float) -> Image.Image:
    """Red times `gain`, blue divided by it, in linear light (a colour-temperature shift)."""
    lut_red = [round(255 * min(1.0, compare._linear(v) * gain) ** (1 / 2.2)) for v in range(256)]
    lut_blue = [round(255 * min(1.0, compare._linear(v) / gain) ** (1 / 2.2)) for v in range(256)]
    lut_same = [round(255 * compare._linear(v) ** (1 / 2.2)) for v in range(256)]
    return image.point(lut_red + lut_same + lut_blue)


def _sample_pairs() -> Iterator[tuple[str, Image.Image, Image.Image]]:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, str(REPO / "sample_site" / "make_photos.py"), "--out", folder], check=True, capture_output=True)
        for before_path in sorted(Path(folder).glob("*-before.*")):
            after_path = before_path.with_name(before_path.name.replace("-before.", "-after."))
            before, after = _load(before_path), _load(after_path)
            if before is not None and after is not None:
                yield before_path.name, before, after


def run(corpus: Path, details: bool) -> list[Row]:
    """Measure every kind of pair; print the table (and the flagged pairs with `details`)."""
    rows: dict[str, Row] = {}

    def row(kind: str) -> Row:
        return rows.setdefault(kind, Row(kind, [], [], 0, []))

    for shape in ("landscape", "portrait"):
        first = _load(corpus / "ianare" / "jpg" / "orientation" / f"{shape}_1.jpg")
        for number in range(2, 9):
            other = _load(corpus / "ianare" / "jpg" / "orientation" / f"{shape}_{number}.jpg")
            if first is not None and other is not None:
                _measure(row("matched: same photo, each orientation"), f"{shape}_{number}", first, other)
    for name, before, after in _sample_pairs():
        _measure(row("matched: sample site before/after"), name, before, after)
    photos = list(_corpus_photos(corpus))
    for name, image in photos:
        width, height = image.size
        crop = (round(width * 0.85), round(height * 0.85))
        top_left = image.crop((0, 0, *crop))
        bottom_right = image.crop((width - crop[0], height - crop[1], width, height))
        _measure(row("matched: reframed by 15 %"), name, top_left, bottom_right)
    for factor in (0.8, 0.75, 0.7, 0.6, 0.45, 1.2, 1.25, 1.3, 1.4, 1.5):
        for name, image in photos:
            _measure(row(f"brightness x{factor}"), name, image, ImageEnhance.Brightness(image).enhance(factor))
    for name, image in photos:
        before = ImageEnhance.Brightness(image).enhance(0.45)
        after = ImageEnhance.Brightness(image).enhance(1.5)
        _measure(row("before at 45 %, after at 150 %"), name, before, after)
    for gain in (1.1, 1.2, 1.25, 1.3, 1.5):
        for name, image in photos:
            _measure(row(f"white balance: red x{gain}, blue /{gain}"), name, image, _white_balance(image, gain))
            _measure(row(f"white balance: red /{gain}, blue x{gain}"), name, image, _white_balance(image, 1 / gain))
    print(f"Thresholds: brightness {compare.MAX_STOPS} stops, white balance {compare.MAX_CAST}; {len(photos)} corpus photos")
    print("| pairs | n | median stops | max stops | median cast | max cast | flagged |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for item in rows.values():
        print(item.line())
    if details:
        for item in rows.values():
            if item.kind.startswith("matched"):
                print("\n".join(item.details))
    return list(rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--details", action="store_true", help="print every matched pair that a threshold flags")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"no photo corpus at {args.corpus} (pass --corpus DIR)")
    run(args.corpus, args.details)


if __name__ == "__main__":
    main()
