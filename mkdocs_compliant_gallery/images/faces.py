"""The identifiability guard's eyes: a local face detector run on the pixels that will be published.

The detector is optional (the `[faces]` extra, installed from the clone or wheel, then `compliant-gallery
install-face-model`): the engine asks `available()` before it promises a check, and a photo that needs one fails
closed when it cannot run. Everything here works on upright pixels; `pipeline` maps what is found back to the
coordinates of the original photo.

The chosen detector is Google's BlazeFace (MediaPipe's short-range and full-range face models, Apache License
2.0), run by the small ai-edge-litert runtime with this module's own anchor decoding and non-maximum
suppression in numpy; `face_model` says where the model files come from and checks their bytes. Why these, the
passes below and what they still miss: benchmarks/bench_faces.py and benchmarks/README.md.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PIL import Image

from . import face_model

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

Box = tuple[int, int, int, int]  # x, y, width, height

# Photos are scanned with their longest side at most this many pixels: a face of 24 pixels there is still
# found (by the tiles below), and a scan stays a few hundred milliseconds.
WORKING_SIZE = 1024
# The package is not on PyPI: the extra is installed from the clone (or wheel) the plugin came from.
INSTALL_HINT = (
    'install the [faces] extra from the clone or wheel the plugin came from (pip install "./mkdocs-compliant-gallery[faces]"), '
    f"then run `{face_model.COMMAND}`"
)


@dataclass(frozen=True)
class Face:
    """A face found in an image, in that image's pixels."""

    box: Box
    kind: str  # which model found it: short-range, full-range (joined by + when both did)


class FaceDetector(Protocol):
    """Finds faces in an upright RGB image."""

    @property
    def identity(self) -> str:
        """Name, runtime version, model hashes and settings: part of the cache key, so a new model scans again."""
        ...

    def detect(self, image: Image.Image) -> list[Face]:
        """Every face in `image`, in its pixel coordinates."""
        ...


class DetectorUnavailableError(Exception):
    """The face detector's runtime is not installed, or its model is missing or not the pinned bytes."""


# -- BlazeFace --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """One BlazeFace model: its file, its square input and its anchor layout."""

    name: str
    file: str
    input_size: int
    # (stride, anchors per cell) of each feature map, as MediaPipe's SsdAnchorsCalculator lays them out with
    # fixed-size anchors: the short-range model's four layers of strides 8, 16, 16, 16 give 2 anchors per cell
    # at stride 8 and 6 at stride 16 (896 in all); the full-range model has one anchor per cell at stride 4.
    layers: tuple[tuple[int, int], ...]


SHORT_RANGE = Model("short-range", "face_detection_short_range.tflite", 128, ((8, 2), (16, 6)))
FULL_RANGE = Model("full-range", "face_detection_full_range.tflite", 192, ((4, 1),))
WHOLE_PHOTO = 0


@dataclass(frozen=True)
class Pass:
    """One way of running a model over a photo, and the score from which a detection counts."""

    model: Model
    threshold: float
    window: int  # WHOLE_PHOTO: the photo with a margin around it; otherwise overlapping square tiles this wide
    mirrored: bool = False  # run on the mirror image: the models are not symmetric, and a second look finds more


