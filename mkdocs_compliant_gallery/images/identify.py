"""What an original file is, read from its bytes (never from its name): a photo format the pipeline takes, a raw
camera file, another kind of file, or a photo format whose header is damaged.

Errors name what was found ("a Photoshop PSD", "a Nikon NEF raw camera file", "a QuickTime video"), so a
designer knows what to export instead. A raw camera file is refused even though it is a TIFF inside: its first
image is a small preview, or sensor data, not the photo.
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass

# The formats `images.pipeline` admits, by its own names.
ADMITTED = ("jpeg", "png", "webp", "tiff", "heif", "avif")
ADMITTED_NAMES = "JPEG, PNG, WebP, TIFF, HEIC or AVIF"


class Kind(enum.Enum):
    """How the pipeline treats a file."""

    PHOTO = "photo"  # an admitted format: decode it
    RAW = "raw"  # a raw camera file: CG303, export a JPEG or TIFF first
    OTHER = "other"  # a known format that is not an admitted still photo (or unknown bytes): CG303
    DAMAGED = "damaged"  # starts like an admitted format, but its signature is broken: CG301


@dataclass(frozen=True)
class Identified:
    """A file's format as its bytes show it."""

    kind: Kind
    name: str  # for messages, with its article: "a JPEG photo", "a Photoshop PSD", "a Canon CR2 raw camera file"
    fmt: str | None = None  # for PHOTO: one of ADMITTED
    fix: str = ""  # a fix specific to this format, when there is one


_EXPORT = "open it in the program that made it and export the photo as a JPEG (or TIFF), then point 'src' at that file"
_VIDEO = "take a still frame with the camera (or export one from the video as a JPEG), then point 'src' at that file"


def _photo(fmt: str, name: str) -> Identified:
    return Identified(Kind.PHOTO, name, fmt)


def _other(name: str, fix: str = _EXPORT) -> Identified:
    return Identified(Kind.OTHER, name, None, fix)


def _raw(name: str) -> Identified:
    return Identified(Kind.RAW, name)


def _damaged(name: str, fix: str = "") -> Identified:
    return Identified(Kind.DAMAGED, name, None, fix)


