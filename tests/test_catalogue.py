"""The rule catalogue and the package's shape: every code tested, the README's table generated, no import cycle,
and an engine that imports without any site generator. Fast: no builds."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mkdocs_compliant_gallery import catalogue
from tests.helpers import REPO

PACKAGE_NAME = "mkdocs_compliant_gallery"
PACKAGE = REPO / PACKAGE_NAME
TESTS = REPO / "tests"
README = REPO / "README.md"
TABLE_START = "<!-- rule-table:start -->"
TABLE_END = "<!-- rule-table:end -->"
# The site generators the hosts adapt to; nothing outside hosts/ may need one of them.
SITE_GENERATORS = ("mkdocs", "properdocs", "material")


# -- every code is tested ---------------------------------------------------------------------------------------------


def test_the_catalogue_declares_each_code_once_under_its_own_name() -> None:
    assert len(catalogue.RULES) == 59
    for code, rule in catalogue.RULES.items():
        assert rule.code == code and getattr(catalogue, code) is rule
        assert re.fullmatch(r"CG[1-6]\d\d", code), code


def test_every_rule_code_is_named_by_a_test() -> None:
    """A code no test names is a rule nobody has seen fail: each must appear, as written, in some tests/test_*.py."""
    named: set[str] = set()
    for path in sorted(TESTS.glob("test_*.py")):
        if path.name != Path(__file__).name:
            named.update(re.findall(r"\bCG\d{3}\b", path.read_text(encoding="utf-8")))
    untested = sorted(set(catalogue.RULES) - named)
    assert not untested, f"rule codes that no tests/test_*.py file names: {', '.join(untested)}"


# -- the README's table -----------------------------------------------------------------------------------------------


def test_readme_rule_table_is_generated_from_the_catalogue() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.count(TABLE_START) == 1 and text.count(TABLE_END) == 1, f"README.md needs one '{TABLE_START}' and one '{TABLE_END}'"
    heading = text.index("## Rule codes")
    start, end = text.index(TABLE_START), text.index(TABLE_END)
    assert heading < start < end, "the rule table's markers belong under '## Rule codes', start before end"
    assert text[heading:start].count("\n## ") == 0, "the rule table's markers belong under '## Rule codes'"
    assert text[start + len(TABLE_START) : end] == f"\n{catalogue.rule_table()}\n", (
        "README.md's rule table differs from mkdocs_compliant_gallery/catalogue.py; regenerate it with: python scripts/rule_table.py"
    )


# -- no import cycle --------------------------------------------------------------------------------------------------

Edge = tuple[str, str, str, int]  # (importer, imported, file, line)


def modules_of(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package under `root`, by dotted name (a package by its own name, for its __init__.py)."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def import_edges(root: Path, package: str) -> list[Edge]:
    """Every import of one module of the package by another, wherever it is written (module level, in a function,
    under `if TYPE_CHECKING:`), relative or absolute. `from .pkg import name` imports the submodule pkg.name when
    there is one, else pkg itself."""
    modules = modules_of(root, package)
    edges: list[Edge] = []
    for importer, path in modules.items():
        is_package = path.name == "__init__.py"
        here = importer.split(".") if is_package else importer.split(".")[:-1]
        shown = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), shown)):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                for alias in node.names:
                    # `import pkg.a.b` runs pkg.a.b; the deepest name that is a module of ours is the one imported.
                    parts = alias.name.split(".")
                    found = next((".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in modules), None)
                    if found:
                        targets.append(found)
            else:
                if node.level:
                    base_parts = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                    base = ".".join([*base_parts, *([node.module] if node.module else [])])
                else:
                    base = node.module or ""
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    if submodule in modules:
                        targets.append(submodule)
                    elif base in modules:
                        targets.append(base)
            edges.extend((importer, target, shown, node.lineno) for target in targets if target != importer)
    return edges


def import_cycles(edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each sorted; sorted."""
    graph: dict[str, set[str]] = {}
    for importer, imported, _file, _line in edges:
        graph.setdefault(importer, set()).add(imported)
        graph.setdefault(imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def describe_cycles(edges: list[Edge], cycles: list[list[str]]) -> str:
    lines = []
    for component in cycles:
        members = set(component)
        lines.append("cycle: " + " <-> ".join(component))
        for importer, imported, file, line in sorted(set(edges)):
            if importer in members and imported in members:
                lines.append(f"    {file}:{line} imports {imported}")
    return "\n".join(lines)


def test_the_package_has_no_import_cycle() -> None:
    edges = import_edges(REPO, PACKAGE_NAME)
    cycles = import_cycles(edges)
    assert not cycles, f"import cycles inside {PACKAGE_NAME}:\n{describe_cycles(edges, cycles)}"


def test_the_import_graph_sees_every_form_of_import() -> None:
    """The graph the cycle test relies on: relative and absolute, module level and in functions, submodules by name."""
    edges = {(importer, imported) for importer, imported, _file, _line in import_edges(REPO, PACKAGE_NAME)}
    g = PACKAGE_NAME + "."
    expected = {
        (g + "rules.decide", g + "rules.consent"),  # from .consent import consent_violations
        (g + "rules.consent", g + "records.register"),  # from ..records.register import ...
        (g + "engine", g + "images.faces"),  # from .images import faces (a submodule by name)
        (g + "images.pipeline", g + "images.formats"),  # from . import faces, formats
        (g + "images.scrub", g + "images.formats"),  # from . import formats
        (g + "engine", PACKAGE_NAME),  # from . import __version__ (a name of the package itself)
        (g + "hosts.mkdocs.plugin", g + "tripwire"),  # from ... import tripwire
        (g + "__main__", g + "hosts.cli"),
    }
    assert expected <= edges, sorted(expected - edges)
    assert all(not imported.endswith(".__version__") for _importer, imported in edges)


CYCLES = {
    "from-dot-import-in-a-function": {
        "a.py": "def f():\n    from . import b\n",
        "b.py": "from .a import f\n",
    },
    "absolute-import-statement": {
        "a.py": "import pkg.b\n",
        "b.py": "import pkg.a\n",
    },
    "absolute-from-import": {
        "a.py": "from pkg import b\n",
        "b.py": "from pkg.a import thing\n",
    },
    "dot-dot-from-a-subpackage": {
        "a.py": "from .sub.c import thing\n",
        "sub/__init__.py": "",
        "sub/c.py": "def g():\n    from .. import a\n",
    },
    "three-modules-under-type-checking": {
        "a.py": "from .b import B\n",
        "b.py": "from .c import C\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n",
    },
}


@pytest.mark.parametrize("files", CYCLES.values(), ids=CYCLES.keys())
def test_import_cycles_are_found_in_any_form(tmp_path: Path, files: dict[str, str]) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "ok.py").write_text("from . import a\nimport json\n")
    for name, text in files.items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_text(text)
    edges = import_edges(tmp_path, "pkg")
    cycles = import_cycles(edges)
    assert len(cycles) == 1 and "pkg.a" in cycles[0] and "pkg.ok" not in cycles[0], describe_cycles(edges, cycles)
    assert "pkg/a.py:" in describe_cycles(edges, cycles)


