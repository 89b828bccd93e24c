"""Property tests: for generated registers, a build either fails or publishes only cases whose consent is in force."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.helpers import BUILD_DATE, TREATMENTS, Project, cards_of, case, consent
from tests.photos import Planted, write_photo

TODAY = dt.date.fromisoformat(BUILD_DATE)
CASES = ("lips-001", "lips-002", "brow-001")
CHANNELS = ("website", "social", "paid_ads", "print")

dates = st.dates(min_value=TODAY - dt.timedelta(days=800), max_value=TODAY + dt.timedelta(days=800))


MUTATIONS = ("signed_on", "expires_on", "revoked_on", "permit", "deny", "scope", "statement", "irrevocable", "purpose")


@st.composite
def consents(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """A valid release with none, one or a few things changed: some stay valid, some are removed, some invalid."""
    record = consent(f"C-2026-000{index + 1}", CASES[index], f"P-1000{index + 1}")
    for change in draw(st.lists(st.sampled_from(MUTATIONS), unique=True, max_size=2)):
        if change in ("signed_on", "expires_on", "revoked_on"):
            record[change] = draw(st.one_of(dates, st.none()))
        elif change == "permit":
            record["channels"]["permit"] = draw(st.lists(st.sampled_from(CHANNELS), unique=True, max_size=3))
        elif change == "deny":
            record["channels"]["deny"] = draw(st.lists(st.sampled_from(CHANNELS), unique=True, max_size=2))
        elif change == "scope":
            record["scope"] = {"cases": [draw(st.sampled_from(CASES))]}
        elif change == "statement":
            record["statements"]["redisclosure"] = draw(st.booleans())
        elif change == "irrevocable":
            record["irrevocable"] = draw(st.booleans())
        else:
            record["purposes"] = [draw(st.sampled_from(["marketing", "education"]))]
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in record.items() if v is not None}


def in_force(record: dict[str, Any], case_id: str) -> bool:
    """The test's own reading of the rules: what must hold for a case to be published."""
    date = dt.date.fromisoformat
    signed = record.get("signed_on")
    expires = record.get("expires_on")
    revoked = record.get("revoked_on")
    channels = record["channels"]
    return (
        signed is not None
        and date(signed) <= TODAY
        and expires is not None
        and date(expires) >= TODAY
        and (revoked is None or date(revoked) > TODAY)
        and "website" in channels["permit"]
        and "website" not in channels["deny"]
        and case_id in record["scope"]["cases"]
        and all(record["statements"].values())
        and not record["irrevocable"]
        and "marketing" in record["purposes"]
    )


def removed(record: dict[str, Any]) -> bool:
    date = dt.date.fromisoformat
    revoked, expires = record.get("revoked_on"), record.get("expires_on")
    return (revoked is not None and date(revoked) <= TODAY) or (expires is not None and date(expires) < TODAY)


_photos: dict[str, Path] = {}


def _fresh_project(root: Path) -> Project:
    if root.exists():
        shutil.rmtree(root)
    project = Project(root)
    project.manifest = {"treatments": copy.deepcopy(TREATMENTS), "cases": [case(c, f"C-2026-000{i + 1}") for i, c in enumerate(CASES)]}
    project.manifest["cases"][2]["treatment"] = "wrinkle-relaxer"
    folder = project.gallery / "photos"
    folder.mkdir(parents=True)
    for seed, case_id in enumerate(CASES):
        for which, taken in (("before", "2026:01:10 10:00:00"), ("after", "2026:02:10 10:00:00")):
            name = f"{case_id}-{which}.jpg"
            cached = _photos.get(name)
            if cached is None:
                cached = Path(root.parent / "photo-cache" / name)
                write_photo(cached, size=(160, 120), seed=seed + (3 if which == "after" else 0), planted=Planted(taken=taken))
                _photos[name] = cached
            shutil.copyfile(cached, folder / name)
    project.pages = {"index.md": "# Home\n", "gallery.md": "# Results\n\n<!-- compliant-gallery -->\n"}
    project.options["widths"] = [160]
    project.options["formats"] = ["jpeg"]
    return project


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(registers=st.tuples(consents(0), consents(1), consents(2)))
def test_only_cases_with_a_release_in_force_are_published(tmp_path: Path, registers: tuple[dict[str, Any], ...]) -> None:
    project = _fresh_project(tmp_path / "clinic")
    project.consents = list(registers)
    result = project.build()
    if not result.ok:
        event("failed")
        assert "CG" in result.log
        assert not (result.site / "assets" / "compliant-gallery" / "img").exists()
        return
    published = set(cards_of(result.site / "gallery" / "index.html"))
    event(f"passed, {len(published)} published")
    for index, case_id in enumerate(CASES):
        record = registers[index]
        if case_id in published:
            assert in_force(record, case_id), (case_id, record)
        elif not removed(record):
            raise AssertionError(f"{case_id} is neither published nor removed, yet the build passed: {record}")
        else:
            for path in result.site_files():
                assert case_id.encode() not in path.read_bytes(), (case_id, path)


def test_rebuilding_is_deterministic(tmp_path: Path) -> None:
    """Same inputs, same outputs: identical file names and bytes in two separate projects."""
    outputs = []
    for name in ("one", "two"):
        project = _fresh_project(tmp_path / name)
        project.consents = [consent(f"C-2026-000{i + 1}", c, f"P-1000{i + 1}") for i, c in enumerate(CASES)]
        result = project.build()
        assert result.ok, result.log
        outputs.append({p.name: p.read_bytes() for p in result.gallery_images()})
    assert outputs[0] == outputs[1] and outputs[0]