# Prefixes of whole files: (signature, offset, what it is).
_SIGNATURES: list[tuple[bytes, int, Identified]] = [
    (b"8BPS\x00\x01", 0, _other("a Photoshop PSD", "flatten it and export it from Photoshop as a JPEG or TIFF (File > Export)")),
    (b"8BPS\x00\x02", 0, _other("a Photoshop PSB (large document)", "flatten it and export it from Photoshop as a JPEG or TIFF")),
    (b"Paint Shop Pro Image File", 0, _other("a Paint Shop Pro image")),
    (b"gimp xcf", 0, _other("a GIMP XCF drawing", "export it from GIMP as a JPEG (File > Export As)")),
    (b"%PDF", 0, _other("a PDF document", "export the photo itself from the program that made the PDF, as a JPEG")),
    (b"%!PS", 0, _other("a PostScript/EPS file")),
    (b"\xc5\xd0\xd3\xc6", 0, _other("an EPS file with a preview")),
    (b"\xff\x0a", 0, _other("a JPEG XL image", "export the photo as an ordinary JPEG (browsers do not all show JPEG XL)")),
    (
        b"\x00\x00\x00\x0cJXL \r\n\x87\n",
        0,
        _other("a JPEG XL image", "export the photo as an ordinary JPEG (browsers do not all show JPEG XL)"),
    ),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0, _other("a JPEG 2000 image", "export the photo as an ordinary JPEG")),
    (b"\xff\x4f\xff\x51", 0, _other("a JPEG 2000 codestream", "export the photo as an ordinary JPEG")),
    (b"BPG\xfb", 0, _other("a BPG image")),
    (b"FLIF", 0, _other("a FLIF image")),
    (b"\x76\x2f\x31\x01", 0, _other("an OpenEXR image", "export it as an 8-bit JPEG or TIFF from the program that rendered it")),
    (b"#?RADIANCE", 0, _other("a Radiance HDR image", "export it as an 8-bit JPEG or TIFF")),
    (b"#?RGBE", 0, _other("a Radiance HDR image", "export it as an 8-bit JPEG or TIFF")),
    (b"SDPX", 0, _other("a DPX film scan")),
    (b"XPDS", 0, _other("a DPX film scan")),
    (b"SIMPLE  =", 0, _other("a FITS astronomy image")),
    (b"XISF0100", 0, _other("an XISF astronomy image")),
    (b"ZISRAWFILE", 0, _other("a Zeiss CZI microscopy image")),
    (b"id=ImageMagick", 0, _other("an ImageMagick MIFF image")),
    (b"PGF", 0, _other("a PGF image")),
    (b"\xffWPC", 0, _other("a WordPerfect graphic")),
    (b"DICM", 128, _other("a DICOM medical image", "export the photo from the imaging system as a JPEG")),
    (b"PCD_IPI", 2048, _other("a Kodak Photo CD image")),
    (b"MAP ", 208, _other("an MRC microscopy map")),
    (b"BM", 0, _other("a BMP bitmap", "save it as a JPEG or PNG")),
    (b"GIF87a", 0, _other("a GIF image", "save the photo as a JPEG or PNG (a GIF holds 256 colours; it may also be animated)")),
    (b"GIF89a", 0, _other("a GIF image", "save the photo as a JPEG or PNG (a GIF holds 256 colours; it may also be animated)")),
    (b"\x00\x00\x01\x00", 0, _other("a Windows icon (ICO)")),
    (b"\x00\x00\x02\x00", 0, _other("a Windows cursor (CUR)")),
    (b"PK\x03\x04", 0, _other("a ZIP archive (or an Office document)", "unpack it and point 'src' at the photo inside")),
    (b"ID3", 0, _other("an MP3 audio file", "point 'src' at the photo")),
    (b"OggS", 0, _other("an Ogg audio or video file", _VIDEO)),
    (b"\x1aE\xdf\xa3", 0, _other("a Matroska/WebM video", _VIDEO)),
    # Raw formats with a signature of their own (the TIFF-based ones are read below).
    (b"FUJIFILMCCD-RAW", 0, _raw("a Fujifilm RAF raw camera file")),
    (b"\x00MRM", 0, _raw("a Minolta MRW raw camera file")),
    (b"FOVb", 0, _raw("a Sigma X3F raw camera file")),
    (b"HEAPCCDR", 6, _raw("a Canon CRW raw camera file")),
    (b"ARECOYK", 25, _raw("a Kyocera raw camera file")),
    (b"IIRO", 0, _raw("an Olympus ORF raw camera file")),
    (b"IIRS", 0, _raw("an Olympus ORF raw camera file")),
    (b"MMOR", 0, _raw("an Olympus ORF raw camera file")),
    (b"IIU\x00", 0, _raw("a Panasonic RW2 raw camera file")),
]

_PNG = b"\x89PNG\r\n\x1a\n"
# ISO base media (HEIF, AVIF, MP4, QuickTime, CR3) brands.
_AVIF_BRANDS = {b"avif"}
_ANIMATED_AVIF_BRANDS = {b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_VIDEO_BRANDS = {
    b"qt  ": "a QuickTime video",
    b"isom": "an MP4 video",
    b"iso2": "an MP4 video",
    b"mp41": "an MP4 video",
    b"mp42": "an MP4 video",
    b"M4V ": "an MP4 video",
    b"M4A ": "an MP4 audio file",
    b"3gp4": "a 3GP video",
    b"3gp5": "a 3GP video",
    b"3g2a": "a 3GP video",
}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}

# TIFF tags and values that only raw camera files carry.
_NEW_SUBFILE_TYPE = 0x00FE
_COMPRESSION = 0x0103
_PHOTOMETRIC = 0x0106
_MAKE = 0x010F
_SUB_IFDS = 0x014A
_TIFF_EP_STANDARD_ID = 0x9216  # TIFF/EP: the ISO standard raw formats (NEF, DNG's forerunner) follow
_DNG_VERSION = 0xC612
_DNG_PRIVATE_DATA = 0xC634  # also Sony's SR2 private data in ARW files
_SENSOR_PHOTOMETRIC = {32803, 34892}  # colour filter array, linear raw
# Compression schemes used only for sensor data: Sony ARW, packed raw, Panasonic, Nikon NEF, Kodak, Pentax PEF.
_RAW_COMPRESSION = {32767, 32769, 32770, 34316, 34713, 65000, 65535}
# Camera makers (the TIFF `Make` tag) and the name of their raw format.
_RAW_FORMATS = {
    "NIKON": "a Nikon NEF",
    "CANON": "a Canon CR2",
    "SONY": "a Sony ARW",
    "PENTAX": "a Pentax PEF",
    "RICOH": "a Pentax PEF",
    "ASAHI": "a Pentax PEF",
    "OLYMPUS": "an Olympus ORF",
    "OM DIGITAL": "an Olympus ORF",
    "PANASONIC": "a Panasonic RW2",
    "LEICA": "a Leica raw",
    "SAMSUNG": "a Samsung SRW",
    "FUJIFILM": "a Fujifilm RAF",
    "PHASE ONE": "a Phase One IIQ",
    "HASSELBLAD": "a Hasselblad 3FR",
    "MAMIYA": "a Mamiya MEF",
    "LEAF": "a Leaf MOS",
    "KODAK": "a Kodak DCR",
    "EASTMAN KODAK": "a Kodak DCR",
    "EPSON": "an Epson ERF",
    "SIGMA": "a Sigma raw",
}
_MAX_IFDS = 64  # a loop of IFD offsets, or a flood of them, is read no further


