"""CSS values the hiding check reads: `var()` substitution, lengths in pixels (with `calc()`), colours and contrast."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import tinycss2
from tinycss2.ast import FunctionBlock, Node
from tinycss2.color4 import parse_color

# The pixel sizes of absolute units, and what the viewport-relative ones stand for: a desktop window.
_ABSOLUTE = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "q": 96 / 101.6}
VIEWPORT = (1280.0, 900.0)
_KEYWORD_SIZES = {
    "xx-small": 9.0,
    "x-small": 10.0,
    "small": 13.0,
    "medium": 16.0,
    "large": 18.0,
    "x-large": 24.0,
    "xx-large": 32.0,
    "xxx-large": 48.0,
}


def substitute(value: Sequence[Node], custom: Mapping[str, tuple[Node, ...]], depth: int = 0) -> list[Node] | None:
    """The value with every `var()` replaced; None when one names an unset property without a fallback."""
    if depth > 20:
        return None  # a cycle of custom properties: invalid, as in a browser
    result: list[Node] = []
    for token in value:
        if token.type == "function" and token.lower_name == "var":
            arguments = list(token.arguments)
            comma = next((i for i, t in enumerate(arguments) if t.type == "literal" and t.value == ","), None)
            names = [t for t in (arguments if comma is None else arguments[:comma]) if t.type == "ident"]
            if not names:
                return None
            found = custom.get(names[0].value)
            if found is None:
                if comma is None:
                    return None
                found = tuple(arguments[comma + 1 :])
            replaced = substitute(found, custom, depth + 1)
            if replaced is None:
                return None
            result.extend(replaced)
        elif token.type == "function" and any(t.type == "function" for t in token.arguments):
            inner = substitute(token.arguments, custom, depth)
            if inner is None:
                return None
            result.append(FunctionBlock(token.source_line, token.source_column, token.name, inner))
        else:
            result.append(token)
    return result


@dataclass(frozen=True)
class Lengths:
    """What relative lengths are relative to."""

    font: float  # the element's font size (em); for font-size itself, the parent's
    root: float  # the root element's font size (rem)
    percent_of: float | None = None  # what 100% is, when it is a length


def to_px(parts: Sequence[Node], lengths: Lengths) -> float | None:
    """One length value in CSS pixels, or None when it is not one (`auto`, a keyword, something unresolvable)."""
    tokens = [t for t in parts if t.type not in ("whitespace", "comment")]
    if len(tokens) != 1:
        return None
    return _length(tokens[0], lengths)


def _length(token: Node, lengths: Lengths) -> float | None:
    if token.type == "number" and token.value == 0:
        return 0.0
    if token.type == "dimension":
        unit = token.lower_unit
        if unit in _ABSOLUTE:
            return float(token.value) * _ABSOLUTE[unit]
        if unit in ("em",):
            return float(token.value) * lengths.font
        if unit in ("ex", "ch", "cap", "ic"):
            return float(token.value) * lengths.font * 0.5
        if unit in ("rem", "rlh", "lh"):
            return float(token.value) * lengths.root
        viewport = {"vw": VIEWPORT[0], "vh": VIEWPORT[1], "vmin": min(VIEWPORT), "vmax": max(VIEWPORT)}
        for prefix in ("", "s", "l", "d"):
            for name, size in viewport.items():
                if unit == prefix + name:
                    return float(token.value) * size / 100
        return None
    if token.type == "percentage":
        return None if lengths.percent_of is None else float(token.value) * lengths.percent_of / 100
    if token.type == "function" and token.lower_name in ("calc", "min", "max", "clamp"):
        return _math(token, lengths)
    return None


def _math(function: FunctionBlock, lengths: Lengths) -> float | None:
    arguments = [[t for t in part if t.type not in ("whitespace", "comment")] for part in _split_commas(function.arguments)]
    values = [_sum(part, lengths) for part in arguments]
    if any(v is None for v in values) or not values:
        return None
    numbers = [v for v in values if v is not None]
    name = function.lower_name
    if name == "calc":
        return numbers[0] if len(numbers) == 1 else None
    if name == "min":
        return min(numbers)
    if name == "max":
        return max(numbers)
    if len(numbers) == 3:  # clamp(min, preferred, max)
        return max(numbers[0], min(numbers[1], numbers[2]))
    return None


def _split_commas(tokens: Sequence[Node]) -> list[list[Node]]:
    parts: list[list[Node]] = [[]]
    for token in tokens:
        if token.type == "literal" and token.value == ",":
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _sum(tokens: list[Node], lengths: Lengths) -> float | None:
    """`a + b - c * 2 / 3` of lengths and numbers; products bind first. Numbers count as pixels (good enough here)."""
    terms: list[tuple[str, list[Node]]] = [("+", [])]
    for token in tokens:
        if token.type == "literal" and token.value in "+-" and terms[-1][1]:
            terms.append((token.value, []))
        elif token.type in ("number", "dimension", "percentage") and token.value < 0 and terms[-1][1] and _is_value(terms[-1][1][-1]):
            # `a -5px` tokenises the sign into the number: it is a subtraction.
            terms.append(("+", [token]))
        else:
            terms[-1][1].append(token)
    total = 0.0
    for sign, term in terms:
        value = _product(term, lengths)
        if value is None:
            return None
        total += value if sign == "+" else -value
    return total


def _is_value(token: Node) -> bool:
    return token.type in ("number", "dimension", "percentage", "() block", "function")


def _product(tokens: list[Node], lengths: Lengths) -> float | None:
    if not tokens:
        return None
    value = _factor(tokens[0], lengths)
    index = 1
    while value is not None and index + 1 < len(tokens):
        operator, operand = tokens[index], _factor(tokens[index + 1], lengths)
        if operand is None or operator.type != "literal":
            return None
        if operator.value == "*":
            value *= operand
        elif operator.value == "/" and operand != 0:
            value /= operand
        else:
            return None
        index += 2
    return value if index >= len(tokens) else None


def _factor(token: Node, lengths: Lengths) -> float | None:
    if token.type == "number":
        return float(token.value)
    if token.type == "() block":
        return _sum([t for t in token.content if t.type not in ("whitespace", "comment")], lengths)
    return _length(token, lengths)


def font_size_px(parts: Sequence[Node], parent: float, root: float) -> float | None:
    """A `font-size` value in pixels given the parent's size; None for what cannot be told statically."""
    tokens = [t for t in parts if t.type not in ("whitespace", "comment")]
    if len(tokens) != 1:
        return None
    token = tokens[0]
    if token.type == "ident":
        keyword = token.lower_value
        if keyword in _KEYWORD_SIZES:
            return _KEYWORD_SIZES[keyword]
        if keyword == "smaller":
            return parent / 1.2
        if keyword == "larger":
            return parent * 1.2
        return None
    return _length(token, Lengths(parent, root, parent))


