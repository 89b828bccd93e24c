"""Checks on what a build produced: disclosures inside rendered cards (CG404), and the output guard (CG6xx)."""

from __future__ import annotations

import gzip
import hashlib
import html
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from ..images import formats
from ..violations import Violation, Where

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
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


def _normalise(text: str) -> str:
    return " ".join(html.unescape(text).split())


# Classes that themes and CSS frameworks use to hide text from sighted readers (screen-reader-only, display:none).
_HIDING_CLASSES = {"sr-only", "visually-hidden", "md-visually-hidden", "screen-reader-text", "hidden", "is-hidden", "d-none", "invisible"}
_HIDING_TAGS = {"details", "template", "dialog", "noscript", "script", "style"}


@dataclass
class _Card:
    """What one rendered case card shows: visible text, text after its last photo, described-by targets."""

    text: list[str] = field(default_factory=list)
    after_photos: list[str] = field(default_factory=list)
    photos: int = 0
    by_id: dict[str, list[str]] = field(default_factory=dict)
    described_by: list[str | None] = field(default_factory=list)


class _CardReader(HTMLParser):
    """Collects, per case card, the text a reader can see without opening anything."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, str | None, str | None]] = []  # (tag, hides content, card id it opens, element id)
        self.cards: dict[str, _Card] = {}
        self.order: list[str] = []

    def _hidden(self) -> bool:
        return any(hides for _, hides, _, _ in self.stack)

    def _card(self) -> _Card | None:
        for _, _, card, _ in reversed(self.stack):
            if card is not None:
                return self.cards[card]
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in _VOID:
            card = self._card()
            if tag == "img" and card is not None and not self._hidden() and "hidden" not in values:
                card.photos += 1
                card.after_photos = []
            return
        style = (values.get("style") or "").replace(" ", "").lower()
        hides = (
            tag in _HIDING_TAGS
            or "hidden" in values
            or values.get("aria-hidden") == "true"
            or "display:none" in style
            or "visibility:hidden" in style
            or bool(_HIDING_CLASSES.intersection((values.get("class") or "").split()))
        )
        case_id = values.get("data-cg-case")
        if case_id is not None:
            self.cards.setdefault(case_id, _Card())
            self.order.append(case_id)
        card = self.cards[case_id] if case_id is not None else self._card()
        element_id = values.get("id")
        if card is not None:
            if element_id:
                card.by_id.setdefault(element_id, [])
            if tag == "figure":
                card.described_by.append(values.get("aria-describedby"))
        self.stack.append((tag, hides, case_id, element_id))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if self._hidden():
            return
        card = self._card()
        if card is None:
            return
        card.text.append(data)
        card.after_photos.append(data)
        for _, _, _, element_id in self.stack:
            if element_id and element_id in card.by_id:
                card.by_id[element_id].append(data)


def _contains(chunks: Iterable[str], texts: Iterable[str]) -> list[str]:
    """The texts not found in the joined chunks."""
    visible = _normalise(" ".join(chunks))
    return [text for text in texts if _normalise(text) not in visible]


def disclosure_problems(page_html: str, expected: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """CG404 per case: why its card does not show its disclosure visibly, under its photos, as the photos' description."""
    reader = _CardReader()
    reader.feed(page_html)
    reader.close()
    problems: dict[str, str] = {}
    for case_id, wanted in expected.items():
        texts = list(wanted)
        card = reader.cards.get(case_id)
        if card is None:
            problems[case_id] = "no card for this case in the page (the data-cg-case attribute is gone)"
            continue
        absent = _contains(card.text, texts)
        if absent:
            problems[case_id] = f"the card does not show its disclosure ({'; '.join(absent)[:120]})"
            continue
        if card.photos and _contains(card.after_photos, texts):
            problems[case_id] = "the card shows its disclosure above its photos; it must come directly under them"
            continue
        for target in card.described_by:
            if not target or not any(not _contains(card.by_id.get(ref, []), texts) for ref in target.split()):
                problems[case_id] = (
                    f"a photo figure's aria-describedby ({target or 'missing'}) does not point at the disclosure block in the card"
                )
                break
    return problems


def missing_disclosures(page_html: str, expected: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """For each expected case: the disclosure texts not visible inside its card (all of them if no card)."""
    reader = _CardReader()
    reader.feed(page_html)
    reader.close()
    missing: dict[str, list[str]] = {}
    for case_id, texts in expected.items():
        card = reader.cards.get(case_id)
        absent = _contains(card.text, texts) if card else list(texts)
        if absent:
            missing[case_id] = absent
    return missing


def rendered_cards(page_html: str) -> list[str]:
    """Case ids of every card in the page, in order."""
    reader = _CardReader()
    reader.feed(page_html)
    reader.close()
    return reader.order


@dataclass(frozen=True)
class Forbidden:
    """What must never appear in a built site."""

    strings: Mapping[str, str]  # the string -> what it is ("patient_ref of consent X")
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
                        "CG602",
                        where,
                        f"is a byte copy of {forbidden.file_hashes[digest]}",
                        "keep originals, the manifest and the register out of docs_dir, and find what copied it into the site",
                    )
                )
                continue
            for what in finder.find(relative):
                found.append(Violation("CG603", where, f"file path contains {what}", "rename the file"))
            in_gallery = relative.startswith(image_folder + "/")
            fmt = formats.sniff(data)
            if in_gallery and fmt in {"jpeg", "png", "webp", "avif"}:
                if name not in forbidden.own_images:
                    found.append(
                        Violation(
                            "CG604",
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
                                "CG601",
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
                found.append(Violation("CG603", where, f"contains {what}", "remove it from the page, or from whatever produced this file"))
    return found


_TOKEN = re.compile(r"[A-Za-z0-9_.-]+")


class _Finder:
    """Every forbidden string in one pass over the text, as whole tokens: removed `lips-1` does not flag `lips-10`.

    Identifiers of people and releases match in any letter case; removed case slugs match as written. Ids are
    found by splitting the text into tokens and looking them up, which stays fast with tens of thousands of ids.
    """

    def __init__(self, strings: Mapping[str, str]):
        self.folded: dict[str, str] = {}
        self.exact: dict[str, str] = {}
        self.others: list[tuple[re.Pattern[str], str]] = []
        for text, what in strings.items():
            if not text:
                continue
            as_written = what.startswith("removed case")
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
