"""Stylesheets read the way a browser applies them: parsed with tinycss2, selectors compiled with cssselect2.

Only what can hide or shrink text is kept: each rule's declarations of `RELEVANT` properties (and custom
properties, which those may read through `var()`), split per selector, with shorthands expanded into the
longhands the checks read. A rule that applies only under a condition (`@media` with features, `@supports`,
`@container`, a user state such as `:hover` or `:checked`) is marked conditional: it can hide the
disclosure some of the time, and it never counts as undoing an unconditional rule.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import cssselect2
import tinycss2
from cssselect2.compiler import CompiledSelector
from tinycss2.ast import Node

# Properties that can hide text, move it away, shrink it, or change what it is read against.
RELEVANT = frozenset(
    {
        "display",
        "visibility",
        "content-visibility",
        "opacity",
        "filter",
        "font-size",
        "color",
        "-webkit-text-fill-color",
        "background-color",
        "background-image",
        "clip",
        "clip-path",
        "-webkit-clip-path",
        "position",
        "top",
        "right",
        "bottom",
        "left",
        "margin-top",
        "margin-right",
        "margin-bottom",
        "margin-left",
        "text-indent",
        "height",
        "max-height",
        "width",
        "max-width",
        "overflow-x",
        "overflow-y",
        "transform",
        "scale",
        "translate",
        "content",
        "z-index",
    }
)

_BOX = ("top", "right", "bottom", "left")
# Shorthand -> the longhands it sets, in the order a 1-4 value box shorthand assigns them.
_SHORTHANDS: dict[str, tuple[str, ...]] = {
    "margin": tuple(f"margin-{side}" for side in _BOX),
    "inset": _BOX,
    "overflow": ("overflow-x", "overflow-y"),
    "background": ("background-color", "background-image"),
    "font": ("font-size",),
}

# User states a static page never has, but a visitor's page does: a rule under one may apply at any time.
_STATES = frozenset(
    {
        "hover",
        "active",
        "focus",
        "focus-within",
        "focus-visible",
        "target",
        "target-within",
        "visited",
        "checked",
        "indeterminate",
        "current",
        "past",
        "future",
        "playing",
        "paused",
        "valid",
        "invalid",
        "user-valid",
        "user-invalid",
        "placeholder-shown",
        "autofill",
        "open",
        "closed",
        "popover-open",
        "modal",
        "fullscreen",
        "defined",
        "default",
        "required",
        "optional",
        "read-only",
        "read-write",
        "in-range",
        "out-of-range",
    }
)
# A pseudo-class that always matches and weighs as one (0, 1, 0), like the state it stands for.
_ANY_STATE = tinycss2.parse_component_value_list(":not(.cg-never-a-class)")

# Media types that never render to a screen (the deprecated ones match nothing in today's browsers).
_NOT_SCREEN = frozenset({"print", "speech", "aural", "braille", "embossed", "handheld", "projection", "tty", "tv"})


class Applies(enum.Enum):
    """Whether a media query list applies on a screen."""

    ALWAYS = "always"
    SOMETIMES = "sometimes"
    NEVER = "never"


def media_applies(tokens: Iterable[Node] | str) -> Applies:
    """Whether `@media`/`media=` applies to a screen: every query without features on `all`/`screen` always does."""
    parsed: Iterable[Node] = tinycss2.parse_component_value_list(tokens) if isinstance(tokens, str) else tokens
    queries: list[list[Node]] = [[]]
    for token in parsed:
        if token.type == "literal" and token.value == ",":
            queries.append([])
        elif token.type not in ("whitespace", "comment"):
            queries[-1].append(token)
    results = {_query_applies(query) for query in queries}
    for outcome in (Applies.ALWAYS, Applies.SOMETIMES):
        if outcome in results:
            return outcome
    return Applies.NEVER


def _query_applies(query: list[Node]) -> Applies:
    if not query:
        return Applies.ALWAYS
    negated = False
    words = [t.lower_value for t in query if t.type == "ident"]
    features = any(t.type == "() block" for t in query)
    if words and words[0] == "only":
        words = words[1:]
    if words and words[0] == "not":
        negated, words = True, words[1:]
    media_type = words[0] if words and words[0] not in ("and", "or") else "all"
    screen = media_type not in _NOT_SCREEN
    if negated:
        # `not print` is every screen; `not screen and (...)` or `not all and (...)` is some screens at most.
        if not screen:
            return Applies.ALWAYS
        return Applies.SOMETIMES if features else Applies.NEVER
    if not screen:
        return Applies.NEVER
    return Applies.SOMETIMES if features else Applies.ALWAYS


@dataclass(frozen=True)
class Declaration:
    """One longhand as a rule sets it; `shorthand` names what it was written as (`margin`), if anything."""

    name: str
    value: tuple[Node, ...]
    important: bool
    line: int
    shorthand: str | None = None
    source: Node | None = field(default=None, compare=False)  # the declaration as parsed, for messages

    @property
    def custom(self) -> bool:
        return self.name.startswith("--")

    @property
    def written(self) -> str:
        """The declaration as the stylesheet writes it."""
        if self.source is None:
            return f"{self.name}: {tinycss2.serialize(self.value).strip()}"
        return f"{self.source.name}: {tinycss2.serialize(self.source.value).strip()}{' !important' if self.source.important else ''}"


Selector = tuple[Node, ...]


class _Block:
    """The declarations of one style rule, read on first use: most rules of a theme never reach a card."""

    def __init__(self, content: list[Node], line_offset: int, items: list[Node] | None = None):
        self.content = content
        self.offset = line_offset
        self.items = items

    @functools.cached_property
    def declarations(self) -> tuple[Declaration, ...]:
        items = self.items
        if items is None:
            items = tinycss2.parse_blocks_contents(self.content, skip_comments=True, skip_whitespace=True)
        found: list[Declaration] = []
        for item in items:
            if item.type == "declaration":
                found.extend(d for d in _longhands(item, self.offset) if d.custom or d.name in RELEVANT)
        return tuple(found)


@dataclass(frozen=True, eq=False)
class StyleRule:
    """One selector of a style rule with the declarations that matter here.

    The selector is compiled on first use: most rules of a theme's stylesheet can never reach a card, and
    `key` (a class, id or tag its subject must have) lets a page skip them without compiling them.
    """

    sheet: str  # the stylesheet as the clinic knows it
    line: int
    tokens: Selector
    block: _Block
    condition: str | None  # e.g. "@media (max-width: 30em)" or ":hover"; None when it always applies
    layered: bool
    key: str | None  # ".class", "#id" or a lower-case tag the subject must have; None when none is certain
    scheme: str | None  # the Material colour scheme (`[data-md-color-scheme=slate]`) the rule is written for

    @property
    def declarations(self) -> tuple[Declaration, ...]:
        return self.block.declarations

    @property
    def selector(self) -> str:
        return str(tinycss2.serialize(self.tokens)).strip()

    @functools.cached_property
    def compiled(self) -> CompiledSelector | None:
        """The selector compiled as if every user state (`:hover`, `:checked`) held; None when it styles no text."""
        return self._compile(_any_state(self.tokens)[0])

    @functools.cached_property
    def compiled_any_scheme(self) -> CompiledSelector | None:
        """As `compiled`, for a page in another colour scheme than the rule's: `[data-md-color-scheme]` whatever its value."""
        return self._compile(_any_scheme(_any_state(self.tokens)[0]))

    @staticmethod
    def _compile(tokens: list[Node]) -> CompiledSelector | None:
        try:
            compiled = cssselect2.compile_selector_list(tokens)
        except (cssselect2.SelectorError, NotImplementedError, ValueError, TypeError, IndexError, AttributeError):
            # Vendor pseudo-elements (::-webkit-scrollbar) and the like: they style no text of a card.
            return None
        if len(compiled) != 1 or compiled[0].never_matches:
            return None
        return compiled[0]


