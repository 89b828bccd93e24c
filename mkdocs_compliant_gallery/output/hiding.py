"""CG404 from style: no stylesheet the built site ships may hide or shrink a case card's disclosure.

Every page with case cards is parsed as a browser parses it (html5lib); its stylesheets (`<link>`ed files,
their `@import`s, inline `<style>`) and `style=` attributes are matched against that tree (cssselect2); and
the cascade is resolved for each element from the root down to the disclosure block and inside it. A rule
fails the build when it can remove, hide, clip, move away, shrink or cover the disclosure, or colour its text
like its background: under any screen media query and any user state (`:hover`, `:checked`), since a visitor
may meet either. Each stylesheet is parsed once per build.

What a static reading cannot see (scripts that restyle the page, fonts without glyphs, a sibling positioned
over the card) is what `compliant-gallery verify --browser` measures in a real browser.
"""

from __future__ import annotations

import math
import posixpath
import urllib.parse
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import cssselect2
import html5lib
from cssselect2 import ElementWrapper
from tinycss2.ast import Node

from ..catalogue import CG404
from ..violations import Violation, Where
from .stylesheets import (
    SCHEME_ATTRIBUTE,
    Applies,
    Declaration,
    Sheet,
    StyleRule,
    components,
    longhand_value,
    media_applies,
    parse_sheet,
    parse_style_attribute,
)
from .values import RGBA, VIEWPORT, Lengths, colour, contrast, font_size_px, hex_of, number, over, substitute, to_px

DISCLOSURE_CLASS = "cg-disclosure"
# WCAG 2 AA for body text; the disclosure is body text.
MIN_CONTRAST = 4.5
# Shrunk: smaller than this share of the page's text around the gallery, or than this many pixels.
MIN_SIZE_SHARE = 0.75
MIN_SIZE_PX = 8.0
# Far enough to leave any screen: offsets, margins, translations and indents of this many pixels or more.
FAR_PX = 500.0
# A box this small (or a clip this small) shows no readable line of text.
TINY_PX = 16.0
# Remote stylesheets that serve only @font-face rules, which cannot hide text by selector.
FONT_SERVICES = ("https://fonts.googleapis.com/css", "http://fonts.googleapis.com/css", "//fonts.googleapis.com/css")
_WHITE: RGBA = (1.0, 1.0, 1.0, 1.0)
_BLACK: RGBA = (0.0, 0.0, 0.0, 1.0)
_FIX = (
    "remove this rule, or narrow its selector so it no longer reaches the disclosure ('.cg-disclosure') or the card "
    "around it: the disclosure must stay visible in the card, at the size of the page's text, in full contrast"
)


@dataclass(frozen=True)
class Applied:
    """A declaration that reaches an element, with where it was written and how strongly it applies."""

    declaration: Declaration
    sheet: str
    line: int
    origin: StyleRule | str  # the rule, or what a style attribute is on
    condition: str | None
    key: tuple[bool, bool, bool, tuple[int, int, int], int]

    @property
    def selector(self) -> str:
        return self.origin if isinstance(self.origin, str) else self.origin.selector

    def describe(self) -> str:
        when = f" under {self.condition}" if self.condition else ""
        return f"'{self.declaration.written}'{when}"


class _Style:
    """Every declaration that reaches one element (or its ::before/::after), per property, strongest first."""

    def __init__(self) -> None:
        self.by_property: dict[str, list[Applied]] = {}
        self.custom: list[str] = []

    def add(self, applied: Applied) -> None:
        self.by_property.setdefault(applied.declaration.name, []).append(applied)

    def finish(self) -> None:
        for candidates in self.by_property.values():
            candidates.sort(key=lambda a: a.key, reverse=True)
        self.custom = [name for name in self.by_property if name.startswith("--")]

    def possible(self, name: str) -> list[Applied]:
        """The declarations that win some of the time: conditional ones stronger than the plain winner, and it."""
        found = []
        for applied in self.by_property.get(name, ()):
            found.append(applied)
            if applied.condition is None:
                break
        return found

    def winner(self, name: str, context: str | None) -> Applied | None:
        """The declaration that applies when only unconditional rules and those under `context` hold."""
        for applied in self.by_property.get(name, ()):
            if applied.condition is None or applied.condition == context:
                return applied
        return None

    def conditions(self, names: Iterable[str]) -> set[str]:
        """The conditions under which some declaration of these properties applies."""
        return {a.condition for name in names for a in self.by_property.get(name, ()) if a.condition is not None}


