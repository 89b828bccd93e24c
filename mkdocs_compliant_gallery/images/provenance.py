"""Evidence, in a photo's own metadata, that its pixels were changed after capture (CG304) or made by AI (CG311).

Only named fields count:
- EXIF Software/ProcessingSoftware and a PNG `Software` text naming an editor;
- XMP `CreatorTool`, `photoshop:History`, and XMP history events whose software is an editor, whatever prefix
  the file binds to the namespace: Lightroom and Photoshop wrote the older `xap:`/`xapMM:` prefixes for years;
- IPTC `DigitalSourceType` (XMP `Iptc4xmpExt:DigitalSourceType`, anywhere in the file): any value other than a
  capture or a scan is editing evidence, and trained-algorithmic, algorithmic or synthetic-composite media is
  generative (`GENERATIVE_SOURCE_TYPES`);
- C2PA manifests (JUMBF boxes in JPEG APP11 segments, the PNG `caBX` chunk, the WebP `C2PA` chunk): an action
  that edits pixels (`c2pa.edited`, `c2pa.filtered`, ...) is editing evidence; any action whose
  `digitalSourceType` is generative (`c2pa.created` of trainedAlgorithmicMedia, say) is generative evidence.

Namespaces and markers that cameras write too (the `photoshop:` XMP namespace for dates, the APP13 "Photoshop 3.0"
header of IPTC data, a phone's depth map, a C2PA camera's `c2pa.created` of digitalCapture) are not evidence;
neither is a history event that changed only metadata.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator
from typing import Any

from PIL import Image

EDITORS = re.compile(
    r"photoshop|lightroom|camera raw|gimp|affinity|facetune|meitu|snapseed|picsart|airbrush|pixelmator|"
    r"capture one|luminar|paint\.net|faceapp|perfect365|youcam|retouch|photoscape|photodirector|imageready|"
    r"darktable|rawtherapee|acdsee|corel|paintshop|canva|fotor|befunky|vsco|lensa|remini|firefly|midjourney|"
    r"dall-e|stable diffusion",
    re.IGNORECASE,
)
_XMP_PACKET = re.compile(rb"<x:xmpmeta.*?</x:xmpmeta>", re.DOTALL)
_HISTORY_ITEM = re.compile(r"<(?:[\w-]+:)?li\b(.*?)(?:/>|</(?:[\w-]+:)?li>)", re.DOTALL)

XMP_BASIC = "http://ns.adobe.com/xap/1.0/"
XMP_EVENT = "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
# The prefixes files conventionally bind to each namespace, for packets that declare it elsewhere or not at all.
_CONVENTIONAL = {XMP_BASIC: ("xmp", "xap"), XMP_EVENT: ("stEvt",), PHOTOSHOP: ("photoshop",), IPTC_EXT: ("Iptc4xmpExt",)}

# IPTC's Digital Source Type vocabulary (https://cv.iptc.org/newscodes/digitalsourcetype/).
CAPTURE_SOURCE_TYPES = {"digitalCapture", "negativeFilm", "positiveFilm", "print", "computationalCapture", "compositeCapture"}
# Made or altered by a model or an algorithm rather than captured: a synthetic result (CG311).
GENERATIVE_SOURCE_TYPES = {"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia", "compositeSynthetic"}
# Neither captured nor generated: edited, composed, drawn or screen-captured (editing evidence, CG304).
OTHER_SOURCE_TYPES = {
    "minorHumanEdits",
    "algorithmicallyEnhanced",
    "composite",
    "screenCapture",
    "dataDrivenMedia",
    "digitalArt",
    "digitalCreation",
    "virtualRecording",
}
_SOURCE_TYPE_CODE = re.compile(rb"digitalsourcetype/([A-Za-z]+)", re.IGNORECASE)
_SOURCE_TYPE_NAMES = {name.lower(): name for name in CAPTURE_SOURCE_TYPES | GENERATIVE_SOURCE_TYPES | OTHER_SOURCE_TYPES}
# C2PA actions that change pixels (cropping, resizing, re-encoding and redaction do not count: the build does them too).
C2PA_EDIT_ACTIONS = {
    "c2pa.edited",
    "c2pa.filtered",
    "c2pa.color_adjustments",
    "c2pa.drawing",
    "c2pa.placed",
    "c2pa.removed",
    "c2pa.enhanced",
}


def _prefixes(xml: str, uri: str) -> list[str]:
    """The prefixes a packet binds to `uri`, plus the conventional ones."""
    bound = re.findall(rf'xmlns:([\w-]+)\s*=\s*["\']{re.escape(uri)}["\']', xml)
    return list(dict.fromkeys([*bound, *_CONVENTIONAL.get(uri, ())]))


def _field(xml: str, name: str) -> list[str]:
    """Values of an XMP property written as an attribute or as an element."""
    escaped = re.escape(name)
    found = re.findall(rf'{escaped}\s*=\s*"([^"]*)"', xml)
    found += re.findall(rf"{escaped}\s*=\s*'([^']*)'", xml)
    found += re.findall(rf"<{escaped}>([^<]*)<", xml)
    found += re.findall(rf'<{escaped}\s+rdf:resource\s*=\s*"([^"]*)"', xml)
    return [value.strip() for value in found if value.strip()]


def _property(xml: str, uri: str, local: str) -> list[str]:
    """Values of the property `local` of namespace `uri`, under any prefix the packet uses for it."""
    values: list[str] = []
    for prefix in _prefixes(xml, uri):
        values.extend(_field(xml, f"{prefix}:{local}"))
    return values


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
    """What says the pixels were changed (editors, edit actions, source types), sorted; empty when there is no evidence."""
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
    packets = xmp_packets(image, data)
    for xml in packets:
        candidates.extend(_property(xml, XMP_BASIC, "CreatorTool"))
        candidates.extend(f"Photoshop history: {text[:60]}" for text in _property(xml, PHOTOSHOP, "History"))
        candidates.extend(_edit_events(xml))
    names.update(_clean(value) for value in candidates if EDITORS.search(value) or value.startswith("Photoshop history"))
    names.update(f"IPTC DigitalSourceType {kind}" for kind in source_types(data, packets) if kind not in CAPTURE_SOURCE_TYPES)
    names.update(f"C2PA action {action}" for action, _ in c2pa_actions(data) if action in C2PA_EDIT_ACTIONS)
    return sorted(name for name in names if name)


def generative_evidence(image: Image.Image, data: bytes) -> list[str]:
    """What says the pixels were made or altered by generative AI: source types and C2PA actions, sorted."""
    packets = xmp_packets(image, data)
    found = {f"IPTC DigitalSourceType {kind}" for kind in source_types(data, packets) if kind in GENERATIVE_SOURCE_TYPES}
    for action, kind in c2pa_actions(data):
        if kind in GENERATIVE_SOURCE_TYPES:
            found.add(f"C2PA action {action} of {kind}")
    return sorted(found)


def source_types(data: bytes, packets: Iterable[str] = ()) -> set[str]:
    """IPTC digital source types named anywhere in the file (XMP, C2PA CBOR, ...), by their vocabulary names.

    The codes are URIs (http://cv.iptc.org/newscodes/digitalsourcetype/CODE) in every container that carries them,
    so they are found in the bytes; decoded XMP `packets` (compressed in PNG) are read too, where a bare code is
    accepted. An unknown code counts as neither a capture nor generative: editing evidence.
    """
    codes = [match.group(1).decode("ascii") for match in _SOURCE_TYPE_CODE.finditer(data)]
    for xml in packets:
        codes.extend(value.rsplit("/", 1)[-1] for value in _property(xml, IPTC_EXT, "DigitalSourceType"))
    return {_SOURCE_TYPE_NAMES.get(code.lower(), code) for code in codes if code}


def _edit_events(xml: str) -> Iterable[str]:
    """Software agents of history events that changed more than metadata."""
    event_prefixes = _prefixes(xml, XMP_EVENT)
    for item in _HISTORY_ITEM.finditer(xml):
        body = item.group(1)
        agents = [agent for prefix in event_prefixes for agent in _field(body, f"{prefix}:softwareAgent")]
        if not agents:
            continue
        changed = [value for prefix in event_prefixes for value in _field(body, f"{prefix}:changed")]
        if changed and all(part.strip() == "/metadata" for value in changed for part in value.split(";")):
            continue
        yield from agents


def _clean(value: str) -> str:
    return " ".join(value.replace("\x00", " ").split())


# -- C2PA: JUMBF boxes and the CBOR of their assertions --------------------------------------------------------

MAX_JUMBF = 16 * 1024 * 1024  # a manifest store is kilobytes; more is not read
_MAX_DEPTH = 32


def c2pa_actions(data: bytes) -> list[tuple[str, str | None]]:
    """(action, digital source type or None) of every action in every C2PA actions assertion of the file."""
    found: list[tuple[str, str | None]] = []
    for store in _jumbf_stores(data):
        for content in _assertion_contents(store, "c2pa.actions"):
            for action in _actions(content):
                kind = action.get("digitalSourceType")
                code = kind.rsplit("/", 1)[-1] if isinstance(kind, str) else None
                name = action.get("action")
                if isinstance(name, str):
                    found.append((name, _SOURCE_TYPE_NAMES.get(code.lower(), code) if code else None))
    return found


def _jumbf_stores(data: bytes) -> list[bytes]:
    """The JUMBF manifest stores of a JPEG (APP11), PNG (caBX) or WebP (C2PA) file."""
    try:
        if data.startswith(b"\xff\xd8"):
            return _jpeg_jumbf(data)
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return list(_chunks(data, 8, ">I4s", b"caBX"))
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return list(_chunks(data, 12, "<4sI", b"C2PA"))
    except (struct.error, IndexError, ValueError):
        return []
    return []


def _jpeg_jumbf(data: bytes) -> list[bytes]:
    """APP11 "JP" segments joined per box instance; continuation packets repeat the box header, which is dropped."""
    packets: dict[int, list[tuple[int, bytes]]] = {}
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (0xD9, 0xDA):
            break
        if marker == 0xFF:
            pos += 1
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        segment = data[pos + 4 : pos + 2 + length]
        if marker == 0xEB and segment[:2] == b"JP" and len(segment) >= 8:
            instance, sequence = struct.unpack(">HI", segment[2:8])
            packets.setdefault(instance, []).append((sequence, segment[8:]))
        pos += 2 + length
    stores = []
    for parts in packets.values():
        parts.sort()
        first = parts[0][1]
        header = 16 if first[:4] == b"\x00\x00\x00\x01" else 8
        body = first + b"".join(part[header:] for _, part in parts[1:])
        if len(body) <= MAX_JUMBF:
            stores.append(body)
    return stores


def _chunks(data: bytes, start: int, layout: str, wanted: bytes) -> Iterator[bytes]:
    pos = start
    while pos + 8 <= len(data):
        first, second = struct.unpack(layout, data[pos : pos + 8])
        kind, length = (second, first) if layout.startswith(">") else (first, second)
        body_start = pos + 8
        if kind == wanted and length <= MAX_JUMBF:
            yield data[body_start : body_start + length]
        pos = body_start + length + (4 if layout.startswith(">") else length & 1)


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, content start, content end) of the ISO BMFF boxes between `start` and `end`."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _assertion_contents(store: bytes, label_prefix: str) -> list[Any]:
    """The decoded CBOR (or JSON) content of every superbox whose label starts with `label_prefix`."""
    found: list[Any] = []
    pending: list[tuple[int, int, int]] = [(0, len(store), 0)]
    while pending:
        start, end, depth = pending.pop()
        if depth > _MAX_DEPTH:
            continue
        for kind, content_start, content_end in _boxes(store, start, end):
            if kind != b"jumb":
                continue
            label = ""
            children = list(_boxes(store, content_start, content_end))
            for child_kind, child_start, child_end in children:
                if child_kind == b"jumd":
                    label = _jumd_label(store[child_start:child_end])
            if label.startswith(label_prefix):
                for child_kind, child_start, child_end in children:
                    if child_kind == b"cbor":
                        try:
                            found.append(decode_cbor(store[child_start:child_end]))
                        except ValueError:
                            continue
                    elif child_kind == b"json":
                        import json

                        try:
                            found.append(json.loads(store[child_start:child_end].decode("utf-8", "replace")))
                        except ValueError:
                            continue
            pending.append((content_start, content_end, depth + 1))
    return found


def _jumd_label(description: bytes) -> str:
    """The label of a JUMBF description box: 16-byte type UUID, a toggles byte, then the NUL-ended label if flagged."""
    if len(description) < 17 or not description[16] & 0x02:
        return ""
    label = description[17:].split(b"\x00", 1)[0]
    return label.decode("utf-8", "replace")


def _actions(content: Any) -> list[dict[str, Any]]:
    if not isinstance(content, dict):
        return []
    actions = content.get("actions")
    return [item for item in actions if isinstance(item, dict)] if isinstance(actions, list) else []


def decode_cbor(data: bytes) -> Any:
    """A CBOR (RFC 8949) value; ValueError for anything malformed, too deep or too large."""
    value, end = _cbor(data, 0, 0)
    if end > len(data):
        raise ValueError("truncated CBOR")
    return value


def _cbor_length(data: bytes, pos: int, info: int) -> tuple[int | None, int]:
    if info < 24:
        return info, pos
    if info == 31:
        return None, pos  # indefinite
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in sizes or pos + sizes[info] > len(data):
        raise ValueError("bad CBOR length")
    width = sizes[info]
    return int.from_bytes(data[pos : pos + width], "big"), pos + width


def _cbor(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > _MAX_DEPTH or pos >= len(data):
        raise ValueError("CBOR too deep or truncated")
    initial = data[pos]
    major, info = initial >> 5, initial & 0x1F
    pos += 1
    if major == 7:
        simple = {20: False, 21: True, 22: None, 23: None}
        if info in simple:
            return simple[info], pos
        formats = {25: (">e", 2), 26: (">f", 4), 27: (">d", 8)}
        if info in formats:
            layout, width = formats[info]
            if pos + width > len(data):
                raise ValueError("truncated CBOR float")
            return struct.unpack(layout, data[pos : pos + width])[0], pos + width
        if info == 24:
            return None, pos + 1
        raise ValueError("unsupported CBOR simple value")
    length, pos = _cbor_length(data, pos, info)
    if major in (0, 1):
        if length is None:
            raise ValueError("indefinite CBOR integer")
        return (length if major == 0 else -1 - length), pos
    if major in (2, 3):
        if length is None:
            chunks = []
            while pos < len(data) and data[pos] != 0xFF:
                chunk, pos = _cbor(data, pos, depth + 1)
                chunks.append(chunk.encode() if isinstance(chunk, str) else chunk)
            raw, pos = b"".join(chunks), pos + 1
        else:
            if pos + length > len(data):
                raise ValueError("truncated CBOR string")
            raw, pos = data[pos : pos + length], pos + length
        return (raw.decode("utf-8", "replace") if major == 3 else bytes(raw)), pos
    if major == 4:
        items: list[Any] = []
        while (length is None and pos < len(data) and data[pos] != 0xFF) or (length is not None and len(items) < length):
            item, pos = _cbor(data, pos, depth + 1)
            items.append(item)
        return items, pos + (1 if length is None else 0)
    if major == 5:
        mapping: dict[Any, Any] = {}
        count = 0
        while (length is None and pos < len(data) and data[pos] != 0xFF) or (length is not None and count < length):
            key, pos = _cbor(data, pos, depth + 1)
            value, pos = _cbor(data, pos, depth + 1)
            mapping[key if isinstance(key, (str, int, float, bool)) or key is None else repr(key)] = value
            count += 1
        return mapping, pos + (1 if length is None else 0)
    # major 6: a tag, followed by the tagged value
    return _cbor(data, pos, depth + 1)
