"""The identifiability guard's eyes: a local face detector run on the pixels that will be published.

The detector is optional (the `[faces]` extra): the engine asks `available()`
before it promises a check, and a photo that needs one fails closed when it is missing. Everything here works
on upright pixels; `pipeline` maps what is found back to the coordinates of the original photo.

The chosen detector is OpenCV 4.x's Haar cascades, bundled in the opencv-python-headless wheel (OpenCV 5
dropped them, hence the `<5` pin): the frontal cascade, and the profile cascade on the photo and on its mirror
image (it only knows faces turned one way). Why these and not dlib's HOG detector or a CNN, and what they
miss: benchmarks/bench_faces.py and benchmarks/README.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image

from .workers import in_pool_worker

Box = tuple[int, int, int, int]  # x, y, width, height

# Photos are scanned with their longest side at most this many pixels: large enough for a face a tenth of
# the photo's height, small enough to keep a scan near a tenth of a second.
WORKING_SIZE = 1024
# The package is not on PyPI: the extra is installed from the clone (or wheel) the plugin came from.
INSTALL_HINT = 'install the [faces] extra from the clone or wheel the plugin came from: pip install "./mkdocs-compliant-gallery[faces]"'


@dataclass(frozen=True)
class Face:
    """A face found in an image, in that image's pixels."""

    box: Box
    kind: str  # which model found it: frontal, profile


class FaceDetector(Protocol):
    """Finds faces in an upright RGB image."""

    @property
    def identity(self) -> str:
        """Name, model and library version: part of the cache key, so a new model scans again."""
        ...

    def detect(self, image: Image.Image) -> list[Face]:
        """Every face in `image`, in its pixel coordinates."""
        ...


class DetectorUnavailableError(Exception):
    """The face detector's package is not installed (or is a version without its model)."""


class HaarDetector:
    """OpenCV's frontal Haar cascade, and its profile cascade over the image and its mirror image."""

    FRONTAL = "haarcascade_frontalface_alt2.xml"
    PROFILE = "haarcascade_profileface.xml"
    # Chosen with benchmarks/bench_faces.py (see benchmarks/README.md): 5 neighbours find the faces that 4 and
    # 6 find, with two face-free photos fewer than 4 flag; 3 found one more face and flagged four more
    # face-free photos; scanning the photo turned 20 degrees either way found four more faces but flagged
    # thirteen more face-free photos and took four times as long.
    SCALE_STEP = 1.1
    NEIGHBOURS = 5
    SMALLEST = 20  # pixels: the cascades' own window

    def __init__(self) -> None:
        try:
            import cv2
        except ImportError as error:
            raise DetectorUnavailableError(f"OpenCV is not installed ({error}); {INSTALL_HINT}") from None
        folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
        if folder is None:
            raise DetectorUnavailableError(
                f"OpenCV {cv2.__version__} ships no Haar cascades (OpenCV 5 dropped them); the [faces] extra pins OpenCV 4: {INSTALL_HINT}"
            )
        if in_pool_worker():
            # The build already runs one worker per core; OpenCV's own thread pool would oversubscribe them.
            cv2.setNumThreads(1)
        self._frontal = cv2.CascadeClassifier(folder + self.FRONTAL)
        self._profile = cv2.CascadeClassifier(folder + self.PROFILE)
        if self._frontal.empty() or self._profile.empty():
            raise DetectorUnavailableError(f"OpenCV {cv2.__version__}'s Haar cascades cannot be read from {folder}")
        self._identity = (
            f"opencv-haar {cv2.__version__} {self.FRONTAL}+{self.PROFILE} "
            f"step={self.SCALE_STEP} neighbours={self.NEIGHBOURS} min={self.SMALLEST} working={WORKING_SIZE}"
        )

    @property
    def identity(self) -> str:
        return self._identity

    def detect(self, image: Image.Image) -> list[Face]:
        import numpy as np

        pixels = np.asarray(image.convert("L"))
        mirrored = np.ascontiguousarray(pixels[:, ::-1])
        width = pixels.shape[1]
        found = [Face(box, "frontal") for box in self._run(self._frontal, pixels)]
        found += [Face(box, "profile") for box in self._run(self._profile, pixels)]
        found += [Face((width - x - w, y, w, h), "profile") for x, y, w, h in self._run(self._profile, mirrored)]
        return merge(found)

    def _run(self, cascade: Any, pixels: Any) -> list[Box]:
        smallest = (self.SMALLEST, self.SMALLEST)
        boxes = cascade.detectMultiScale(pixels, scaleFactor=self.SCALE_STEP, minNeighbors=self.NEIGHBOURS, minSize=smallest)
        return [(int(x), int(y), int(w), int(h)) for x, y, w, h in boxes]