@dataclass
class _Computed:
    """The inherited values of one element in one context."""

    custom: dict[str, tuple[Node, ...]]
    font: float
    root_font: float
    colour: RGBA | None
    colour_from: Applied | None
    opacity: float
    opacity_from: Applied | None = None
    custom_from: dict[str, Applied] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One rule that hides or shrinks the disclosure of one card."""

    applied: Applied
    what: str  # what it does, for the message
    case: str
    page: str
    kind: str = ""  # which check found it: one finding per rule and check is reported


@dataclass
class _Sightings:
    first: Finding
    cards: set[tuple[str, str]] = field(default_factory=set)


class _Page:
    """One page's tree, stylesheets and style attributes, and the cascade resolved on demand."""

    def __init__(
        self,
        tree: ElementTree.Element,
        sheets: Sequence[Sheet],
        inline: Mapping[int, tuple[str, int, tuple[Declaration, ...]]],
        scheme: str | None,
    ):
        self.root = ElementWrapper.from_html_root(tree)
        self.scheme = scheme  # the colour scheme the page is built in (Material's data-md-color-scheme)
        self.chains = list(_chains(self.root))
        # Only rules whose subject could be one of the elements checked are compiled and matched.
        keys: set[str] = set()
        for chain in self.chains:
            for element in (*chain.ancestors, *chain.inside):
                keys.add(element.local_name.lower())
                keys.update("." + name for name in element.classes)
                if element.id:
                    keys.add("#" + element.id)
        self.matcher = cssselect2.Matcher()
        for sheet in sheets:
            for rule in sheet.rules:
                if rule.key is None or rule.key in keys:
                    compiled = rule.compiled if rule.scheme in (None, scheme) else rule.compiled_any_scheme
                    if compiled is not None:
                        self.matcher.add_selector(compiled, rule)
        self.inline = inline
        self.styles: dict[int, dict[str | None, _Style]] = {}
        self.computed: dict[tuple[int, str | None], _Computed] = {}
        self.boxes: dict[tuple[int, str], list[tuple[Applied, str]]] = {}

    def style(self, element: ElementWrapper, pseudo: str | None = None) -> _Style:
        cached = self.styles.get(id(element.etree_element))
        if cached is None:
            cached = {None: _Style(), "before": _Style(), "after": _Style()}
            for specificity, order, element_pseudo, rule in self.matcher.match(element):
                if element_pseudo not in cached:
                    continue
                condition = rule.condition
                if rule.scheme is not None and rule.scheme != self.scheme:
                    condition = f"{condition} " if condition else ""
                    condition += f"the '{rule.scheme}' colour scheme"
                for declaration in rule.declarations:
                    key = (declaration.important, False, declaration.important == rule.layered, specificity, order)
                    cached[element_pseudo].add(Applied(declaration, rule.sheet, declaration.line, rule, condition, key))
            attribute = self.inline.get(id(element.etree_element))
            if attribute is not None:
                label, line, declarations = attribute
                selector = f"style attribute of {_describe(element)}"
                for index, declaration in enumerate(declarations):
                    key = (declaration.important, True, True, (0, 0, 0), index)
                    cached[None].add(Applied(declaration, label, line, selector, None, key))
            for style in cached.values():
                style.finish()
            self.styles[id(element.etree_element)] = cached
        return cached[pseudo]

    def box_problems(self, element: ElementWrapper, region: str) -> list[tuple[Applied, str]]:
        """What the element's own declarations and its ::before/::after do to what is in it (cards share ancestors)."""
        key = (id(element.etree_element), region)
        found = self.boxes.get(key)
        if found is None:
            found = list(_box_problems(self, element, region))
            for pseudo in ("before", "after"):
                overlay = _overlay(self, element, pseudo)
                if overlay is not None:
                    found.append((overlay, f"its ::{pseudo} box, with content and a background, is positioned over the {_role(region)}"))
            self.boxes[key] = found
        return found

    def value(self, element: ElementWrapper, applied: Applied) -> list[Node] | None:
        """A declaration's value for this element: `var()` substituted, the longhand taken out of a shorthand."""
        custom = self.compute(element, applied.condition).custom
        substituted = substitute(applied.declaration.value, custom)
        if substituted is None:
            return None
        return longhand_value(applied.declaration, substituted)

    def compute(self, element: ElementWrapper, context: str | None) -> _Computed:
        key = (id(element.etree_element), context)
        found = self.computed.get(key)
        if found is not None:
            return found
        parent = self.compute(element.parent, context) if element.parent is not None else _Computed({}, 16.0, 16.0, _BLACK, None, 1.0, None)
        style = self.style(element)
        custom = dict(parent.custom)
        custom_from = dict(parent.custom_from)
        for name in style.custom:
            winner = style.winner(name, context)
            if winner is not None:
                keyword = _keyword(winner.declaration.value)
                if keyword == "initial":
                    custom.pop(name, None)
                elif keyword not in ("inherit", "unset"):
                    custom[name] = winner.declaration.value
                    custom_from[name] = winner
        computed = _Computed(
            custom, parent.font, parent.root_font, parent.colour, parent.colour_from, parent.opacity, parent.opacity_from, custom_from
        )
        self.computed[key] = computed  # custom properties are all a value below needs
        size = style.winner("font-size", context)
        if size is not None:
            parts = self._parts(element, size, custom)
            keyword = _keyword(parts or ())
            if keyword == "initial":
                computed.font = 16.0
            elif parts is not None and keyword not in ("inherit", "unset"):
                px = font_size_px(parts, parent.font, parent.root_font if element.parent is not None else 16.0)
                if px is not None:
                    computed.font = px
        if element.parent is None:
            computed.root_font = computed.font
        for name in ("color", "-webkit-text-fill-color"):
            winner = style.winner(name, context)
            if winner is None:
                continue
            parts = self._parts(element, winner, custom)
            value = colour(parts) if parts is not None else None
            if isinstance(value, tuple):
                computed.colour, computed.colour_from = value, winner
            elif parts is not None and _keyword(parts) == "initial":
                computed.colour, computed.colour_from = _BLACK, winner
        opacity = style.winner("opacity", context)
        if opacity is not None:
            parts = self._parts(element, opacity, custom)
            amount = number(parts) if parts is not None else None
            if amount is not None and amount < 1:
                computed.opacity = parent.opacity * max(0.0, amount)
                computed.opacity_from = opacity
        return computed

    def _parts(self, element: ElementWrapper, applied: Applied, custom: Mapping[str, tuple[Node, ...]]) -> list[Node] | None:
        substituted = substitute(applied.declaration.value, custom)
        return None if substituted is None else longhand_value(applied.declaration, substituted)

    def background(self, element: ElementWrapper, context: str | None) -> tuple[RGBA | None, bool, Applied | None]:
        """The element's own background colour (None when transparent), whether it has an image, and who set it."""
        style = self.style(element)
        custom = self.compute(element, context).custom
        image = style.winner("background-image", context)
        has_image = False
        if image is not None:
            parts = self._parts(element, image, custom)
            has_image = parts is not None and _keyword(parts) not in ("none", "initial", "unset", "inherit")
        paint = style.winner("background-color", context)
        if paint is None:
            return None, has_image, None
        parts = self._parts(element, paint, custom)
        value = colour(parts) if parts is not None else None
        if isinstance(value, tuple) and value[3] > 0:
            return value, has_image, paint
        return None, has_image, None