@dataclass(frozen=True)
class Sheet:
    """A parsed stylesheet: its label and its rules, imports included, in cascade order."""

    label: str
    rules: tuple[StyleRule, ...]
    unreadable: tuple[tuple[str, int, str], ...] = ()  # (label, line, why) of @imports that cannot be checked


# (href as written, where the importing sheet is) -> (text, label, where it is) of the imported sheet; None when
# there is nothing to check (a missing file styles nothing); a string saying why when it cannot be checked.
Importer = Callable[[str, str], "tuple[str, str, str] | str | None"]


def parse_sheet(
    text: str, label: str, line_offset: int = 0, importer: Importer | None = None, condition: str | None = None, base: str = ""
) -> Sheet:
    """Parse one stylesheet; `line_offset` places an inline `<style>` in its page; `importer` follows `@import`
    from `base`, where the sheet is."""
    reader = _Reader(label, base, line_offset, importer, set())
    rules = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
    reader.rules_of(rules, condition, False, [])
    return Sheet(label, tuple(reader.found), tuple(reader.unreadable))


def parse_style_attribute(text: str, line: int) -> tuple[Declaration, ...]:
    """The declarations of a `style=` attribute, on `line` of the page."""
    parsed = tinycss2.parse_blocks_contents(text, skip_comments=True, skip_whitespace=True)
    found: list[Declaration] = []
    for item in parsed:
        if item.type == "declaration":
            found.extend(_longhands(item, line - 1))
    return tuple(found)


