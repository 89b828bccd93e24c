"""The output guard: every file of a built site, checked before it may be deployed (CG601-CG604)."""

from __future__ import annotations

import enum
import gzip
import hashlib
import html
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import CG601, CG602, CG603, CG604
from ..images import formats
from ..violations import Violation, Where

_TEXT_SUFFIXES = {
    ".html",
    ".htm",
    ".xml",
    ".json",
    ".js",
    ".mjs",
    ".css",
    ".txt",
    ".map",
    ".webmanifest",
    ".svg",
    ".csv",
    ".yml",
    ".yaml",
    ".md",
}


class Secret(enum.Enum):
    """Kinds of string the site must not contain, and how each is matched."""

    PATIENT_REF = "patient_ref"
    CONSENT_ID = "consent id"
    RAW_PHOTO_NAME = "raw photo file name"
    REMOVED_CASE = "removed case"

    @property
    def any_case(self) -> bool:
        """Identifiers of people, releases and files match in any letter case; case slugs only as written."""
        return self is not Secret.REMOVED_CASE


@dataclass(frozen=True)
class Forbidden:
    """What must never appear in a built site."""

    strings: Mapping[str, tuple[Secret, str]]  # the string -> its kind and what to call it ("patient_ref of consent X")
    file_hashes: Mapping[str, str]  # sha256 of raw originals, manifest, register -> their names
    own_images: frozenset[str]  # file names of images this build published


def guard_site(site_dir: Path, forbidden: Forbidden, image_folder: str) -> list[Violation]:
    """Walk every file of the site: CG601 metadata, CG602 raw originals, CG603 identifiers, CG604 strays."""
    found: list[Violation] = []
    finder = _Finder(forbidden.strings)
    for folder, _dirs, names in os.walk(site_dir):
        for name in names:
            path = Path(folder) / name
            relative = path.relative_to(site_dir).as_posix()
            where = Where(f"site/{relative}")
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest in forbidden.file_hashes:
                found.append(
                    Violation(
                        CG602,
                        where,
                        f"is a byte copy of {forbidden.file_hashes[digest]}",
                        "keep originals, the manifest and the register out of docs_dir, and find what copied it into the site",
                    )
                )
                continue
            for what in finder.find(relative):
                found.append(Violation(CG603, where, f"file path contains {what}", "rename the file"))
            in_gallery = relative.startswith(image_folder + "/")
            fmt = formats.sniff(data)
            if in_gallery and fmt in {"jpeg", "png", "webp", "avif"}:
                if name not in forbidden.own_images:
                    found.append(
                        Violation(
                            CG604,
                            where,
                            "image in the gallery folder was not produced by this build",
                            "remove whatever copies files into the gallery folder",
                        )
                    )
                else:
                    issues = formats.problems(data, fmt)
                    if issues:
                        found.append(
                            Violation(
                                CG601,
                                where,
                                f"published image holds more than pixels: {'; '.join(issues)}",
                                "report this: the pipeline must never write metadata",
                            )
                        )
                continue
            text = _text_of(path, data)
            if text is None:
                continue
            for what in finder.find(text):
                found.append(Violation(CG603, where, f"contains {what}", "remove it from the page, or from whatever produced this file"))
    return found


_TOKEN = re.compile(r"[A-Za-z0-9_.-]+")


class _Finder:
    """Every forbidden string in one pass over the text, as whole tokens: removed `lips-1` does not flag `lips-10`.

    Identifiers of people and releases match in any letter case; removed case slugs match as written. Ids are
    found by splitting the text into tokens and looking them up, which stays fast with tens of thousands of ids.
    """

    def __init__(self, strings: Mapping[str, tuple[Secret, str]]):
        self.folded: dict[str, str] = {}
        self.exact: dict[str, str] = {}
        self.others: list[tuple[re.Pattern[str], str]] = []
        for text, (kind, what) in strings.items():
            if not text:
                continue
            as_written = not kind.any_case
            if _TOKEN.fullmatch(text):
                if as_written:
                    self.exact[text] = what
                else:
                    self.folded[text.casefold()] = what
            else:
                flags = 0 if as_written else re.IGNORECASE
                self.others.append((re.compile(r"(?<![A-Za-z0-9_-])" + re.escape(text) + r"(?![A-Za-z0-9_-])", flags), what))
        keys = [*self.folded, *self.exact]
        self.max_parts = max((k.count(".") + 1 for k in keys), default=1)

    def find(self, text: str) -> list[str]:
        """What each forbidden string found in `text` is, once per string, sorted."""
        hits: set[str] = set()
        if self.folded or self.exact:
            # Each distinct token once: pages and scripts repeat most of theirs many times.
            for token in set(_TOKEN.findall(text)):
                if "." not in token:
                    if token in self.exact:
                        hits.add(self.exact[token])
                    folded = self.folded.get(token.casefold())
                    if folded is not None:
                        hits.add(folded)
                    continue
                parts = token.split(".")
                for start in range(len(parts)):
                    for end in range(start + 1, min(len(parts), start + self.max_parts) + 1):
                        candidate = ".".join(parts[start:end])
                        # '-' and '_' are part of an id; a token's own edges of them are not boundaries.
                        if candidate in self.exact:
                            hits.add(self.exact[candidate])
                        folded = self.folded.get(candidate.casefold())
                        if folded is not None:
                            hits.add(folded)
        for pattern, what in self.others:
            if pattern.search(text):
                hits.add(what)
        return sorted(hits)


def _text_of(path: Path, data: bytes) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return None
        suffix = Path(path.stem).suffix.lower()
    if suffix not in _TEXT_SUFFIXES:
        return None
    text = data.decode("utf-8", "replace")
    # Identifiers may be escaped in HTML or JSON; search the unescaped form too.
    return text + "\n" + html.unescape(text).replace("\\/", "/")
