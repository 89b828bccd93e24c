"""Other ways a page can be built: the host under test, the tripwire without the plugin, and `mkdocs serve`
rebuilding on change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests import HOST
from tests.helpers import HOST_CLI, Project, free_port, http_get, wait_for


def test_builds_run_on_the_host_under_test(project: Project) -> None:
    """With COMPLIANT_GALLERY_HOST=properdocs the fixtures, the plugin and its base class are ProperDocs' own."""
    import mkdocs.commands.build

    from mkdocs_compliant_gallery.hosts.mkdocs.plugin import CompliantGalleryPlugin

    assert mkdocs.commands.build.__name__ == f"{HOST}.commands.build"
    assert CompliantGalleryPlugin.__mro__[1].__module__ == f"{HOST}.plugins"
    result = project.build()
    assert result.ok, result.log[-3000:]
    assert "3 cases published" in result.log


def _markdown(text: str) -> subprocess.CompletedProcess[str]:
    """Render with plain Python-Markdown in a fresh process (no plugin has run there)."""
    code = "import sys, markdown; print(markdown.markdown(sys.stdin.read(), extensions=['mkdocs_compliant_gallery.tripwire']))"
    return subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True)


def test_tripwire_stops_plain_markdown() -> None:
    result = _markdown("# Results\n\n<!-- compliant-gallery treatment=lip-filler -->\n")
    assert result.returncode != 0
    assert "GalleryPluginMissingError" in result.stderr and "plugin is not active" in result.stderr


def test_tripwire_ignores_code_blocks_and_plain_pages() -> None:
    result = _markdown("# Docs\n\n```markdown\n<!-- compliant-gallery case=lips-003 -->\n```\n\nText.\n")
    assert result.returncode == 0, result.stderr
    assert "compliant-gallery case=lips-003" in result.stdout


def test_tripwire_drops_directives_from_markdown_converted_after_the_pages() -> None:
    """With the plugin active, a late copy of a page (a blog excerpt) loses its directives; code samples keep theirs."""
    import markdown

    from mkdocs_compliant_gallery import tripwire

    text = "Intro.\n\n<!-- compliant-gallery\n     case=lips-002 -->\n\n```\n<!-- compliant-gallery case=lips-009 -->\n```\n"
    placed = False
    saved = (tripwire._active, tripwire._pages_placed)
    try:
        tripwire.activate(lambda: placed)
        assert "case=lips-002" in markdown.markdown(text, extensions=[tripwire.makeExtension()])
        placed = True
        late = markdown.markdown(text, extensions=["fenced_code", tripwire.makeExtension()])
        assert "lips-002" not in late and "Intro." in late and "case=lips-009" in late
    finally:
        tripwire._active, tripwire._pages_placed = saved


def test_mkdocs_build_without_the_plugin_fails(project: Project) -> None:
    config_file = project.write()
    config = yaml.safe_load(config_file.read_text())
    config["plugins"] = ["search"]
    config_file.write_text(yaml.safe_dump(config))
    result = subprocess.run([*HOST_CLI, "build", "-f", str(config_file)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "plugin is not active" in result.stderr


def test_serve_rebuilds_when_the_register_changes(project: Project) -> None:
    config_file = project.write()
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [*HOST_CLI, "serve", "-f", str(config_file), "-a", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for(lambda: 'data-cg-case="lips-001"' in http_get(base + "gallery/")[1], 60), "the gallery was not served"
        page = http_get(base + "gallery/")[1]
        image = page.split('data-cg-case="lips-001"')[1].split('src="')[1].split('"')[0]
        image_url = base + "gallery/" + image
        assert http_get(image_url)[0] == 200
        project.consent("C-2026-0001")["revoked_on"] = "2026-11-22"
        register = project.gallery / "consents.yml"
        register.write_text(yaml.safe_dump({"consents": project.consents}, sort_keys=False))
        assert wait_for(lambda: 'data-cg-preview-case="lips-001"' in http_get(base + "gallery/")[1], 60), (
            "the withdrawn case is still served"
        )
        page = http_get(base + "gallery/")[1]
        assert 'data-cg-case="lips-001"' not in page and 'data-cg-case="lips-002"' in page
        # In the preview only, a neutral note stands where the case was.
        assert "Removed: consent withdrawn on 2026-11-22" in page
        assert http_get(image_url)[0] == 404
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    # The rebuild logs only what changed: the new removal, not the cases that stayed as they were.
    assert "new: lips-001 CG203 consent withdrawn on 2026-11-22" in output
    assert "lips-002" not in output
    assert not (Path(project.root) / ".compliance" / "publications.jsonl").exists(), "serve builds are previews, not publications"
