"""Canary fixtures: photo files with a unique string planted in every place a camera, phone or editor hides data.

`write_canary_files(folder)` writes one file per container (JPEG, MPO, PNG, WebP, TIFF and, when this pillow-heif can
encode it, HEIC). Every metadata location holds its own canary string (`CNRY-<file>-<place>`), and every secondary
picture (EXIF thumbnail, MPF second frame, second TIFF page, HEIF thumbnail and extra image) is filled with
`SECONDARY_RGB`, so a test can build a site from these files and prove that no canary string and no magenta picture
reaches any published byte. `canaries_json(files)` gives the `--canaries` file of the independent scanner
(`shared/tools/leak_scan.py`).

The primary picture of every file is the same plausible image (a gradient with a dark shape) of the same size.
Everything is deterministic: fixed strings and dates, nothing read from the clock.

Self-check: `python tests/canaries.py OUTDIR` writes the files and `OUTDIR/canaries.json`, checks that every canary
is really in its file (inflating compressed PNG chunks, looking for UTF-16BE where the place stores UTF-16), that
Pillow opens and decodes every file at the same size, shows what `exiftool -a -G1 -s` sees and runs leak_scan.py on
the raw fixtures (which must report many problems).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import piexif
import pillow_heif
from PIL import Image, ImageCms, ImageDraw, PngImagePlugin, TiffImagePlugin, TiffTags

SECONDARY_RGB = (255, 0, 255)  # magenta: every secondary image (thumbnail, MPF frame, 2nd TIFF page, embedded original) is filled with it

FIXED_DATE = "2026:01:10 10:00:00"
ICC_DATE = (2026, 1, 10, 10, 0, 0)
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\0"
XMP_EXT_APP1 = b"http://ns.adobe.com/xmp/extension/\0"
EXIF_ASCII = b"ASCII\0\0\0"  # character-code prefix of EXIF UNDEFINED text tags (UserComment, GPS*Method/AreaInformation)


@dataclass(frozen=True)
class CanaryFile:
    """One fixture file and the canaries planted in it."""

    name: str  # file name written
    canaries: dict[str, str]  # canary string -> where it was planted (e.g. "EXIF ImageDescription")


class _Planter:
    """Hands out the canary strings of one file, each unique, and records where each one goes."""

    def __init__(self, stem: str) -> None:
        self.stem = stem
        self.canaries: dict[str, str] = {}

    def __call__(self, slug: str, where: str) -> str:
        canary = f"CNRY-{self.stem}-{slug}"
        if canary in self.canaries or len(canary) < 10 or not canary.isascii():
            raise ValueError(f"bad or duplicate canary {canary!r}")
        self.canaries[canary] = where
        return canary

    def file(self, name: str) -> CanaryFile:
        return CanaryFile(name, dict(self.canaries))


# ---------------------------------------------------------------------------------------------------- pictures


def primary_picture(size: tuple[int, int]) -> Image.Image:
    """The primary picture of every fixture: a warm-to-cool gradient with a dark ellipse and a light corner mark."""
    width, height = size
    ramp = Image.linear_gradient("L")  # 256x256, black at the top to white at the bottom
    vertical = ramp.resize(size)
    horizontal = ramp.transpose(Image.Transpose.ROTATE_90).transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize(size)
    red = horizontal.point(lambda v: 40 + v * 170 // 255)
    green = vertical.point(lambda v: 70 + v * 140 // 255)
    blue = Image.new("L", size, 110)  # far from magenta's blue, so no pixel of it is near SECONDARY_RGB
    image = Image.merge("RGB", (red, green, blue))
    pen = ImageDraw.Draw(image)
    pen.ellipse((width * 30 // 100, height * 25 // 100, width * 65 // 100, height * 80 // 100), fill=(34, 28, 30))
    pen.rectangle((0, 0, width // 8, height // 8), fill=(235, 225, 200))  # marks the upright top-left corner
    return image


def secondary_picture(size: tuple[int, int]) -> Image.Image:
    """A secondary picture: solid SECONDARY_RGB, so a published copy of it is recognisable by colour."""
    return Image.new("RGB", size, SECONDARY_RGB)


# ---------------------------------------------------------------------------------------------------- metadata blocks


def _exif(
    zeroth: dict[int, object], exif: dict[int, object] | None = None, gps: dict[int, object] | None = None, thumbnail: bytes | None = None
) -> bytes:
    """An EXIF block (b"Exif\\0\\0" + TIFF) made by piexif, with an IFD1 JPEG thumbnail if given."""
    data: dict[str, object] = {"0th": dict(zeroth), "Exif": dict(exif or {}), "GPS": dict(gps or {}), "1st": {}, "thumbnail": None}
    if thumbnail is not None:
        data["1st"] = {
            piexif.ImageIFD.Compression: 6,
            piexif.ImageIFD.XResolution: (72, 1),
            piexif.ImageIFD.YResolution: (72, 1),
            piexif.ImageIFD.ResolutionUnit: 2,
            piexif.ImageIFD.JPEGInterchangeFormat: 0,
            piexif.ImageIFD.JPEGInterchangeFormatLength: 0,
        }
        data["thumbnail"] = thumbnail
    return bytes(piexif.dump(data))


def _exif_description(text: str) -> bytes:
    return _exif({piexif.ImageIFD.ImageDescription: text.encode(), piexif.ImageIFD.DateTime: FIXED_DATE.encode()})


def _xmp_packet(description: str, extra_attributes: str = "") -> bytes:
    """A complete XMP packet whose dc:description is `description`."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"{extra_attributes}>\n'
        f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{description}</rdf:li></rdf:Alt></dc:description>\n'
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def _iptc_caption(text: str) -> bytes:
    """IPTC IIM datasets: 2:00 record version, then 2:120 Caption-Abstract."""
    caption = text.encode()
    return b"\x1c\x02\x00" + struct.pack(">HH", 2, 4) + b"\x1c\x02\x78" + struct.pack(">H", len(caption)) + caption