def number(parts: Sequence[Node]) -> float | None:
    """A plain number or percentage (`0.2`, `20%`) as a number (0.2)."""
    tokens = [t for t in parts if t.type not in ("whitespace", "comment")]
    if len(tokens) != 1:
        return None
    token = tokens[0]
    if token.type == "number":
        return float(token.value)
    if token.type == "percentage":
        return float(token.value) / 100
    return None


RGBA = tuple[float, float, float, float]


def colour(parts: Sequence[Node]) -> RGBA | str | None:
    """sRGB red, green, blue, alpha in 0..1; "currentcolor"; or None when it is not a colour this check can read."""
    tokens = [t for t in parts if t.type not in ("whitespace", "comment")]
    if len(tokens) != 1:
        return None
    try:
        parsed = parse_color(tokens[0])
    except (ValueError, TypeError, ZeroDivisionError):
        return None
    if parsed is None:
        return None
    if isinstance(parsed, str):
        return parsed
    try:
        srgb = parsed.to("srgb")
    except (NotImplementedError, TypeError, ValueError):
        return None
    red, green, blue = (min(1.0, max(0.0, float(c or 0))) for c in srgb.coordinates)
    return (red, green, blue, min(1.0, max(0.0, float(srgb.alpha))))


def over(top: RGBA, bottom: RGBA) -> RGBA:
    """`top` painted over an opaque `bottom`."""
    alpha = top[3]
    return (
        top[0] * alpha + bottom[0] * (1 - alpha),
        top[1] * alpha + bottom[1] * (1 - alpha),
        top[2] * alpha + bottom[2] * (1 - alpha),
        1.0,
    )


def _luminance(rgb: RGBA) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])


def contrast(text: RGBA, background: RGBA) -> float:
    """The WCAG 2 contrast ratio of two opaque colours (1 to 21)."""
    lighter, darker = sorted((_luminance(text), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def hex_of(rgb: RGBA) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb[:3])


def text_of(parts: Sequence[Node]) -> str:
    return str(tinycss2.serialize(parts)).strip()