def _ours(applied: Applied) -> bool:
    return applied.sheet.endswith("compliant-gallery.css")


def _author_of(applied: Applied, computed: _Computed) -> Applied:
    """Who chose a value: for the gallery's own `color: var(--md-default-fg-color)`, whoever set that property."""
    if not _ours(applied):
        return applied
    for token in applied.declaration.value:
        if token.type == "function" and token.lower_name == "var":
            names = [t.value for t in token.arguments if t.type == "ident"]
            source = computed.custom_from.get(names[0]) if names else None
            if source is not None:
                return source
    return applied


def _keyword(parts: Sequence[Node]) -> str | None:
    tokens = components(parts)
    return tokens[0].lower_value if len(tokens) == 1 and tokens[0].type == "ident" else None


def _describe(element: ElementWrapper) -> str:
    classes = element.etree_element.get("class")
    return f"<{element.local_name}{f' class={classes!r}' if classes else ''}>"


# -- the checks ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chain:
    """One disclosure block: the elements from the root down to it, and the elements inside it."""

    case: str
    ancestors: tuple[ElementWrapper, ...]  # root first, the card among them
    card_depth: int  # index of the card in `ancestors`
    disclosure: ElementWrapper
    inside: tuple[ElementWrapper, ...]  # the disclosure and everything in it
    reference: ElementWrapper  # the element whose text size the disclosure must keep: around the gallery


def _check_chain(page: _Page, chain: _Chain, page_label: str) -> list[Finding]:
    found: list[Finding] = []

    def report(applied: Applied, what: str, kind: str = "") -> None:
        found.append(Finding(applied, what, chain.case, page_label, kind or what))

    elements = [*chain.ancestors, *chain.inside]
    for depth, element in enumerate(elements):
        region = "above" if depth < chain.card_depth else ("card" if depth < len(chain.ancestors) else "inside")
        for applied, what in page.box_problems(element, region):
            report(applied, what, applied.declaration.name)
    texts = [e for e in chain.inside if _has_text(e)]
    for text_element in texts:
        path = [*chain.ancestors, *_path_inside(chain, text_element)]
        for name, what in (
            ("visibility", "makes the disclosure invisible"),
            ("text-indent", "pushes the disclosure's text off the screen"),
        ):
            culprit = _inherited_problem(page, path, name)
            if culprit is not None:
                report(culprit, f"{culprit.describe()} {what}", name)
        contexts = _contexts(page, path)
        for context in contexts:
            size = _size_problem(page, path, chain.reference, context)
            if size is not None:
                report(*size, "size")
            readability = _contrast_problem(page, path, context)
            if readability is not None:
                blamed = readability[0]
                # Transparency is one problem however it is found.
                report(*readability, "opacity" if blamed.declaration.name == "opacity" else "contrast")
    return found


def _role(region: str) -> str:
    return {"above": "page around the card", "card": "card", "inside": "disclosure"}[region]


