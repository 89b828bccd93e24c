"""Hostile and odd input: every entry either fails with its exact rule code and leaves no gallery in site/,
or is accepted and publishes nothing it should not. (The rule table in test_rules.py covers one input per rule.)
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.helpers import Project, assert_nothing_published, cards_of, consent
from tests.photos import CANARY, Planted, write_photo

Mutation = Callable[[Project], None]


def _register_text(project: Project) -> str:
    return yaml.safe_dump({"consents": project.consents}, sort_keys=False)


def _manifest_text(project: Project) -> str:
    return yaml.safe_dump(project.manifest, sort_keys=False)


def _yaml_bomb(project: Project) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    project.manifest_text = "\n".join(lines) + "\n" + _manifest_text(project)


def _nesting_bomb(project: Project) -> None:
    """A few hundred kilobytes of brackets: libyaml's composer recursed until the process crashed."""
    project.manifest_text = "x: " + "[" * 100_000 + "]" * 100_000 + "\n" + _manifest_text(project)


def _bare_impossible_date(project: Project) -> None:
    """Written by hand without quotes, YAML reads it as a date, which the calendar does not have."""
    text = _register_text(project)
    assert "expires_on: '2028-03-02'" in text
    project.consents_text = text.replace("expires_on: '2028-03-02'", "expires_on: 2027-02-30", 1)


def _huge_register(project: Project) -> None:
    project.consents_text = _register_text(project) + "# " + "x" * (21 * 1024 * 1024) + "\n"


def _utf16_register(project: Project) -> None:
    project.write()
    path = project.gallery / "consents.yml"
    project.consents_text = None
    text = _register_text(project)
    project.write = _then(project, lambda: path.write_bytes(text.encode("utf-16")))  # type: ignore[method-assign]


def _latin1_register(project: Project) -> None:
    project.consent("C-2026-0001")["form"]["version"] = "formulaire-réf"
    text = yaml.safe_dump({"consents": project.consents}, sort_keys=False, allow_unicode=True)
    project.write = _then(project, lambda: (project.gallery / "consents.yml").write_bytes(text.encode("latin-1")))  # type: ignore[method-assign]


def _bom_manifest(project: Project) -> None:
    text = _manifest_text(project)
    project.write = _then(project, lambda: (project.gallery / "manifest.yml").write_bytes(b"\xef\xbb\xbf" + text.encode()))  # type: ignore[method-assign]


def _then(project: Project, after: Callable[[], object]):  # type: ignore[no-untyped-def]
    original = Project.write

    def write() -> Path:
        path = original(project)
        after()
        return path

    return write


def _set_consent(key: str, value: object) -> Mutation:
    def mutate(project: Project) -> None:
        project.consent("C-2026-0001")[key] = value

    return mutate


def _set_case(key: str, value: object) -> Mutation:
    def mutate(project: Project) -> None:
        project.case("lips-001")[key] = value

    return mutate


def _src(value: str) -> Mutation:
    def mutate(project: Project) -> None:
        project.case("lips-001")["photos"][0]["after"]["src"] = value

    return mutate


def _case_clash(project: Project) -> None:
    project.photo("Lips-001-after.jpg", seed=5)
    project.case("lips-002")["photos"][0]["after"]["src"] = "photos/Lips-001-after.jpg"
    project.case("lips-001")["photos"][0]["after"]["src"] = "photos/lips-001-after.jpg"


def _consent_twice_differently(project: Project) -> None:
    twin = consent("C-2026-0001", "lips-001", "P-10001")
    twin["channels"] = {"permit": ["print"]}
    project.consents.append(twin)


def _png_bomb(project: Project) -> None:
    """A valid PNG header announcing 50000 x 50000 pixels: refused before any pixel is decoded."""
    width = height = 50_000
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 1024)
    data += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    data += struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    (project.gallery / "photos" / "lips-001-after.png").write_bytes(data)
    project.case("lips-001")["photos"][0]["after"]["src"] = "photos/lips-001-after.png"


def _html_as_photo(project: Project) -> None:
    (project.gallery / "photos" / "lips-001-after.jpg").write_text("<html><script>alert(1)</script></html>")


def _empty_photo(project: Project) -> None:
    (project.gallery / "photos" / "lips-001-after.jpg").write_bytes(b"")


def _gif_photo(project: Project) -> None:
    from PIL import Image

    Image.new("RGB", (320, 240), (200, 100, 50)).save(project.gallery / "photos" / "lips-001-after.jpg", "GIF")


