"""YAML loading that remembers line numbers and refuses what a hand-written file should never contain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from .violations import Violation, Where

# Anchors and aliases are fine for repeated blocks; a document that expands beyond this is a bomb.
MAX_EXPANDED = 1_000_000
MAX_FILE_BYTES = 20 * 1024 * 1024


class LocatedMap(dict[str, Any]):
    """A mapping that knows the line of itself and of each of its keys."""

    line: int = 0
    key_lines: dict[str, int]


class LocatedList(list[Any]):
    """A sequence that knows the line of itself and of each item."""

    line: int = 0
    item_lines: list[int]


def line_of(value: object, default: int = 0) -> int:
    """The 1-based line a located value started on, or `default`."""
    return int(getattr(value, "line", default) or default)


# libyaml's parser when PyYAML was built with it: a 10,000-case manifest parses in a second, not a minute.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):  # type: ignore[valid-type, misc]
    """Safe loader that builds located containers and reports duplicate keys and alias bombs."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.problems: list[Violation] = []

    def load(self) -> Any:
        """The document, refused when its aliases would expand it beyond MAX_EXPANDED entries."""
        node = self.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {})
        if size > MAX_EXPANDED:
            raise yaml.YAMLError(f"aliases expand the file to {size} entries (an alias bomb?); at most {MAX_EXPANDED} are read")
        return self.construct_document(node)

    def construct_located_map(self, node: MappingNode) -> LocatedMap:
        result = LocatedMap()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            key_text = str(key)
            line = key_node.start_mark.line + 1
            if key_text in result:
                self.problems.append(
                    Violation(
                        "CG104",
                        Where(self.file, line, key_text),
                        f"duplicate key '{key_text}' (first on line {result.key_lines[key_text]})",
                        "keep one of the two entries; YAML would silently use the last one",
                    )
                )
            result[key_text] = self.construct_object(value_node, deep=True)
            result.key_lines[key_text] = line
        return result

    def construct_located_list(self, node: SequenceNode) -> LocatedList:
        result = LocatedList()
        result.line = node.start_mark.line + 1
        result.item_lines = []
        for child in node.value:
            result.append(self.construct_object(child, deep=True))
            result.item_lines.append(child.start_mark.line + 1)
        return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_located_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _Loader.construct_located_list)


def _expanded_size(node: Node, sizes: dict[int, int]) -> int:
    """Entries the node stands for once every alias is expanded (memoised: a bomb is measured, not built)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = 1  # a recursive alias counts once instead of looping
    if isinstance(node, MappingNode):
        total = 1 + sum(_expanded_size(key, sizes) + _expanded_size(value, sizes) for key, value in node.value)
    elif isinstance(node, SequenceNode):
        total = 1 + sum(_expanded_size(child, sizes) for child in node.value)
    else:
        total = 1
    sizes[id(node)] = total
    return total


def read_text(path: Path, shown: str) -> tuple[str | None, list[Violation]]:
    """Read a text input file as UTF-8 (a BOM or UTF-16 are decoded too); a problem is CG109."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Violation(
                    "CG109",
                    Where(shown),
                    f"file is {size} bytes, more than the {MAX_FILE_BYTES} a gallery file may have",
                    "check that this is the right file",
                )
            ]
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Violation("CG105", Where(shown), "file does not exist", "create it or correct the path in mkdocs.yml")]
    except OSError as error:
        return None, [Violation("CG109", Where(shown), f"cannot be read: {error.strerror}", "check the file's permissions")]
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16"), []
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        return None, [
            Violation(
                "CG109",
                Where(shown),
                f"is not UTF-8 text (byte {error.start})",
                "save the file as UTF-8",
            )
        ]


def load_yaml(path: Path, shown: str) -> tuple[Any, list[Violation]]:
    """Parse a YAML file into located containers; returns (data or None, violations)."""
    text, problems = read_text(path, shown)
    if text is None:
        return None, problems
    loader = _Loader(text, shown)
    try:
        data = loader.load()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        return None, [
            Violation(
                "CG109",
                Where(shown, line),
                f"is not valid YAML: {error.problem or error}",
                "fix the YAML syntax at that line (indentation, a missing colon, an unclosed quote)",
            )
        ]
    except yaml.YAMLError as error:
        return None, [Violation("CG109", Where(shown), f"is not valid YAML: {error}", "simplify the file")]
    finally:
        loader.dispose()
    return data, loader.problems
