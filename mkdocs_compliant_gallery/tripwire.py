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

import sys
from collections.abc import Callable
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from .output.directives import DIRECTIVE, OPENING, outside_fences

_active = False
_disabled = False  # the plugin is configured with `enabled: false`


def _never() -> bool:
    return False


_pages_placed: Callable[[], bool] = _never


class GalleryPluginMissingError(RuntimeError):
    """A page places a gallery but the compliant-gallery plugin is not running."""


def _host_build_errors() -> tuple[type[Exception], ...]:
    """The build errors of the site generators loaded in this process (MkDocs, ProperDocs), each once.

    Raised as those types, the failure is one logged line and "Aborted with a BuildError!", not a traceback. Looked
    up among the loaded modules, never imported: the tripwire also runs where no site generator is installed.
    """
    found: list[type[Exception]] = []
    for name in ("mkdocs.exceptions", "properdocs.exceptions"):
        error = getattr(sys.modules.get(name), "BuildError", None)
        if isinstance(error, type) and issubclass(error, Exception) and error not in found:
            found.append(error)
    return tuple(found)


def missing_plugin_error(message: str) -> GalleryPluginMissingError:
    """A GalleryPluginMissingError that is also the running host's BuildError, when there is a host."""
    host_errors = _host_build_errors()
    if not host_errors:
        return GalleryPluginMissingError(message)
    # The hosts' errors first: their __init__ (click's) keeps the message where the host reads it.
    combined = type("GalleryPluginMissingError", (*host_errors, GalleryPluginMissingError), {"__module__": __name__})
    return combined(message)  # type: ignore[no-any-return]


def activate(pages_placed: Callable[[], bool] = _never) -> None:
    """Called by the plugin when it is configured; only then may directives be rendered.

    `pages_placed` tells when the plugin has rendered every page's directives: Markdown converted after that
    is a copy made by someone else, and loses its directives.
    """
    global _active, _disabled, _pages_placed
    _active, _disabled = True, False
    _pages_placed = pages_placed


def plugin_disabled() -> None:
    """Called by the plugin when it is configured with `enabled: false`: the tripwire then says so."""
    global _disabled
    _disabled = True


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
                if _disabled:
                    reason = (
                        "the compliant-gallery plugin is disabled ('enabled: false' in its options), so no gallery may be "
                        "placed: remove the directive from the page, or enable the plugin"
                    )
                else:
                    reason = (
                        "the compliant-gallery plugin is not active: add 'compliant-gallery' to the plugins of mkdocs.yml, "
                        "or build with a host that runs MkDocs plugins"
                    )
                raise missing_plugin_error(
                    f"compliant-gallery: line {number} places a gallery, but {reason}; building without the plugin could "
                    "publish raw patient photos"
                )
        return lines


class TripwireExtension(Extension):
    """Registers the tripwire before every other preprocessor."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's API name
        md.preprocessors.register(_Tripwire(md), "compliant_gallery_tripwire", 1000)


def makeExtension(**kwargs: Any) -> TripwireExtension:  # noqa: N802 - Python-Markdown's loader name
    """Entry point Python-Markdown calls for `mkdocs_compliant_gallery.tripwire`."""
    return TripwireExtension(**kwargs)