# Chosen with benchmarks/bench_faces.py (see benchmarks/README.md). The whole photo goes through both models,
# the short-range one also mirrored; overlapping tiles of 256 working pixels find the faces of 24 to 60 pixels
# that the whole-photo passes scale down to almost nothing.
PASSES: tuple[Pass, ...] = (
    Pass(SHORT_RANGE, 0.65, WHOLE_PHOTO),
    Pass(SHORT_RANGE, 0.65, WHOLE_PHOTO, mirrored=True),
    Pass(FULL_RANGE, 0.65, WHOLE_PHOTO),
    Pass(FULL_RANGE, 0.65, 256),
    Pass(SHORT_RANGE, 0.8, 256),
)
# Around the whole photo, a black margin of this fraction of its longer side on every side: a face cut by the
# photo's edge (a careless crop) then still sits inside the model's view with room around it, as it was trained.
MARGIN = 0.25
TILE_STEP = 0.5  # tiles overlap by half their width: a face of up to 128 pixels lies wholly inside one (0.75 missed two)
SMALLEST_TILED = 1.5  # tiles only on photos at least this many tiles long: smaller ones are seen whole
# Detections narrower than this many working pixels are dropped: the guard looks for faces of 24 pixels and more
# (a smaller one is hardly identifiable), and what the tiles find below that size is mostly texture.
SMALLEST_FACE = 18
OVERLAP_SAME_FACE = 0.3  # intersection over union from which two detections are one face (MediaPipe's value)
RAW_SCORE_LIMIT = 80.0  # logits are clipped before the sigmoid, as MediaPipe does (at 100; 80 keeps float32 exp finite)


class BlazeFaceDetector:
    """BlazeFace's short-range and full-range models over the photo, its mirror image and tiles of it."""

    def __init__(self, folder: Path | None = None, passes: Sequence[Pass] = PASSES) -> None:
        try:
            import numpy  # noqa: F401  (the runtime needs it; say so before anything else fails)
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise DetectorUnavailableError(f"the face detector's runtime is not installed ({error}); {INSTALL_HINT}") from None
        folder = folder or face_model.default_folder()
        self.passes = tuple(passes)
        self._models: dict[str, _Network] = {}
        hashes = []
        for model in dict.fromkeys(p.model for p in self.passes):
            path = folder / model.file
            expected = face_model.FILES[model.file]
            try:
                content = path.read_bytes()
            except OSError:
                raise DetectorUnavailableError(f"the face model is not installed ({path} is missing); run `{face_model.COMMAND}`") from None
            digest = _sha256(content)
            if digest != expected:
                raise DetectorUnavailableError(
                    f"the face model file {path} is damaged or not the pinned model (SHA-256 {digest}, expected {expected}); "
                    f"run `{face_model.COMMAND}` again"
                )
            try:
                self._models[model.name] = _Network(Interpreter, content, model)
            except (ValueError, RuntimeError) as error:
                raise DetectorUnavailableError(f"the face model {path} cannot be loaded by ai-edge-litert: {error}") from None
            hashes.append(f"{model.name}={digest}")
        runs = ",".join(f"{p.model.name}{'-mirrored' if p.mirrored else ''}@{p.threshold}/{p.window or 'whole'}" for p in self.passes)
        self._identity = (
            f"blazeface ai-edge-litert {_version('ai-edge-litert')} {' '.join(hashes)} passes={runs} margin={MARGIN} "
            f"step={TILE_STEP} smallest={SMALLEST_FACE} nms={OVERLAP_SAME_FACE} working={WORKING_SIZE}"
        )

    @property
    def identity(self) -> str:
        return self._identity

    def detect(self, image: Image.Image) -> list[Face]:
        import numpy as np

        rgb = image.convert("RGB")
        found: list[tuple[NDArray[np.float32], NDArray[np.float32], str]] = []  # boxes (x0, y0, x1, y1), scores, model
        for model_pass in self.passes:
            squares, pixels = self._views(rgb, model_pass)
            if not squares:
                continue
            network = self._models[model_pass.model.name]
            for (left, top, side), boxes, scores in zip(squares, *network.run(pixels), strict=True):
                keep = scores >= model_pass.threshold
                if not keep.any():
                    continue
                boxes = boxes[keep]
                if model_pass.mirrored:
                    boxes = np.stack([1 - boxes[:, 2], boxes[:, 1], 1 - boxes[:, 0], boxes[:, 3]], axis=1)
                found.append((boxes * side + np.array([left, top, left, top], dtype=np.float32), scores[keep], model_pass.model.name))
        if not found:
            return []
        boxes = np.concatenate([f[0] for f in found])
        scores = np.concatenate([f[1] for f in found])
        kinds = [f[2] for f in found for _ in range(len(f[1]))]
        faces = []
        for box, kind in _weighted_suppression(boxes, scores, kinds):
            x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
            x1, y1 = min(float(rgb.width), float(box[2])), min(float(rgb.height), float(box[3]))
            if min(box[2] - box[0], box[3] - box[1]) >= SMALLEST_FACE and x1 - x0 >= 1 and y1 - y0 >= 1:
                left, top = math.floor(x0), math.floor(y0)
                faces.append(Face((left, top, math.ceil(x1) - left, math.ceil(y1) - top), kind))
        return merge(faces)

    def _views(self, rgb: Image.Image, model_pass: Pass) -> tuple[list[tuple[float, float, float]], NDArray[np.uint8]]:
        """The squares (left, top, side in the photo's pixels) a pass looks at, and their pixels at the model's input size."""
        import numpy as np

        size = model_pass.model.input_size
        longest = max(rgb.size)
        if model_pass.window == WHOLE_PHOTO:
            side = longest * (1 + 2 * MARGIN)
            left, top = (rgb.width - side) / 2, (rgb.height - side) / 2
            # Outside the photo, Pillow's crop fills black.
            square = rgb.crop((round(left), round(top), round(left + side), round(top + side)))
            pixels = np.asarray(square.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0))[np.newaxis]
            if model_pass.mirrored:
                pixels = pixels[:, :, ::-1]
            return [(left, top, side)], pixels
        window = model_pass.window
        if longest < SMALLEST_TILED * window:
            return [], np.zeros((0, size, size, 3), dtype=np.uint8)
        # The photo is scaled once so that a tile is the model's input, and the tiles are cut from that copy.
        scale = size / window
        scaled = rgb.resize(
            (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))), Image.Resampling.BILINEAR, reducing_gap=2.0
        )
        squares, tiles = [], []
        for top in _starts(rgb.height, window):
            for left in _starts(rgb.width, window):
                x, y = round(left * scale), round(top * scale)
                squares.append((x / scale, y / scale, float(window)))
                tiles.append(np.asarray(scaled.crop((x, y, x + size, y + size))))
        pixels = np.stack(tiles)
        if model_pass.mirrored:
            pixels = pixels[:, :, ::-1]
        return squares, pixels