class _Reader:
    def __init__(self, label: str, base: str, line_offset: int, importer: Importer | None, seen: set[str]):
        self.label = label
        self.base = base
        self.offset = line_offset
        self.importer = importer
        self.seen = seen | {label}
        self.found: list[StyleRule] = []
        self.unreadable: list[tuple[str, int, str]] = []

    def rules_of(self, rules: Iterable[Node], condition: str | None, layered: bool, parents: list[Selector]) -> None:
        for rule in rules:
            if rule.type == "qualified-rule":
                self._style_rule(rule.prelude, rule.content, rule.source_line, condition, layered, parents)
            elif rule.type == "at-rule":
                self._at_rule(rule, condition, layered, parents)

    def _at_rule(self, rule: Node, condition: str | None, layered: bool, parents: list[Selector]) -> None:
        keyword = rule.lower_at_keyword
        prelude = tinycss2.serialize(rule.prelude).strip()
        if keyword == "import":
            self._import(rule, condition, layered)
            return
        if rule.content is None:
            return
        inner = condition
        if keyword == "media":
            applies = media_applies(rule.prelude)
            if applies is Applies.NEVER:
                return
            if applies is Applies.SOMETIMES:
                inner = _join(condition, f"@media {prelude}")
        elif keyword in ("supports", "container", "scope", "starting-style"):
            # Treated as applying, at some times only: @scope's limits are not modelled, so its rules match wider.
            inner = _join(condition, f"@{keyword} {prelude}".strip())
        elif keyword == "layer":
            layered = True
        elif keyword == "document" or keyword.startswith("-"):
            inner = _join(condition, f"@{keyword} {prelude}")
        else:
            return  # @font-face, @keyframes, @page, @property, @counter-style: no selectors to match
        if parents:
            # Conditional group rules nested in a style rule hold declarations for the parent selector too.
            self._style_rule(None, rule.content, rule.source_line, inner, layered, parents)
        else:
            contents = tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True)
            self.rules_of(contents, inner, layered, parents)

    def _import(self, rule: Node, condition: str | None, layered: bool) -> None:
        tokens = [t for t in rule.prelude if t.type not in ("whitespace", "comment")]
        if not tokens or self.importer is None:
            return
        first = tokens[0]
        if first.type in ("string", "url"):
            href = first.value
        elif first.type == "function" and first.lower_name == "url":
            href = next((t.value for t in first.arguments if t.type == "string"), "")
        else:
            return
        rest = tokens[1:]
        layer = [t for t in rest if (t.type == "ident" and t.lower_value == "layer") or (t.type == "function" and t.lower_name == "layer")]
        layered = layered or bool(layer)
        media = [t for t in rest if t not in layer and not (t.type == "function" and t.lower_name == "supports")]
        applies = media_applies(media) if media else Applies.ALWAYS
        if applies is Applies.NEVER:
            return
        inner = _join(condition, f"@import {tinycss2.serialize(media).strip()}") if applies is Applies.SOMETIMES else condition
        loaded = self.importer(href, self.base)
        line = rule.source_line + self.offset
        if loaded is None:
            return
        if isinstance(loaded, str):
            self.unreadable.append((self.label, line, loaded))
            return
        text, label, base = loaded
        if label in self.seen:
            return
        reader = _Reader(label, base, 0, self.importer, self.seen)
        reader.rules_of(tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True), inner, layered, [])
        self.found.extend(reader.found)
        self.unreadable.extend(reader.unreadable)

    def _style_rule(
        self, prelude: list[Node] | None, content: list[Node], line: int, condition: str | None, layered: bool, parents: list[Selector]
    ) -> None:
        selectors = parents if prelude is None else _nested_selectors(_split_selectors(prelude), parents)
        nested: list[Node] = []
        block = _Block(content, self.offset)
        if any(t.type == "{} block" for t in content):
            # CSS nesting: the nested rules must be found now; the declarations come with them.
            block.items = tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True)
            nested = [item for item in block.items if item.type in ("qualified-rule", "at-rule")]
        for selector in selectors:
            states = _any_state(selector)[1]
            rule_condition = _join(condition, f"{''.join(states)} ({tinycss2.serialize(selector).strip()})") if states else condition
            self.found.append(
                StyleRule(
                    self.label, line + self.offset, selector, block, rule_condition, layered, _subject_key(selector), _scheme_of(selector)
                )
            )
        if nested:
            self.rules_of(nested, condition, layered, selectors)


