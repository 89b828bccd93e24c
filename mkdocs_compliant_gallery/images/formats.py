"""Byte-structure allowlists for published images: what is not pixels is not allowed.

A metadata listing cannot prove a file clean (trailing bytes and unknown chunks go unreported), so every
published file is walked here, segment by segment, against the few structures an encoder needs.
"""

from __future__ import annotations

import struct

# Markers allowed in a published JPEG: SOI, APP0 (JFIF), DQT, SOF0/SOF2, DHT, DRI, SOS, RSTn, EOI.
_JPEG_ALLOWED = {0xD8, 0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDD, 0xDA, 0xD9} | set(range(0xD0, 0xD8))
_PNG_ALLOWED = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
_WEBP_ALLOWED = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
# Boxes an AVIF still image needs; anything naming Exif/XMP items, ICC colour or extra images is refused.
_AVIF_TOP = {b"ftyp", b"meta", b"mdat"}
_AVIF_FORBIDDEN_ITEM_TYPES = {b"Exif", b"mime", b"uri "}


def sniff(data: bytes) -> str | None:
    """The image format by magic bytes: jpeg, png, webp, gif, tiff, heif, avif, svg, or None."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "avif"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "heif"
    if head.startswith(b"BM"):
        return "bmp"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<?xml", b"<svg", b"<!doctype svg")):
        return "svg"
    return None


def problems(data: bytes, fmt: str) -> list[str]:
    """Everything in a published file that is not needed to show its pixels (empty list: clean)."""
    walkers = {"jpeg": _jpeg, "png": _png, "webp": _webp, "avif": _avif}
    walker = walkers.get(fmt)
    if walker is None:
        return [f"unexpected output format {fmt}"]
    try:
        return walker(data)
    except (IndexError, struct.error):
        return ["file structure is truncated or malformed"]


def _jpeg(data: bytes) -> list[str]:
    found = []
    if not data.startswith(b"\xff\xd8"):
        return ["does not start with SOI"]
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            return [f"garbage at byte {pos}"]
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker not in _JPEG_ALLOWED:
            found.append(f"segment 0x{marker:02X} at byte {pos}")
        if marker == 0xD9:
            if pos + 2 != len(data):
                found.append(f"{len(data) - pos - 2} bytes after the end of the image")
            return found
        if marker == 0xD8:
            found.append(f"second SOI at byte {pos}")
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xE0 and (data[pos + 4 : pos + 9] != b"JFIF\x00" or length != 16):
            found.append("APP0 is not a plain JFIF header (thumbnail or extension)")
        pos += 2 + length
        if marker == 0xDA:
            pos = skip_entropy(data, pos)
    found.append("no EOI marker")
    return found


def skip_entropy(data: bytes, pos: int) -> int:
    """Position of the next marker after entropy-coded data (skipping stuffed bytes and restarts)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        follower = data[pos + 1]
        if follower == 0x00 or 0xD0 <= follower <= 0xD7:
            pos += 2
            continue
        return pos


def _png(data: bytes) -> list[str]:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ["bad PNG signature"]
    found = []
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind not in _PNG_ALLOWED:
            found.append(f"chunk {kind.decode('latin-1')!r} at byte {pos}")
        pos += 12 + length
        if kind == b"IEND":
            if pos != len(data):
                found.append(f"{len(data) - pos} bytes after IEND")
            return found
    found.append("no IEND chunk")
    return found


def _webp(data: bytes) -> list[str]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return ["bad WebP header"]
    found = []
    size = struct.unpack("<I", data[4:8])[0]
    if size + 8 != len(data):
        found.append(f"RIFF size {size + 8} differs from file size {len(data)}")
    pos = 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        if kind not in _WEBP_ALLOWED:
            found.append(f"chunk {kind.decode('latin-1')!r} at byte {pos}")
        # VP8X flag bits: 0x20 ICC, 0x08 EXIF, 0x04 XMP, 0x02 animation (0x10 alpha is fine).
        if kind == b"VP8X" and data[pos + 8] & 0x2E:
            found.append("VP8X flags announce ICC, EXIF, XMP or animation")
        pos += 8 + length + (length & 1)
    return found


def _avif(data: bytes) -> list[str]:
    found = []
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind not in _AVIF_TOP:
            found.append(f"top-level box {kind.decode('latin-1')!r}")
        if kind == b"meta":  # a full box: children follow its version/flags word
            found.extend(_avif_meta(data, start + 4, end))
    return found


def _avif_meta(data: bytes, start: int, end: int) -> list[str]:
    found = []
    for kind, body, box_end in _boxes(data, start, end):
        if kind == b"iinf":
            version = data[body]
            count_size = 2 if version == 0 else 4
            pos = body + 4 + count_size
            count = int.from_bytes(data[body + 4 : body + 4 + count_size], "big")
            if count != 1:
                found.append(f"{count} items (one image expected)")
            for entry_kind, entry_body, _ in _boxes(data, pos, box_end):
                if entry_kind == b"infe" and data[entry_body] >= 2:
                    id_size = 2 if data[entry_body] == 2 else 4
                    item_type = data[entry_body + 4 + id_size + 2 : entry_body + 4 + id_size + 6]
                    if item_type in _AVIF_FORBIDDEN_ITEM_TYPES:
                        found.append(f"metadata item {item_type.decode('latin-1')!r}")
        if kind == b"iprp":
            found.extend(_avif_properties(data, body, box_end))
        if kind in (b"iref", b"idat", b"grpl"):
            found.append(f"box {kind.decode('latin-1')!r} (references or extra data)")
    return found


def _avif_properties(data: bytes, start: int, end: int) -> list[str]:
    found = []
    for kind, body, box_end in _boxes(data, start, end):
        if kind != b"ipco":
            continue
        for prop, prop_body, _ in _boxes(data, body, box_end):
            if prop == b"colr" and data[prop_body : prop_body + 4] in (b"prof", b"rICC"):
                found.append("embedded ICC profile")
    return found


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """ISO BMFF boxes in [start, end): (type, body start, box end)."""
    boxes = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise IndexError("box overruns its parent")
        boxes.append((kind, pos + header, pos + size))
        pos += size
    return boxes
