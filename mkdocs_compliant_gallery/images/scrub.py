"""Lossless metadata removal for images the gallery did not make (theme art, a designer's logo).

Gallery photos are re-encoded from pixels. Other images in the site are left pixel-for-pixel as they are,
but their metadata containers are dropped: PNG ancillary chunks, JPEG APPn/COM segments and trailers,
WebP EXIF/XMP/ICC chunks. A site then holds no camera serial, GPS position or editing history anywhere.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from . import formats

_PNG_KEEP = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
_WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}
_JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def scrub(data: bytes) -> bytes | None:
    """The image without metadata, or None when the format is not one handled here or the bytes are odd."""
    fmt = formats.sniff(data)
    try:
        if fmt == "png":
            return _png(data)
        if fmt == "jpeg":
            return _jpeg(data)
        if fmt == "webp":
            return _webp(data)
    except (IndexError, struct.error, ValueError):
        return None
    return None


def _png(data: bytes) -> bytes:
    out = [data[:8]]
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise ValueError("truncated chunk")
        if kind in _PNG_KEEP:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    return b"".join(out)


def _jpeg(data: bytes) -> bytes:
    if data[1:2] != b"\xd8":
        raise ValueError("no SOI")
    out = [b"\xff\xd8", _JFIF]
    cmyk = _components(data) == 4
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise ValueError("garbage between segments")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xD9:
            out.append(b"\xff\xd9")
            return b"".join(out)
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        end = pos + 2 + length
        if marker == 0xDA:
            end = formats.skip_entropy(data, end)
        # APP14 "Adobe" tells a decoder how to read CMYK colour, so a four-component image keeps it.
        keep = not (0xE0 <= marker <= 0xEF or marker == 0xFE) or (marker == 0xEE and data[pos + 4 : pos + 9] == b"Adobe" and cmyk)
        if keep:
            out.append(data[pos:end])
        pos = end
    raise ValueError("no EOI")


def _components(data: bytes) -> int:
    """Colour components declared by the first SOF segment (0 if none is found before SOS)."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:
            return 0
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return data[pos + 9]
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    return 0


def _webp(data: bytes) -> bytes:
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        end = pos + 8 + length + (length & 1)
        if end > len(data):
            raise ValueError("truncated chunk")
        if kind in _WEBP_KEEP:
            chunk = bytearray(data[pos:end])
            if kind == b"VP8X":
                chunk[8] &= ~0x2C & 0xFF  # clear the ICC, EXIF and XMP flags
            chunks.append(bytes(chunk))
        pos = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def scrub_tree(site_dir: Path, skip: set[str]) -> list[Path]:
    """Scrub every PNG, JPEG and WebP under `site_dir` whose name is not in `skip`; returns the files changed."""
    changed = []
    for folder, _dirs, names in os.walk(site_dir):
        for name in names:
            if name in skip or not name.lower().endswith((".png", ".jpg", ".jpeg", ".webp")):
                continue
            path = Path(folder) / name
            data = path.read_bytes()
            clean = scrub(data)
            if clean is not None and clean != data:
                path.write_bytes(clean)
                changed.append(path)
    return changed
