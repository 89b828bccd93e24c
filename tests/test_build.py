"""A valid gallery builds: cards with disclosures, clean upright images, nothing private in the site."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from mkdocs_compliant_gallery.images import formats
from tests.helpers import AVIF_STRUCTURAL_TAGS, STRUCTURAL_GROUPS, Project, Result, cards_of, case, consent, run_build
from tests.photos import CANARY, Planted


def test_valid_gallery_publishes_every_case_with_its_disclosure(project: Project) -> None:
    project.consent("C-2026-0002")["material_connection"] = "This patient received a 20% discount on treatment."
    result = project.build()
    assert result.ok, result.log
    cards = cards_of(result.site / "gallery" / "index.html")
    assert list(cards) == ["lips-001", "lips-002", "brow-001"]
    lips = cards_of(result.site / "lips" / "index.html")
    assert list(lips) == ["lips-001", "lips-002"]
    for case_id, card in cards.items():
        text = " ".join(card["text"].split())
        expected = "Most patients see softer lines" if case_id.startswith("brow") else "Most patients see fuller lips for 6 to 12 months."
        assert expected in text
        assert "Before" in text and "After" in text
        assert f"Caption of {case_id}." in text
        assert len(card["imgs"]) == 2
        for img in card["imgs"]:
            assert img["alt"] and img["width"] and img["height"] and img["srcset"]
    assert "This patient received a 20% discount on treatment." in cards["lips-002"]["text"]
    assert "discount" not in cards["lips-001"]["text"]


def test_site_holds_no_private_data(built_project: tuple[Project, Result]) -> None:
    project, result = built_project
    assert result.ok, result.log
    text = result.site_text()
    for secret in (
        "P-10001",
        "P-10002",
        "C-2026-0001",
        "C-2026-0003",
        CANARY,
        "lips-001-before.jpg",
        "internal review n=40",
        "consents.yml",
        "manifest.yml",
    ):
        assert secret.lower() not in text.lower(), f"{secret} found in the site"
    index = json.loads((result.site / "search" / "search_index.json").read_text())
    assert any("Most patients see fuller lips" in doc["text"] for doc in index["docs"]), "published cases are searchable"
    raw = {p.read_bytes() for p in (project.gallery / "photos").iterdir()}
    for path in result.site_files():
        assert path.read_bytes() not in raw
        assert "photos" not in path.relative_to(result.site).parts


def test_published_images_carry_no_metadata(built_project: tuple[Project, Result], exiftool: Callable[[Path], dict[str, Any]]) -> None:
    _, result = built_project
    assert result.ok, result.log
    images = result.gallery_images()
    assert len(images) == 3 * 2 * 2 * 3  # cases x (before, after) x widths x formats
    for path in images:
        data = path.read_bytes()
        assert CANARY.encode() not in data
        tags = exiftool(path)
        leftovers = {k: v for k, v in tags.items() if k.split(":")[0] not in STRUCTURAL_GROUPS and k not in AVIF_STRUCTURAL_TAGS}
        assert not leftovers, f"{path.name}: {leftovers}"
        assert not any(k.startswith(("EXIF", "IFD", "GPS", "XMP", "ICC", "Photoshop", "IPTC", "MakerNotes")) for k in tags), tags
        assert "File:Comment" not in tags
        with Image.open(path) as image:
            assert not image.info.get("exif") and not image.info.get("icc_profile") and not image.info.get("xmp")
            assert "comment" not in image.info
            assert not image.getexif()
        assert formats.problems(data, formats.sniff(data) or "") == []


def test_images_are_upright_and_pairs_share_one_size(project: Project) -> None:
    for seed, (name, orientation) in enumerate((("lips-001-before.jpg", 6), ("lips-001-after.jpg", 8), ("lips-002-before.jpg", 3))):
        project.photo(name, seed=seed, size=(320, 240), planted=Planted(orientation=orientation, taken=f"2026:01:0{seed + 1} 10:00:00"))
    result = project.build()
    assert result.ok, result.log
    for case_id in ("lips-001", "lips-002"):
        card = cards_of(result.site / "gallery" / "index.html")[case_id]
        sizes = []
        for img in card["imgs"]:
            path = result.site / "gallery" / img["src"]
            with Image.open(path.resolve()) as image:
                rgb = image.convert("RGB")
                sizes.append(rgb.size)
                # The red marker drawn in the upright top-left corner must be top-left after processing.
                red, green, blue = rgb.getpixel((5, 5))  # type: ignore[misc]
                assert red > 200 and green < 80 and blue < 160, f"{case_id}: not upright ({red}, {green}, {blue})"
            assert (int(img["width"]), int(img["height"])) == (320, 240)
        assert sizes[0] == sizes[1] == (320, 240)


def test_never_upscaled_and_widths_skipped(project: Project) -> None:
    project.options["widths"] = [100, 200, 4000]
    result = project.build()
    assert result.ok, result.log
    widths = set()
    for path in result.gallery_images():
        with Image.open(path) as image:
            widths.add(image.width)
    assert widths == {100, 200}


def test_crop_and_redaction_are_applied(project: Project) -> None:
    pair = project.case("lips-001")["photos"][0]
    pair["crop"] = [40, 20, 200, 150]
    pair["redact"] = [[40, 20, 60, 60]]  # the top-left corner of the crop becomes black
    project.options["widths"] = [200]
    result = project.build()
    assert result.ok, result.log
    card = cards_of(result.site / "gallery" / "index.html")["lips-001"]
    for img in card["imgs"]:
        with Image.open((result.site / "gallery" / img["src"]).resolve()) as image:
            rgb = image.convert("RGB")
            assert rgb.size == (200, 150)
            assert max(rgb.getpixel((10, 10))) < 30  # type: ignore[arg-type]
            assert max(rgb.getpixel((150, 100))) > 30  # type: ignore[arg-type]


def test_output_names_are_content_hashes(project: Project) -> None:
    import hashlib

    result = project.build()
    assert result.ok
    for path in result.gallery_images():
        assert path.stem == hashlib.sha256(path.read_bytes()).hexdigest()[:20]


def test_rebuild_uses_cache_and_is_deterministic(project: Project) -> None:
    first = project.build()
    assert first.ok
    names = [p.name for p in first.gallery_images()]
    second = project.build()
    assert second.ok
    assert [p.name for p in second.gallery_images()] == names
    assert "3 from cache" in second.log


def test_placed_cases_only(project: Project) -> None:
    """A case on no page publishes no image."""
    project.pages = {"index.md": "# Home\n\n<!-- compliant-gallery case=brow-001 -->\n"}
    result = project.build()
    assert result.ok, result.log
    assert list(cards_of(result.site / "index.html")) == ["brow-001"]
    assert len(result.gallery_images()) == 2 * 2 * 3


def test_directive_in_code_block_is_left_alone(project: Project) -> None:
    project.pages["howto.md"] = "# How to\n\n```markdown\n<!-- compliant-gallery case=lips-999 -->\n```\n"
    result = project.build()
    assert result.ok, result.log
    assert "&lt;!-- compliant-gallery case=lips-999 --&gt;" in (result.site / "howto" / "index.html").read_text()


def test_caption_markup_is_escaped(project: Project) -> None:
    project.case("lips-001")["caption"] = "<script>alert(1)</script> {{ config.site_name }}"
    result = project.build()
    assert result.ok, result.log
    html = (result.site / "gallery" / "index.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html and "{{ config.site_name }}" in html


def test_expiring_soon_warns_but_publishes(project: Project) -> None:
    project.consent("C-2026-0001")["expires_on"] = "2026-12-01"
    result = project.build()
    assert result.ok, result.log
    assert "CG211" in result.log and "lips-001" in result.log
    assert "lips-001" in cards_of(result.site / "gallery" / "index.html")


def test_csv_register_gives_the_same_result(project: Project) -> None:
    project.consents_name = "consents.csv"
    header = "id,patient_ref,signed_on,signer,expires_on,channels.permit,channels.deny,purposes,scope.cases,allows.face,statements.revocation,statements.conditioning,statements.redisclosure,material_connection,third_party_remuneration,irrevocable,revoked_on\n"
    rows = [
        "C-2026-0001,P-10001,2026-03-02,patient,2028-03-02,website;social,paid_ads,marketing,lips-001,false,true,true,true,none,false,false,",
        "C-2026-0002,P-10002,2026-03-02,patient,2028-03-02,social,,marketing,lips-002,false,true,true,true,none,false,false,",
        "C-2026-0003,P-10003,2026-03-02,patient,2028-03-02,website,,marketing,brow-001,false,true,true,true,none,false,false,2026-11-01",
    ]
    project.consents_text = header + "\n".join(rows) + "\n"
    result = project.build()
    assert not result.ok
    assert "gallery/consents.csv:3" in result.log and "CG202" in result.log
    project.consents_text = header + "\n".join([rows[0], rows[1].replace(",social,", ",website,"), rows[2]]) + "\n"
    result = project.build()
    assert result.ok, result.log
    assert list(cards_of(result.site / "gallery" / "index.html")) == ["lips-001", "lips-002"]


def test_dirty_build_is_refused(project: Project) -> None:
    config_file = project.write()
    result = run_build(config_file, dirty=True)
    assert not result.ok
    assert "--dirty" in result.log


def test_unknown_plugin_option_fails(project: Project) -> None:
    project.options["chanel"] = "website"
    result = project.build()
    assert not result.ok
    assert "CG101" in result.log and "did you mean 'channel'" in result.log


def test_plain_and_material_themes_both_render(project: Project) -> None:
    project.theme = {"name": "material"}
    result = project.build()
    assert result.ok, result.log
    assert list(cards_of(result.site / "gallery" / "index.html")) == ["lips-001", "lips-002", "brow-001"]
    assert (result.site / "assets" / "compliant-gallery" / "compliant-gallery.css").exists()


def test_a_long_cold_build_reports_progress(project: Project) -> None:
    """Every 20 new pairs and at the end, in pool order; a rebuild from the cache says nothing of the kind."""
    for number in range(4, 25):
        case_id, consent_id = f"lips-{number:03d}", f"C-2026-{number:04d}"
        project.manifest["cases"].append(case(case_id, consent_id))
        project.consents.append(consent(consent_id, case_id, f"P-2{number:04d}"))
        project.photo(f"{case_id}-before.jpg", seed=number, planted=Planted(taken="2026:01:10 10:00:00"))
        project.photo(f"{case_id}-after.jpg", seed=number + 100, planted=Planted(taken="2026:02:10 10:00:00"))
    project.options["workers"] = 2
    result = project.build()
    assert result.ok, result.log
    progress = [line.split(": ")[-1] for line in result.log.splitlines() if "new photo pairs" in line]
    assert progress == ["processed 20 of 24 new photo pairs", "processed 24 of 24 new photo pairs"], progress
    again = project.build()
    assert again.ok and "new photo pairs" not in again.log
