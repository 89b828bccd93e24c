"""A Markdown extension that fails any build rendering a gallery directive without the plugin.

Hosts that run Python-Markdown but not MkDocs plugins (Zensical, a bare `markdown` call) would otherwise
publish the page, and with it whatever the site copies next to it. Add it to `markdown_extensions`:

    markdown_extensions:
      - mkdocs_compliant_gallery.tripwire
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

_active = False
_DIRECTIVE = re.compile(r"<!--\s*compliant-gallery\b")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


class GalleryPluginMissingError(RuntimeError):
    """A page places a gallery but the compliant-gallery plugin is not running."""


def activate() -> None:
    """Called by the plugin when it is configured; only then may directives be rendered."""
    global _active
    _active = True


def is_active() -> bool:
    return _active


class _Tripwire(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        if _active:
            return lines
        fence: str | None = None
        for number, line in enumerate(lines, start=1):
            opening = _FENCE.match(line)
            if opening:
                marker = opening.group(1)
                if fence is None:
                    fence = marker[0]
                elif marker[0] == fence:
                    fence = None
                continue
            if fence is None and _DIRECTIVE.search(line):
                raise GalleryPluginMissingError(
                    f"line {number}: a compliant-gallery directive is on this page but the compliant-gallery plugin "
                    "is not active. Add 'compliant-gallery' to the plugins of mkdocs.yml, or build with a host "
                    "that runs MkDocs plugins; building without it could publish raw patient photos."
                )
        return lines


class TripwireExtension(Extension):
    """Registers the tripwire before every other preprocessor."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's API name
        md.preprocessors.register(_Tripwire(md), "compliant_gallery_tripwire", 1000)


def makeExtension(**kwargs: Any) -> TripwireExtension:  # noqa: N802 - Python-Markdown's loader name
    """Entry point Python-Markdown calls for `mkdocs_compliant_gallery.tripwire`."""
    return TripwireExtension(**kwargs)
