"""The image pipeline: admit a photo, upright it, make it sRGB, redact, crop, resize, and encode pixels only.

Every output is built from a fresh image holding nothing but decoded pixels, saved without any metadata
argument, then walked byte by byte (see `formats`) before it may be published. Where outputs are kept, and
how a pair is found again, is `cache`'s business.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import math
import re
import struct
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import PIL
from PIL import Image, ImageCms, ImageDraw, UnidentifiedImageError, features

from ..catalogue import CG111, CG209, CG301, CG302, CG303, CG304, CG305, CG306, CG307, CG308, CG311, CG601
from ..records.manifest import Box, Edit, ImageRef
from ..settings import ImageSettings
from ..violations import Violation, Where
from . import compare, faces, formats
from .identify import ADMITTED_NAMES, Identified, Kind, identify, structure_problem
from .provenance import editing_software, generative_evidence
from .workers import in_pool_worker

try:  # HEIC/HEIF from phones; optional at import so the engine still loads without it
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_VERSION: str | None = pillow_heif.__version__
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    HEIF_VERSION = None

PIPELINE_VERSION = "5"  # 4: face scan results in meta.json; 5: the published pixels' light (compare.py)
PILLOW_VERSION = PIL.__version__
# Encoder versions change output bytes: part of every cache key.
LIBRARY_VERSIONS = {name: features.version(name) for name in ("jpg", "webp", "avif", "littlecms2")}
FORMAT_SUFFIX = {"jpeg": ".jpg", "webp": ".webp", "avif": ".avif"}
ASPECT_TOLERANCE = 0.02


@dataclass(frozen=True)
class Rendition:
    """One published file: a format at a width, named by the hash of its bytes."""

    fmt: str
    width: int
    height: int
    name: str
    path: str
    sha256: str = ""  # of the file's bytes, for the publication log


@dataclass(frozen=True)
class ProcessedImage:
    """The published renditions of one original, with the original's hash for the audit trail."""

    source_sha256: str
    width: int
    height: int
    renditions: tuple[Rendition, ...]
    captured: str | None = None  # the original's EXIF capture time, ISO 8601, when it has one
    face_scanned: bool = False  # the face guard looked at the published pixels
    faces: tuple[Box, ...] = ()  # what it found, in pixels of the upright original
    light: compare.Light | None = None  # mean linear R, G, B of the published pixels, redactions left out

    def of_format(self, fmt: str) -> list[Rendition]:
        """The renditions in `fmt`, narrowest first."""
        return sorted((r for r in self.renditions if r.fmt == fmt), key=lambda r: r.width)


