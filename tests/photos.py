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