def _clip(box: Box, size: tuple[int, int]) -> Box:
    x, y, w, h = box
    left, top = max(0, x), max(0, y)
    right, bottom = min(size[0], x + w), min(size[1], y + h)
    return (left, top, max(1, right - left), max(1, bottom - top))


def merge(faces: Sequence[Face]) -> list[Face]:
    """One box per face: overlapping findings (the same face seen frontal, in profile, turned) become their union."""
    groups: list[list[Face]] = []
    for face in faces:
        for group in groups:
            if any(_overlap(face.box, other.box) for other in group):
                group.append(face)
                break
        else:
            groups.append([face])
    merged = []
    for group in groups:
        left = min(f.box[0] for f in group)
        top = min(f.box[1] for f in group)
        right = max(f.box[0] + f.box[2] for f in group)
        bottom = max(f.box[1] + f.box[3] for f in group)
        kinds = sorted({f.kind for f in group})
        merged.append(Face((left, top, right - left, bottom - top), "+".join(kinds)))
    return sorted(merged, key=lambda f: (f.box[1], f.box[0]))


def _overlap(a: Box, b: Box) -> bool:
    """True when the smaller box lies at least half inside the larger."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy >= 0.5 * min(a[2] * a[3], b[2] * b[3])


@functools.cache
def default_detector() -> FaceDetector:
    """The detector the guard uses, loaded once per process; raises `DetectorUnavailableError` when missing."""
    return HaarDetector()


def available() -> str | None:
    """Why the detector cannot run, or None when it can."""
    try:
        default_detector()
    except DetectorUnavailableError as error:
        return str(error)
    return None


def scan(image: Image.Image, detector: FaceDetector | None = None) -> list[Box]:
    """Faces in `image` (the published pixels at full size), found at the working resolution, in `image`'s pixels."""
    detector = detector or default_detector()
    factor = min(1.0, WORKING_SIZE / max(image.size))
    work = image
    if factor < 1.0:
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        work = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    boxes = []
    for face in detector.detect(work):
        x, y, w, h = face.box
        # Rounded outwards, so a redaction made from the box covers at least what was found.
        left, top = math.floor(x / factor), math.floor(y / factor)
        right, bottom = math.ceil((x + w) / factor), math.ceil((y + h) / factor)
        boxes.append(_clip((left, top, right - left, bottom - top), image.size))
    return boxes


# -- fixes a designer can paste ------------------------------------------------------------------------------


def face_region(box: Box, size: tuple[int, int]) -> Box:
    """The whole head around a detection: the cascades box brows to mouth, so hair, ears and chin are added."""
    x, y, w, h = box
    return _clip((round(x - 0.2 * w), round(y - 0.3 * h), round(1.4 * w), round(1.6 * h)), size)


def eye_band(box: Box, size: tuple[int, int]) -> Box:
    """A band over the eyes and brows of a detection, a little wider than the face."""
    x, y, w, h = box
    return _clip((round(x - 0.1 * w), round(y + 0.1 * h), round(1.2 * w), round(0.45 * h)), size)


def crop_avoiding(boxes: Sequence[Box], crop: Box | None, size: tuple[int, int]) -> Box | None:
    """The largest band of the current crop (or photo) above, below, left or right of every face, if any."""
    region = crop or (0, 0, size[0], size[1])
    rx, ry, rw, rh = region
    heads = [face_region(box, size) for box in boxes]
    candidates = []
    for x, y, w, h in heads:
        candidates += [
            (rx, ry, rw, y - ry),  # above
            (rx, y + h, rw, ry + rh - y - h),  # below
            (rx, ry, x - rx, rh),  # left
            (x + w, ry, rx + rw - x - w, rh),  # right
        ]
    fitting = [c for c in candidates if c[2] > 0 and c[3] > 0 and not any(_intersects(c, head) for head in heads)]
    # A sliver is no crop a designer would publish: at least a fifth of the current region either way.
    usable = [c for c in fitting if c[2] * 5 >= rw and c[3] * 5 >= rh]
    return max(usable, key=lambda c: c[2] * c[3], default=None)


def _intersects(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def box_text(box: Box) -> str:
    """`[x, y, w, h]` as written in the manifest."""
    return "[" + ", ".join(str(v) for v in box) + "]"


def box_list_text(boxes: Sequence[Box]) -> str:
    """`[[x, y, w, h], ...]` as written in the manifest."""
    return "[" + ", ".join(box_text(box) for box in boxes) + "]"
