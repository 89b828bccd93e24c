"""Other plugins that would publish gallery photos behind the gallery's back, found before the build starts.

Each check reads another plugin's options as its own documentation describes them; it never changes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from ...settings import IMAGE_FOLDER

# A file the gallery publishes, as Material's optimize plugin would see it (patterns match src_uri).
_SAMPLE_IMAGE = f"{IMAGE_FOLDER}/0123456789abcdef0123.jpg"
_GALLERY_ASSETS = f"{IMAGE_FOLDER.rsplit('/', 1)[0]}/*"


def _material_plugin(plugin: object, name: str) -> bool:
    return type(plugin).__module__.startswith(f"material.plugins.{name}.")


def _options(plugin: object) -> Mapping[str, Any]:
    config = getattr(plugin, "config", None)
    return config if isinstance(config, Mapping) else {}


def optimize_problems(plugins: Iterable[tuple[str, object]]) -> list[str]:
    """Material's optimize plugin re-encodes images after the gallery wrote and checked them, and keeps its
    queue across `mkdocs serve` rebuilds, so it copies photos of a withdrawn case back into the site.
    It is accepted only with the gallery's folder left out of its reach."""
    problems = []
    for name, plugin in plugins:
        options = _options(plugin)
        if not _material_plugin(plugin, "optimize") or not options.get("enabled", True) or not options.get("optimize", True):
            continue
        if not options.get("optimize_jpg", True) and not options.get("optimize_png", True):
            continue
        include = list(options.get("optimize_include") or [])
        exclude = list(options.get("optimize_exclude") or [])
        reached = any(fnmatch(_SAMPLE_IMAGE, p) for p in include) if include else not any(fnmatch(_SAMPLE_IMAGE, p) for p in exclude)
        if reached:
            problems.append(
                f"plugin '{name}' would re-encode the gallery's photos after they were checked and, under 'mkdocs serve', "
                "copy photos of withdrawn cases back into the site. The gallery's images are already optimised: add "
                f"'{_GALLERY_ASSETS}' to its optimize_exclude (or set 'enabled: false')"
            )
    return problems


def social_problems(plugins: Iterable[tuple[str, object]], private: Iterable[Path], cwd: Path) -> list[str]:
    """Material's social plugin paints `cards_layout_options.background_image` onto every page's card; a raw
    photo there would be published on every page, re-encoded, with no consent check and no disclosure."""
    folders = [p.resolve() for p in private]
    problems = []
    for name, plugin in plugins:
        options = _options(plugin)
        if not _material_plugin(plugin, "social") or not options.get("enabled", True):
            continue
        layout = options.get("cards_layout_options") or {}
        image = layout.get("background_image") if isinstance(layout, Mapping) else None
        if not image:
            continue
        # The social plugin opens the path as given, that is relative to the working directory.
        path = (cwd / str(image)).resolve()
        if any(path == folder or path.is_relative_to(folder) for folder in folders):
            problems.append(
                f"plugin '{name}' paints '{image}' onto every social card: a gallery file would be published on every page "
                "without its consent check or disclosure. Use a picture that is not a patient photo"
            )
    return problems
