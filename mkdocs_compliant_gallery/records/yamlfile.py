"""YAML loading that remembers line numbers and refuses what a hand-written file should never contain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..catalogue import CG104, CG105, CG109
from ..violations import Violation, Where

# Anchors and aliases are fine for repeated blocks; a document that expands beyond this is a bomb.
MAX_EXPANDED = 1_000_000
MAX_FILE_BYTES = 20 * 1024 * 1024
# A manifest nests six levels. libyaml's composer recurses per level (100,000 brackets crash the process) and so
# does building the values, so deeper documents are refused from the parser's events, which do not recurse.
MAX_DEPTH = 64


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
        """The document, refused when its aliases would expand it beyond MAX_EXPANDED entries or MAX_DEPTH levels."""
        node = self.get_single_node()
        if node is None:
            return None
        size, depth = _measure(node)
        if size > MAX_EXPANDED:
            raise yaml.YAMLError(f"aliases expand the file to {size} entries (an alias bomb?); at most {MAX_EXPANDED} are read")
        if depth > MAX_DEPTH:
            raise yaml.YAMLError(f"aliases nest the file {depth} levels deep; at most {MAX_DEPTH} are read")
        return self.construct_document(node)

    def construct_lenient_timestamp(self, node: ScalarNode) -> Any:
        """A date the calendar lacks (2027-02-30) stays text, so the schema reports it with its field and line."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)

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
                        CG104,
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
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_lenient_timestamp)


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _measure(root: Node) -> tuple[int, int]:
    """(entries, levels) of the document once every alias is expanded: measured on the node graph, each node
    once and without recursion, so a bomb or a long chain of aliases is measured, not built."""
    measured: dict[int, tuple[int, int]] = {}
    pending: list[tuple[Node, bool]] = [(root, False)]
    while pending:
        node, children_done = pending.pop()
        if children_done:
            parts = [measured[id(child)] for child in _children(node)]
            measured[id(node)] = (1 + sum(size for size, _ in parts), 1 + max((depth for _, depth in parts), default=0))
        elif id(node) not in measured:
            measured[id(node)] = (1, 1)  # until its children are measured; a recursive alias counts once
            pending.append((node, True))
            pending.extend((child, False) for child in _children(node) if id(child) not in measured)
    return measured[id(root)]


def _too_deep(text: str) -> int:
    """The line of the first collection nested deeper than MAX_DEPTH (0 if none), found from parser events."""
    parser = _SafeBase(text)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()  # type: ignore[no-untyped-call]
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return int(getattr(event.start_mark, "line", 0)) + 1
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        parser.dispose()
    return 0


def read_text(path: Path, shown: str) -> tuple[str | None, list[Violation]]:
    """Read a text input file as UTF-8 (a BOM or UTF-16 are decoded too); a problem is CG109."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Violation(
                    CG109,
                    Where(shown),
                    f"file is {size} bytes, more than the {MAX_FILE_BYTES} a gallery file may have",
                    "check that this is the right file",
                )
            ]
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Violation(CG105, Where(shown), "file does not exist", "create it or correct the path in mkdocs.yml")]
    except OSError as error:
        return None, [Violation(CG109, Where(shown), f"cannot be read: {error.strerror}", "check the file's permissions")]
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16"), []
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        return None, [
            Violation(
                CG109,
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
        too_deep = _too_deep(text)
        if too_deep:
            return None, [
                Violation(
                    CG109,
                    Where(shown, too_deep),
                    f"nests lists and mappings more than {MAX_DEPTH} levels deep",
                    "a gallery file needs a few levels: check the indentation and brackets from that line",
                )
            ]
        data = loader.load()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        return None, [
            Violation(
                CG109,
                Where(shown, line),
                f"is not valid YAML: {error.problem or error}",
                "fix the YAML syntax at that line (indentation, a missing colon, an unclosed quote)",
            )
        ]
    except yaml.YAMLError as error:
        return None, [Violation(CG109, Where(shown), f"is not valid YAML: {error}", "simplify the file")]
    finally:
        loader.dispose()
    return data, loader.problems