def _path_inside(chain: _Chain, element: ElementWrapper) -> list[ElementWrapper]:
    path = [element]
    while path[-1] is not chain.disclosure and path[-1].parent is not None:
        path.append(path[-1].parent)
    return list(reversed(path))


def _has_text(element: ElementWrapper) -> bool:
    node = element.etree_element
    if (node.text or "").strip():
        return True
    return any((child.tail or "").strip() for child in node)


# What the size and contrast checks read: a condition on anything else does not change their outcome.
_READ_PROPERTIES = ("font-size", "color", "-webkit-text-fill-color", "background-color", "background-image", "opacity")


def _contexts(page: _Page, path: Sequence[ElementWrapper]) -> list[str | None]:
    conditions: set[str] = set()
    for element in path:
        style = page.style(element)
        conditions |= style.conditions((*_READ_PROPERTIES, *style.custom))
    return [None, *sorted(conditions)]


def _box_problems(page: _Page, element: ElementWrapper, region: str) -> Iterator[tuple[Applied, str]]:
    """What one element's own (not inherited) declarations can do to everything in it."""
    style = page.style(element)
    whole = "the card" if region != "inside" else "the disclosure"

    def each(name: str) -> Iterator[tuple[Applied, list[Node]]]:
        for applied in style.possible(name):
            parts = page.value(element, applied)
            if parts is not None:
                yield applied, parts

    font = page.compute(element, None).font
    root = page.compute(element, None).root_font
    for applied, parts in each("display"):
        if _keyword(parts) == "none":
            yield applied, f"{applied.describe()} removes {whole} from the page"
    for applied, parts in each("content-visibility"):
        if _keyword(parts) == "hidden":
            yield applied, f"{applied.describe()} skips drawing {whole}"
    for applied, parts in each("opacity"):
        amount = number(parts)
        if amount is not None and amount < 0.5:
            yield applied, f"{applied.describe()} makes {whole} (nearly) transparent"
    for applied, parts in each("filter"):
        problem = _filter_problem(parts, Lengths(font, root))
        if problem:
            yield applied, f"{applied.describe()} {problem} {whole}"
    for applied, parts in each("clip"):
        if _clip_hides(parts, Lengths(font, root)):
            yield applied, f"{applied.describe()} clips {whole} away"
    for applied, parts in each("clip-path"):
        if _clip_path_hides(parts):
            yield applied, f"{applied.describe()} clips {whole}"
    for name in ("transform", "scale", "translate"):
        for applied, parts in each(name):
            problem = _transform_problem(name, parts, Lengths(font, root))
            if problem:
                yield applied, f"{applied.describe()} {problem} {whole}"
    positioned = any(_keyword(parts) not in (None, "static", "initial", "unset") for _, parts in each("position"))
    if positioned:
        for side in ("top", "right", "bottom", "left"):
            across = VIEWPORT[0] if side in ("left", "right") else VIEWPORT[1]
            for applied, parts in each(side):
                px = to_px(parts, Lengths(font, root, across))
                if px is not None and abs(px) >= FAR_PX:
                    yield applied, f"{applied.describe()} on a positioned element moves {whole} off the screen"
    for side in ("left", "top", "right"):
        for applied, parts in each(f"margin-{side}"):
            px = to_px(parts, Lengths(font, root, VIEWPORT[0]))
            if px is not None and px <= -FAR_PX:
                yield applied, f"{applied.describe()} moves {whole} off the screen"
    overflow = [(a, _keyword(p)) for name in ("overflow-x", "overflow-y") for a, p in each(name)]
    cut = [a for a, keyword in overflow if keyword in ("hidden", "clip", "scroll", "auto")]
    if cut:
        for name in ("height", "max-height", "width", "max-width"):
            for applied, parts in each(name):
                px = to_px(parts, Lengths(font, root, None))
                # Inside the card any fixed size can cut the disclosure off; around it, only a tiny one.
                if px is not None and (px < TINY_PX or region != "above"):
                    yield applied, f"{applied.describe()} with {cut[0].describe()} can cut {whole} off"
    if region != "above" and positioned:
        for applied, parts in each("z-index"):
            tokens = components(parts)
            if len(tokens) == 1 and tokens[0].type == "number" and tokens[0].value < 0:
                yield applied, f"{applied.describe()} puts {whole} behind the card's background"
    if region == "inside":
        for applied, parts in each("content"):
            if _keyword(parts) not in ("normal", "none", "initial", "unset", "inherit"):
                yield applied, f"{applied.describe()} replaces the disclosure's text"