def _manifest_is_a_list(project: Project) -> None:
    project.manifest_text = "- just\n- a list\n"


def _register_empty(project: Project) -> None:
    project.consents_text = ""


def _register_not_a_list(project: Project) -> None:
    project.consents_text = "consents: C-2026-0001\n"


def _tab_indented(project: Project) -> None:
    project.consents_text = _register_text(project).replace("  signer: patient", "\tsigner: patient", 1)


def _anchor_merge_typo(project: Project) -> None:
    text = _register_text(project)
    project.consents_text = text.replace("- id: C-2026-0002", "- <<: *nothing\n  id: C-2026-0002", 1)


# (name, mutation, code)
FAILING: list[tuple[str, Mutation, str]] = [
    ("YAML alias expansion bomb", _yaml_bomb, "CG109"),
    ("YAML nesting bomb", _nesting_bomb, "CG109"),
    ("an impossible date without quotes", _bare_impossible_date, "CG103"),
    ("register over 20 MB", _huge_register, "CG109"),
    ("register in Latin-1, not UTF-8", _latin1_register, "CG109"),
    ("manifest is a list", _manifest_is_a_list, "CG103"),
    ("register is empty", _register_empty, "CG102"),
    ("register 'consents' is not a list", _register_not_a_list, "CG102"),
    ("tab indentation", _tab_indented, "CG109"),
    ("alias to an undefined anchor", _anchor_merge_typo, "CG109"),
    ("a date that is not a date", _set_consent("signed_on", "yesterday"), "CG103"),
    ("an impossible date", _set_consent("expires_on", "2027-02-30"), "CG103"),
    ("a number where a date belongs", _set_consent("expires_on", 20280302), "CG103"),
    ("a list where text belongs", _set_case("caption", ["a", "b"]), "CG103"),
    ("a mapping where a list belongs", _set_consent("purposes", {"marketing": True}), "CG103"),
    ("boolean as text", _set_consent("irrevocable", "maybe"), "CG103"),
    ("Cyrillic look-alike in a case id", _set_case("id", "lips-00\u0441"), "CG103"),
    ("Cyrillic look-alike consent reference", _set_case("consent", "C-2026-000\u0031\u0441"), "CG201"),
    ("consent reference with a trailing space", _set_case("consent", "C-2026-0001 x"), "CG201"),
    ("id with a newline", _set_consent("id", "C-2026-\n0001"), "CG103"),
    ("zero-width space in an id", _set_consent("id", "C-2026-\u200b0001"), "CG103"),
    ("caption of 5000 characters", _set_case("caption", "Lovely. " * 625), "CG103"),
    ("path with ..", _src("photos/../photos/lips-001-after.jpg"), "CG106"),
    ("path to /dev/zero", _src("/dev/zero"), "CG106"),
    ("Windows drive path", _src("C:/photos/lips-001-after.jpg"), "CG106"),
    ("Windows separators", _src("photos\\lips-001-after.jpg"), "CG106"),
    ("URL as a photo", _src("https://example.com/a.jpg"), "CG105"),
    ("names differ only in case", _case_clash, "CG104"),
    ("consent listed twice with different contents", _consent_twice_differently, "CG104"),
    ("decompression bomb", _png_bomb, "CG302"),
    ("HTML posing as a JPEG", _html_as_photo, "CG303"),
    ("empty file", _empty_photo, "CG303"),
    ("GIF named .jpg", _gif_photo, "CG303"),
]


@pytest.mark.parametrize(("name", "mutate", "code"), FAILING, ids=[f[0] for f in FAILING])
def test_hostile_input_fails_with_its_code(project: Project, name: str, mutate: Mutation, code: str) -> None:
    mutate(project)
    result = project.build()
    assert not result.ok, f"{name}: the build passed\n{result.log}"
    assert code in result.log, f"{name}: {code} not reported\n{result.log[-3000:]}"
    assert_nothing_published(result.site, project.root)


def _polyglot_zip(project: Project) -> None:
    path = project.gallery / "photos" / "lips-001-after.jpg"
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("patient.txt", f"patient record {CANARY}-zip")
    path.write_bytes(path.read_bytes() + buffer.getvalue())


def _polyglot_html(project: Project) -> None:
    path = project.gallery / "photos" / "lips-001-after.jpg"
    path.write_bytes(path.read_bytes() + f"<html><script>alert('{CANARY}-html')</script></html>".encode())