def test_a_package_without_cycles_has_none(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from . import b\nfrom .sub import c\n")
    (tmp_path / "pkg" / "b.py").write_text("from .sub.c import x\n")
    (tmp_path / "pkg" / "sub" / "c.py").write_text("import os\n")
    assert import_cycles(import_edges(tmp_path, "pkg")) == []


# -- the engine needs no site generator -------------------------------------------------------------------------------


def engine_modules() -> Iterator[str]:
    """Every module of the package outside hosts/ (the adapters to MkDocs and the command line) and __main__."""
    for name in modules_of(REPO, PACKAGE_NAME):
        if name.startswith(f"{PACKAGE_NAME}.hosts") or name == f"{PACKAGE_NAME}.__main__":
            continue
        yield name


ENGINE_MODULES = sorted(engine_modules())
# A host module, imported in the same interpreter to show that the block is felt: it must fail.
HOST_MODULE = f"{PACKAGE_NAME}.hosts.mkdocs.config"


@pytest.fixture(scope="module")
def blocked_imports() -> dict[str, str]:
    """Each engine module imported in one fresh interpreter where the site generators cannot be imported: the ones
    that fail, with the error. (An import never succeeds for a module that needs a blocked one, whatever was
    imported before it, so one interpreter tells the same as one per module.)"""
    program = textwrap.dedent(
        f"""
        import importlib, json, sys
        for blocked in {SITE_GENERATORS!r}:
            sys.modules[blocked] = None
        failures = {{}}
        for name in {[*ENGINE_MODULES, HOST_MODULE]!r}:
            try:
                importlib.import_module(name)
            except BaseException as error:
                failures[name] = f"{{type(error).__name__}}: {{error}}"
        print(json.dumps(failures))
        """
    )
    run = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    failures: dict[str, str] = json.loads(run.stdout.splitlines()[-1])
    return failures


def test_the_engine_modules_are_found_and_the_block_is_felt(blocked_imports: dict[str, str]) -> None:
    assert {f"{PACKAGE_NAME}.engine", f"{PACKAGE_NAME}.images.pipeline", f"{PACKAGE_NAME}.tripwire"} <= set(ENGINE_MODULES)
    assert not any(".hosts" in name or name.endswith("__main__") for name in ENGINE_MODULES)
    assert "ModuleNotFoundError" in blocked_imports.get(HOST_MODULE, ""), "the host module imported with mkdocs blocked"


@pytest.mark.parametrize(
    "module", ENGINE_MODULES, ids=[name.removeprefix(PACKAGE_NAME).lstrip(".") or "__init__" for name in ENGINE_MODULES]
)
def test_module_imports_without_a_site_generator(blocked_imports: dict[str, str], module: str) -> None:
    assert module not in blocked_imports, f"{module} cannot be imported without {', '.join(SITE_GENERATORS)}: {blocked_imports[module]}"
