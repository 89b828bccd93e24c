"""`compliant-gallery verify --browser`: every disclosure of a built site measured in a real browser.

Every page with case cards is opened in headless Chromium (Playwright driving the system's `chromium`, never a
downloaded browser) in the light and the dark colour scheme, and in every colour scheme of Material's palette
toggle. For each card the browser reports whether its disclosure is rendered and visible, its size against
the page's text around the gallery, whether its box lies inside the card and on the page, whether anything
clips or covers its text, and the WCAG contrast of its text against the background it is painted on.

Playwright is imported only when the check runs: it is an optional extra (`[browser]`).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = 'pip install "mkdocs-compliant-gallery[browser]"'
# Debian's chromium on a machine without network, run as any user: no sandbox, no background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
MIN_CONTRAST = 4.5
SCHEME_ATTRIBUTE = "data-md-color-scheme"

# Runs in the page; returns one result per case card. Kept in one place so every scheme is measured alike.
_MEASURE = r"""
async (minContrast) => {
  const lift = document.createElement('style');
  // Hit testing must see overlays that ignore the pointer too.
  lift.textContent = '*, *::before, *::after { pointer-events: auto !important; }';
  document.head.appendChild(lift);
  const parse = (text) => {
    const m = /rgba?\(([^)]+)\)/.exec(text || '');
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0] / 255, p[1] / 255, p[2] / 255, p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const lum = (c) => {
    const ch = (v) => v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const hex = (c) => '#' + c.slice(0, 3).map(v => Math.round(v * 255).toString(16).padStart(2, '0')).join('');
  const textElements = (root) => [root, ...root.querySelectorAll('*')].filter(e =>
    [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()));
  const results = [];
  const cards = [...document.querySelectorAll('[data-cg-case]')];
  for (const card of cards) {
    const problems = [];
    const id = card.dataset.cgCase;
    const targets = new Set([...card.querySelectorAll('figure[aria-describedby]')]
      .flatMap(f => f.getAttribute('aria-describedby').split(/\s+/)));
    const block = card.querySelector('.cg-disclosure') || [...card.querySelectorAll('[id]')].find(e => targets.has(e.id));
    if (!block) { results.push({id, problems: ['the card has no disclosure block']}); continue; }
    block.scrollIntoView({block: 'center'});
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    if (!block.checkVisibility({opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true})) {
      problems.push('the disclosure is not rendered visibly (display, visibility, opacity or content-visibility)');
    }
    const gallery = card.closest('.cg-gallery') || card;
    const around = parseFloat(getComputedStyle(gallery.parentElement || gallery).fontSize);
    const box = block.getBoundingClientRect();
    const cardBox = card.getBoundingClientRect();
    const scale = block.offsetHeight ? box.height / block.offsetHeight : 1;
    if (box.width < 1 || box.height < 1) problems.push(`the disclosure's box is ${box.width.toFixed(0)}x${box.height.toFixed(0)} px`);
    const slack = 1;
    if (box.left < cardBox.left - slack || box.right > cardBox.right + slack || box.top < cardBox.top - slack || box.bottom > cardBox.bottom + slack) {
      problems.push('the disclosure\'s box is not inside its card');
    }
    const page = document.documentElement;
    if (box.right + scrollX <= 0 || box.bottom + scrollY <= 0 || box.left + scrollX >= page.scrollWidth) {
      problems.push('the disclosure is off the page');
    }
    let opacity = 1;
    for (let e = block; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      opacity *= parseFloat(s.opacity);
      if (s.clipPath && s.clipPath !== 'none' && !/^inset\(0(px)?\)$/.test(s.clipPath)) problems.push(`clipped by clip-path: ${s.clipPath} on <${e.tagName.toLowerCase()} class="${e.className}">`);
      if (s.clip && s.clip !== 'auto' && s.position === 'absolute') problems.push(`clipped by clip: ${s.clip}`);
      if (e !== block && s.overflow !== 'visible') {
        const r = e.getBoundingClientRect();
        if (box.top < r.top - slack || box.bottom > r.bottom + slack || box.left < r.left - slack || box.right > r.right + slack) {
          problems.push(`cut off by overflow: ${s.overflow} on <${e.tagName.toLowerCase()} class="${e.className}">`);
        }
      }
      if (e === card) break;
    }
    for (const pseudo of ['::before', '::after']) {
      for (const e of [block, ...block.querySelectorAll('*')]) {
        const s = getComputedStyle(e, pseudo);
        const painted = (parse(s.backgroundColor) || [0, 0, 0, 0])[3] > 0 || s.backgroundImage !== 'none';
        if (s.content !== 'none' && s.content !== 'normal' && ['absolute', 'fixed'].includes(s.position) && painted) {
          problems.push(`a ${pseudo} box with a background is positioned over the disclosure`);
        }
      }
    }
    let worstContrast = null;
    for (const e of textElements(block)) {
      const s = getComputedStyle(e);
      const size = parseFloat(s.fontSize) * scale;
      if (size < around - 0.5) {
        problems.push(`its text is ${size.toFixed(1)}px, smaller than the page's text (${around.toFixed(1)}px)`);
      }
      // Covered: whatever is painted on top at the middle of each line of text must be the text's own element.
      const range = document.createRange();
      range.selectNodeContents(e);
      for (const rect of [...range.getClientRects()].slice(0, 8)) {
        if (rect.width < 1 || rect.height < 1) continue;
        const x = rect.left + rect.width / 2, y = rect.top + rect.height / 2;
        if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
        const hit = document.elementFromPoint(x, y);
        if (hit && !block.contains(hit) && !hit.contains(block)) {
          problems.push(`its text is covered by <${hit.tagName.toLowerCase()} class="${hit.className}">`);
          break;
        }
      }
      let text = parse(s.webkitTextFillColor && s.webkitTextFillColor !== s.color ? s.webkitTextFillColor : s.color);
      let layers = [];
      let image = false;
      for (let a = e; a; a = a.parentElement) {
        const as = getComputedStyle(a);
        if (as.backgroundImage !== 'none') { image = true; break; }
        const bg = parse(as.backgroundColor);
        if (bg && bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; }
      }
      if (image) { problems.push('its text is over a background image: contrast cannot be measured; give the disclosure a solid background'); continue; }
      let background = [1, 1, 1, 1];
      if (layers.length && layers[layers.length - 1][3] >= 1) background = layers.pop();
      for (const layer of layers.reverse()) background = over(layer, background);
      text = [text[0], text[1], text[2], text[3] * opacity];
      const seen = over(text, background);
      const r = ratio(seen, background);
      if (worstContrast === null || r < worstContrast.ratio) worstContrast = {ratio: r, text: hex(seen), background: hex(background)};
    }
    if (worstContrast && worstContrast.ratio < minContrast) {
      problems.push(`its text ${worstContrast.text} on ${worstContrast.background} has a contrast of ${worstContrast.ratio.toFixed(2)}:1, below ${minContrast}:1`);
    }
    results.push({id, problems: [...new Set(problems)]});
  }
  lift.remove();
  return results;
}
"""


@dataclass(frozen=True)
class BrowserFailure:
    """One disclosure that fails in the browser, in one colour scheme."""

    page: str
    case: str
    scheme: str
    problem: str

    def format(self) -> str:
        return f"{self.page} [case {self.case}] ({self.scheme} scheme): {self.problem}\n    fix: {_fix_for(self.problem)}"


def _fix_for(problem: str) -> str:
    if "contrast" in problem:
        return "give the disclosure the scheme's full text colour on the card's background (no lighter grey, no transparency)"
    if "smaller than the page's text" in problem:
        return "remove the rule that sets a smaller font-size on the disclosure or its card: it must be at least the page's text size"
    if "covered" in problem or "positioned over" in problem:
        return "remove or move what is drawn over the disclosure"
    return "remove the stylesheet rule or script that hides, clips or moves the disclosure; keep it visible inside its card"


def playwright_available() -> bool:
    """Whether the optional Playwright package is installed."""
    return importlib.util.find_spec("playwright") is not None


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a page closed while a photo was still loading: nothing to report


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 on a free port, in a thread; yields the base URL (the folder may be filled later)."""
    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def gallery_pages(site_dir: Path) -> list[str]:
    """Site-relative paths of every page with case cards."""
    return sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.html") if b"data-cg-case" in p.read_bytes())