class _Network:
    """One model loaded into a one-thread ai-edge-litert interpreter, with its anchors."""

    def __init__(self, interpreter: Any, content: bytes, model: Model) -> None:
        import numpy as np

        # One thread: the build already runs one worker per core, and one thread keeps the result the same on
        # every run. (Batches of tiles were measured too: no faster on one thread.)
        self._interpreter = interpreter(model_content=content, num_threads=1)
        with _quiet_native_stderr():
            self._interpreter.allocate_tensors()
        inputs = self._interpreter.get_input_details()
        outputs = sorted(self._interpreter.get_output_details(), key=lambda d: int(d["shape"][-1]))
        expected = [1, model.input_size, model.input_size, 3]
        if len(inputs) != 1 or list(inputs[0]["shape"]) != expected or len(outputs) != 2:
            raise ValueError(f"expected one {expected} input and two outputs, found {len(inputs)} input(s) and {len(outputs)} output(s)")
        self._input = inputs[0]["index"]
        self._scores, self._boxes = outputs[0]["index"], outputs[1]["index"]  # [1, N, 1] and [1, N, 16]
        self._size = model.input_size
        centres = []
        for stride, per_cell in model.layers:
            cells = model.input_size // stride
            along = (np.arange(cells, dtype=np.float32) + 0.5) / cells
            ys, xs = np.meshgrid(along, along, indexing="ij")
            centres.append(np.repeat(np.stack([xs.ravel(), ys.ravel()], axis=1), per_cell, axis=0))
        self._anchors = np.concatenate(centres)
        if int(outputs[1]["shape"][1]) != len(self._anchors):
            raise ValueError(f"the model has {outputs[1]['shape'][1]} anchors, its layout {len(self._anchors)}")

    def run(self, pixels: NDArray[np.uint8]) -> tuple[list[NDArray[np.float32]], list[NDArray[np.float32]]]:
        """For each picture (n, size, size, 3): boxes (x0, y0, x1, y1 as fractions of the picture) and scores of every anchor."""
        import numpy as np

        all_boxes, all_scores = [], []
        for picture in pixels:
            tensor = (picture.astype(np.float32) / 127.5 - 1.0)[np.newaxis]  # [-1, 1], as the models were trained
            self._interpreter.set_tensor(self._input, np.ascontiguousarray(tensor))
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._boxes)[0]
            logits = np.clip(self._interpreter.get_tensor(self._scores)[0, :, 0], -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
            all_scores.append((1.0 / (1.0 + np.exp(-logits))).astype(np.float32))
            # Each anchor predicts its face's centre offset and size in input pixels (the keypoints that follow
            # are not needed here).
            centres = self._anchors + raw[:, 0:2] / self._size
            halves = raw[:, 2:4] / self._size / 2
            all_boxes.append(np.concatenate([centres - halves, centres + halves], axis=1))
        return all_boxes, all_scores


def _starts(length: int, window: int) -> list[float]:
    """Where the tiles along one side begin: evenly spread, overlapping by at least `TILE_STEP`."""
    if window >= length:
        return [(length - window) / 2]
    count = math.ceil((length - window) / (window * TILE_STEP)) + 1
    return [index * (length - window) / (count - 1) for index in range(count)]


def _weighted_suppression(
    boxes: NDArray[np.float32], scores: NDArray[np.float32], kinds: list[str]
) -> list[tuple[NDArray[np.float32], str]]:
    """MediaPipe's weighted non-maximum suppression: each group of overlapping detections becomes their score-weighted mean."""
    import numpy as np

    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    kinds = [kinds[i] for i in order]
    alive = np.ones(len(boxes), dtype=bool)
    kept = []
    for index in range(len(boxes)):
        if not alive[index]:
            continue
        group = alive & (_iou(boxes[index], boxes) > OVERLAP_SAME_FACE)
        group[index] = True
        weights = scores[group]
        kept.append(((boxes[group] * weights[:, None]).sum(axis=0) / weights.sum(), kinds[index]))
        alive &= ~group
    return kept


def _iou(box: NDArray[np.float32], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
    import numpy as np

    width = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = width * height
    union = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter
    result: NDArray[np.float32] = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)
    return result


def _sha256(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Keep the runtime's "INFO: Created TensorFlow Lite XNNPACK delegate" line out of the build log; pass anything else on."""
    try:
        descriptor = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):  # no real stderr (captured): nothing to keep clean
        yield
        return
    sys.stderr.flush()
    saved = os.dup(descriptor)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), descriptor)
        try:
            yield
        finally:
            os.dup2(saved, descriptor)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
    rest = [line for line in text.splitlines() if line.strip() and not line.startswith("INFO: Created TensorFlow Lite")]
    if rest:
        print("\n".join(rest), file=sys.stderr)


def _clip(box: Box, size: tuple[int, int]) -> Box:
    x, y, w, h = box
    left, top = max(0, x), max(0, y)
    right, bottom = min(size[0], x + w), min(size[1], y + h)
    return (left, top, max(1, right - left), max(1, bottom - top))


def merge(faces: Sequence[Face]) -> list[Face]:
    """One box per face: overlapping findings (the same face seen by both models, whole and in a tile) become their union."""
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
    """The detector the guard uses, loaded once per process; raises `DetectorUnavailableError` when it cannot run."""
    return BlazeFaceDetector()


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
    """The whole head around a detection: BlazeFace boxes brows to chin, so hair, ears and the jaw line are added."""
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
