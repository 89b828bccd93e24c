"""One mistake, one error: a build reports the cause once, not the consequences it explains ("the case has no
photos", "no case lists it"), and a mistyped path or id gets a "did you mean" with what was meant."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.helpers import Project

Mutation = Callable[[Project], None]


def _no_alt(project: Project) -> None:
    del project.case("lips-001")["photos"][0]["before"]["alt"]


def _src_relative_to_mkdocs_yml(project: Project) -> None:
    project.case("lips-001")["photos"][0]["before"]["src"] = "gallery/photos/lips-001-before.jpg"


def _photo_renamed_upper_case(project: Project) -> None:
    project.write()
    photos = project.gallery / "photos"
    (photos / "lips-001-before.jpg").rename(photos / "lips-001-before.JPG")


def _photo_in_a_case_folder(project: Project) -> None:
    project.write()
    folder = project.gallery / "photos" / "lips-001"
    folder.mkdir()
    (project.gallery / "photos" / "lips-001-after.jpg").rename(folder / "lips-001-after.jpg")


def _another_cases_photo(project: Project) -> None:
    project.case("lips-001")["photos"][0]["before"]["src"] = "photos/lips-002-before.jpg"


def _file_name_typo(project: Project) -> None:
    project.case("lips-001")["photos"][0]["before"]["src"] = "photos/lips-001-befor.jpg"


def _case_id_typo_in_a_src(project: Project) -> None:
    """lips-003-before.jpg does not exist; lips-001's and lips-002's do, but they are other patients' photos."""
    project.case("lips-002")["photos"][0]["before"]["src"] = "photos/lips-003-before.jpg"


def _shows_name_missing(project: Project) -> None:
    del project.case("lips-001")["shows"]["name"]


def _consent_typo(project: Project) -> None:
    project.case("lips-001")["consent"] = "C-2026-001"


def _treatment_typo(project: Project) -> None:
    project.case("brow-001")["treatment"] = "wrinkle-relaxr"


def _directive_typos(project: Project) -> None:
    project.pages["one.md"] = "# One\n\n<!-- compliant-gallery case=lips-01 -->\n"
    project.pages["two.md"] = "# Two\n\n<!-- compliant-gallery treatment=lip-filer -->\n"


# (mistake, mutation, [(code, place, words of the message and fix)]): every error the build reports, nothing else.
MISTAKES: list[tuple[str, Mutation, list[tuple[str, str, str]]]] = [
    ("missing alt text", _no_alt, [("CG102", "gallery/manifest.yml:", "'alt' is required")]),
    # Not also CG209 "shows the patient's name": an unanswered `shows.name` stops the build once, as CG102.
    ("shows.name not declared", _shows_name_missing, [("CG102", "gallery/manifest.yml:", "'name' is required")]),
    (
        "src written relative to mkdocs.yml",
        _src_relative_to_mkdocs_yml,
        [
            (
                "CG105",
                "gallery/manifest.yml:",
                "did you mean 'photos/lips-001-before.jpg'? photo paths are relative to the photo folder (gallery)",
            )
        ],
    ),
    (
        "photo renamed .JPG",
        _photo_renamed_upper_case,
        [("CG105", "gallery/manifest.yml:", "did you mean 'photos/lips-001-before.JPG'? file names are matched exactly")],
    ),
    (
        "photo moved into a folder",
        _photo_in_a_case_folder,
        [("CG105", "gallery/manifest.yml:", "did you mean 'photos/lips-001/lips-001-after.jpg'?")],
    ),
    (
        "src naming another case's photo",
        _another_cases_photo,
        [
            (
                "CG107",
                "gallery/photos/lips-001-before.jpg",
                "did you mean 'photos/lips-001-before.jpg'? case lips-001 (gallery/manifest.yml:",
            )
        ],
    ),
    (
        "consent id typo",
        _consent_typo,
        [("CG201", "gallery/manifest.yml:", "did you mean 'C-2026-0001'? It is the release whose scope names case lips-001")],
    ),
    ("treatment key typo", _treatment_typo, [("CG110", "gallery/manifest.yml:", "did you mean 'wrinkle-relaxer'?")]),
    (
        "case and treatment typos in directives",
        _directive_typos,
        [("CG108", "docs/one.md:3", "did you mean 'lips-001'?"), ("CG108", "docs/two.md:3", "did you mean 'lip-filler'?")],
    ),
]


@pytest.mark.parametrize(("mistake", "mutate", "expected"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_one_mistake_is_one_error_with_what_was_meant(
    project: Project, mistake: str, mutate: Mutation, expected: list[tuple[str, str, str]]
) -> None:
    mutate(project)
    result = project.build()
    assert not result.ok
    report = [line for line in result.log.splitlines() if re.match(r"\s+\S.*: CG\d{3} ", line)]
    assert len(report) == len(expected), f"{mistake}:\n" + "\n".join(report)
    lines = result.log.splitlines()
    for (code, place, words), line in zip(expected, report, strict=True):
        fix = lines[lines.index(line) + 1]
        assert f" {code} " in line and line.strip().startswith(place), (mistake, line)
        assert words in f"{line} {fix}", (mistake, line, fix)
