"""Evidence, in a photo's own metadata, that its pixels were changed after capture (rule CG304).

Only named fields count: EXIF Software/ProcessingSoftware, a PNG `Software` text, XMP `CreatorTool`,
`photoshop:History`, and XMP history events whose software is an editor. Namespaces and markers that
cameras write too (the `photoshop:` XMP namespace for dates, the APP13 "Photoshop 3.0" header of IPTC
data, a phone's depth map) are not evidence; neither is a history event that changed only metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from PIL import Image

EDITORS = re.compile(
    r"photoshop|lightroom|camera raw|gimp|affinity|facetune|meitu|snapseed|picsart|airbrush|pixelmator|"
    r"capture one|luminar|paint\.net|faceapp|perfect365|youcam|retouch|photoscape|photodirector|imageready|"
    r"darktable|rawtherapee|acdsee|corel|paintshop|canva|fotor|befunky|vsco|lensa|remini",
    re.IGNORECASE,
)
_XMP_PACKET = re.compile(rb"<x:xmpmeta.*?</x:xmpmeta>", re.DOTALL)
_HISTORY_ITEM = re.compile(r"<rdf:li\b(.*?)(?:/>|</rdf:li>)", re.DOTALL)


def _field(xml: str, name: str) -> list[str]:
    """Values of an XMP property written as an attribute or as an element."""
    escaped = re.escape(name)
    found = re.findall(rf'{escaped}="([^"]*)"', xml)
    found += re.findall(rf"<{escaped}>([^<]*)<", xml)
    return [value.strip() for value in found if value.strip()]


def xmp_packets(image: Image.Image, data: bytes) -> list[str]:
    """Every XMP packet in the file: decoded by Pillow where it knows the container, and found in the bytes."""
    packets: list[bytes] = []
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = image.info.get(key)
        if isinstance(value, str):
            value = value.encode("utf-8", "replace")
        if isinstance(value, bytes):
            packets.append(value)
    tiff_xmp = getattr(image, "tag_v2", {}).get(700) if hasattr(image, "tag_v2") else None
    if isinstance(tiff_xmp, bytes):
        packets.append(tiff_xmp)
    packets.extend(match.group(0) for match in _XMP_PACKET.finditer(data))
    return [packet.decode("utf-8", "replace") for packet in packets]


def editing_software(exif: Image.Exif, image: Image.Image, data: bytes) -> list[str]:
    """Names of editing programs that wrote or changed the pixels, sorted; empty when there is no evidence."""
    names: set[str] = set()
    candidates: list[str] = []
    for tag in (0x0131, 0x000B):  # Software, ProcessingSoftware
        value = exif.get(tag)
        if isinstance(value, bytes):
            value = value.decode("latin-1", "replace")
        if isinstance(value, str):
            candidates.append(value)
    software_text = image.info.get("Software")
    if isinstance(software_text, str):
        candidates.append(software_text)
    for xml in xmp_packets(image, data):
        candidates.extend(_field(xml, "xmp:CreatorTool"))
        candidates.extend(f"Photoshop history: {text[:60]}" for text in _field(xml, "photoshop:History"))
        candidates.extend(_edit_events(xml))
    names.update(_clean(value) for value in candidates if EDITORS.search(value) or value.startswith("Photoshop history"))
    return sorted(name for name in names if name)


def _edit_events(xml: str) -> Iterable[str]:
    """Software agents of history events that changed more than metadata."""
    for item in _HISTORY_ITEM.finditer(xml):
        body = item.group(1)
        agents = _field(body, "stEvt:softwareAgent")
        if not agents:
            continue
        changed = _field(body, "stEvt:changed")
        if changed and all(part.strip() == "/metadata" for value in changed for part in value.split(";")):
            continue
        yield from agents


def _clean(value: str) -> str:
    return " ".join(value.replace("\x00", " ").split())
