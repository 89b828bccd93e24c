"""Whether every rendered case card shows its disclosure visibly, under its photos, as their description (CG404)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


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


def rendered_cards(page_html: str) -> list[str]:
    """Case ids of every card in the page, in order."""
    reader = _CardReader()
    reader.feed(page_html)
    reader.close()
    return reader.order
