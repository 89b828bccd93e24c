"""YAML loading that remembers line numbers and refuses what a hand-written file should never contain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from .violations import Violation, Where

# A clinic's manifest has no use for aliases beyond a few; thousands mean an expansion bomb.
MAX_ALIASES = 100
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


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds located containers and reports duplicate keys and alias floods."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.problems: list[Violation] = []
        self.alias_count = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (line {mark.line + 1})")
        return super().compose_node(parent, index)

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
        data = loader.get_single_data()
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
