"""Silent passes that should speak: inputs kept inside docs_dir, directives written almost right, and a page placing
a gallery in a build where the plugin is missing or disabled."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import HOST_CLI, Project, assert_nothing_published


def test_inputs_inside_docs_dir_are_warned_about_on_every_build(project: Project) -> None:
    config = project.write()
    gallery = project.root / "docs" / "gallery"
    project.gallery.rename(gallery)
    project.gallery.mkdir()
    (gallery / "approvals.yml").rename(project.approvals)  # the approvals stay where the plugin looks by default
    settings = yaml.safe_load(config.read_text())
    settings["plugins"][-1]["compliant-gallery"].update(manifest="docs/gallery/manifest.yml", consents="docs/gallery/consents.yml")
    config.write_text(yaml.safe_dump(settings, sort_keys=False))
    for _ in range(2):  # every build, not the first one only
        result = subprocess.run([*HOST_CLI, "build", "-f", str(config)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING") and "CG114" in line]
        assert len(warnings) == 1, result.stderr
        assert (
            "the photo folder (docs/gallery), the manifest (docs/gallery/manifest.yml) and the register "
            "(docs/gallery/consents.yml) are inside docs_dir (docs)" in warnings[0]
        ), warnings[0]
        assert "move them to a folder beside docs_dir" in result.stderr
        site = project.root / "site" / "gallery"
        assert not [p.name for p in site.rglob("*") if p.name != "index.html"], "an input was copied into the site"
    strict = subprocess.run([*HOST_CLI, "build", "--strict", "-f", str(config)], capture_output=True, text=True)
    assert strict.returncode != 0, "a CI build in strict mode stops on it"


# (how the page writes it, the directive it means)
NEAR_MISSES = [
    ("<!-- compliant_gallery -->", "<!-- compliant-gallery -->"),
    ("<!-- Compliant-Gallery -->", "<!-- compliant-gallery -->"),
    ("<!-- compliant-gallery: treatment=lip-filler -->", "<!-- compliant-gallery treatment=lip-filler -->"),
]


@pytest.mark.parametrize(("written", "meant"), NEAR_MISSES)
def test_a_directive_written_almost_right_fails_the_build(project: Project, written: str, meant: str) -> None:
    project.pages["featured.md"] = f"# Featured\n\nOur results:\n\n{written}\n"
    result = project.build()
    assert not result.ok
    assert f"docs/featured.md:5 (directive): CG108 '{written}' looks like a gallery directive but is not written as one" in result.log
    assert f"fix: write it exactly as '{meant}'" in result.log
    assert_nothing_published(result.site, project.root)


def test_a_mistyped_directive_argument_fails_with_what_was_meant(project: Project) -> None:
    project.pages["featured.md"] = "# Featured\n\n<!-- compliant-gallery treatmnet=lip-filler -->\n"
    result = project.build()
    assert not result.ok
    assert "docs/featured.md:3 (directive): CG108 directive argument 'treatmnet=lip-filler' is not understood" in result.log
    assert "fix: did you mean 'treatment=lip-filler'?" in result.log


def _without_the_plugin(project: Project, plugin: object) -> Path:
    config = project.write()
    settings = yaml.safe_load(config.read_text())
    settings["plugins"] = ["search", plugin] if plugin else ["search"]
    config.write_text(yaml.safe_dump(settings, sort_keys=False))
    return config


@pytest.mark.parametrize(
    ("plugin", "reason"),
    [
        (None, "the compliant-gallery plugin is not active: add 'compliant-gallery' to the plugins of mkdocs.yml"),
        ({"compliant-gallery": {"enabled": False}}, "the compliant-gallery plugin is disabled ('enabled: false' in its options)"),
    ],
    ids=["plugin missing", "plugin disabled"],
)
def test_the_tripwire_fails_in_one_clear_line(project: Project, plugin: object, reason: str) -> None:
    config = _without_the_plugin(project, plugin)
    result = subprocess.run([*HOST_CLI, "build", "-f", str(config)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert errors[-1].startswith("ERROR   -  compliant-gallery: line 3 places a gallery, but " + reason), errors
    assert "Error reading page 'gallery.md'" in errors[0], errors
    assert (
        not (project.root / "site" / "gallery").exists() or "cg-case" not in (project.root / "site" / "gallery" / "index.html").read_text()
    )
