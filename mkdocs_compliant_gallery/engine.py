"""One gallery build, independent of any site generator: load, decide, process, render, verify, record.

A host (the MkDocs plugin, the CLI) creates a `GalleryBuild` from `Settings`, calls `prepare()`, renders
directives as it meets them in pages, lets `guard()` check the output, and `record()` the result.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import datetime as dt
import hashlib
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .audit import publications
from .catalogue import CG106, CG108, CG110, CG111, CG514
from .images import faces
from .images.pipeline import (
    POOL_WORKER_ENV,
    PairJob,
    PairResult,
    SourceDigests,
    load_cached,
    pair_key,
    process_fresh,
    purge_cache,
)
from .images.scrub import scrub_tree
from .output.directives import Directive
from .output.guard import Forbidden, Secret, guard_site
from .output.preview import Preview
from .output.render import PublishedCase, Renderer, disclosure_texts
from .records.manifest import PHOTO_SUFFIXES, Case, Manifest, PhotoPair, load_manifest
from .records.register import Register, load_register
from .rules.consent import needs_face_check
from .rules.context import Rules
from .rules.decide import Decision, decide_all
from .rules.jurisdictions import PACKS, pack_disclosures
from .settings import IMAGE_FOLDER, Settings
from .violations import Severity, Violation, Where

PROGRESS_EVERY = 20  # photo pairs between progress reports of a long cold build


@dataclass(frozen=True)
class Rendered:
    """One directive's output: HTML, problems, the cases shown and the removed cases left out."""

    html: str = ""
    violations: tuple[Violation, ...] = ()
    shown: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaceReviewed:
    """A photo the face guard did not scan because a person recorded that it shows no identifiable face."""

    case: str
    src: str
    reviewed_by: str
    reason: str
    where: Where


@dataclass
class CaseUse:
    """Where a published case appeared in this build."""

    pages: set[str] = field(default_factory=set)