def identify(data: bytes) -> Identified:
    """What `data` is, from its first bytes and, for TIFF, its directory of tags."""
    for signature, offset, found in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return found
    if data.startswith(b"\xff\xd8\xff"):
        return _photo("jpeg", "a JPEG photo")
    if data.startswith(b"\xff\xd8"):
        return _damaged("a JPEG photo whose header is damaged (its first marker is broken)")
    if data.startswith(_PNG):
        return _photo("png", "a PNG image")
    if data[1:4] == b"PNG" or data[:4] == b"\x89PNG":
        return _damaged(
            "a PNG image whose signature is damaged (as when a transfer in text mode changes line endings)",
            "copy the original file again in binary mode, or export the photo again",
        )
    if data[:4] == b"RIFF":
        return _riff(data)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff(data)
    if data[:4] in (b"II+\x00", b"MM\x00+"):
        return _other("a BigTIFF (the TIFF variant for files over 4 GB)", "save the photo as an ordinary TIFF or a JPEG")
    if data[1:6] in (b"IF87a", b"IF89a"):
        return _other("a GIF image whose signature is damaged", "save the photo as a JPEG or PNG")
    if data[:2] == b"BA" and data[14:16] in (b"BM", b"CI", b"IC", b"CP", b"PT"):
        return _other("an OS/2 bitmap array")
    if data[4:8] == b"ftyp":
        return _iso_media(data)
    if data[4:8] in _QUICKTIME_ATOMS:
        return _other("a QuickTime video", _VIDEO)
    if data[10:14] == b"\x00\x11\x02\xff" or data[522:526] == b"\x00\x11\x02\xff":
        return _other("a Macintosh PICT image")
    if len(data) >= 3 and data[0] == 0x0A and data[1] <= 5 and data[2] == 1:
        return _other("a PCX image")
    if len(data) >= 2 and data[0:1] == b"P" and data[1:2] in b"1234567fF" and data[2:3] in b"\n\r \t":
        return _other("a Netpbm image (PBM, PGM, PPM or PFM)")
    if data.endswith(b"TRUEVISION-XFILE.\x00"):
        return _other("a Targa (TGA) image")
    text = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) and b"<svg" in data[:4096].lower():
        return _other("an SVG drawing", "export the photo itself as a JPEG; a drawing is not a clinical photo")
    if text.startswith((b"<!doctype html", b"<html")):
        return _other("an HTML page", "save the photo itself, not the page that shows it")
    if data and all(32 <= byte < 127 or byte in (9, 10, 13) for byte in data[:512]):
        return _other("a text file, not an image", "point 'src' at the photo file")
    if not data:
        return _other("an empty file", "copy the photo again: this file has no content")
    head = " ".join(f"{byte:02x}" for byte in data[:8])
    return _other(
        f"in no image format this build recognises (its first bytes are {head})",
        f"export the photo as a {ADMITTED_NAMES.replace(' or ', ', ')} file, then point 'src' at that file",
    )


def _riff(data: bytes) -> Identified:
    kind = data[8:12]
    if kind == b"WEBP":
        return _photo("webp", "a WebP image")
    if kind == b"AVI ":
        return _other("an AVI video", _VIDEO)
    if kind == b"WAVE":
        return _other("a WAV audio file", "point 'src' at the photo")
    return _other(f"a RIFF container of type {kind.decode('latin-1')!r}, not a WebP image")