def _photoshop_irb(iptc: bytes) -> bytes:
    """An APP13 payload: 'Photoshop 3.0' + one 8BIM image resource 0x0404 (IPTC-NAA) holding `iptc`."""
    body = iptc + (b"\0" if len(iptc) % 2 else b"")
    return b"Photoshop 3.0\0" + b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iptc)) + body


def icc_profile(description: str) -> bytes:
    """The lcms sRGB profile with its 'desc' tag replaced by an mluc tag holding `description` in UTF-16BE.

    The profile is rebuilt (header, tag table, tag data) with a fixed creation date and no profile ID, and checked
    to load with ImageCms.
    """
    base = bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", base[128:132])[0]
    table = [struct.unpack(">4sII", base[132 + 12 * i : 144 + 12 * i]) for i in range(count)]
    text = description.encode("utf-16-be")
    mluc = b"mluc" + b"\0" * 4 + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(text), 28) + text
    data_start = 132 + 12 * count
    blobs: dict[tuple[int, int], int] = {}  # (old offset, size) -> new offset, so shared tags (rTRC/gTRC/bTRC) stay shared
    entries = b""
    body = b""
    for signature, offset, size in table:
        if signature == b"desc":
            tag, key = mluc, (-1, len(mluc))
        else:
            tag, key = base[offset : offset + size], (offset, size)
        if key not in blobs:
            body += b"\0" * (-len(body) % 4)
            blobs[key] = data_start + len(body)
            body += tag
        entries += struct.pack(">4sII", signature, blobs[key], len(tag))
    body += b"\0" * (-len(body) % 4)
    header = bytearray(base[:128])
    header[0:4] = struct.pack(">I", data_start + len(body))
    header[24:36] = struct.pack(">6H", *ICC_DATE)
    header[84:100] = b"\0" * 16  # profile ID (MD5) optional; zero means "not computed"
    profile = bytes(header) + struct.pack(">I", count) + entries + body
    loaded = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    if description not in ImageCms.getProfileDescription(loaded):
        raise RuntimeError("rebuilt ICC profile does not report the planted description")
    return profile


# ---------------------------------------------------------------------------------------------------- byte editing


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    """One JPEG marker segment (0xFF, marker, big-endian length including itself, payload)."""
    if len(payload) + 2 > 0xFFFF:
        raise ValueError("JPEG segment payload too long")
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, offset, end) of each marker segment from SOI up to and including SOS (the header of the first frame)."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    yield 0xD8, 0, 2
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        end = i + 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
        yield marker, i, end
        if marker == 0xDA:
            return
        i = end


