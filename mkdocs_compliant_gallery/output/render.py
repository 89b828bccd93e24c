"""The case cards that directives become (Jinja2, autoescaped, overridable templates), and the generated pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from ..images.pipeline import PairResult, ProcessedImage
from ..records.manifest import Case, PhotoPair, Treatment

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"
GALLERY_TEMPLATE = "fragments/compliant-gallery/gallery.html"
CASE_TEMPLATE = "fragments/compliant-gallery/case.html"
_MIME = {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg"}


@dataclass(frozen=True)
class PublishedCase:
    """A case cleared for publication, with its processed photos and its disclosure texts."""

    case: Case
    treatment: Treatment
    pairs: tuple[tuple[PhotoPair, PairResult], ...]
    disclosures: tuple[str, ...]


def disclosure_texts(treatment: Treatment, material_connection: str | None, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The sentences that must appear inside the case card, in order: typical results first."""
    texts = [treatment.typical_results or ""]
    if material_connection:
        texts.append(material_connection)
    texts.extend(extra)
    return tuple(t for t in texts if t)


class Renderer:
    """Renders case cards through a Jinja environment whose loader a theme can override.

    `slider` is the site-wide default layout (a case's own `layout` wins); the slider is an enhancement that
    the shipped script applies to side-by-side markup, so every card also works without JavaScript. `filter`
    lets the script add treatment filter buttons above a list of several treatments.
    """

    def __init__(self, env: jinja2.Environment | None = None, slider: bool = True, filter: bool = True):
        if env is None:
            env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True)
        elif not env.autoescape:
            # Case text comes from a clinic's manifest: never let it become markup.
            env = env.overlay(autoescape=True)
        self.env = env
        self.slider = slider
        self.filter = filter

    def layout_of(self, case: Case, pair: PairResult) -> str:
        """`slider` or `side-by-side` for one pair: the case's choice, else the site's; unequal sizes never slide."""
        layout = case.layout or ("slider" if self.slider else "side-by-side")
        before, after = pair.before, pair.after
        if layout == "slider" and (before is None or after is None or _size(before) != _size(after)):
            return "side-by-side"
        return layout

    def gallery(self, cases: Sequence[PublishedCase], url_for: Callable[[str], str], first_on_page: bool, label: str) -> str:
        """The HTML of one directive's cases."""
        template = self.env.get_template(GALLERY_TEMPLATE)
        contexts = [self._case_context(item, url_for, eager=first_on_page and index == 0) for index, item in enumerate(cases)]
        # Filter buttons only make sense for a list of several treatments; the script adds them, so without
        # JavaScript the full list stays.
        filterable = self.filter and len({item.treatment.key for item in cases}) > 1
        return template.render(cases=contexts, label=label, case_template=CASE_TEMPLATE, filter=filterable)

    def _case_context(self, item: PublishedCase, url_for: Callable[[str], str], eager: bool) -> dict[str, Any]:
        case = item.case
        facts = []
        if case.procedures:
            facts.append(("Procedures performed", ", ".join(case.procedures)))
        if case.sessions:
            facts.append(("Sessions", str(case.sessions)))
        if case.time_after:
            facts.append(("Photographed", f"{case.time_after} after treatment"))
        return {
            "id": case.id,
            "title": item.treatment.title,
            "treatment": item.treatment.key,
            "area": case.area,
            "facts": facts,
            "caption": case.caption,
            "testimonial": case.testimonial,
            "disclosure_id": f"cg-disclosure-{case.id}",
            "typical_results": item.treatment.typical_results,
            "disclosures": item.disclosures[1:],
            "pairs": [self._pair_context(item, photo, result, url_for, eager, index) for index, (photo, result) in enumerate(item.pairs)],
        }

    def _pair_context(
        self, item: PublishedCase, photo: PhotoPair, result: PairResult, url_for: Callable[[str], str], eager: bool, index: int
    ) -> dict[str, Any]:
        layout = self.layout_of(item.case, result)
        sizes = SIZES[layout]
        name = item.treatment.title + (f", {photo.view.replace('-', ' ')} view" if len(item.pairs) > 1 else "")
        return {
            "view": photo.view,
            "layout": layout,
            # The range input's accessible name; the script reads it from the figure.
            "slider_label": f"Before and after: {name}",
            # The first case on a page is above the fold: no lazy loading, and its first photo comes first.
            "before": _image_context(result.before, photo.before.alt, url_for, sizes, lazy=not eager, priority=eager and index == 0),
            "after": _image_context(result.after, photo.after.alt, url_for, sizes, lazy=not eager, priority=False),
        }


INDEX_TEMPLATE = "fragments/compliant-gallery/index.html"


def treatment_pages(renderer: Renderer, published: Sequence[PublishedCase], folder: str, directory_urls: bool) -> dict[str, str]:
    """Generated Markdown pages: `<folder>/index.md` (the treatments as cards) and one page per treatment.

    Only treatments with a published case get a page; each page places the usual directive, so its cards
    go through the same rendering and the same disclosure check as hand-written pages.
    """
    treatments: dict[str, tuple[Treatment, int]] = {}
    for item in published:
        _, count = treatments.get(item.treatment.key, (item.treatment, 0))
        treatments[item.treatment.key] = (item.treatment, count + 1)
    if not treatments:
        return {}
    pages = {
        f"{folder}/{key}.md": f"# {_markdown_text(treatment.title)}\n\n<!-- compliant-gallery treatment={key} -->\n"
        for key, (treatment, _) in treatments.items()
    }
    cards = [
        {
            "title": treatment.title,
            "href": f"{key}/" if directory_urls else f"{key}.html",
            "count": count,
            "typical_results": treatment.typical_results,
        }
        for key, (treatment, count) in treatments.items()
    ]
    html = renderer.env.get_template(INDEX_TEMPLATE).render(treatments=cards)
    pages[f"{folder}/index.md"] = f"# Results\n\n{html.strip()}\n"
    return pages


def _markdown_text(text: str) -> str:
    """Plain text safe in a Markdown heading: no markup from a clinic's manifest."""
    escaped = {"<": "&lt;", "&": "&amp;"}
    return "".join(escaped.get(c) or (f"\\{c}" if c in "\\`*_{}[]()#+-.!" else c) for c in text)


# What the browser should fetch: a slider shows one photo across the card, side by side shows two halves.
SIZES = {
    "side-by-side": "(min-width: 60em) 24rem, (max-width: 30em) 100vw, 50vw",
    "slider": "(min-width: 60em) 36rem, 100vw",
}


def _size(image: ProcessedImage) -> tuple[int, int]:
    return image.width, image.height


def _image_context(
    image: ProcessedImage | None, alt: str, url_for: Callable[[str], str], sizes: str, lazy: bool, priority: bool
) -> dict[str, Any]:
    assert image is not None
    jpegs = image.of_format("jpeg")
    fallback = jpegs[-1] if jpegs else image.renditions[-1]
    return {
        "alt": alt,
        "src": url_for(fallback.name),
        "width": fallback.width,
        "height": fallback.height,
        "srcset": _srcset(jpegs, url_for),
        "sizes": sizes,
        "sources": [
            {"type": _MIME[fmt], "srcset": _srcset(image.of_format(fmt), url_for)} for fmt in ("avif", "webp") if image.of_format(fmt)
        ],
        "lazy": lazy,
        "priority": priority,
    }


def _srcset(renditions: Iterable[Any], url_for: Callable[[str], str]) -> str:
    return ", ".join(f"{url_for(r.name)} {r.width}w" for r in renditions)