def _wrong_exif_type(project: Project) -> None:
    """A rotated photo whose Software tag claims to hold rationals: turning it upright re-encoded the EXIF block
    with Pillow, which raised and stopped the build (found by tests/test_fuzz.py)."""
    path = project.gallery / "photos" / "lips-001-after.jpg"
    write_photo(path, seed=4, planted=Planted(orientation=6, taken="2026:02:10 10:00:00"))
    data = bytearray(path.read_bytes())
    at = data.index(b"\x01\x31\x00\x02")  # the Software entry of the big-endian IFD, type ASCII
    data[at + 2 : at + 4] = b"\x00\x05"  # now RATIONAL
    path.write_bytes(bytes(data))


def _macros_in_caption(project: Project) -> None:
    project.case("lips-001")["caption"] = "{{ config.plugins }} {% include 'main.html' %} <img src=x onerror=alert(1)>"


def _jinja_in_alt(project: Project) -> None:
    project.case("lips-001")["photos"][0]["before"]["alt"] = '" onload="alert(1) {{ 7*7 }}'


def _utf8_everywhere(project: Project) -> None:
    project.case("lips-001")["caption"] = "Lippenunterspritzung \u2013 natürliches Ergebnis 💋 (日本語)"


def _dates_as_strings(project: Project) -> None:
    for item in project.consents:
        item["signed_on"] = "2026-03-02"  # quoted in YAML by safe_dump: a string, not a date


def _unicode_register_bom(project: Project) -> None:
    _bom_manifest(project)


ACCEPTED: list[tuple[str, Mutation, list[str]]] = [
    # (name, mutation, strings that must not appear in any published byte)
    ("JPEG that is also a ZIP", _polyglot_zip, [f"{CANARY}-zip", "patient.txt", "PK\x03\x04"]),
    ("JPEG with HTML after its end", _polyglot_html, [f"{CANARY}-html", "<script>alert"]),
    ("rotated JPEG with an EXIF tag of the wrong type", _wrong_exif_type, [CANARY]),
    ("Jinja and HTML in a caption", _macros_in_caption, ["<img src=x onerror", "<function", "PluginCollection"]),
    ("quote and Jinja in alt text", _jinja_in_alt, ['alt="" onload=', ">49<"]),
    ("UTF-16 register with BOM", _utf16_register, []),
    ("UTF-8 BOM manifest", _unicode_register_bom, []),
    ("non-ASCII captions", _utf8_everywhere, []),
    ("dates written as strings", _dates_as_strings, []),
]


@pytest.mark.parametrize(("name", "mutate", "absent"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_odd_but_valid_input_publishes_nothing_it_should_not(project: Project, name: str, mutate: Mutation, absent: list[str]) -> None:
    mutate(project)
    result = project.build()
    assert result.ok, f"{name}\n{result.log[-3000:]}"
    assert "lips-001" in cards_of(result.site / "gallery" / "index.html")
    for path in result.site_files():
        data = path.read_bytes()
        for needle in absent:
            if needle.startswith("<") and path.name == "search_index.json":
                continue  # the search index holds the page's text, where markup typed by a user is just text
            assert needle.encode() not in data, f"{name}: {needle!r} in {path}"


def test_ten_thousand_cases(tmp_path: Path) -> None:
    """A huge gallery loads, decides and renders (photos shared, so images are processed once)."""
    project = Project(tmp_path / "clinic")
    write_photo(project.gallery / "photos" / "before.jpg", seed=1)
    write_photo(project.gallery / "photos" / "after.jpg", seed=2, planted=None)
    cases, consents = [], []
    for index in range(10_000):
        case_id = f"case-{index:05d}"
        cases.append(
            {
                "id": case_id,
                "consent": f"C-{index:05d}",
                "treatment": "t",
                "shows": {"face": False, "name": False, "distinctive_marks": False},
                "photos": [
                    {
                        "view": "front",
                        "before": {"src": "photos/before.jpg", "alt": "before"},
                        "after": {"src": "photos/after.jpg", "alt": "after"},
                    }
                ],
            }
        )
        consents.append(consent(f"C-{index:05d}", case_id, f"P-{index:06d}"))
    consents[42]["revoked_on"] = "2026-11-01"
    project.manifest = {"treatments": {"t": {"title": "T", "typical_results": "Most patients see a change."}}, "cases": cases}
    project.consents = consents
    project.pages = {"index.md": "# Home\n", "one.md": "# One\n\n<!-- compliant-gallery case=case-00007 -->\n"}
    result = project.build()
    assert result.ok, result.log[-3000:]
    assert "case case-00042 removed" in result.log
    assert list(cards_of(result.site / "one" / "index.html")) == ["case-00007"]