def _iso_media(data: bytes) -> Identified:
    """HEIF, AVIF, and the video and raw formats that share their container."""
    size = int.from_bytes(data[0:4], "big")
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, min(size, 64, len(data)) - 3, 4)}
    if major in _ANIMATED_AVIF_BRANDS:
        return _other("an animated AVIF (an image sequence)", "export one still photo as a JPEG")
    if major in _AVIF_BRANDS:
        return _photo("avif", "an AVIF image")
    if major in _HEIF_BRANDS:
        return _photo("heif", "a HEIF/HEIC photo")
    if major == b"crx ":
        return _raw("a Canon CR3 raw camera file")
    if major in _VIDEO_BRANDS:
        return _other(_VIDEO_BRANDS[major], _VIDEO)
    if compatible & _AVIF_BRANDS:
        return _photo("avif", "an AVIF image")
    if compatible & _HEIF_BRANDS:
        return _photo("heif", "a HEIF/HEIC photo")
    if major in (b"jp2 ", b"jpx ", b"jpm "):
        return _other("a JPEG 2000 image", "export the photo as an ordinary JPEG")
    return _other(f"an ISO media file (brand {major.decode('latin-1')!r}), not a HEIC or AVIF photo", _VIDEO)


def _tiff(data: bytes) -> Identified:
    """A TIFF, unless its tags show a raw camera file (a preview first, sensor data, a raw maker's layout)."""
    if data[8:10] == b"CR":
        return _raw("a Canon CR2 raw camera file")
    if data[8:12] == b"IIII":
        return _raw("a Phase One IIQ raw camera file")
    try:
        tags = _tiff_tags(data)
    except (IndexError, struct.error, ValueError):
        return _photo("tiff", "a TIFF image")  # damaged directories: the decoder says what is wrong
    first, every = tags[0] if tags else {}, tags
    make = _text(data, first.get(_MAKE))
    if _DNG_VERSION in first:
        return _raw("a DNG raw camera file")
    sensor = any(_value(ifd.get(_PHOTOMETRIC)) in _SENSOR_PHOTOMETRIC for ifd in every)
    compressed = any(_value(ifd.get(_COMPRESSION)) in _RAW_COMPRESSION for ifd in every)
    preview_first = bool((_value(first.get(_NEW_SUBFILE_TYPE)) or 0) & 1)
    if sensor or compressed or preview_first or _TIFF_EP_STANDARD_ID in first or _DNG_PRIVATE_DATA in first:
        maker = next((name for prefix, name in _RAW_FORMATS.items() if make.upper().startswith(prefix)), "")
        return _raw(f"{maker} raw camera file" if maker else "a raw camera file")
    return _photo("tiff", "a TIFF image")


# One directory entry: (type, count, the raw 4-byte value field).
_Entry = tuple[int, int, bytes]


def _tiff_tags(data: bytes) -> list[dict[int, tuple[str, _Entry]]]:
    """The tags of IFD0, the IFDs chained after it and their SubIFDs (each tag with the file's byte order)."""
    order = "<" if data[:2] == b"II" else ">"
    pending = [struct.unpack(order + "I", data[4:8])[0]]
    seen: set[int] = set()
    found: list[dict[int, tuple[str, _Entry]]] = []
    while pending and len(found) < _MAX_IFDS:
        offset = pending.pop(0)
        if offset in seen or offset < 8 or offset + 2 > len(data):
            continue
        seen.add(offset)
        count = struct.unpack(order + "H", data[offset : offset + 2])[0]
        entries: dict[int, tuple[str, _Entry]] = {}
        for index in range(min(count, 512)):
            at = offset + 2 + index * 12
            if at + 12 > len(data):
                break
            tag, kind, number = struct.unpack(order + "HHI", data[at : at + 8])
            entries[tag] = (order, (kind, number, data[at + 8 : at + 12]))
        found.append(entries)
        after = offset + 2 + count * 12
        if after + 4 <= len(data):
            pending.append(struct.unpack(order + "I", data[after : after + 4])[0])
        if _SUB_IFDS in entries:
            pending.extend(_offsets(data, entries[_SUB_IFDS]))
    return found


def _offsets(data: bytes, entry: tuple[str, _Entry]) -> list[int]:
    order, (_, number, field) = entry
    if number == 1:
        return [struct.unpack(order + "I", field)[0]]
    start = struct.unpack(order + "I", field)[0]
    return [
        struct.unpack(order + "I", data[start + 4 * i : start + 4 * i + 4])[0]
        for i in range(min(number, 16))
        if start + 4 * i + 4 <= len(data)
    ]


def _value(entry: tuple[str, _Entry] | None) -> int | None:
    """A SHORT or LONG tag's first value."""
    if entry is None:
        return None
    order, (kind, _, field) = entry
    if kind == 3:
        return int(struct.unpack(order + "H", field[:2])[0])
    if kind == 4:
        return int(struct.unpack(order + "I", field)[0])
    return None


