"""Test photos made in code, with identifying metadata planted in every place a camera puts it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import piexif
from PIL import Image, ImageCms, ImageDraw

CANARY = "CANARY-7f3e"  # a string planted in every metadata field; it must never reach the site


@dataclass(frozen=True)
class Planted:
    """What a test photo carries besides pixels."""

    orientation: int = 1
    taken: str = "2026:01:10 10:00:00"
    software: str = "TestCam Firmware 2.1"
    gps: bool = True
    thumbnail: bool = True
    xmp: bool = True
    icc: bool = True
    comment: bool = True


def draw(size: tuple[int, int], seed: int) -> Image.Image:
    """A recognisable, asymmetric picture: a gradient with a marker in the top-left corner.

    The seed shifts the red and blue ramps around the colour wheel, so pictures of different seeds differ in every
    pixel but hold the same values overall: a pair of them is lit alike (comparable light, CG309).
    """
    width, height = size
    image = Image.new("RGB", size)
    pixels = image.load()
    assert pixels is not None
    for y in range(height):
        for x in range(width):
            pixels[x, y] = ((x * 255 // width + seed * 40) % 256, (y * 255 // height) % 256, (y * 255 // height + seed * 70) % 256)
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 0, width // 5, height // 5), fill=(250, 20, 20))  # marks the upright top-left
    return image


def _exif(planted: Planted, image: Image.Image) -> bytes:
    zeroth = {
        piexif.ImageIFD.Make: b"TestCam",
        piexif.ImageIFD.Model: b"TC-9",
        piexif.ImageIFD.Software: planted.software.encode(),
        piexif.ImageIFD.ImageDescription: f"patient {CANARY}".encode(),
        piexif.ImageIFD.Artist: CANARY.encode(),
        piexif.ImageIFD.Orientation: planted.orientation,
    }
    exif_ifd = {
        piexif.ExifIFD.DateTimeOriginal: planted.taken.encode(),
        piexif.ExifIFD.BodySerialNumber: f"SN-{CANARY}".encode(),
        piexif.ExifIFD.UserComment: b"ASCII\x00\x00\x00" + CANARY.encode(),
    }
    gps = {}
    if planted.gps:
        gps = {
            piexif.GPSIFD.GPSLatitudeRef: b"N",
            piexif.GPSIFD.GPSLatitude: ((40, 1), (42, 1), (4608, 100)),
            piexif.GPSIFD.GPSLongitudeRef: b"W",
            piexif.GPSIFD.GPSLongitude: ((74, 1), (0, 1), (2160, 100)),
        }
    data: dict[str, object] = {"0th": zeroth, "Exif": exif_ifd, "GPS": gps, "1st": {}, "thumbnail": None}
    if planted.thumbnail:
        thumb = image.copy()
        thumb.thumbnail((96, 96))
        buffer = io.BytesIO()
        thumb.save(buffer, "JPEG")
        data["1st"] = {piexif.ImageIFD.JPEGInterchangeFormat: 0, piexif.ImageIFD.JPEGInterchangeFormatLength: 0}
        data["thumbnail"] = buffer.getvalue()
    return bytes(piexif.dump(data))


def _xmp() -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{CANARY}</dc:creator>'
        "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
    ).encode()


def _icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return bytes(profile.tobytes())


def write_photo(path: Path, size: tuple[int, int] = (320, 240), seed: int = 1, planted: Planted | None = None) -> Image.Image:
    """Write an upright picture of `size`, stored per `planted.orientation`, full of metadata; returns the upright picture."""
    planted = planted or Planted()
    upright = draw(size, seed)
    # Store the pixels so that applying the EXIF orientation gives the upright picture back.
    stored = {
        1: upright,
        3: upright.transpose(Image.Transpose.ROTATE_180),
        6: upright.transpose(Image.Transpose.ROTATE_90),
        8: upright.transpose(Image.Transpose.ROTATE_270),
    }[planted.orientation]
    path.parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, object] = {"exif": _exif(planted, stored)}
    if planted.icc:
        options["icc_profile"] = _icc()
    suffix = path.suffix.lower()
    if suffix in {".jpg", ".jpeg"}:
        if planted.xmp:
            options["xmp"] = _xmp()
        if planted.comment:
            options["comment"] = f"comment {CANARY}".encode()
        stored.save(path, "JPEG", quality=90, **options)
    elif suffix == ".png":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", f"png text {CANARY}")
        info.add_itxt("Description", f"itxt {CANARY}", zip=True)
        stored.save(path, "PNG", pnginfo=info, **options)
    elif suffix == ".webp":
        if planted.xmp:
            options["xmp"] = _xmp()
        stored.save(path, "WEBP", quality=90, **options)
    else:
        raise ValueError(f"no writer for {suffix}")
    return upright


# A TIFF directory entry as a test writes it: tag -> (TIFF type, values). Types: 1 BYTE, 2 ASCII, 3 SHORT, 4 LONG.
TiffTags = dict[int, tuple[int, tuple[int, ...] | bytes]]
_TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4}


def tiff_with_tags(size: tuple[int, int] = (16, 12), ifd0: TiffTags | None = None, sub_ifd: TiffTags | None = None) -> bytes:
    """A little-endian TIFF whose IFD0 is a decodable RGB image, with `ifd0` tags added (or replacing the defaults)
    and, when given, one SubIFD holding `sub_ifd` (as raw camera files keep their sensor data).

    Written by hand because an image library writes only the tags it knows: these are the tags that make a TIFF a
    raw camera file (DNGVersion, NewSubfileType, TIFF-EP, raw compressions in a SubIFD).
    """
    width, height = size
    pixels = draw(size, 2).tobytes()
    base: TiffTags = {
        256: (4, (width,)),
        257: (4, (height,)),
        258: (3, (8, 8, 8)),
        259: (3, (1,)),
        262: (3, (2,)),
        273: (4, (0,)),  # strip offset, set below
        277: (3, (3,)),
        278: (4, (height,)),
        279: (4, (len(pixels),)),
    }
    directories = [{**base, **(ifd0 or {})}]
    if sub_ifd is not None:
        directories[0][330] = (4, (0,))  # SubIFDs, set below
        directories.append({**base, **sub_ifd})
    out = bytearray(b"II*\x00\x08\x00\x00\x00")
    # Layout: the IFDs, then their out-of-line values, then one copy of the pixels each IFD's strip points at.
    ifd_sizes = [2 + 12 * len(d) + 4 for d in directories]
    extra_start = 8 + sum(ifd_sizes)
    extras = bytearray()
    for directory in directories:
        for kind, values in directory.values():
            raw = values if isinstance(values, bytes) else b"".join(v.to_bytes(_TIFF_SIZES[kind], "little") for v in values)
            if len(raw) > 4:
                extras += raw + b"\x00" * (len(raw) & 1)
    pixel_offset = extra_start + len(extras)
    ifd_offsets = [8 + sum(ifd_sizes[:i]) for i in range(len(directories))]
    extra_at = extra_start
    for index, directory in enumerate(directories):
        directory[273] = (4, (pixel_offset,))
        if index == 0 and sub_ifd is not None:
            directory[330] = (4, (ifd_offsets[1],))
        out += len(directory).to_bytes(2, "little")
        for tag in sorted(directory):
            kind, values = directory[tag]
            raw = values if isinstance(values, bytes) else b"".join(v.to_bytes(_TIFF_SIZES[kind], "little") for v in values)
            count = len(raw) // _TIFF_SIZES[kind]
            out += tag.to_bytes(2, "little") + kind.to_bytes(2, "little") + count.to_bytes(4, "little")
            if len(raw) <= 4:
                out += raw.ljust(4, b"\x00")
            else:
                out += extra_at.to_bytes(4, "little")
                extra_at += len(raw) + (len(raw) & 1)
        out += b"\x00\x00\x00\x00"  # no next IFD in the chain
    return bytes(out + extras + pixels)