def _overlay(page: _Page, element: ElementWrapper, pseudo: str) -> Applied | None:
    """A ::before/::after that exists, is taken out of the flow and paints a background: it can cover the text."""
    style = page.style(element, pseudo)
    if not style.by_property:
        return None

    def values(name: str) -> list[tuple[Applied, list[Node]]]:
        custom = page.compute(element, None).custom
        found = []
        for applied in style.possible(name):
            substituted = substitute(applied.declaration.value, custom)
            parts = None if substituted is None else longhand_value(applied.declaration, substituted)
            if parts is not None:
                found.append((applied, parts))
        return found

    behind = values("z-index")
    if behind and behind[0][0].condition is None and all(_negative(parts) for _, parts in behind):
        return None  # painted behind the content, as MkDocs' own theme paints its page background
    content = [a for a, parts in values("content") if _keyword(parts) not in ("none", "normal", "initial", "unset")]
    positioned = [a for a, parts in values("position") if _keyword(parts) in ("absolute", "fixed")]
    painted = [a for a, parts in values("background-color") if _painted(colour(parts))]
    painted += [a for a, parts in values("background-image") if _keyword(parts) not in ("none", "initial", "unset")]
    if content and positioned and painted:
        return content[0]
    return None


def _negative(parts: Sequence[Node]) -> bool:
    tokens = components(parts)
    return len(tokens) == 1 and tokens[0].type == "number" and tokens[0].value < 0


def _painted(value: RGBA | str | None) -> bool:
    return isinstance(value, tuple) and value[3] > 0


def _filter_problem(parts: Sequence[Node], lengths: Lengths) -> str | None:
    for token in components(parts):
        if token.type == "url":
            return "applies an SVG filter that can hide"
        if token.type != "function":
            continue
        arguments = components(token.arguments)
        if token.lower_name == "opacity" and arguments:
            amount = number(arguments[:1])
            if amount is not None and amount < 0.5:
                return "makes (nearly) transparent"
        if token.lower_name == "blur" and arguments:
            px = to_px(arguments[:1], lengths)
            if px is not None and px >= 2:
                return "blurs beyond reading"
        if token.lower_name == "url":
            return "applies an SVG filter that can hide"
    return None


def _clip_hides(parts: Sequence[Node], lengths: Lengths) -> bool:
    tokens = components(parts)
    if len(tokens) != 1 or tokens[0].type != "function" or tokens[0].lower_name != "rect":
        return False
    edges = [t for t in components(tokens[0].arguments) if not (t.type == "literal" and t.value == ",")]
    if len(edges) != 4:
        return True
    top, right, bottom, left = (math.inf if t.type == "ident" else to_px([t], lengths) for t in edges)
    if None in (top, right, bottom, left):
        return True
    assert top is not None and right is not None and bottom is not None and left is not None
    width = right - left if math.isfinite(right) and math.isfinite(left) else math.inf
    height = bottom - top if math.isfinite(bottom) and math.isfinite(top) else math.inf
    return width < TINY_PX or height < TINY_PX


def _clip_path_hides(parts: Sequence[Node]) -> bool:
    tokens = components(parts)
    if not tokens or _keyword(tokens) in ("none", "initial", "unset", "inherit"):
        return False
    if len(tokens) == 1 and tokens[0].type == "function" and tokens[0].lower_name == "inset":
        # inset(0) and inset(0 round 4px) clip nothing that matters
        edges = components(tokens[0].arguments)
        until_round = []
        for token in edges:
            if token.type == "ident" and token.lower_value == "round":
                break
            until_round.append(token)
        return not all(t.type in ("number", "dimension", "percentage") and t.value <= 0 for t in until_round)
    return True


def _transform_problem(name: str, parts: Sequence[Node], lengths: Lengths) -> str | None:
    tokens = components(parts)
    if name == "scale":
        factors = [number([t]) for t in tokens]
        if factors and all(f is not None for f in factors) and min(f for f in factors if f is not None) < 0.5:
            return "shrinks"
        return None
    if name == "translate":
        distances = [to_px([t], Lengths(lengths.font, lengths.root, VIEWPORT[0])) for t in tokens]
        if any(d is not None and abs(d) >= FAR_PX for d in distances):
            return "moves off the screen"
        return None
    for token in tokens:
        if token.type != "function":
            continue
        function = token.lower_name
        arguments = [t for t in components(token.arguments) if not (t.type == "literal" and t.value == ",")]
        if function in ("scale", "scalex", "scaley", "scale3d"):
            factors = [number([t]) for t in arguments[:2]]
            if any(f is not None and abs(f) < 0.5 for f in factors):
                return "shrinks"
        elif function in ("translate", "translatex", "translatey", "translate3d"):
            distances = [to_px([t], Lengths(lengths.font, lengths.root, VIEWPORT[0])) for t in arguments[:2]]
            if any(d is not None and abs(d) >= FAR_PX for d in distances):
                return "moves off the screen"
        elif function in ("matrix", "matrix3d"):
            values = [number([t]) for t in arguments]
            if any(v is None for v in values):
                continue
            numbers = [v for v in values if v is not None]
            if function == "matrix" and len(numbers) == 6:
                a, b, c, d, e, f = numbers
                if math.hypot(a, b) < 0.5 or math.hypot(c, d) < 0.5:
                    return "shrinks"
                if abs(e) >= FAR_PX or abs(f) >= FAR_PX:
                    return "moves off the screen"
            elif len(numbers) == 16 and (math.hypot(numbers[0], numbers[1]) < 0.5 or math.hypot(numbers[4], numbers[5]) < 0.5):
                return "shrinks"
    return None