def _text(data: bytes, entry: tuple[str, _Entry] | None) -> str:
    """An ASCII tag's text ('' when absent or unreadable)."""
    if entry is None:
        return ""
    order, (kind, number, field) = entry
    if kind != 2 or number == 0:
        return ""
    raw_text = field[:number] if number <= 4 else data[struct.unpack(order + "I", field)[0] :][: min(number, 256)]
    return raw_text.split(b"\x00", 1)[0].decode("latin-1").strip()


# -- why a photo of an admitted format does not decode ---------------------------------------------------------------

_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_JPEG_LOSSLESS = {0xC3, 0xC7, 0xCB, 0xCF}
_JPEG_FRAMES = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def structure_problem(data: bytes, fmt: str) -> str | None:
    """What is wrong with the structure of a JPEG or PNG a decoder refused, in words for its owner (None: not found).

    A decoder's own message ("cannot identify image file") says only that it gave up; the file's layout says why.
    """
    try:
        if fmt == "jpeg":
            return _jpeg_problem(data)
        if fmt == "png":
            return _png_problem(data)
    except (IndexError, struct.error):
        return "its structure is cut short (the file ends inside a header)"
    return None


def _jpeg_problem(data: bytes) -> str | None:
    pos, frame_seen = 2, False
    while pos < len(data):
        if data[pos] != 0xFF:
            return f"byte {pos} should start a JPEG marker but does not (the file is damaged there)"
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xD9:
            return "it ends (end-of-image marker) before any image data" if not frame_seen else None
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if length < 2 or pos + 2 + length > len(data):
            return f"the segment at byte {pos} (marker 0x{marker:02X}) runs past the end of the file: it was cut short or damaged"
        if marker in _JPEG_FRAMES:
            frame_seen = True
            precision, height, width, components = struct.unpack(">BHHB", data[pos + 4 : pos + 10])
            if marker in _JPEG_LOSSLESS:
                return f"it uses lossless JPEG coding (SOF{marker - 0xC0}), which the image library does not read"
            if height == 0:
                return "its frame header gives a height of 0 (to be set by a later DNL marker, which the image library does not support)"
            if width == 0:
                return "its frame header gives a width of 0"
            if components not in (1, 3, 4):
                return f"its frame header declares {components} colour components (1, 3 or 4 are possible)"
            if precision != 8:
                return f"it stores {precision}-bit samples, which the image library does not read (8-bit JPEG is)"
        if marker == 0xDA:
            if not frame_seen:
                return "its image data starts before any frame header (SOF): the header is missing or damaged"
            return None
        pos += 2 + length
    return "it ends before its image data begins (cut short)"


def _png_problem(data: bytes) -> str | None:
    pos, first, idat, palette = 8, True, False, False
    colour_type = -1
    while pos < len(data):
        if pos + 8 > len(data):
            return f"it ends inside a chunk header at byte {pos} (cut short)"
        length, name = struct.unpack(">I4s", data[pos : pos + 8])
        label = name.decode("latin-1")
        if not name.isalpha():
            return f"the chunk at byte {pos} has an invalid name ({label!r}): the file is damaged there"
        if pos + 12 + length > len(data):
            return f"it ends inside its '{label}' chunk at byte {pos} (cut short)"
        body = data[pos + 8 : pos + 8 + length]
        if zlib.crc32(name + body) != struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]:
            return f"its '{label}' chunk at byte {pos} fails its checksum: the file was altered or damaged"
        if first and name != b"IHDR":
            return f"it does not start with its header chunk (IHDR) but with '{label}'"
        if name == b"IHDR":
            width, height, depth, colour_type, compression, filtering, interlace = struct.unpack(">IIBBBBB", body[:13])
            if width == 0 or height == 0:
                return f"its header declares {width}x{height} pixels"
            if colour_type not in _PNG_DEPTHS:
                return f"its header declares colour type {colour_type}, which PNG does not have"
            if depth not in _PNG_DEPTHS[colour_type]:
                return f"its header declares a bit depth of {depth}, not valid for colour type {colour_type}"
            if compression or filtering or interlace > 1:
                return "its header declares a compression, filter or interlace method PNG does not have"
        if name == b"PLTE":
            palette = True
        if name == b"IDAT":
            if colour_type == 3 and not palette:
                return "it is a palette image without its palette (no PLTE chunk before the image data)"
            idat = True
        if name == b"IEND":
            return None if idat else "it has no image data (no IDAT chunk)"
        first = False
        pos += 12 + length
    return "it ends before its end chunk (IEND): cut short" if not idat else None
