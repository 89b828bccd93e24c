"""Files that look like photos but are not what they seem, and photos of shapes no encoder can hold: each is
refused with its code and a message that names what the file is, never a Python object or a traceback.

The formats are told apart by content, not by name: a raw camera file renamed .tif is still refused, and a JPEG
named .nef is still a JPEG.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from mkdocs_compliant_gallery.images.identify import Kind, identify, structure_problem
from mkdocs_compliant_gallery.images.pipeline import beyond_encoder_limits
from tests.helpers import Project, assert_nothing_published, gallery_of_single_photos
from tests.photos import draw, tiff_with_tags

NIKON = (2, b"NIKON CORPORATION\x00")


def _png(size: tuple[int, int] = (24, 16)) -> bytes:
    buffer = io.BytesIO()
    draw(size, 3).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(size: tuple[int, int] = (24, 16)) -> bytes:
    buffer = io.BytesIO()
    draw(size, 3).save(buffer, "JPEG")
    return buffer.getvalue()


def _png_with_bad_header_checksum() -> bytes:
    data = bytearray(_png())
    data[29] ^= 0xFF  # a byte of the IHDR chunk's CRC
    return bytes(data)


def _png_with_colour_type(value: int) -> bytes:
    data = bytearray(_png())
    data[25] = value
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


# (what it is, its bytes, how the pipeline treats it, words its message must contain)
IDENTIFIED: list[tuple[str, bytes, Kind, str]] = [
    (
        "DNG: a TIFF with DNGVersion",
        tiff_with_tags(ifd0={50706: (1, (1, 4, 0, 0)), 271: (2, b"Canon\x00")}),
        Kind.RAW,
        "a DNG raw camera file",
    ),
    (
        "NEF: a preview first, sensor data in a SubIFD",
        tiff_with_tags(ifd0={254: (4, (1,)), 271: NIKON}, sub_ifd={259: (3, (34713,)), 262: (3, (32803,))}),
        Kind.RAW,
        "a Nikon NEF raw camera file",
    ),
    (
        "ARW: Sony's raw compression in a SubIFD",
        tiff_with_tags(ifd0={271: (2, b"SONY\x00")}, sub_ifd={259: (3, (32767,))}),
        Kind.RAW,
        "a Sony ARW raw camera file",
    ),
    ("TIFF/EP: the raw standard's tag", tiff_with_tags(ifd0={37398: (1, (1, 0, 0, 0)), 271: (2, b"PENTAX\x00")}), Kind.RAW, "a Pentax PEF"),
    (
        "CR2: Canon's signature in the TIFF header",
        b"II*\x00\x10\x00\x00\x00CR\x02\x00" + tiff_with_tags()[12:],
        Kind.RAW,
        "a Canon CR2 raw camera file",
    ),
    ("IIQ: Phase One's signature", b"II*\x00\x08\x0a\x00\x00IIII" + bytes(64), Kind.RAW, "a Phase One IIQ raw camera file"),
    ("ORF: Olympus' own TIFF signature", b"IIRO\x08\x00\x00\x00" + bytes(64), Kind.RAW, "an Olympus ORF raw camera file"),
    ("RW2: Panasonic's own TIFF signature", b"IIU\x00\x18\x00\x00\x00" + bytes(64), Kind.RAW, "a Panasonic RW2 raw camera file"),
    ("CR3: Canon's ISO media brand", b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom" + bytes(32), Kind.RAW, "a Canon CR3"),
    ("a camera's plain TIFF (a maker name is no raw file)", tiff_with_tags(ifd0={271: NIKON}), Kind.PHOTO, "a TIFF image"),
    ("a plain TIFF", tiff_with_tags(), Kind.PHOTO, "a TIFF image"),
    ("Photoshop PSD", b"8BPS\x00\x01" + bytes(40), Kind.OTHER, "a Photoshop PSD"),
    ("BigTIFF", b"II+\x00\x08\x00\x00\x00" + bytes(32), Kind.OTHER, "a BigTIFF"),
    ("QuickTime video by brand", b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + bytes(32), Kind.OTHER, "a QuickTime video"),
    ("QuickTime video by atom", b"\x00\x00\x0f\x17moov\x00\x00\x00\x6cmvhd" + bytes(32), Kind.OTHER, "a QuickTime video"),
    ("MP4 video", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(16), Kind.OTHER, "an MP4 video"),
    ("JPEG XL codestream", b"\xff\x0a\xfa\x7f" + bytes(32), Kind.OTHER, "a JPEG XL image"),
    ("JPEG XL container", b"\x00\x00\x00\x0cJXL \r\n\x87\n" + bytes(32), Kind.OTHER, "a JPEG XL image"),
    ("JPEG 2000", b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(32), Kind.OTHER, "a JPEG 2000 image"),
    ("PDF", b"%PDF-1.7\n" + bytes(32), Kind.OTHER, "a PDF document"),
    ("DICOM", bytes(128) + b"DICM" + bytes(32), Kind.OTHER, "a DICOM medical image"),
    ("HTML page", b"<!DOCTYPE html><html><body>photo</body></html>", Kind.OTHER, "an HTML page"),
    ("empty file", b"", Kind.OTHER, "an empty file"),
    ("unknown bytes", b"\x00\x37\x30\x2e\x31\x20\x2e\x72" + bytes(32), Kind.OTHER, "its first bytes are 00 37 30 2e 31 20 2e 72"),
    ("JPEG with a broken first marker", b"\xff\xd8\xfe\xdc" + _jpeg()[4:], Kind.DAMAGED, "a JPEG photo whose header is damaged"),
    ("PNG after a text-mode transfer", _png().replace(b"\r\n", b"\n", 1), Kind.DAMAGED, "a PNG image whose signature is damaged"),
    ("a JPEG named anything", _jpeg(), Kind.PHOTO, "a JPEG photo"),
    ("animated AVIF", b"\x00\x00\x00\x1cftypavis\x00\x00\x00\x00avismif1" + bytes(16), Kind.OTHER, "an animated AVIF"),
]


@pytest.mark.parametrize(("label", "data", "kind", "words"), IDENTIFIED, ids=[row[0] for row in IDENTIFIED])
def test_files_are_identified_by_their_content(label: str, data: bytes, kind: Kind, words: str) -> None:
    found = identify(data)
    assert found.kind is kind, (label, found)
    assert words in found.name, (label, found)


def test_the_raw_tiffs_decode_as_tiffs() -> None:
    """Without the raw check these would be published: an image library reads their first IFD, the preview."""
    written = [row for row in IDENTIFIED if row[0].startswith(("DNG", "NEF", "ARW", "TIFF/EP"))]
    assert len(written) == 4
    for _, data, kind, _ in written:
        assert kind is Kind.RAW
        with Image.open(io.BytesIO(data)) as image:
            image.load()


STRUCTURE: list[tuple[str, bytes, str, str]] = [
    ("IHDR checksum", _png_with_bad_header_checksum(), "png", "its 'IHDR' chunk at byte 8 fails its checksum"),
    ("colour type", _png_with_colour_type(1), "png", "colour type 1, which PNG does not have"),
    ("truncated PNG", _png()[:60], "png", "cut short"),
    ("JPEG height 0", _jpeg().replace(b"\xff\xc0\x00\x11\x08\x00\x10", b"\xff\xc0\x00\x11\x08\x00\x00", 1), "jpeg", "a height of 0"),
    ("truncated JPEG header", _jpeg()[:30], "jpeg", "runs past the end of the file"),
]


@pytest.mark.parametrize(("label", "data", "fmt", "words"), STRUCTURE, ids=[row[0] for row in STRUCTURE])
def test_a_damaged_structure_is_described(label: str, data: bytes, fmt: str, words: str) -> None:
    problem = structure_problem(data, fmt)
    assert problem is not None and words in problem, (label, problem)


def _one_case_per_file(project: Project, files: dict[str, bytes]) -> dict[str, str]:
    """One case per file (the file as before and after); returns case id -> file name."""
    (project.gallery / "photos").mkdir(parents=True, exist_ok=True)
    by_case = {}
    for index, (name, data) in enumerate(files.items()):
        (project.gallery / "photos" / name).write_bytes(data)
        by_case[f"case-{index:02d}"] = name
    gallery_of_single_photos(project, {case_id: f"photos/{name}" for case_id, name in by_case.items()})
    return by_case


# (file name as the clinic saved it, its bytes, the code, words of the message)
REFUSED: list[tuple[str, bytes, str, str]] = [
    (
        "scan.dng",
        tiff_with_tags(ifd0={50706: (1, (1, 4, 0, 0))}),
        "CG303",
        "is a DNG raw camera file, a raw camera file: export a JPEG or TIFF first",
    ),
    (
        "renamed.tif",
        tiff_with_tags(ifd0={254: (4, (1,)), 271: NIKON}, sub_ifd={259: (3, (34713,))}),
        "CG303",
        "is a Nikon NEF raw camera file, a raw camera file: export a JPEG or TIFF first",
    ),
    ("layers.jpg", b"8BPS\x00\x01" + bytes(64), "CG303", "is a Photoshop PSD;"),
    ("clip.jpg", b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + bytes(64), "CG303", "is a QuickTime video;"),
    ("new.jpg", b"\xff\x0a\xfa\x7f" + bytes(64), "CG303", "is a JPEG XL image;"),
    ("huge.tif", b"MM\x00+\x00\x08\x00\x00" + bytes(64), "CG303", "is a BigTIFF"),
    ("cut.png", _png((64, 48))[:-40], "CG301", "is a PNG image that cannot be decoded"),
    (
        "checksum.png",
        _png_with_bad_header_checksum(),
        "CG301",
        "is a PNG image that cannot be decoded: its 'IHDR' chunk at byte 8 fails its checksum",
    ),
    ("marker.jpg", b"\xff\xd8\xfe\xdc" + _jpeg()[4:], "CG301", "is a JPEG photo whose header is damaged"),
]


def test_files_that_are_not_what_they_seem_are_refused_precisely(tmp_path: Path) -> None:
    project = Project(tmp_path / "clinic")
    by_case = _one_case_per_file(project, {name: data for name, data, _, _ in REFUSED})
    result = project.build()
    assert not result.ok
    errors = [line for line in result.log.splitlines() if not line.startswith("DEBUG")]
    assert not [line for line in errors if "object at 0x" in line or "Traceback" in line], errors
    for case_id, name in by_case.items():
        _, _, code, words = next(row for row in REFUSED if row[0] == name)
        lines = [line for line in result.log.splitlines() if f"[case {case_id}]" in line]
        assert len(lines) == 1, (name, lines)  # the pair lists the file twice: one error, not two
        assert f"{code} [case {case_id}] 'photos/{name}' {words}" in lines[0], lines[0]
    assert_nothing_published(result.site, project.root)


def test_a_jpeg_named_like_a_raw_file_is_a_jpeg(tmp_path: Path) -> None:
    project = Project(tmp_path / "clinic")
    by_case = _one_case_per_file(project, {"export.nef": _jpeg((64, 48))})
    result = project.build()
    assert result.ok, result.log
    assert len(result.gallery_images()) > 0 and list(by_case) == ["case-00"]


def test_a_photo_too_tall_for_webp_is_refused_with_a_crop_that_fits(tmp_path: Path) -> None:
    """A valid 193x31237 JPEG ended the build in a traceback: 'Image size exceeds WebP limit of 16383 pixels'."""
    project = Project(tmp_path / "clinic")
    buffer = io.BytesIO()
    Image.new("RGB", (193, 31237), (160, 110, 90)).save(buffer, "JPEG")
    _one_case_per_file(project, {"scroll.jpg": buffer.getvalue()})
    project.options["widths"] = [480]
    result = project.build()
    assert not result.ok
    assert "Traceback" not in result.log and "encoding error" not in result.log, result.log
    line = next(line for line in result.log.splitlines() if "CG308" in line)
    assert "gallery/manifest.yml:" in line and "[case case-00] 'photos/scroll.jpg'" in line, line
    assert "193x31237 pixels, but a WebP image can be at most 16383 pixels tall" in line, line
    fix = result.log[result.log.index(line) :].splitlines()[1]
    crop = re.search(r"crop: \[0, 0, 193, (\d+)\]", fix)
    assert crop is not None and int(crop.group(1)) <= 16383 and "leave 'webp' out of 'formats'" in fix, fix
    assert_nothing_published(result.site, project.root)

    # The suggested crop is taken: the pair is published, within every format's limit.
    for pair in project.manifest["cases"][0]["photos"]:
        pair["crop"] = [0, 0, 193, int(crop.group(1))]
    result = project.build()
    assert result.ok, result.log
    sizes = {Image.open(path).size for path in result.gallery_images()}
    assert sizes and all(max(size) <= 16383 for size in sizes), sizes


# (published sizes, formats) -> (format, limit, on the area) of the first limit passed, or None
LIMITS: list[tuple[list[tuple[int, int]], tuple[str, ...], tuple[str, int, bool] | None]] = [
    ([(193, 31237)], ("avif", "webp", "jpeg"), ("webp", 16383, False)),
    ([(193, 31237)], ("avif", "jpeg"), None),
    ([(1, 32769)], ("avif", "jpeg"), ("avif", 32768, False)),
    ([(2, 65501)], ("jpeg",), ("jpeg", 65500, False)),
    ([(480, 300), (16384, 100)], ("webp", "jpeg"), ("webp", 16383, False)),
    ([(20000, 20000)], ("avif", "jpeg"), ("avif", 16384 * 16384, True)),
    ([(16383, 16383)], ("avif", "webp", "jpeg"), None),
]


@pytest.mark.parametrize(("sizes", "wanted", "expected"), LIMITS)
def test_encoder_limits_are_known_before_encoding(
    sizes: list[tuple[int, int]], wanted: tuple[str, ...], expected: tuple[str, int, bool] | None
) -> None:
    found = beyond_encoder_limits(sizes, wanted)
    assert (found and (found.fmt, found.limit, found.area)) == expected