def _inherited_problem(page: _Page, path: Sequence[ElementWrapper], name: str) -> Applied | None:
    """For an inherited property: the nearest declaration on the path that hides, unless a nearer one undoes it for sure."""
    culprit: Applied | None = None
    for element in path:
        style = page.style(element)
        for applied in style.possible(name):
            parts = page.value(element, applied)
            if parts is None:
                continue
            if _inherited_hides(name, parts, page.compute(element, applied.condition)):
                culprit = applied
                break
            if applied.condition is None and _keyword(parts) not in ("inherit", "unset"):
                culprit = None
    return culprit


def _inherited_hides(name: str, parts: Sequence[Node], computed: _Computed) -> bool:
    if name == "visibility":
        return _keyword(parts) in ("hidden", "collapse")
    tokens = components(parts)
    if tokens and tokens[0].type == "percentage":
        return abs(float(tokens[0].value)) >= 100
    px = to_px(tokens[:1], Lengths(computed.font, computed.root_font, VIEWPORT[0]))
    return px is not None and abs(px) >= FAR_PX


def _size_problem(
    page: _Page, path: Sequence[ElementWrapper], reference: ElementWrapper, context: str | None
) -> tuple[Applied, str] | None:
    text = page.compute(path[-1], context).font
    around = page.compute(reference, context).font
    if text >= MIN_SIZE_PX and text >= MIN_SIZE_SHARE * around:
        return None
    # Blame the declaration that shrank the text the most on the way down.
    worst: tuple[float, Applied] | None = None
    for element in path:
        if element.parent is None:
            continue
        winner = page.style(element).winner("font-size", context)
        if winner is None:
            continue
        parent = page.compute(element.parent, context).font
        ratio = page.compute(element, context).font / parent if parent > 0 else 1.0
        if worst is None or ratio < worst[0]:
            worst = (ratio, winner)
    if worst is None:
        return None
    when = f" under {context}" if context else ""
    return worst[1], f"{worst[1].describe()} makes the disclosure's text {text:.1f}px{when}, against {around:.1f}px for the page's text"


def _contrast_problem(page: _Page, path: Sequence[ElementWrapper], context: str | None) -> tuple[Applied, str] | None:
    element = path[-1]
    computed = page.compute(element, context)
    if computed.colour is None or computed.colour_from is None:
        return None
    layers: list[RGBA] = []
    painter: Applied | None = None
    base = _WHITE
    for ancestor in reversed(path):
        paint, image, applied = page.background(ancestor, context)
        if image:
            return None  # text over an image: measured in the browser, not here
        if paint is None:
            continue
        painter = painter or applied
        if paint[3] >= 1:
            base = paint
            break
        layers.append(paint)
    background = base
    for layer in reversed(layers):
        background = over(layer, background)
    text = (*computed.colour[:3], computed.colour[3] * computed.opacity)
    seen = over(text, background)
    ratio = contrast(seen, background)
    if ratio >= MIN_CONTRAST:
        return None
    blamed = computed.colour_from
    if computed.opacity_from is not None and contrast(over(computed.colour, background), background) >= MIN_CONTRAST:
        blamed = computed.opacity_from  # the colours would do; the transparency does not
    else:
        blamed = _author_of(blamed, computed)
        if _ours(blamed) and painter is not None:
            blamed = _author_of(painter, page.compute(element, context))
    when = f" under {context}" if context and not blamed.condition else ""
    return blamed, (
        f"{blamed.describe()} leaves the disclosure's text {hex_of(seen)} on {hex_of(background)}{when}: "
        f"colour contrast {ratio:.2f}:1, below {MIN_CONTRAST}:1"
    )


# -- pages and stylesheets -----------------------------------------------------------------------------------


