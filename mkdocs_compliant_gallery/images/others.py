"""Patient photos outside the gallery (CG310): every raster image the site publishes that the gallery did not make.

A clinic that drops a before/after photo into a page as a plain image bypasses every check the gallery makes (the
pattern of HHS OCR's 2025 Cadia Healthcare settlement). So each such image is scanned by the face guard's detector;
a face is listed (a warning, or an error with `other_images: fail`) unless a person reviewed that image
(`other_images_reviewed`). Each distinct file is scanned once per build, and verdicts are kept by content hash (and
detector) in the cache folder, so an unchanged site is not scanned again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from ..settings import ReviewedImage
from . import faces, formats

Box = tuple[int, int, int, int]
RASTER_FORMATS = {"jpeg", "png", "webp", "avif", "gif", "tiff", "heif", "bmp"}
RASTER_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".avif", ".gif", ".tif", ".tiff", ".heic", ".heif", ".bmp"}
CACHE_FILE = "other-images.json"
MAX_PIXELS = 100_000_000  # larger files are not decoded (and are listed as not scanned)


@dataclass(frozen=True)
class OtherImage:
    """What the face guard made of one site image outside the gallery."""

    path: str  # in the site
    source: str  # where it comes from (project-relative), or its site path when not known
    sha256: str
    verdict: str  # face | no face | reviewed | not scanned: <why>
    faces: tuple[Box, ...] = ()
    reviewed_by: str = ""
    reason: str = ""

    def record(self) -> dict[str, object]:
        """The publication log's entry for this image."""
        entry: dict[str, object] = {"path": self.path, "source": self.source, "sha256": self.sha256, "check": self.verdict}
        if self.faces:
            entry["faces"] = [list(box) for box in self.faces]
        if self.reviewed_by:
            entry.update(reviewed_by=self.reviewed_by, reason=self.reason)
        return entry


class VerdictCache:
    """Faces found per (content hash, detector), kept in the cache folder; only this build's entries are saved."""

    def __init__(self, cache_dir: Path):
        self.path = cache_dir / CACHE_FILE
        try:
            loaded = json.loads(self.path.read_text())
            self.known: dict[str, list[list[int]]] = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            self.known = {}
        self.used: dict[str, list[list[int]]] = {}
        self.scanned = 0  # files scanned afresh this build

    def get(self, key: str) -> tuple[Box, ...] | None:
        found = self.used.get(key, self.known.get(key))
        if not isinstance(found, list):
            return None
        try:
            boxes = tuple((int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in found)
        except (TypeError, ValueError, IndexError):
            return None
        self.used[key] = found
        return boxes

    def put(self, key: str, boxes: Sequence[Box]) -> None:
        self.used[key] = [list(box) for box in boxes]
        self.scanned += 1

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.used, sort_keys=True))
        os.replace(temporary, self.path)


def site_images(site_dir: Path, skip: set[str]) -> dict[str, Path]:
    """Raster files of a built site by their site path, leaving out the site paths in `skip` (the gallery's own)."""
    found = {}
    for folder, _dirs, names in os.walk(site_dir):
        for name in names:
            path = Path(folder) / name
            relative = path.relative_to(site_dir).as_posix()
            if path.suffix.lower() in RASTER_SUFFIXES and relative not in skip:
                found[relative] = path
    return found


def _decode(data: bytes) -> Image.Image | None:
    """The upright RGB pixels of a still image (its first frame), at most about the face guard's working size."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            return None
        image.seek(0)
        if image.format in ("JPEG", "MPO"):
            image.draft("RGB", (faces.WORKING_SIZE, faces.WORKING_SIZE))
        image.load()
        try:
            upright = ImageOps.exif_transpose(image)
        except (OSError, ValueError, TypeError, SyntaxError):
            upright = image  # a damaged EXIF block: scan as stored
        return upright.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None


def scan_images(
    images: Mapping[str, Path],
    sources: Mapping[str, str],
    reviewed: Sequence[ReviewedImage],
    cache: VerdictCache,
    detector: faces.FaceDetector | None,
    unscanned_reason: str = "",
) -> list[OtherImage]:
    """The verdict on every image: reviewed, or scanned once per distinct content (cached by hash and detector).

    With `detector` None nothing is scanned: each image is "not scanned: `unscanned_reason`".
    """
    reviews = {review.path.strip().lstrip("./").lstrip("/"): review for review in reviewed}
    results = []
    for path, file in sorted(images.items()):
        try:
            data = file.read_bytes()
        except OSError:
            continue
        digest = hashlib.sha256(data).hexdigest()
        source = sources.get(path, f"site/{path}")
        if formats.sniff(data) not in RASTER_FORMATS:
            continue
        review = reviews.get(path) or reviews.get(source)
        if review is not None and (not review.sha256 or review.sha256.lower() == digest):
            results.append(OtherImage(path, source, digest, "reviewed", reviewed_by=review.reviewed_by, reason=review.reason))
            continue
        if detector is None:
            results.append(OtherImage(path, source, digest, f"not scanned: {unscanned_reason}"))
            continue
        key = f"{digest}:{detector.identity}"
        boxes = cache.get(key)
        if boxes is None:
            image = _decode(data)
            if image is None:
                results.append(OtherImage(path, source, digest, "not scanned: cannot be decoded"))
                continue
            found = faces.scan(image, detector) if min(image.size) >= faces.SMALLEST_FACE else []
            boxes = tuple(found)
            cache.put(key, boxes)
        results.append(OtherImage(path, source, digest, "face" if boxes else "no face", boxes))
    return results