def _join(outer: str | None, inner: str) -> str:
    return f"{outer} {inner}" if outer else inner


def _split_selectors(prelude: Sequence[Node]) -> list[Selector]:
    parts: list[list[Node]] = [[]]
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            parts.append([])
        else:
            parts[-1].append(token)
    return [tuple(_strip(part)) for part in parts if _strip(part)]


def _strip(tokens: list[Node]) -> list[Node]:
    start, end = 0, len(tokens)
    while start < end and tokens[start].type in ("whitespace", "comment"):
        start += 1
    while end > start and tokens[end - 1].type in ("whitespace", "comment"):
        end -= 1
    return tokens[start:end]


def _nested_selectors(selectors: list[Selector], parents: list[Selector]) -> list[Selector]:
    """CSS nesting: `&` is the parent selector; a nested selector without it is a descendant of it."""
    if not parents:
        return selectors
    parent = f":is({', '.join(tinycss2.serialize(p) for p in parents)})"
    resolved = []
    for selector in selectors:
        text = tinycss2.serialize(selector)
        resolved.append(tuple(tinycss2.parse_component_value_list(text.replace("&", parent) if "&" in text else f"{parent} {text}")))
    return resolved


def _any_state(tokens: Selector) -> tuple[list[Node], list[str]]:
    """The selector with every user state (`:hover`, `:checked`) made to always match, and those states."""
    rewritten: list[Node] = []
    states: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        before = tokens[index - 1] if index else None
        pseudo_class = (
            token.type == "literal" and token.value == ":" and not (before is not None and before.type == "literal" and before.value == ":")
        )
        if pseudo_class and after is not None and after.type == "ident" and after.lower_value in _STATES:
            rewritten.extend(_ANY_STATE)
            states.append(f":{after.lower_value}")
            index += 2
            continue
        rewritten.append(token)
        index += 1
    return rewritten, states


# Material switches its colour scheme with this attribute on <body>: a rule written for a scheme the page is not
# built in applies whenever a visitor picks that scheme, so it is matched as if the attribute held any value.
SCHEME_ATTRIBUTE = "data-md-color-scheme"


def _scheme_test(token: Node) -> str | None:
    """`slate` for a `[data-md-color-scheme=slate]` block, else None."""
    if token.type != "[] block":
        return None
    parts = components(token.content)
    if (
        len(parts) == 3
        and parts[0].type == "ident"
        and parts[0].lower_value == SCHEME_ATTRIBUTE
        and parts[1].type == "literal"
        and parts[1].value == "="
    ):
        return str(parts[2].value) if parts[2].type in ("ident", "string") else None
    return None


def _scheme_of(tokens: Selector) -> str | None:
    return next((scheme for scheme in map(_scheme_test, tokens) if scheme is not None), None)


_ANY_SCHEME = tinycss2.parse_component_value_list(f"[{SCHEME_ATTRIBUTE}]")


def _any_scheme(tokens: list[Node]) -> list[Node]:
    return [t for token in tokens for t in (_ANY_SCHEME if _scheme_test(token) is not None else (token,))]