def jpeg_insert_after_app(data: bytes, segments: list[bytes]) -> bytes:
    """Insert marker segments after the last APPn segment of the header (before DQT/SOF/COM...)."""
    position = 2
    for marker, _start, end in jpeg_segments(data):
        if 0xE0 <= marker <= 0xEF:
            position = end
        elif marker not in (0xD8, 0xFE):
            break
    return data[:position] + b"".join(segments) + data[position:]


def png_chunk(chunk_type: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + chunk_type + body + struct.pack(">I", zlib.crc32(chunk_type + body))


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes, int]]:
    """(type, body, end offset) of each chunk up to and including IEND."""
    i = 8
    while i + 8 <= len(data):
        length = struct.unpack(">I", data[i : i + 4])[0]
        chunk_type = data[i + 4 : i + 8]
        yield chunk_type, data[i + 8 : i + 8 + length], i + 12 + length
        if chunk_type == b"IEND":
            return
        i += 12 + length


def png_inflated(data: bytes) -> list[tuple[str, bytes]]:
    """The compressed payloads of a PNG, inflated: zTXt, compressed iTXt and iCCP."""
    out: list[tuple[str, bytes]] = []
    for chunk_type, body, _end in png_chunks(data):
        if chunk_type in (b"zTXt", b"iCCP"):
            out.append((chunk_type.decode(), zlib.decompress(body.split(b"\0", 1)[1][1:])))
        elif chunk_type == b"iTXt":
            _key, rest = body.split(b"\0", 1)
            if rest[0] == 1:
                _lang, _tkey, text = rest[2:].split(b"\0", 2)
                out.append(("iTXt", zlib.decompress(text)))
    return out