@dataclass(frozen=True)
class PairJob:
    """The work for one before/after pair: picklable, so it can run in a worker process."""

    case_id: str
    view: str
    manifest_file: str
    before: ImageRef
    after: ImageRef
    edits: tuple[Edit, ...]
    settings: ImageSettings
    cache_dir: str
    # Which photos (before, after) the face guard scans: those whose release does not allow the face.
    face_scan: tuple[bool, bool] = (False, False)
    face_detector: str = ""  # the detector's identity when any photo is scanned; part of the key
    edits_line: int = 0  # the manifest line of the pair, where its `edits` are declared

    @property
    def images(self) -> tuple[ImageRef, ImageRef]:
        return (self.before, self.after)

    def cache_key(self, before_sha: str, after_sha: str) -> str:
        """The key of this pair's outputs, given its originals' SHA-256: everything that changes their bytes."""
        boxes = [(ref.crop, ref.redact) for ref in (self.before, self.after)]
        material = json.dumps(
            [
                PIPELINE_VERSION,
                PILLOW_VERSION,
                HEIF_VERSION,
                LIBRARY_VERSIONS,
                before_sha,
                after_sha,
                boxes,
                [asdict(e) for e in self.edits],
                asdict(self.settings),
                self.face_scan,
                self.face_detector if any(self.face_scan) else "",
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PairResult:
    """The outcome of one pair: processed images, or the violations that stop it."""

    case_id: str
    view: str
    before: ProcessedImage | None
    after: ProcessedImage | None
    violations: tuple[Violation, ...]
    cache_key: str = ""  # the cache entry the pair is kept under, set by `cache`


@dataclass
class _Decoded:
    """An admitted original, upright and in sRGB, before crop."""

    image: Image.Image
    sha256: str
    captured: dt.datetime | None
    editors: list[str] = field(default_factory=list)
    original_size: tuple[int, int] = (0, 0)  # upright, before any DCT downscaling
    generative: list[str] = field(default_factory=list)  # metadata saying generative AI made or altered the pixels


class OutputRejectedError(Exception):
    """An encoded output that is not pixels only, or not the size it should be; never published."""


def verify_output(data: bytes, fmt: str, size: tuple[int, int]) -> list[str]:
    """Problems of one output: anything but pixel data (byte walk), or dimensions other than `size`."""
    problems = formats.problems(data, fmt)
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.size != size:
                problems.append(f"decodes to {image.size[0]}x{image.size[1]}, not {size[0]}x{size[1]}")
    except (OSError, ValueError) as error:
        problems.append(f"cannot be decoded again: {error}")
    return problems


class ImageRejectedError(Exception):
    """An original that cannot be published, with the violation that says why."""

    def __init__(self, violation: Violation):
        super().__init__(violation.message)
        self.violation = violation


def process_pair(job: PairJob, staged: Path, final: Path) -> PairResult:
    """Decode, check and encode a pair: its renditions are written into `staged`, named by their path in `final`.

    Writing there is all this knows of the cache, which moves `staged` to `final` when the pair is done.
    """
    where = {ref.src: Where(job.manifest_file, ref.line, f"case {job.case_id}.photos") for ref in job.images}
    violations: list[Violation] = []
    decoded: list[_Decoded] = []
    for ref in job.images:
        if violations and ref.path == job.before.path:
            continue  # the same file as before and after: one refusal, at its first listing
        try:
            decoded.append(_decode(ref, job.settings, where[ref.src], job.case_id))
        except ImageRejectedError as rejected:
            violations.append(rejected.violation)
    if violations:
        return PairResult(job.case_id, job.view, None, None, tuple(violations))
    before, after = decoded
    violations.extend(_provenance(job, before, after, where))
    prepared = []
    for ref, item in zip(job.images, decoded, strict=True):
        try:
            prepared.append(_redact_and_crop(item, ref, where[ref.src], job.case_id))
        except ImageRejectedError as rejected:
            violations.append(rejected.violation)
    if violations:
        return PairResult(job.case_id, job.view, None, None, tuple(violations))
    first, second = prepared
    ratio_a, ratio_b = first.width / first.height, second.width / second.height
    if abs(ratio_a - ratio_b) / ratio_a > ASPECT_TOLERANCE:
        return PairResult(
            job.case_id,
            job.view,
            None,
            None,
            (
                Violation(
                    CG305,
                    where[job.after.src],
                    f"before ({first.width}x{first.height}) and after ({second.width}x{second.height}) differ in shape after crop; they are not comparable",
                    "crop both photos to the same aspect ratio (set the same 'crop' size on the pair)",
                    job.case_id,
                ),
            ),
        )
    # Every encoder's limit is checked before any work on the pixels: a photo of any shape ends in a violation.
    sizes = output_sizes(first.width, first.height, second.width, job.settings.widths)
    beyond = beyond_encoder_limits(sizes, job.settings.formats)
    if beyond is not None:
        return PairResult(job.case_id, job.view, None, None, (_shape_violation(job, before, beyond, where[job.before.src]),))
    found: list[tuple[Box, ...]] = []
    for ref, item, image, wanted in zip(job.images, decoded, prepared, job.face_scan, strict=True):
        if not wanted:
            found.append(())
            continue
        try:
            boxes = tuple(_to_original(box, ref, item) for box in faces.scan(image))
        except faces.DetectorUnavailableError as error:
            fix = f"{faces.INSTALL_HINT}, or set 'face_guard: false' in the plugin options"
            return PairResult(job.case_id, job.view, None, None, (Violation(CG111, where[ref.src], str(error), fix, job.case_id),))
        found.append(boxes)
        if boxes:
            violations.append(face_violation(job, ref, item.original_size, boxes, where[ref.src]))
    try:
        outputs = [
            replace(
                _encode_all(image, sizes, job.settings, staged, final, item),
                face_scanned=wanted,
                faces=boxes,
                light=compare.light_of(image, _published_mask(item, ref)),
            )
            for ref, item, image, wanted, boxes in zip(job.images, decoded, prepared, job.face_scan, found, strict=True)
        ]
    except EncoderFailedError as error:
        message = (
            f"the {error.fmt.upper()} encoder could not write '{job.before.src}' at {error.size[0]}x{error.size[1]} pixels ({error.reason})"
        )
        fix = f"leave '{error.fmt}' out of 'formats', or crop the photo to a more usual shape; if it persists, report it with the photo's size"
        return PairResult(job.case_id, job.view, None, None, (Violation(CG308, where[job.before.src], message, fix, job.case_id),))
    except OutputRejectedError as error:
        location = Where(job.manifest_file, job.before.line, f"case {job.case_id}.photos")
        fix = "report this as a bug; nothing was published"
        return PairResult(job.case_id, job.view, None, None, (Violation(CG601, location, str(error), fix, job.case_id),))
    return PairResult(job.case_id, job.view, outputs[0], outputs[1], tuple(violations))


# The longest side each output format can hold, as the bundled libraries write it and read it back (measured):
# libwebp stops at 16383; libavif decodes at most 32768 per side by default (as browsers built on it do), though
# AV1 itself allows 65536; libjpeg-turbo stops at 65500.
MAX_SIDE = {"webp": 16383, "avif": 32768, "jpeg": 65500}
# libavif also decodes at most 16384 x 16384 pixels in all (its default image size limit).
MAX_AREA = {"avif": 16384 * 16384}
FORMAT_NAMES = {"webp": "WebP", "avif": "AVIF", "jpeg": "JPEG"}


@dataclass(frozen=True)
class BeyondLimit:
    """An output size one format cannot hold."""

    fmt: str
    size: tuple[int, int]
    limit: int
    area: bool = False  # the limit is on width x height, not on a side

    @property
    def tall(self) -> bool:
        return not self.area and self.size[1] > self.limit


def beyond_encoder_limits(sizes: list[tuple[int, int]], formats_wanted: tuple[str, ...]) -> BeyondLimit | None:
    """The first output (size, format) over its format's side limit, checked before anything is encoded."""
    for fmt in sorted(formats_wanted, key=lambda f: MAX_SIDE.get(f, 0)):
        limit = MAX_SIDE.get(fmt)
        for size in sizes:
            if limit is not None and max(size) > limit:
                return BeyondLimit(fmt, size, limit)
            if size[0] * size[1] > MAX_AREA.get(fmt, size[0] * size[1]):
                return BeyondLimit(fmt, size, MAX_AREA[fmt], area=True)
    return None


def _shape_violation(job: PairJob, before: _Decoded, beyond: BeyondLimit, where: Where) -> Violation:
    """CG308: a pair whose published size one output format cannot hold, with a crop that fits every format."""
    width, height = beyond.size
    name = FORMAT_NAMES.get(beyond.fmt, beyond.fmt)
    side = "in all" if beyond.area else "tall" if beyond.tall else "wide"
    message = (
        f"'{job.before.src}' (and its after photo, published at the same size) would be published at {width}x{height} pixels, "
        f"but a {name} image can be at most {beyond.limit} pixels {side}"
    )
    leave_out = f", or leave '{beyond.fmt}' out of 'formats'" if beyond.fmt != "jpeg" else ""
    if beyond.area:
        fix = f"use smaller 'widths' (at most {math.isqrt(beyond.limit)} for a square photo){leave_out}"
        return Violation(CG308, where, message, fix, job.case_id)
    if not beyond.tall:
        fix = f"keep every entry of 'widths' at or below {beyond.limit}{leave_out}"
        return Violation(CG308, where, message, fix, job.case_id)
    limits = [MAX_SIDE[f] for f in job.settings.formats if f in MAX_SIDE]
    fits = min(limits)  # the crop that fits every configured format
    upright_width, upright_height = before.original_size
    x, y, crop_width, crop_height = job.before.crop or (0, 0, upright_width, upright_height)
    # Heights scale with the published width: at `width` pixels across, `fits` rows cover this many original rows.
    rows = max(1, math.floor(fits * crop_width / width) - 1)
    fix = (
        f"crop both photos of the pair to the part that shows the treatment, at most {rows} pixels tall at "
        f"{crop_width} wide, e.g. 'crop: [{x}, {y}, {crop_width}, {min(rows, crop_height)}]'{leave_out}"
    )
    return Violation(CG308, where, message, fix, job.case_id)


class EncoderFailedError(Exception):
    """An encoder refused a size or image the limits did not foresee: a violation, never a traceback."""

    def __init__(self, fmt: str, size: tuple[int, int], reason: str):
        super().__init__(reason)
        self.fmt, self.size, self.reason = fmt, size, reason


def output_sizes(width: int, height: int, other_width: int, widths: tuple[int, ...]) -> list[tuple[int, int]]:
    """The sizes both photos of a pair are published at: configured widths, never upscaled."""
    largest = min(width, other_width)
    chosen = sorted({w for w in widths if w <= largest}) or [largest]
    return [(w, max(1, round(w * height / width))) for w in chosen]


def _decode(ref: ImageRef, settings: ImageSettings, where: Where, case_id: str) -> _Decoded:
    """Admit one original: a still photo by its content, within the pixel cap, fully decodable."""
    data = ref.path.read_bytes()
    found = identify(data)
    if found.kind is not Kind.PHOTO:
        raise ImageRejectedError(_not_a_photo(ref, found, where, case_id))
    try:
        with _pillow_size_warnings_ignored():
            image = Image.open(io.BytesIO(data))  # lazy: reads the header, so the cap is checked before any pixel
            if image.width * image.height > settings.max_pixels:
                raise ImageRejectedError(_over_max_pixels(ref, settings, where, case_id))
            if getattr(image, "is_animated", False) and found.fmt in {"png", "webp"}:
                raise ImageRejectedError(
                    Violation(
                        CG303,
                        where,
                        f"'{ref.src}' is {found.name} with an animation ({getattr(image, 'n_frames', 'several')} frames); a clinical photo is a still",
                        "export the one still frame to publish as a JPEG",
                        case_id,
                    )
                )
            image.seek(0)  # containers with several images publish their primary one only
            exif = image.getexif()
            original_size = _upright_size(image.size, exif)
            _draft(image, ref, original_size, max(settings.widths))
            image.load()
    except Image.DecompressionBombError:
        raise ImageRejectedError(_over_pillow_limit(ref, settings, where, case_id)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError) as error:
        raise ImageRejectedError(
            Violation(
                CG301,
                where,
                f"'{ref.src}' is {found.name} that cannot be decoded: {structure_problem(data, found.fmt or '') or decode_problem(error)}",
                "export the photo again from the camera or photo system (or copy the original again); this file is damaged",
                case_id,
            )
        ) from None
    editors = editing_software(exif, image, data)
    generative = generative_evidence(image, data)
    captured = _capture_time(exif)
    srgb = _to_srgb(_upright(image, exif), image.info.get("icc_profile"))
    return _Decoded(srgb, hashlib.sha256(data).hexdigest(), captured, editors, original_size, generative)


def _not_a_photo(ref: ImageRef, found: Identified, where: Where, case_id: str) -> Violation:
    """CG303 for a raw camera file or any other kind of file, CG301 for a photo format whose signature is broken."""
    if found.kind is Kind.RAW:
        return Violation(
            CG303,
            where,
            f"'{ref.src}' is {found.name}, a raw camera file: export a JPEG or TIFF first",
            "open it in the camera maker's software or a raw converter (Lightroom, darktable, RawTherapee), export the "
            "photo as a JPEG or TIFF, and point 'src' at that file; a raw file's built-in preview is not the photo",
            case_id,
        )
    if found.kind is Kind.DAMAGED:
        return Violation(
            CG301,
            where,
            f"'{ref.src}' is {found.name}, so it cannot be decoded",
            found.fix or "export the photo again from the camera or photo system (or copy the original again); this file is damaged",
            case_id,
        )
    return Violation(
        CG303,
        where,
        f"'{ref.src}' is {found.name}; a clinical photo must be a still {ADMITTED_NAMES} file",
        found.fix or f"export the photo as a {ADMITTED_NAMES} file and point 'src' at it",
        case_id,
    )


# What the decoders' own words mean for the person holding the file (Pillow's messages, and pillow-heif's).
_DECODE_PROBLEMS = (
    (
        re.compile(r"truncated|unexpected end|end of file|truncated file read|premature end", re.IGNORECASE),
        "the file ends before its image data does (it was cut short, e.g. by an interrupted copy or upload)",
    ),
    (
        re.compile(r"broken data stream|decoder error|unrecognized data stream|invalid|corrupt|bad |huffman", re.IGNORECASE),
        "its compressed image data is damaged",
    ),
    (
        re.compile(r"cannot identify image file", re.IGNORECASE),
        "its header is damaged, or it is a variant of the format the image library does not read",
    ),
    (
        re.compile(r"cannot load this image|unsupported|not supported|unknown", re.IGNORECASE),
        "it uses a variant of the format (compression, colour layout or bit depth) the image library does not read",
    ),
)
# Pillow names the stream it read ("<_io.BytesIO object at 0x7f...>"): different on every build, and meaningless.
_PYTHON_OBJECT = re.compile(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>")


def decode_problem(error: BaseException) -> str:
    """Why a photo could not be decoded, in words for its owner; never a Python object's address."""
    text = str(error)
    for pattern, meaning in _DECODE_PROBLEMS:
        if pattern.search(text):
            return meaning
    detail = _PYTHON_OBJECT.sub("", text).strip(" :") or type(error).__name__
    return f"its data is damaged (the decoder reports: {detail})"


@contextlib.contextmanager
def _pillow_size_warnings_ignored() -> Iterator[None]:
    """Pillow's DecompressionBombWarning silenced: the cap that applies is `max_pixels`, which `_decode` checks.

    Pillow warns past `Image.MAX_IMAGE_PIXELS` on open, load and crop. That limit is process-wide, shared with
    every other plugin of the build, so the pipeline leaves it as it finds it and applies its own cap per photo.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _over_max_pixels(ref: ImageRef, settings: ImageSettings, where: Where, case_id: str) -> Violation:
    return Violation(
        CG302,
        where,
        f"'{ref.src}' has more than {settings.max_pixels} pixels",
        "export a smaller photo, or raise 'max_pixels' in the plugin config",
        case_id,
    )


def _over_pillow_limit(ref: ImageRef, settings: ImageSettings, where: Where, case_id: str) -> Violation:
    """CG302 for a photo Pillow refuses to decode at all: more than twice its process-wide `MAX_IMAGE_PIXELS`."""
    pillow_limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
    if not pillow_limit or pillow_limit >= settings.max_pixels:
        return _over_max_pixels(ref, settings, where, case_id)  # above Pillow's limit is above max_pixels too
    return Violation(
        CG302,
        where,
        f"'{ref.src}' has more than {pillow_limit} pixels, the most the imaging library (Pillow) decodes in this build",
        f"export a smaller photo; 'max_pixels' ({settings.max_pixels}) cannot raise Pillow's own limit",
        case_id,
    )


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image, exif: Image.Exif) -> Image.Image:
    """The pixels turned as the EXIF Orientation says (other values: as stored).

    Not ImageOps.exif_transpose: it also re-encodes the EXIF block without the tag, and raises on a damaged tag
    elsewhere in it (a rational where text belongs), which stopped the whole build. Outputs carry no EXIF anyway.
    """
    orientation = exif.get(0x0112)
    method = _TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    return image.transpose(method) if method is not None else image


def _upright_size(size: tuple[int, int], exif: Image.Exif) -> tuple[int, int]:
    # HEIF: pillow-heif applies the container's irot/imir and resets EXIF Orientation to 1, so the container
    # decides, as the HEIF standard says; an EXIF-only rotation in a HEIF file is therefore not applied.
    return (size[1], size[0]) if exif.get(0x0112) in (5, 6, 7, 8) else size


def _draft(image: Image.Image, ref: ImageRef, upright: tuple[int, int], needed_width: int) -> None:
    """Let libjpeg decode at the smallest DCT scale that still gives `needed_width` pixels across the crop."""
    if image.format not in ("JPEG", "MPO"):
        return
    crop_width = ref.crop[2] if ref.crop else upright[0]
    scale = needed_width / crop_width
    if scale >= 0.5:
        return  # no DCT scale (1/2, 1/4, 1/8) would be large enough
    # Requested in stored orientation; draft keeps the result at least this large.
    image.draft(None, (math.ceil(image.size[0] * scale), math.ceil(image.size[1] * scale)))


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Pixels converted to sRGB (not merely untagged), alpha flattened onto white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(canvas, rgba).convert("RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion below
    return image.convert("RGB")


def _redact_and_crop(decoded: _Decoded, ref: ImageRef, where: Where, case_id: str) -> Image.Image:
    """Opaque black redaction first, then the crop; boxes are in upright-original pixels."""
    width, height = decoded.original_size
    boxes = [("redact", box) for box in ref.redact] + ([("crop", ref.crop)] if ref.crop else [])
    for name, (x, y, w, h) in boxes:
        if x + w > width or y + h > height:
            raise ImageRejectedError(
                Violation(
                    CG307,
                    where,
                    f"{name} box [{x}, {y}, {w}, {h}] reaches outside '{ref.src}' ({width}x{height} upright)",
                    "measure the box on the upright photo and keep it inside",
                    case_id,
                )
            )
    image = decoded.image.copy()
    # A DCT-downscaled decode has fewer pixels: scale boxes, rounding redactions outwards so they never shrink.
    sx, sy = image.width / width, image.height / height
    if ref.redact:
        draw = ImageDraw.Draw(image)
        for x, y, w, h in ref.redact:
            left, top = math.floor(x * sx), math.floor(y * sy)
            right, bottom = math.ceil((x + w) * sx), math.ceil((y + h) * sy)
            draw.rectangle((left, top, right - 1, bottom - 1), fill=(0, 0, 0))
    if ref.crop:
        with _pillow_size_warnings_ignored():  # Pillow checks its own limit on every crop
            image = image.crop(_scaled_crop(ref.crop, sx, sy, image.size))
    return image


def _scaled_crop(crop: Box, sx: float, sy: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A crop box measured on the original, on pixels decoded at another scale, keeping at least one pixel each way
    (a crop one pixel high of a photo decoded at half size would otherwise round to none)."""
    x, y, w, h = crop
    left, top = min(round(x * sx), size[0] - 1), min(round(y * sy), size[1] - 1)
    return left, top, max(left + 1, round((x + w) * sx)), max(top + 1, round((y + h) * sy))


def _published_mask(decoded: _Decoded, ref: ImageRef) -> Image.Image | None:
    """Which published pixels are the photo's own (255) rather than redaction (0), or None when nothing is redacted.

    Made exactly as `_redact_and_crop` makes the pixels, so a black box does not count as a darker photo.
    """
    if not ref.redact:
        return None
    width, height = decoded.original_size
    mask = Image.new("L", decoded.image.size, 255)
    sx, sy = mask.width / width, mask.height / height
    draw = ImageDraw.Draw(mask)
    for x, y, w, h in ref.redact:
        left, top = math.floor(x * sx), math.floor(y * sy)
        right, bottom = math.ceil((x + w) * sx), math.ceil((y + h) * sy)
        draw.rectangle((left, top, right - 1, bottom - 1), fill=0)
    if ref.crop:
        mask = mask.crop(_scaled_crop(ref.crop, sx, sy, mask.size))
    return mask


def published_faces(ref: ImageRef, settings: ImageSettings, extra_redact: tuple[Box, ...] = ()) -> tuple[tuple[Box, ...], tuple[int, int]]:
    """Faces the guard finds on the pixels `ref` publishes (its redactions plus `extra_redact`, then its crop).

    Returns the boxes in pixels of the upright original, and that original's upright size. Raises
    `ImageRejectedError` for a photo the pipeline refuses and `faces.DetectorUnavailableError` without the detector.
    """
    where = Where(ref.src, ref.line)
    decoded = _decode(ref, settings, where, "")
    target = replace(ref, redact=ref.redact + extra_redact)
    prepared = _redact_and_crop(decoded, target, where, "")
    return tuple(_to_original(box, target, decoded) for box in faces.scan(prepared)), decoded.original_size


def _to_original(box: Box, ref: ImageRef, decoded: _Decoded) -> Box:
    """A box in the prepared (redacted, cropped, maybe DCT-downscaled) pixels, in pixels of the upright original."""
    width, height = decoded.original_size
    sx, sy = decoded.image.width / width, decoded.image.height / height
    # The crop origin exactly as `_redact_and_crop` rounded it.
    ox, oy = (round(ref.crop[0] * sx), round(ref.crop[1] * sy)) if ref.crop else (0, 0)
    x, y, w, h = box
    left, top = max(0, math.floor((x + ox) / sx)), max(0, math.floor((y + oy) / sy))
    right, bottom = min(width, math.ceil((x + w + ox) / sx)), min(height, math.ceil((y + h + oy) / sy))
    return (left, top, right - left, bottom - top)


def face_violation(job: PairJob, ref: ImageRef, size: tuple[int, int], boxes: tuple[Box, ...], where: Where) -> Violation:
    """CG209 for faces found on a photo whose release does not allow the face, with ready-to-paste fixes."""
    entry = "before" if ref is job.before else "after"
    shown = ", ".join(faces.box_text(box) for box in boxes)
    redact = faces.box_list_text(ref.redact + tuple(faces.face_region(box, size) for box in boxes))
    crop = faces.crop_avoiding(boxes, ref.crop, size)
    crop_fix = (
        f", or crop the face out: 'crop: {faces.box_text(crop)}' on the same entry (and the other photo to the same shape)"
        if crop is not None
        else ""
    )
    return Violation(
        CG209,
        where,
        f"'{ref.src}' shows {'a face' if len(boxes) == 1 else f'{len(boxes)} faces'} at {shown} "
        "([x, y, width, height] in pixels of the upright original) but the release does not allow the face",
        f"redact it: 'redact: {redact}' on the '{entry}:' entry{crop_fix} "
        f"('compliant-gallery suggest-redactions {job.case_id}' prints an eye-band option too); or obtain a release that allows the face. "
        "If no face is there, record who checked: 'face_check: {reviewed_by: NAME, reason: TEXT}' on the entry",
        job.case_id,
    )


def _encode_all(
    image: Image.Image, sizes: list[tuple[int, int]], settings: ImageSettings, staged: Path, final: Path, source: _Decoded
) -> ProcessedImage:
    """Every size in every format, each verified, written into `staged` under the hash of its bytes."""
    renditions = []
    for width, height in sizes:
        # reducing_gap: an integer box reduction first, then Lanczos over the last factor of two.
        resized = image if (width, height) == image.size else image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=2.0)
        # A new image from raw pixels carries no info dict, so nothing but pixels can be written.
        clean = Image.frombytes("RGB", resized.size, resized.tobytes())
        for fmt in settings.formats:
            try:
                data = _encode(clean, fmt, settings)
            except (OSError, ValueError, RuntimeError) as error:
                raise EncoderFailedError(fmt, (width, height), _PYTHON_OBJECT.sub("", str(error)).strip() or type(error).__name__) from None
            problems = verify_output(data, fmt, (width, height))
            if problems:
                raise OutputRejectedError(f"the {fmt} encoder's output failed verification: {'; '.join(problems)}")
            digest = hashlib.sha256(data).hexdigest()
            name = digest[:20] + FORMAT_SUFFIX[fmt]
            (staged / name).write_bytes(data)
            renditions.append(Rendition(fmt, width, height, name, str(final / name), digest))
    largest = sizes[-1]
    captured = source.captured.isoformat() if source.captured else None
    return ProcessedImage(source.sha256, largest[0], largest[1], tuple(renditions), captured)


def _encode(image: Image.Image, fmt: str, settings: ImageSettings) -> bytes:
    """The encoded bytes of `image`: no metadata argument is ever passed."""
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image.save(buffer, "JPEG", quality=settings.jpeg_quality, optimize=True, progressive=True)
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=settings.webp_quality, method=4)
    else:  # avif, the only other format the options allow
        # One encoder thread per worker process: the pool already keeps every core busy.
        threads = {"max_threads": 1} if in_pool_worker() else {}
        image.save(buffer, "AVIF", quality=settings.avif_quality, speed=8, **threads)
    return buffer.getvalue()


# Why a synthetic photo is refused everywhere, in every CG311 message.
GENERATED_SOURCES = (
    "a generated or AI-altered result is not the patient's result and misleads; New York GBL 396-b (from 2026-06-09) and the "
    "EU AI Act Art. 50(4) (from 2026-08-02) require synthetic content to be disclosed, and AHPRA's 2025 guidelines for "
    "cosmetic procedures ban it"
)


def _provenance(job: PairJob, before: _Decoded, after: _Decoded, where: dict[str, Where]) -> list[Violation]:
    """CG311 generated photos, CG304 undeclared editing and CG306 an "after" taken before its "before"."""
    found = []
    declared_generated = any(edit.kind == "generated" for edit in job.edits)
    if declared_generated:
        found.append(
            Violation(
                CG311,
                Where(job.manifest_file, job.edits_line or job.before.line, f"case {job.case_id}.photos.edits"),
                f"the pair declares 'generated' edits: {GENERATED_SOURCES}",
                "publish the real, unaltered photos of the patient, or leave this case out of the gallery",
                job.case_id,
            )
        )
    else:
        for ref, item in zip(job.images, (before, after), strict=True):
            if item.generative:
                found.append(
                    Violation(
                        CG311,
                        where[ref.src],
                        f"'{ref.src}' was made or altered by generative AI, its metadata says ({', '.join(item.generative)}): {GENERATED_SOURCES}",
                        "publish the camera's original photo of the patient, or leave this case out of the gallery",
                        job.case_id,
                    )
                )
    if not job.edits:
        for ref, item in zip(job.images, (before, after), strict=True):
            if item.editors:
                found.append(
                    Violation(
                        CG304,
                        where[ref.src],
                        f"'{ref.src}' was edited with {', '.join(item.editors)} but the pair declares no edits",
                        "declare the edits under 'edits:' (exposure, white-balance, colour, sharpen, retouch, composite, background, "
                        "filter), or use the unedited original",
                        job.case_id,
                    )
                )
    if before.captured and after.captured and after.captured < before.captured:
        found.append(
            Violation(
                CG306,
                where[job.after.src],
                f"the after photo was taken {after.captured}, before the before photo ({before.captured})",
                "check that before and after are not swapped",
                job.case_id,
            )
        )
    return found


def _capture_time(exif: Image.Exif) -> dt.datetime | None:
    """The capture time: DateTimeOriginal if present, else DateTime; None when absent or not an EXIF timestamp."""
    value = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.strptime(value.strip("\x00 ").strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
