"""The checks after rendering: disclosures that a theme drops, and the output guard over every file of site/."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Project, cards_of

CASE_TEMPLATE = (
    Path(__file__).resolve().parent.parent / "mkdocs_compliant_gallery" / "templates" / "fragments" / "compliant-gallery" / "case.html"
)


def _override(project: Project, text: str) -> None:
    folder = project.root / "overrides" / "fragments" / "compliant-gallery"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "case.html").write_text(text)
    project.theme = {"name": "mkdocs", "custom_dir": "overrides"}


def _disclosure_block(template: str) -> tuple[int, int]:
    start = template.index('  <div class="cg-disclosure"')
    end = template.index("</div>", start) + len("</div>")
    return start, end


def test_override_that_drops_the_disclosure_fails(project: Project) -> None:
    template = CASE_TEMPLATE.read_text()
    start, end = _disclosure_block(template)
    _override(project, template[:start] + template[end:])
    result = project.build()
    assert not result.ok
    assert "CG404" in result.log and "docs/gallery.md" in result.log and "lips-001" in result.log
    assert not list(result.site.rglob("*.html")), "the failed site was not emptied"


def test_override_that_hides_the_disclosure_fails(project: Project) -> None:
    template = CASE_TEMPLATE.read_text()
    start, end = _disclosure_block(template)
    hidden = "<details><summary>Disclosure</summary>" + template[start:end] + "</details>"
    _override(project, template[:start] + hidden + template[end:])
    result = project.build()
    assert not result.ok and "CG404" in result.log


def test_override_that_restyles_but_keeps_the_disclosure_passes(project: Project) -> None:
    template = CASE_TEMPLATE.read_text().replace('class="cg-case"', 'class="cg-case my-clinic-card"')
    _override(project, template)
    result = project.build()
    assert result.ok, result.log
    assert "my-clinic-card" in (result.site / "gallery" / "index.html").read_text()


def test_patient_ref_written_in_a_page_fails_and_empties_the_site(project: Project) -> None:
    project.pages["about.md"] = "# About\n\nThanks to patient p-10002 for sharing.\n"
    result = project.build()
    assert not result.ok
    assert "CG603" in result.log and "site/about/index.html" in result.log and "patient_ref of consent C-2026-0002" in result.log
    assert "search/search_index.json" in result.log
    assert result.site_files() == []


def test_raw_photo_copied_into_docs_fails(project: Project) -> None:
    raw = (project.gallery / "photos" / "lips-001-before.jpg").read_bytes()
    project.write()
    (project.root / "docs" / "img").mkdir()
    (project.root / "docs" / "img" / "hero.jpg").write_bytes(raw)
    result = project.build()
    assert not result.ok
    assert "CG602" in result.log and "site/img/hero.jpg" in result.log
    assert result.site_files() == []


def test_similar_published_id_is_not_mistaken_for_a_removed_one(project: Project) -> None:
    project.manifest["cases"][1]["id"] = "lips-0010"
    project.consent("C-2026-0002")["scope"] = {"cases": ["lips-0010"]}
    for which in ("before", "after"):
        project.manifest["cases"][1]["photos"][0][which]["alt"] = f"lips-0010 {which}"
    project.case("lips-001")  # still present
    project.consent("C-2026-0001")["revoked_on"] = "2026-11-01"
    result = project.build()
    assert result.ok, result.log
    assert list(cards_of(result.site / "gallery" / "index.html")) == ["lips-0010", "brow-001"]


def test_gallery_inside_docs_dir_is_never_copied(project: Project) -> None:
    """Manifest, register, approvals and raw photos inside docs_dir are taken out of the site."""
    project.write()
    inside = project.root / "docs" / "gallery-data"
    (project.gallery).rename(inside)
    project.options["manifest"] = "docs/gallery-data/manifest.yml"
    project.options["consents"] = "docs/gallery-data/consents.yml"
    project.options["approvals"] = "docs/gallery-data/approvals.yml"
    project.write = _write_without_gallery(project)  # type: ignore[method-assign]
    result = project.build()
    assert result.ok, result.log
    names = {p.name for p in result.site_files()}
    assert (inside / "approvals.yml").is_file()
    assert not names & {"manifest.yml", "consents.yml", "approvals.yml", "lips-001-before.jpg"}
    assert not (result.site / "gallery-data").exists()


def _write_without_gallery(project: Project):  # type: ignore[no-untyped-def]
    original = Project.write

    def write() -> Path:
        path = original(project)
        # Project.write also writes gallery/; for this test the files live in docs/gallery-data instead.
        import shutil

        shutil.rmtree(project.gallery)
        return path

    return write


def test_other_images_lose_their_metadata_but_keep_their_pixels(project: Project, tmp_path: Path) -> None:
    """A designer's logo with GPS and a serial in it: the site copy has none of it and the same pixels."""
    from PIL import Image, ImageChops

    from tests.photos import CANARY, write_photo

    project.write()
    for name in ("logo.jpg", "logo.png", "logo.webp"):
        write_photo(project.root / "docs" / "img" / name, size=(64, 48), seed=7)
    result = project.build()
    assert result.ok, result.log
    for name in ("logo.jpg", "logo.png", "logo.webp"):
        published = result.site / "img" / name
        original = project.root / "docs" / "img" / name
        assert CANARY.encode() not in published.read_bytes()
        assert f"removed metadata from img/{name}" in result.log
        with Image.open(published) as clean, Image.open(original) as raw:
            assert not clean.info.get("exif") and not clean.info.get("icc_profile")
            assert ImageChops.difference(clean.convert("RGB"), raw.convert("RGB")).getbbox() is None
    assert (result.site / "img" / "grid.png").exists()  # the mkdocs theme's own art, scrubbed too
    assert b"iTXt" not in (result.site / "img" / "grid.png").read_bytes()