def _subject_key(tokens: Selector) -> str | None:
    """A class, id or tag the selector's subject (its last compound) must have, as cssselect2's Matcher indexes it."""
    start = len(tokens)
    while start > 0:
        token = tokens[start - 1]
        if token.type == "whitespace" or (token.type == "literal" and token.value in (">", "+", "~")):
            break
        start -= 1
    compound = tokens[start:]
    if any(t.type == "literal" and t.value == "|" for t in compound):
        return None  # a namespace prefix: let cssselect2 decide
    classes: list[str] = []
    for index, token in enumerate(compound):
        before = compound[index - 1] if index else None
        if token.type == "hash" and token.is_identifier and not (before is not None and before.type == "literal" and before.value == ":"):
            return f"#{token.value}"
        if token.type == "ident" and before is not None and before.type == "literal" and before.value == ".":
            classes.append("." + token.value)
    if classes:
        return classes[0]
    if compound and compound[0].type == "ident":
        return str(compound[0].lower_value)
    return None


def _longhands(item: Node, line_offset: int) -> list[Declaration]:
    name = item.lower_name
    value = tuple(t for t in item.value if t.type != "comment")
    line = item.source_line + line_offset
    if name.startswith("--"):
        return [Declaration(item.name, value, item.important, line, None, item)]
    if name == "-webkit-clip-path":
        name = "clip-path"
    if name in _SHORTHANDS:
        return [Declaration(longhand, value, item.important, line, name, item) for longhand in _SHORTHANDS[name]]
    return [Declaration(name, value, item.important, line, None, item)]


def components(value: Iterable[Node]) -> list[Node]:
    """The value's tokens without whitespace."""
    return [t for t in value if t.type not in ("whitespace", "comment")]


def longhand_value(declaration: Declaration, value: Sequence[Node]) -> list[Node] | None:
    """The part of a (var-substituted) value that sets `declaration.name`; None when the shorthand leaves it out."""
    parts = components(value)
    shorthand = declaration.shorthand
    if shorthand is None:
        return parts
    if _css_wide(parts):
        return parts
    if shorthand in ("margin", "inset"):
        if not 1 <= len(parts) <= 4:
            return None
        sides = {1: (0, 0, 0, 0), 2: (0, 1, 0, 1), 3: (0, 1, 2, 1), 4: (0, 1, 2, 3)}[len(parts)]
        return [parts[sides[_BOX.index(declaration.name.removeprefix("margin-"))]]]
    if shorthand == "overflow":
        if not parts:
            return None
        return [parts[0]] if declaration.name == "overflow-x" or len(parts) == 1 else [parts[1]]
    if shorthand == "background":
        if declaration.name == "background-image":
            images = [
                t
                for t in parts
                if t.type == "url" or (t.type == "function" and (t.lower_name.endswith("gradient") or "image" in t.lower_name))
            ]
            return images or [tinycss2.ast.IdentToken(0, 0, "none")]
        from tinycss2.color4 import parse_color

        colours = [t for t in parts if t.type in ("ident", "function", "hash") and parse_color(t) is not None]
        return colours[-1:] or [tinycss2.ast.IdentToken(0, 0, "transparent")]
    if shorthand == "font":
        return _font_size_of(parts)
    return parts


_SIZE_KEYWORDS = frozenset({"xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large", "xxx-large", "smaller", "larger"})
_SYSTEM_FONTS = frozenset({"caption", "icon", "menu", "message-box", "small-caption", "status-bar"})


def _font_size_of(parts: list[Node]) -> list[Node] | None:
    """The size in a `font` shorthand (`italic 700 0/0 a` -> `0`)."""
    for index, token in enumerate(parts):
        if token.type in ("dimension", "percentage"):
            return [token]
        if token.type == "ident" and token.lower_value in _SIZE_KEYWORDS:
            return [token]
        if token.type == "ident" and token.lower_value in _SYSTEM_FONTS:
            return None
        following = parts[index + 1] if index + 1 < len(parts) else None
        if token.type == "number" and token.value == 0 and following is not None and following.type == "literal" and following.value == "/":
            return [token]
        if token.type == "function" and token.lower_name in ("calc", "clamp", "min", "max", "var"):
            return [token]
    return None


def _css_wide(parts: Sequence[Node]) -> bool:
    return (
        len(parts) == 1 and parts[0].type == "ident" and parts[0].lower_value in ("inherit", "initial", "unset", "revert", "revert-layer")
    )