class _Lines(HTMLParser):
    """Where `<style>` elements and `style=` attributes are in the page's source, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.styles: list[int] = []
        self.attributes: dict[tuple[str, str], list[int]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        if tag == "style":
            self.styles.append(line)
        for name, value in attrs:
            if name == "style" and value is not None:
                self.attributes.setdefault((tag, value), []).append(line)


class StyleCheck:
    """The hiding check over one built site; parses each stylesheet once."""

    def __init__(self, site_dir: Path, sources: Mapping[str, Path], display: Callable[[Path], str], clinic_links: Collection[str] = ()):
        self.site_dir = site_dir.resolve()
        self.sources = sources  # site-relative path -> the file it was built from, when known
        self.display = display
        # What the clinic wrote: its extra_css entries, and its own stylesheets (for the @imports in them).
        self.clinic_links = frozenset(clinic_links)
        self.clinic_sheets = {display(source) for relative, source in sources.items() if relative.endswith(".css")}
        self.sheets: dict[tuple[str, str, int], Sheet] = {}
        self.unchecked: list[str] = []  # a theme's stylesheets from outside the site, which no build can read
        self.remote: dict[tuple[str, int, str], Violation] = {}  # the clinic's own, which fail closed
        self.sightings: dict[tuple[str, int, str, str], _Sightings] = {}

    def check_page(self, relative: str, html: str) -> None:
        tree = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
        lines = _Lines()
        lines.feed(html)
        lines.close()
        page_label = self.label_of(relative)
        sheets, inline, scheme = self._styles_of(tree, relative, lines)
        page = _Page(tree, sheets, inline, scheme)
        for chain in page.chains:
            for finding in _check_chain(page, chain, page_label):
                applied = finding.applied
                key = (applied.sheet, applied.line, applied.selector, finding.kind)
                sighting = self.sightings.setdefault(key, _Sightings(finding))
                sighting.cards.add((finding.page, finding.case))

    def label_of(self, relative: str) -> str:
        """A site file as the clinic knows it: its source when the build knows it, else its place in the site."""
        source = self.sources.get(relative)
        return self.display(source) if source is not None else f"site/{relative}"

    def _styles_of(
        self, tree: ElementTree.Element, relative: str, lines: _Lines
    ) -> tuple[list[Sheet], dict[int, tuple[str, int, tuple[Declaration, ...]]], str | None]:
        sheets: list[Sheet] = []
        inline: dict[int, tuple[str, int, tuple[Declaration, ...]]] = {}
        style_index = 0
        scheme = None
        for node in tree.iter():
            tag = node.tag if isinstance(node.tag, str) else ""
            if tag == "body":
                scheme = node.get(SCHEME_ATTRIBUTE)
            style_attribute = node.get("style")
            if style_attribute and tag:
                where = lines.attributes.get((tag, style_attribute), [])
                line = where.pop(0) if where else 0
                declarations = parse_style_attribute(style_attribute, line)
                if declarations:
                    inline[id(node)] = (f"site/{relative}", line, declarations)
            if (
                tag == "link"
                and "stylesheet" in (node.get("rel") or "").lower().split()
                and "alternate" not in (node.get("rel") or "").lower()
            ):
                if media_applies(node.get("media") or "") is Applies.NEVER:
                    continue
                sheet = self._linked(node.get("href") or "", relative, node.get("media"))
                if sheet is not None:
                    sheets.append(sheet)
            elif tag == "style":
                line = lines.styles[style_index] if style_index < len(lines.styles) else 0
                style_index += 1
                media = node.get("media") or ""
                applies = media_applies(media)
                if applies is Applies.NEVER:
                    continue
                text = node.text or ""
                label, offset = self._inline_place(relative, text, line)
                key = (label, text, offset)
                if key not in self.sheets:
                    condition = f"@media {media}" if applies is Applies.SOMETIMES else None
                    self.sheets[key] = parse_sheet(text, label, offset, self._import, condition, relative)
                sheets.append(self.sheets[key])
        return sheets, inline, scheme

    def _inline_place(self, relative: str, text: str, line: int) -> tuple[str, int]:
        """Where an inline <style> was written: in the page's source when it is there verbatim, else in the built page.

        Returns the file's label and the number of lines before the style's first line in it.
        """
        source = self.sources.get(relative)
        lines = text.splitlines()
        leading = next((index for index, candidate in enumerate(lines) if candidate.strip()), None)
        if source is not None and leading is not None:
            try:
                written = source.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                written = []
            first = lines[leading].strip()
            for number_, candidate in enumerate(written, start=1):
                if first in candidate:
                    return self.display(source), number_ - 1 - leading
        return f"site/{relative}", max(0, line - 1)

    def _linked(self, href: str, relative: str, media: str | None) -> Sheet | None:
        target = self._resolve(href, relative)
        if target is None:
            if href.startswith(FONT_SERVICES):
                return None
            if urllib.parse.urlsplit(href).scheme in ("http", "https") or href.startswith("//"):
                why = f"links the stylesheet {href}, which is not part of the site and cannot be checked"
                if href in self.clinic_links:
                    self._remote(Where("mkdocs.yml", 0, "extra_css"), href, why)
                else:
                    self._unreadable(self.label_of(relative), 0, why)
            return None
        condition = f"@media {media}" if media and media_applies(media) is Applies.SOMETIMES else None
        key = (target, "", 0 if condition is None else hash(condition))
        if key not in self.sheets:
            path = self.site_dir / target
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None  # a missing stylesheet styles nothing
            self.sheets[key] = parse_sheet(text, self.label_of(target), 0, self._import, condition, target)
            for label, line, why in self.sheets[key].unreadable:
                if label in self.clinic_sheets:
                    self._remote(Where(label, line, "@import"), why.removeprefix("imports ").split(",")[0], why)
                else:
                    self._unreadable(label, line, why)
        return self.sheets[key]

    def _resolve(self, href: str, relative: str) -> str | None:
        """The site-relative path a link points to, or None when it leaves the site."""
        parts = urllib.parse.urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path:
            return None
        path = urllib.parse.unquote(parts.path)
        joined = posixpath.normpath(path.lstrip("/") if path.startswith("/") else posixpath.join(posixpath.dirname(relative), path))
        if joined.startswith("..") or joined == ".":
            return None
        return joined

    def _import(self, href: str, base: str) -> tuple[str, str, str] | str | None:
        """An @import of the stylesheet (or page) at `base`: the imported text, its label and its place in the site."""
        if href.startswith(FONT_SERVICES):
            return None
        target = self._resolve(href, base)
        if target is None:
            return f"imports {href}, which is not part of the site and cannot be checked"
        try:
            return (self.site_dir / target).read_text(encoding="utf-8", errors="replace"), self.label_of(target), target
        except OSError:
            return None

    def _remote(self, where: Where, href: str, why: str) -> None:
        """CG404 for a stylesheet from another server that the clinic itself added: no build can show that it leaves
        every disclosure visible, so it fails closed. (A theme's own CDN links are only named, see `unchecked`.)"""
        self.remote.setdefault(
            (where.file, where.line, href),
            Violation(
                CG404,
                where,
                f"{why}: a stylesheet from another server may hide or shrink a disclosure, and no build can read it",
                "copy the stylesheet into docs_dir (e.g. docs/css/) and list or import that copy, so every build checks it; "
                "or remove it. 'compliant-gallery verify --browser site/' shows how the live pages render",
            ),
        )

    def _unreadable(self, label: str, line: int, why: str) -> None:
        note = f"{label}{f':{line}' if line else ''}: {why}"
        if note not in self.unchecked:
            self.unchecked.append(note)

    def violations(self) -> list[Violation]:
        """One CG404 per hiding rule, naming the stylesheet, line and selector, and the first card it reaches."""
        found = []
        for (sheet, line, selector, _), sighting in sorted(self.sightings.items(), key=lambda item: item[0][:3]):
            first = sighting.first
            others = len(sighting.cards) - 1
            pages = len({page for page, _ in sighting.cards})
            more = f" (and {others} more card{'s' if others != 1 else ''} on {pages} page{'s' if pages != 1 else ''})" if others else ""
            found.append(
                Violation(
                    CG404,
                    Where(sheet, line, f"selector {selector}"),
                    f"{first.what}: the disclosure of case {first.case} on {first.page}{more}",
                    _FIX,
                    first.case,
                )
            )
        return found


def _chains(root: ElementWrapper) -> Iterator[_Chain]:
    for card in root.iter_subtree():
        case_id = card.etree_element.get("data-cg-case")
        if case_id is None:
            continue
        targets: set[str] = set()
        for element in card.iter_subtree():
            if element.local_name == "figure":
                targets.update((element.etree_element.get("aria-describedby") or "").split())
        for element in card.iter_subtree():
            if DISCLOSURE_CLASS in element.classes or (element.id is not None and element.id in targets):
                ancestors = list(element.ancestors)  # from the root down (whatever its docstring says)
                inside = tuple(element.iter_subtree())
                card_depth = next(i for i, a in enumerate(ancestors) if a.etree_element is card.etree_element)
                gallery = next((a for a in ancestors if "cg-gallery" in a.classes), card)
                reference = gallery.parent or gallery
                yield _Chain(case_id, tuple(ancestors), card_depth, element, inside, reference)
                break


def check_site(
    site_dir: Path, sources: Mapping[str, Path], display: Callable[[Path], str], clinic_links: Collection[str] = ()
) -> tuple[list[Violation], list[str]]:
    """CG404 for every rule of the site's stylesheets that hides or shrinks a disclosure on a page with case cards,
    and for every stylesheet from another server the clinic added (`clinic_links`, its extra_css, or an @import in
    its own stylesheets); and the theme's stylesheets from outside the site that were not checked, one line each.

    `sources` maps a site-relative path to the file it was built from (a page's Markdown, a stylesheet in
    docs_dir), so messages name what the clinic wrote; `display` shows a path as the user knows it.
    """
    site_dir = site_dir.resolve()
    check = StyleCheck(site_dir, sources, display, clinic_links)
    failed: list[Violation] = []
    for page in sorted(site_dir.rglob("*.html")):
        data = page.read_bytes()
        if b"data-cg-case" not in data:
            continue
        relative = page.relative_to(site_dir).as_posix()
        try:
            check.check_page(relative, data.decode("utf-8", "replace"))
        except (ValueError, TypeError, ArithmeticError, AttributeError, IndexError, KeyError, RecursionError) as error:
            # Fail closed: a page whose styles cannot be read cannot be shown to display its disclosures.
            failed.append(
                Violation(
                    CG404,
                    Where(check.label_of(relative)),
                    f"the page's stylesheets could not be checked for hidden disclosures ({type(error).__name__}: {error})",
                    "report this with the page and its stylesheets; until then, simplify the styles that reach the gallery",
                )
            )
    return check.violations() + list(check.remote.values()) + failed, check.unchecked