class GalleryBuild:
    """The state of one build. Create a new one for every build (serve rebuilds included)."""

    def __init__(self, settings: Settings, renderer: Renderer | None = None, progress: Callable[[int, int], None] | None = None):
        self.settings = settings
        # Called with (done, total) every PROGRESS_EVERY freshly processed pairs and at the end, in long builds.
        self.progress = progress
        self.renderer = renderer or Renderer()
        self.violations: list[Violation] = []
        self.manifest: Manifest | None = None
        self.register: Register | None = None
        self.decisions: dict[str, Decision] = {}
        self.rules: Rules | None = None
        self.published: dict[str, PublishedCase] = {}
        self.uses: dict[str, CaseUse] = {}
        self.cache_hits = 0
        self.scrubbed: list[Path] = []
        self.log_problems: list[str] = []
        self.digests = SourceDigests(settings.cache_dir)
        self.processed = 0
        self.cache_keys: set[str] = set()
        self.started = time.monotonic()
        self.face_detector = ""  # the detector's identity when this build scanned any photo
        self.face_reviewed: dict[tuple[str, str], FaceReviewed] = {}  # (case, photo src) -> the review

    # -- loading and deciding -------------------------------------------------------------------------

    def prepare(self) -> None:
        """Load manifest and register, decide every case, process the photos of the cases that stay."""
        settings = self.settings
        for code_path, label in ((settings.manifest, "manifest"), (settings.consents, "consent register")):
            self._check_inside_project(code_path, label)
        for jurisdiction in settings.jurisdictions:
            if jurisdiction not in PACKS:
                self.violations.append(
                    Violation(
                        CG110,
                        Where("mkdocs.yml", 0, "jurisdictions"),
                        f"no rule pack '{jurisdiction}'",
                        f"use one of: {', '.join(PACKS)}",
                    )
                )
        self.manifest = load_manifest(settings.manifest, settings.relative(settings.manifest), settings.project_root, settings.photos)
        self.register = load_register(settings.consents, settings.relative(settings.consents))
        self.violations.extend(self.manifest.violations)
        self.violations.extend(self.register.violations)
        if not self.manifest.loaded or not self.register.loaded:
            return  # fail closed: without both files no case can be judged
        self.rules = rules = Rules.of(settings)
        for decision in decide_all(self.manifest, self.register, rules):
            self.decisions[decision.case.id] = decision
            self.violations.extend(decision.violations)
        self._process_images()

    def _check_inside_project(self, path: Path, label: str) -> None:
        root = self.settings.project_root.resolve()
        try:
            real = path.resolve()
        except OSError:
            return
        if not real.is_relative_to(root):
            self.violations.append(
                Violation(
                    CG106,
                    Where(str(path)),
                    f"the {label} lies outside the project ({root})",
                    "keep the gallery files inside the folder of mkdocs.yml",
                )
            )

    def _process_images(self) -> None:
        assert self.manifest is not None
        settings = self.settings
        cases = [case for case in self.manifest.cases.values() if self.decisions[case.id].removed is None]
        scans = self._face_scans(cases)
        jobs = [
            PairJob(
                case.id,
                pair.view,
                self.manifest.file,
                pair.before,
                pair.after,
                pair.edits,
                settings.images,
                str(settings.cache_dir),
                (scans[(case.id, pair.before.src)], scans[(case.id, pair.after.src)]),
                self.face_detector,
            )
            for case in cases
            for pair in case.photos
        ]
        results: dict[tuple[str, str], PairResult] = {}
        digests = self.digests
        # Pairs with the same key (the same photos and settings) are looked up and processed once.
        by_key: dict[str, list[PairJob]] = {}
        for job in jobs:
            by_key.setdefault(pair_key(job, digests), []).append(job)
        fresh: list[tuple[PairJob, str]] = []
        for key, group in by_key.items():
            cached = load_cached(group[0], key) if key else None
            if cached is None:
                fresh.append((group[0], key))
                continue
            self.cache_hits += len(group)
            for job in group:
                results[(job.case_id, job.view)] = dataclasses.replace(cached, case_id=job.case_id, view=job.view)
        workers = min(settings.workers or os.cpu_count() or 1, len(fresh))
        computed: dict[str, PairResult] = {}

        def done(key: str, result: PairResult) -> None:
            computed[key] = result
            # Only a long build reports progress; the summary line covers a short one.
            if (
                self.progress is not None
                and len(fresh) > PROGRESS_EVERY
                and (len(computed) % PROGRESS_EVERY == 0 or len(computed) == len(fresh))
            ):
                self.progress(len(computed), len(fresh))

        if workers > 1:
            # forkserver: a forked copy of a live server process (mkdocs serve) can deadlock.
            context = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_mark_pool_worker) as pool:
                futures = {pool.submit(process_fresh, job, key): key for job, key in fresh}
                for future in as_completed(futures):
                    done(futures[future], future.result())
        else:
            for job, key in fresh:
                done(key, process_fresh(job, key))
        for job, key in fresh:
            first = computed[key]
            for other in by_key[key]:
                if other is job or first.before is not None:
                    results[(other.case_id, other.view)] = dataclasses.replace(first, case_id=other.case_id, view=other.view)
                else:  # a failure names its case and line: check each case on its own
                    results[(other.case_id, other.view)] = process_fresh(other, key)
        self.processed = len(fresh)
        self.cache_keys = {result.cache_key for result in results.values() if result.cache_key}
        digests.save()
        for result in results.values():
            self.violations.extend(result.violations)
        for case in self.manifest.cases.values():
            decision = self.decisions[case.id]
            if not decision.publishable:
                continue
            pairs = tuple((pair, results[(case.id, pair.view)]) for pair in case.photos)
            if any(result.before is None for _, result in pairs):
                continue
            treatment = self.manifest.treatments.get(case.treatment or "")
            if treatment is None:
                continue  # already reported as CG110
            if "UK" in settings.jurisdictions and self._missing_capture_dates(case, pairs):
                continue
            material = decision.consent.material_connection if decision.consent else None
            assert self.rules is not None
            extra = pack_disclosures(case, treatment, self.rules)
            self.published[case.id] = PublishedCase(case, treatment, pairs, disclosure_texts(treatment, material, extra))

    def _face_scans(self, cases: list[Case]) -> dict[tuple[str, str], bool]:
        """Which photos the face guard scans; CG111 when some need it and the detector cannot run."""
        wanted: dict[tuple[str, str], bool] = {}
        for case in cases:
            needed = self.settings.face_guard and needs_face_check(self.decisions[case.id].consent)
            for ref in case.image_refs():
                review = ref.face_review
                if needed and review is not None and (case.id, ref.src) not in wanted:  # once per photo, if listed twice
                    where = Where(case.file, review.line, f"case {case.id}.photos.face_check")
                    self.face_reviewed[(case.id, ref.src)] = FaceReviewed(case.id, ref.src, review.reviewed_by, review.reason, where)
                # A photo listed twice is scanned if either listing asks for it.
                wanted[(case.id, ref.src)] = wanted.get((case.id, ref.src), False) or (needed and review is None)
        if not any(wanted.values()):
            return wanted
        problem = faces.available()
        if problem is None:
            self.face_detector = faces.default_detector().identity
            return wanted
        needing = sorted({case_id for (case_id, _), scan in wanted.items() if scan})
        self.violations.append(
            Violation(
                CG111,
                Where("mkdocs.yml", 0, "face_guard"),
                f"the photos of {len(needing)} case(s) ({', '.join(needing)}) need the face check, since their releases do not "
                f"allow the face, but the face detector cannot run: {problem}",
                f"{faces.INSTALL_HINT}; or, knowing that faces then go unchecked, set 'face_guard: false' in the plugin options "
                "(a warning on every build, recorded in the publication log)",
            )
        )
        # Fail closed: the build stops on CG111; the photos are still processed for the other checks.
        return dict.fromkeys(wanted, False)

    def face_checks(self, case: Case, pairs: tuple[tuple[PhotoPair, PairResult], ...]) -> list[dict[str, Any]]:
        """What the face guard did with each photo of a published case, for the publication log."""
        consent = self.decisions[case.id].consent
        checks: list[dict[str, Any]] = []
        for pair, result in pairs:
            for ref, image in zip(pair.images, (result.before, result.after), strict=True):
                entry: dict[str, Any] = {"photo": ref.src}
                review = self.face_reviewed.get((case.id, ref.src))
                if not self.settings.face_guard:
                    entry["check"] = "off"
                elif not needs_face_check(consent):
                    entry["check"] = "not needed: the release allows the face"
                elif review is not None:
                    entry.update(check="reviewed", reviewed_by=review.reviewed_by, reason=review.reason)
                else:
                    entry["check"] = "scanned: no face" if image is not None and image.face_scanned and not image.faces else "scanned"
                checks.append(entry)
        return checks

    def _missing_capture_dates(self, case: Case, pairs: tuple[tuple[PhotoPair, PairResult], ...]) -> bool:
        """CG514: UK advertising asks for proof that images are genuine; the capture date is part of it."""
        missing = False
        for pair, result in pairs:
            for ref, image in zip(pair.images, (result.before, result.after), strict=True):
                if image is not None and image.captured is None:
                    missing = True
                    self.violations.append(
                        Violation(
                            CG514,
                            Where(case.file, ref.line, f"case {case.id}.photos"),
                            f"'{ref.src}' has no capture date, so it cannot be shown to be a genuine original (UK CAP Code 12.1)",
                            "use the camera's original file, which records when it was taken",
                            case.id,
                        )
                    )
        return missing

    # -- results --------------------------------------------------------------------------------------

    def errors(self) -> list[Violation]:
        """Every violation that fails the build, sorted by file and line."""
        return sorted((v for v in self.violations if v.severity is Severity.ERROR), key=lambda v: v.sort_key)

    def warnings(self) -> list[Violation]:
        return sorted((v for v in self.violations if v.severity is Severity.WARNING), key=lambda v: v.sort_key)

    def case_errors(self) -> dict[str, list[Violation]]:
        """The errors of each case that has any, in file and line order."""
        grouped: dict[str, list[Violation]] = {}
        for violation in self.errors():
            if violation.case:
                grouped.setdefault(violation.case, []).append(violation)
        return grouped

    def removed(self) -> dict[str, Violation]:
        """Cases taken down this build (withdrawn or expired consent), with the reason."""
        return {case_id: d.removed for case_id, d in self.decisions.items() if d.removed is not None}

    # -- rendering ------------------------------------------------------------------------------------

    def render(
        self,
        directive: Directive,
        where: Where,
        page_url: str,
        url_for: Callable[[str], str],
        first_on_page: bool,
        preview: Preview | None = None,
    ) -> Rendered:
        """HTML for one directive; a removed case renders nothing, an unknown one is CG108.

        With `preview` (a host's live preview only), cases that cannot be published and removed cases leave
        preview placeholders after the published ones, and unreadable inputs leave one for the directive.
        """
        assert self.manifest is not None
        manifest = self.manifest
        if preview is not None and not (manifest.loaded and self.register is not None and self.register.loaded):
            return Rendered(html=preview.unavailable_panel(self.errors()))
        if directive.case is not None:
            if directive.case not in manifest.cases:
                return Rendered(
                    violations=(
                        Violation(
                            CG108,
                            where,
                            f"directive names case '{directive.case}', which is not in the manifest",
                            f"use a case id from {manifest.file}",
                        ),
                    )
                )
            wanted = [directive.case]
            label = f"Before and after: case {directive.case}"
        elif directive.treatment is not None:
            if directive.treatment not in manifest.treatments:
                return Rendered(
                    violations=(
                        Violation(
                            CG108,
                            where,
                            f"directive names treatment '{directive.treatment}', which is not in the manifest",
                            f"use a treatment key from {manifest.file}",
                        ),
                    )
                )
            wanted = [c.id for c in manifest.cases.values() if c.treatment == directive.treatment]
            label = f"Before and after: {manifest.treatments[directive.treatment].title}"
        else:
            wanted = list(manifest.cases)
            label = "Before and after gallery"
        removed = self.removed()
        shown = [self.published[c] for c in wanted if c in self.published]
        for item in shown:
            self.uses.setdefault(item.case.id, CaseUse()).pages.add(page_url)
        html = self.renderer.gallery(shown, url_for, first_on_page, label) if shown else ""
        if preview is not None:
            problems = self.case_errors()
            for case_id in wanted:
                if case_id in removed:
                    html += preview.removed_panel(case_id, removed[case_id])
                elif case_id not in self.published:
                    html += preview.problem_panel(case_id, problems.get(case_id, []))
        return Rendered(html, (), tuple(item.case.id for item in shown), tuple(c for c in wanted if c in removed))

    def image_files(self) -> dict[str, str]:
        """Site path -> cached file, for the cases placed on at least one page."""
        files = {}
        for case_id in self.uses:
            for _, result in self.published[case_id].pairs:
                for image in (result.before, result.after):
                    assert image is not None
                    for rendition in image.renditions:
                        files[f"{IMAGE_FOLDER}/{rendition.name}"] = rendition.path
        return files

    # -- verification and record ----------------------------------------------------------------------

    def forbidden(self) -> Forbidden:
        """Everything the output guard must not find in the site."""
        strings: dict[str, tuple[Secret, str]] = {}
        hashes: dict[str, str] = {}
        if self.register is not None:
            for consent in self.register.consents.values():
                strings[consent.id] = (Secret.CONSENT_ID, f"consent id {consent.id}")
                if consent.patient_ref:
                    strings[consent.patient_ref] = (Secret.PATIENT_REF, f"patient_ref of consent {consent.id}")
        for case_id in self.removed():
            strings[case_id] = (Secret.REMOVED_CASE, f"removed case {case_id}")
        settings = self.settings
        for path in (settings.manifest, settings.consents):
            if path.is_file():
                hashes[_sha256(path)] = settings.relative(path)
        if settings.photos.is_dir():
            for photo in settings.photos.rglob("*"):
                if photo.suffix.lower() in PHOTO_SUFFIXES and photo.is_file():
                    # Digests remembered by size and mtime: an unchanged rebuild does not read the originals again.
                    hashes[self.digests(photo)] = f"raw photo {settings.relative(photo)}"
                    strings.setdefault(photo.name, (Secret.RAW_PHOTO_NAME, f"raw photo file name {photo.name}"))
        return Forbidden(strings, hashes, frozenset(Path(p).name for p in self.image_files()))

    def guard(self, site_dir: Path) -> list[Violation]:
        """The output guard over a built site (CG6xx); when it passes, other images lose their metadata."""
        forbidden = self.forbidden()
        found = guard_site(site_dir, forbidden, IMAGE_FOLDER)
        if not found:
            self.scrubbed = scrub_tree(site_dir, skip=set(forbidden.own_images))
        return found

    def record(self, config_text: bytes, now: dt.datetime) -> tuple[Path, list[Path]]:
        """Append the publication record and write a takedown receipt for every case gone since the last one."""
        assert self.manifest is not None and self.register is not None
        settings = self.settings
        compliance = settings.compliance_dir
        previous, self.log_problems = publications.read_log(compliance)
        last = previous[-1] if previous else None
        record = publications.BuildRecord(
            time=now.isoformat(),
            build_date=settings.build_date.isoformat(),
            tool_version=__version__,
            libraries=publications.library_versions(),
            config_sha256=hashlib.sha256(config_text).hexdigest(),
            channel=settings.channel,
            git=publications.git_state(settings.project_root),
            face_guard={"enabled": settings.face_guard, "detector": self.face_detector or None},
        )
        for case_id in sorted(self.uses):
            item = self.published[case_id]
            originals, outputs, images = [], [], []
            for _, result in item.pairs:
                for image in (result.before, result.after):
                    assert image is not None
                    originals.append(image.source_sha256)
                    for rendition in image.renditions:
                        outputs.append(rendition.sha256)
                        images.append(f"{IMAGE_FOLDER}/{rendition.name}")
            consent_id = item.case.consent_id or ""
            record.published.append(
                publications.PublishedRecord(
                    case_id,
                    consent_id,
                    item.case.treatment or "",
                    originals,
                    outputs,
                    sorted(self.uses[case_id].pages),
                    images,
                    [{"phrase": phrase, "reason": reason} for phrase, reason in item.case.allowed_claims],
                    self.face_checks(item.case, item.pairs),
                )
            )
        removed = self.removed()
        for case_id, violation in sorted(removed.items()):
            consent = self.decisions[case_id].consent
            record.removed.append(
                {
                    "case": case_id,
                    "consent": consent.id if consent else "",
                    "code": violation.code,
                    "reason": violation.message,
                }
            )
        receipts = []
        if last is not None:
            now_published = {p.case for p in record.published}
            for entry in last.get("published", []):
                if entry["case"] in now_published:
                    continue
                receipts.append(publications.write_takedown(compliance, now, self._takedown(entry, removed.get(entry["case"]))))
        return publications.append_record(compliance, record), receipts

    def _takedown(self, entry: dict[str, Any], reason: Violation | None) -> dict[str, Any]:
        consent = self.register.consents.get(entry.get("consent", "")) if self.register else None
        other_channels = sorted(set(consent.permit) - {self.settings.channel}) if consent else []
        return {
            "case": entry["case"],
            "consent": entry.get("consent"),
            "reason": reason.message if reason else "no longer published (removed from the manifest or from every page)",
            "code": reason.code if reason else None,
            "removed_pages": entry.get("pages", []),
            "removed_files": entry.get("images", []),
            "cache_entries_purged": True,
            "other_channels_to_follow_up": other_channels,
            "reminder": "Deploy this build now; a deployed site keeps serving the case until then. Purge any CDN cache, and remember that old gh-pages commits still hold the removed files.",
        }

    def purge_cache(self) -> list[str]:
        """Drop cache entries not used by this build (removed cases, old settings).

        Photos of a case held back by an error stay cached: fixing the register should not reprocess them.
        Nothing is purged when the manifest or the register could not be read: every case is unknown then.
        """
        if not (self.manifest and self.manifest.loaded and self.register and self.register.loaded):
            return []
        return purge_cache(self.settings.cache_dir, self.cache_keys)

    def summary(self) -> str:
        removed = self.removed()
        return (
            f"{len(self.uses)} cases published, {len(removed)} removed, {len(self.warnings())} warnings; "
            f"{self.processed} photo pairs processed, {self.cache_hits} from cache, in {time.monotonic() - self.started:.1f}s"
        )


def _mark_pool_worker() -> None:
    os.environ[POOL_WORKER_ENV] = "1"
    _limit_malloc_arenas()


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Keep a worker's memory flat over a long build.

    glibc gives encoder threads arenas of their own and rarely returns their free space: measured on corpus
    pairs, a worker's peak climbed from 275 to 420 MiB over the first 40 pairs, and stays at 275 with two
    arenas, at no measurable cost in time. Elsewhere (no glibc) this does nothing.
    """
    m_arena_max = -8  # from glibc's malloc.h
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(m_arena_max, arenas)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
