"""A Markdown extension that fails any build rendering a gallery directive without the plugin.

Hosts that run Python-Markdown but not MkDocs plugins (Zensical, a bare `markdown` call) would otherwise
publish the page, and with it whatever the site copies next to it. Add it to `markdown_extensions`:

    markdown_extensions:
      - mkdocs_compliant_gallery.tripwire

With the plugin active it lets pages through, and drops the directives from Markdown rendered after the
plugin has placed every page's galleries (a blog's post excerpts): such copies never show the cards, and a
leftover `case=` comment would name a withdrawn case in the site.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from .output.directives import DIRECTIVE, OPENING, outside_fences

_active = False


def _never() -> bool:
    return False


_pages_placed: Callable[[], bool] = _never


class GalleryPluginMissingError(RuntimeError):
    """A page places a gallery but the compliant-gallery plugin is not running."""


def activate(pages_placed: Callable[[], bool] = _never) -> None:
    """Called by the plugin when it is configured; only then may directives be rendered.

    `pages_placed` tells when the plugin has rendered every page's directives: Markdown converted after that
    is a copy made by someone else, and loses its directives.
    """
    global _active, _pages_placed
    _active = True
    _pages_placed = pages_placed


def _drop_directives(lines: list[str]) -> list[str]:
    """The lines without directive comments outside code (a directive may span lines)."""
    kept: list[str] = []
    text: list[str] = []
    for _, line, is_text in outside_fences(lines):
        if is_text:
            text.append(line)
            continue
        if text:
            kept.extend(DIRECTIVE.sub("", "\n".join(text)).split("\n"))
            text = []
        kept.append(line)
    if text:
        kept.extend(DIRECTIVE.sub("", "\n".join(text)).split("\n"))
    return kept


class _Tripwire(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        if _active:
            return _drop_directives(lines) if _pages_placed() else lines
        for number, line, is_text in outside_fences(lines):
            if is_text and OPENING.search(line):
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