def verify_in_browser(site_dir: Path, chromium: Path = DEFAULT_CHROMIUM) -> tuple[list[BrowserFailure], int]:
    """Every disclosure of every gallery page in light, dark and each Material palette scheme; and the pages checked."""
    from playwright.sync_api import sync_playwright

    pages = gallery_pages(site_dir)
    failures: list[BrowserFailure] = []
    with serving(site_dir) as url, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            for relative in pages:
                palettes = _measure(browser, url + relative, "light", "light", None, failures, f"site/{relative}")
                _measure(browser, url + relative, "dark", "dark", None, failures, f"site/{relative}")
                for palette in palettes:
                    name = palette[SCHEME_ATTRIBUTE]
                    _measure(browser, url + relative, f"Material '{name}'", "dark", palette, failures, f"site/{relative}")
        finally:
            browser.close()
    return failures, len(pages)


def _measure(
    browser: Any, address: str, scheme: str, emulated: str, palette: dict[str, str] | None, failures: list[BrowserFailure], label: str
) -> list[dict[str, str]]:
    """Measure one page in one scheme; returns the Material palettes it offers besides the one it is built in."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme=emulated, reduced_motion="reduce")
    try:
        page = context.new_page()
        page.goto(address)
        page.wait_for_load_state("load")
        if palette is not None:
            # What Material's palette toggle does: the scheme's attributes on <body>.
            page.evaluate("(attrs) => { for (const [k, v] of Object.entries(attrs)) document.body.setAttribute(k, v); }", palette)
        for result in page.evaluate(_MEASURE, MIN_CONTRAST):
            for problem in result["problems"]:
                failures.append(BrowserFailure(label, result["id"], scheme, problem))
        offered: list[dict[str, str]] = page.evaluate(
            """(name) => {
                 const current = document.body.getAttribute(name);
                 return [...document.querySelectorAll(`input[${name}]`)]
                   .filter(i => i.getAttribute(name) !== current)
                   .map(i => Object.fromEntries([...i.attributes]
                     .filter(a => a.name.startsWith('data-md-color-') && a.name !== 'data-md-color-media')
                     .map(a => [a.name, a.value])));
               }""",
            SCHEME_ATTRIBUTE,
        )
        return offered
    finally:
        context.close()