def riff_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(fourcc, body) of each top-level chunk of a RIFF file."""
    i = 12
    while i + 8 <= len(data):
        fourcc = data[i : i + 4]
        size = struct.unpack("<I", data[i + 4 : i + 8])[0]
        yield fourcc, data[i + 8 : i + 8 + size]
        i += 8 + size + (size & 1)


def riff_chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def bmff_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, box start, payload start, box end) of the ISOBMFF boxes in data[start:end]."""
    i = start
    while i + 8 <= end:
        size, box_type = struct.unpack(">I4s", data[i : i + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[i + 8 : i + 16])[0]
            header = 16
        elif size == 0:
            size = end - i
        if size < header or i + size > end:
            raise ValueError(f"bad ISOBMFF box {box_type!r} at {i}")
        yield box_type, i, i + header, i + size
        i += size


def _heif_point_thumbnails_at(data: bytes, master: int) -> bytes:
    """Rewrite every 'thmb' reference of a HEIF file's meta/iref box to point at item `master`."""
    out = bytearray(data)
    for box_type, _start, payload, end in bmff_boxes(data, 0, len(data)):
        if box_type != b"meta":
            continue
        for child, _cstart, cpayload, cend in bmff_boxes(data, payload + 4, end):
            if child != b"iref":
                continue
            width = 2 if data[cpayload] == 0 else 4
            for ref, _rstart, rpayload, rend in bmff_boxes(data, cpayload + 4, cend):
                if ref != b"thmb":
                    continue
                count = struct.unpack(">H", data[rpayload + width : rpayload + width + 2])[0]
                first = rpayload + width + 2
                if first + count * width != rend:
                    raise ValueError("unexpected iref thmb layout")
                for k in range(count):
                    out[first + k * width : first + (k + 1) * width] = master.to_bytes(width, "big")
    return bytes(out)


def _heif_primary_item(data: bytes) -> int:
    for box_type, _start, payload, end in bmff_boxes(data, 0, len(data)):
        if box_type == b"meta":
            for child, _cstart, cpayload, _cend in bmff_boxes(data, payload + 4, end):
                if child == b"pitm":
                    return int.from_bytes(
                        data[cpayload + 4 : cpayload + 6] if data[cpayload] == 0 else data[cpayload + 4 : cpayload + 8], "big"
                    )
    raise ValueError("HEIF file without pitm")


# ---------------------------------------------------------------------------------------------------- the files


def _jpeg(folder: Path, size: tuple[int, int]) -> CanaryFile:
    c = _Planter("j1")
    thumbnail = io.BytesIO()
    secondary_picture((160, 120)).save(
        thumbnail, "JPEG", quality=85, comment=c("thumbcom", "EXIF IFD1 thumbnail (magenta JPEG): COM segment").encode()
    )
    exif = _exif(
        {
            piexif.ImageIFD.ImageDescription: c("exifdesc", "EXIF IFD0 ImageDescription").encode(),
            piexif.ImageIFD.Make: c("make", "EXIF IFD0 Make").encode(),
            piexif.ImageIFD.Model: c("model", "EXIF IFD0 Model").encode(),
            piexif.ImageIFD.Artist: c("artist", "EXIF IFD0 Artist").encode(),
            piexif.ImageIFD.Orientation: 1,
            piexif.ImageIFD.DateTime: FIXED_DATE.encode(),
        },
        {
            piexif.ExifIFD.DateTimeOriginal: FIXED_DATE.encode(),
            piexif.ExifIFD.BodySerialNumber: c("serial", "EXIF SubIFD BodySerialNumber").encode(),
            piexif.ExifIFD.UserComment: EXIF_ASCII + c("usercomment", "EXIF SubIFD UserComment").encode(),
        },
        {
            piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
            piexif.GPSIFD.GPSLatitudeRef: b"N",
            piexif.GPSIFD.GPSLatitude: ((40, 1), (42, 1), (4608, 100)),
            piexif.GPSIFD.GPSLongitudeRef: b"W",
            piexif.GPSIFD.GPSLongitude: ((74, 1), (0, 1), (2160, 100)),
            piexif.GPSIFD.GPSAreaInformation: EXIF_ASCII + c("gpsarea", "EXIF GPS GPSAreaInformation").encode(),
        },
        thumbnail.getvalue(),
    )
    extended = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:source>{c('xmpext', 'extended XMP (APP1 xmp/extension) dc:source')}</dc:source>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()
    guid = hashlib.md5(extended, usedforsecurity=False).hexdigest().upper()  # the XMP spec defines the GUID as this MD5
    xmp = _xmp_packet(
        c("xmpdesc", "XMP packet (APP1) dc:description"), f' xmlns:xmpNote="http://ns.adobe.com/xmp/note/" xmpNote:HasExtendedXMP="{guid}"'
    )
    buffer = io.BytesIO()
    primary_picture(size).save(
        buffer,
        "JPEG",
        quality=90,
        exif=exif,
        xmp=xmp,
        icc_profile=icc_profile(c("iccdesc", "ICC profile (APP2 ICC_PROFILE) desc tag, mluc UTF-16BE")),
        comment=c("comment", "JPEG COM segment").encode(),
    )
    data = jpeg_insert_after_app(
        buffer.getvalue(),
        [
            jpeg_segment(0xE1, XMP_EXT_APP1 + guid.encode() + struct.pack(">II", len(extended), 0) + extended),
            jpeg_segment(0xED, _photoshop_irb(_iptc_caption(c("iptccaption", "APP13 Photoshop IRB 0x0404: IPTC 2:120 Caption-Abstract")))),
        ],
    )
    data += b"\0\0TRAILER\0" + c("trailer", "trailer bytes after EOI").encode() + b"\0"
    name = "canary-jpeg.jpg"
    (folder / name).write_bytes(data)
    return c.file(name)


def _mpo(folder: Path, size: tuple[int, int]) -> CanaryFile:
    c = _Planter("m1")
    second = secondary_picture(size)
    second.encoderinfo = {
        "exif": _exif_description(c("frame2desc", "MPF second frame (magenta): EXIF ImageDescription")),
        "comment": c("frame2com", "MPF second frame (magenta): COM segment").encode(),
    }
    name = "canary-mpo.jpg"
    primary_picture(size).save(
        folder / name,
        "MPO",
        save_all=True,
        append_images=[second],
        quality=90,
        exif=_exif_description(c("exifdesc", "MPF first frame: EXIF ImageDescription")),
    )
    return c.file(name)


def _png(folder: Path, size: tuple[int, int]) -> CanaryFile:
    c = _Planter("p1")
    info = PngImagePlugin.PngInfo()
    info.add(b"tIME", struct.pack(">HBBBBB", *ICC_DATE))
    info.add_text("Comment", c("text", "PNG tEXt Comment"))
    info.add_text("Description", c("ztxt", "PNG zTXt Description (compressed)"), zip=True)
    info.add_itxt("Author", c("itxt", "PNG iTXt Author (compressed)"), lang="en", tkey="Author", zip=True)
    info.add_itxt("XML:com.adobe.xmp", _xmp_packet(c("xmpdesc", "PNG iTXt XML:com.adobe.xmp: XMP dc:description")).decode())
    info.add(b"cnRy", b"private\0" + c("private", "PNG private ancillary chunk cnRy before IEND").encode(), after_idat=True)
    buffer = io.BytesIO()
    primary_picture(size).save(
        buffer,
        "PNG",
        pnginfo=info,
        exif=_exif_description(c("exifdesc", "PNG eXIf: EXIF ImageDescription")),
        icc_profile=icc_profile(c("iccdesc", "PNG iCCP (compressed): ICC desc tag, mluc UTF-16BE")),
    )
    data = buffer.getvalue() + b"\0AFTER-IEND\0" + c("trailer", "bytes after IEND").encode()
    name = "canary-png.png"
    (folder / name).write_bytes(data)
    return c.file(name)


def _webp(folder: Path, size: tuple[int, int]) -> CanaryFile:
    c = _Planter("w1")
    buffer = io.BytesIO()
    primary_picture(size).save(
        buffer,
        "WEBP",
        quality=90,
        method=4,
        exif=_exif_description(c("exifdesc", "WebP EXIF chunk: ImageDescription")),
        xmp=_xmp_packet(c("xmpdesc", "WebP XMP chunk: dc:description")),
        icc_profile=icc_profile(c("iccdesc", "WebP ICCP chunk: ICC desc tag, mluc UTF-16BE")),
    )
    chunks = list(riff_chunks(buffer.getvalue()))
    chunks.append((b"CNRY", b"unknown\0" + c("unknown", "WebP unknown chunk CNRY").encode()))
    present = {fourcc for fourcc, _body in chunks}
    if b"VP8X" not in present or chunks[0][0] != b"VP8X":
        raise RuntimeError("Pillow did not write an extended (VP8X) WebP")
    flags = chunks[0][1][0]
    for fourcc, bit in ((b"ICCP", 0x20), (b"EXIF", 0x08), (b"XMP ", 0x04)):
        flags = flags | bit if fourcc in present else flags & ~bit
    chunks[0] = (b"VP8X", bytes([flags]) + chunks[0][1][1:])
    body = b"WEBP" + b"".join(riff_chunk(fourcc, data) for fourcc, data in chunks)
    name = "canary-webp.webp"
    (folder / name).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return c.file(name)


def _tiff(folder: Path, size: tuple[int, int]) -> CanaryFile:
    c = _Planter("t1")
    page1 = TiffImagePlugin.ImageFileDirectory_v2()
    page1[270] = c("desc", "TIFF page 1: ImageDescription (270)")
    page1[315] = c("artist", "TIFF page 1: Artist (315)")
    page1[700] = _xmp_packet(c("xmpdesc", "TIFF page 1: XMP (700) dc:description"))
    page1.tagtype[700] = TiffTags.BYTE
    page1[33723] = _iptc_caption(c("iptccaption", "TIFF page 1: IPTC-NAA (33723) 2:120 Caption-Abstract"))
    page1.tagtype[33723] = TiffTags.UNDEFINED
    page2 = TiffImagePlugin.ImageFileDirectory_v2()
    page2[270] = c("page2desc", "TIFF page 2 (magenta): ImageDescription (270)")
    second = secondary_picture(size)
    second.encoderinfo = {"tiffinfo": page2}
    name = "canary-tiff.tif"
    primary_picture(size).save(
        folder / name, "TIFF", save_all=True, append_images=[second], tiffinfo=page1, compression="tiff_adobe_deflate"
    )
    return c.file(name)


def heic_available() -> bool:
    """Whether this pillow-heif has an HEVC encoder."""
    return bool(pillow_heif.libheif_info().get("HEIF"))


def _heic(folder: Path, size: tuple[int, int]) -> CanaryFile | None:
    """A HEIC whose primary image has EXIF and XMP and a magenta thumbnail, plus a magenta second image.

    pillow-heif encodes a thumbnail from its own image, so the thumbnail is encoded for the magenta second image
    and its 'thmb' reference is then pointed at the primary image.
    """
    if not heic_available():
        return None
    c = _Planter("h1")
    heif = pillow_heif.from_pillow(primary_picture(size))
    extra = heif.add_from_pillow(secondary_picture(size))
    extra.info["exif"] = _exif_description(c("image2desc", "HEIF second (non-primary) image, magenta: EXIF ImageDescription"))
    thumbnails: list[int | None] = [max(size) // 3]
    extra.info["thumbnails"] = thumbnails
    buffer = io.BytesIO()
    try:
        heif.save(
            buffer,
            quality=80,
            exif=_exif_description(c("exifdesc", "HEIF primary: EXIF ImageDescription")),
            xmp=_xmp_packet(c("xmpdesc", "HEIF primary: XMP dc:description")),
        )
    except (RuntimeError, OSError, ValueError):
        return None
    data = _heif_point_thumbnails_at(buffer.getvalue(), _heif_primary_item(buffer.getvalue()))
    check = pillow_heif.open_heif(io.BytesIO(data))
    found = check[check.primary_index].info.get("thumbnails")
    if len(check) != 2 or not isinstance(found, list) or len(found) != 1:
        raise RuntimeError("HEIC fixture does not have a primary image with one thumbnail and a second image")
    name = "canary-heic.heic"
    (folder / name).write_bytes(data)
    return c.file(name)


def write_canary_files(folder: Path, size: tuple[int, int] = (480, 360)) -> list[CanaryFile]:
    """Write the canary fixtures into `folder` (created if needed); returns only the files actually written.

    The HEIC file is left out when this pillow-heif has no HEVC encoder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = [_jpeg(folder, size), _mpo(folder, size), _png(folder, size), _webp(folder, size), _tiff(folder, size)]
    heic = _heic(folder, size)
    if heic is not None:
        files.append(heic)
    every = [canary for f in files for canary in f.canaries]
    if len(set(every)) != len(every) or any(a != b and a in b for a in every for b in every):
        raise RuntimeError("canary strings must be unique and none may contain another")
    return files


def canaries_json(files: list[CanaryFile]) -> dict[str, object]:
    """The `--canaries` document of leak_scan.py for `files`, with the secondary-picture colour."""
    return {
        "files": {f.name: {"canaries": dict(f.canaries)} for f in files},
        "secondary_signature_rgb": list(SECONDARY_RGB),
    }


# ---------------------------------------------------------------------------------------------------- self-check


def _find(data: bytes, canary: str) -> list[str]:
    """How `canary` occurs in `data`: 'ascii' and/or 'utf-16be'."""
    found = []
    if canary.encode() in data:
        found.append("ascii")
    if canary.encode("utf-16-be") in data:
        found.append("utf-16be")
    return found


def locate(path: Path, canary: str) -> list[str]:
    """Every way `canary` can be found in the file: in the raw bytes, or in an inflated PNG chunk."""
    data = path.read_bytes()
    hits = [f"raw {how}" for how in _find(data, canary)]
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        for label, inflated in png_inflated(data):
            hits += [f"inflated {label} {how}" for how in _find(inflated, canary)]
    return hits


def _magenta_share(image: Image.Image) -> float:
    raw = image.convert("RGB").resize((32, 32)).tobytes()
    near = sum(
        1
        for i in range(0, len(raw), 3)
        if abs(raw[i] - SECONDARY_RGB[0]) < 60 and abs(raw[i + 1] - SECONDARY_RGB[1]) < 70 and abs(raw[i + 2] - SECONDARY_RGB[2]) < 60
    )
    return near / (len(raw) // 3)


def self_check(out: Path) -> int:
    """Write the fixtures into `out`, verify them and print a summary; returns the number of failed checks."""
    pillow_heif.register_heif_opener()
    files = write_canary_files(out)
    (out / "canaries.json").write_text(json.dumps(canaries_json(files), indent=2) + "\n")
    failures: list[str] = []
    sizes: dict[str, tuple[int, int]] = {}
    exiftool = shutil.which("exiftool")
    print(f"wrote {len(files)} files to {out}" + ("" if heic_available() else " (no HEVC encoder: HEIC skipped)"))
    for f in files:
        path = out / f.name
        with Image.open(path) as im:
            im.seek(0)
            im.load()
            sizes[f.name] = im.size
            frames = getattr(im, "n_frames", 1)
            share0 = _magenta_share(im)
            others = []
            for k in range(1, frames):
                im.seek(k)
                im.load()
                others.append(f"{_magenta_share(im):.0%}")
            print(
                f"\n== {f.name}: {path.stat().st_size} bytes, Pillow {im.format} {sizes[f.name]}, frames={frames}, "
                f"first frame magenta {share0:.0%}, other frames magenta {others or '-'}"
            )
        if share0 > 0.01 or any(o != "100%" for o in others):
            failures.append(f"{f.name}: primary or secondary picture colours are wrong")
        exif_text = ""
        if exiftool:
            run = subprocess.run([exiftool, "-a", "-G1", "-s", "-x", "Directory", str(path)], capture_output=True, check=False)
            exif_text = run.stdout.decode("utf-8", errors="replace")
            groups: dict[str, int] = {}
            for line in exif_text.splitlines():
                if line.startswith("["):
                    group = line[1 : line.index("]")]
                    groups[group] = groups.get(group, 0) + 1
            print(f"   exiftool: {sum(groups.values())} tags; " + ", ".join(f"{g}={n}" for g, n in groups.items()))
            for line in exif_text.splitlines():
                if "Warning" in line or "CNRY" in line:
                    print(f"     {line.strip()[:130]}")
        for canary, where in f.canaries.items():
            hits = locate(path, canary)
            want_utf16 = "UTF-16BE" in where
            want_inflated = "(compressed)" in where
            ok = (
                bool(hits)
                and (not want_utf16 or any(h.endswith("utf-16be") for h in hits))
                and (not want_inflated or all(h.startswith("inflated") for h in hits))
            )
            seen = "exiftool shows it" if canary in exif_text else "exiftool does not show it"
            print(f"   {'ok  ' if ok else 'FAIL'} {canary:<22} {where:<70} found: {', '.join(hits) or 'nowhere'}; {seen}")
            if not ok:
                failures.append(f"{f.name}: {canary} ({where}) found as {hits}")
    if len(set(sizes.values())) != 1:
        failures.append(f"first frames differ in size: {sizes}")
    scanner = Path(__file__).resolve().parent.parent.parent / "shared" / "tools" / "leak_scan.py"
    if scanner.is_file():
        run = subprocess.run(
            [sys.executable, str(scanner), str(out), "--canaries", str(out / "canaries.json"), "--no-exiftool"],
            capture_output=True,
            check=False,
        )
        lines = run.stdout.decode("utf-8", errors="replace").splitlines()
        problems = [line for line in lines if line.startswith("PROBLEM")]
        print(f"\nleak_scan on the raw fixtures: exit {run.returncode}, {lines[-1] if lines else 'no output'}")
        print(f"   of which {sum(line.startswith('PROBLEM canaries.json:') for line in problems)} in canaries.json itself")
        for f in files:
            own = [line for line in problems if line.startswith(f"PROBLEM {f.name}:")]
            missed = [canary for canary in f.canaries if not any(f"contains {canary!r}" in line for line in own)]
            print(f"   {f.name}: {len(own)} problems; canaries not reported: {missed or 'none'}")
            if missed:
                failures.append(f"{f.name}: leak_scan does not find {missed}")
        if run.returncode != 1 or not problems:
            failures.append("leak_scan reported no problems on the raw fixtures")
    else:
        print(f"\nleak_scan.py not found at {scanner}: scanner check skipped")
    print("\n" + ("all checks passed" if not failures else "FAILED:\n  " + "\n  ".join(failures)))
    return len(failures)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python tests/canaries.py OUTDIR")
        sys.exit(2)
    sys.exit(1 if self_check(Path(sys.argv[1])) else 0)
