"""One gallery build, independent of any site generator: load, decide, process, place, verify, record.

A host (the MkDocs plugin, the CLI) drives it in this order:

1. `GalleryBuild(settings, renderer).prepare()` loads the clinic's files, decides every case and processes
   the photos; the result is an immutable `Plan`.
2. `place_page()` for every page: its directives become case cards; `check_page()` for every page as
   written by the theme (CG404).
3. `guard(site_dir)` runs the output guard over the built site (CG6xx); with it and `page_problems`
   empty, `record()` appends the publication record and writes takedown receipts; `purge_cache()` drops
   what no build needs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .audit import publications, repository
from .audit.deploys import DeployCheck, DeployTarget, check_deploy
from .catalogue import CG102, CG104, CG106, CG108, CG110, CG111, CG114, CG115, CG309, CG310, CG404, CG406, CG514
from .images import compare, faces
from .images.cache import SourceDigests, purge_cache
from .images.others import OtherImage, VerdictCache, scan_images, site_images
from .images.pipeline import PairJob, PairResult
from .images.pool import process_pairs
from .images.scrub import scrub_tree
from .output.cards import disclosure_problems
from .output.directives import Directive, find_directives, find_near_misses, line_in_source, near_miss_problem, parse_directive
from .output.guard import Forbidden, Secret, guard_site
from .output.hiding import check_site
from .output.preview import Preview
from .output.render import PublishedCase, Renderer, disclosure_texts, treatment_pages
from .records.approvals import Approvals, load_approvals
from .records.manifest import PHOTO_SUFFIXES, Case, Manifest, PhotoPair, load_manifest
from .records.register import Register, load_register
from .rules.approval import CaseApproval, approval_violation, review_case
from .rules.consent import needs_face_check
from .rules.context import Rules
from .rules.decide import Decision, decide_all
from .rules.disclosures import GUARANTEE_WORDS, edit_disclosure, page_claim_violations
from .rules.identifiers import page_lines, page_text_violations
from .rules.jurisdictions import PACKS, pack_disclosures
from .settings import IMAGE_FOLDER, JURISDICTIONS, Settings
from .violations import Severity, Violation, Where, count, did_you_mean, of_severity


@dataclass(frozen=True)
class FaceReviewed:
    """A photo the face guard did not scan because a person recorded that it shows no identifiable face."""

    case: str
    src: str
    reviewed_by: str
    reason: str
    where: Where


@dataclass(frozen=True)
class FaceCheck:
    """What the face guard did with one published photo, as the publication log records it."""

    photo: str
    check: str  # "scanned", "scanned: no face", "reviewed", "not needed: ...", "off"
    reviewed_by: str | None = None
    reason: str | None = None

    def record(self) -> dict[str, str]:
        """The log entry: the fields that apply to this check only."""
        entry = {"photo": self.photo, "check": self.check}
        if self.reviewed_by is not None and self.reason is not None:
            entry.update(reviewed_by=self.reviewed_by, reason=self.reason)
        return entry


@dataclass(frozen=True)
class Plan:
    """What a build decided before any page was written; hosts and reports read it, nothing changes it."""

    manifest: Manifest
    register: Register
    decisions: Mapping[str, Decision]
    published: Mapping[str, PublishedCase]  # cases cleared for publication, with their processed photos
    face_reviewed: Mapping[tuple[str, str], FaceReviewed]  # (case, photo src) -> the review
    face_detector: str  # the detector's identity when this build scanned any photo
    violations: tuple[Violation, ...]
    processed: int = 0  # photo pairs processed afresh
    cache_hits: int = 0
    cache_keys: frozenset[str] = frozenset()
    # Each case that is not removed, against its approval in force (empty with `approval: off`).
    approvals: Mapping[str, CaseApproval] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        """Whether both the manifest and the register could be read; without them no case can be judged."""
        return self.manifest.loaded and self.register.loaded

    def removed(self) -> dict[str, Violation]:
        """Cases taken down this build (withdrawn or expired consent), with the reason."""
        return {case_id: d.removed for case_id, d in self.decisions.items() if d.removed is not None}


@dataclass(frozen=True)
class RemovedMention:
    """A directive that would have shown a case removed for withdrawal or expiry."""

    where: Where
    case: str
    named: bool  # the directive names this case (`case=`), rather than listing a treatment or all cases


@dataclass(frozen=True)
class PlacedPage:
    """One page with its directives replaced by case cards (or, in a preview, by problem panels)."""

    html: str
    problems: tuple[Violation, ...]
    expected: Mapping[str, tuple[str, ...]]  # case shown on the page -> the disclosure texts its card must show
    removed: tuple[RemovedMention, ...]


@dataclass(frozen=True)
class ApprovalReview:
    """Every case against its approval, without processing a photo: what `approve` and `pending` show."""

    manifest: Manifest
    register: Register
    approvals: Approvals
    decisions: Mapping[str, Decision]
    states: Mapping[str, CaseApproval]  # the cases that are not removed
    violations: tuple[Violation, ...]  # what loading the three files and judging the cases found

    @property
    def loaded(self) -> bool:
        return self.manifest.loaded and self.register.loaded

    def pending(self) -> list[CaseApproval]:
        """The cases a build refuses until someone approves them, in manifest order."""
        return [state for state in self.states.values() if not state.approved]


@dataclass
class CaseUse:
    """Where a published case appeared in this build."""

    pages: set[str] = field(default_factory=set)


class GalleryBuild:
    """The state of one build. Create a new one for every build (serve rebuilds included)."""

    def __init__(self, settings: Settings, renderer: Renderer | None = None, progress: Callable[[int, int], None] | None = None):
        self.settings = settings
        # Called with (done, total) every few freshly processed pairs and at the end, in long builds.
        self.progress = progress
        self.renderer = renderer or Renderer()
        self.rules = Rules.of(settings)
        self.digests = SourceDigests(settings.cache_dir)
        self.started = time.monotonic()
        self._plan: Plan | None = None
        # Filled while pages are placed and checked:
        self.uses: dict[str, CaseUse] = {}
        self.page_problems: list[Violation] = []
        self.scrubbed: list[Path] = []
        self.log_problems: list[str] = []
        self.history = publications.PublicationHistory()
        self.tracked = repository.TrackedInputs()  # gallery inputs git tracks (see prepare)
        self.unchecked_stylesheets: list[str] = []  # stylesheets from outside the site the guard could not read
        # The text of every page placed, by its file, so a finding elsewhere can name the line that shows it.
        self.page_sources: dict[str, str] = {}
        # Site images outside the gallery and what the face guard made of them (CG310), once checked.
        self.other_images: list[OtherImage] = []
        self.other_images_scanned = 0  # of those, how many were scanned afresh (the rest came from the cache)
        self.site_warnings: list[Violation] = []

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            raise RuntimeError("GalleryBuild.prepare() must run before the plan is read")
        return self._plan

    # -- loading, deciding, processing ----------------------------------------------------------------

    def prepare(self, docs_dir: Path | None = None) -> Plan:
        """Load manifest and register, decide every case, process the photos of the cases that stay.

        `docs_dir` is the host's folder of pages, when it has one: inputs kept inside it are warned about (CG114).
        """
        settings = self.settings
        found: list[Violation] = exposed_inputs(settings, docs_dir) if docs_dir is not None else []
        for path, label in ((settings.manifest, "manifest"), (settings.consents, "consent register")):
            found.extend(self._outside_project(path, label))
        if settings.approval_required:
            found.extend(self._outside_project(settings.approvals_file, "approvals file"))
        if not settings.jurisdictions:
            found.append(jurisdictions_missing())
        for jurisdiction in settings.jurisdictions:
            if jurisdiction not in PACKS:
                found.append(
                    Violation(
                        CG110,
                        Where("mkdocs.yml", 0, "jurisdictions"),
                        f"no rule pack '{jurisdiction}'",
                        f"use one of: {', '.join(PACKS)}",
                    )
                )
        manifest = load_manifest(settings.manifest, settings.relative(settings.manifest), settings.project_root, settings.photos)
        register = load_register(settings.consents, settings.relative(settings.consents))
        found.extend(self._tracked_by_git())
        found.extend(manifest.violations)
        found.extend(register.violations)
        if not manifest.loaded or not register.loaded:
            # Fail closed: without both files no case can be judged.
            self._plan = Plan(manifest, register, {}, {}, {}, "", tuple(found))
            return self._plan
        # The log decides two rules: a case taken down comes back only under a later release, and a release signed
        # after its case was first published is an error (rules/consent.py).
        records, self.log_problems = publications.read_log(settings.compliance_dir)
        self.history = publications.history_of(records)
        decisions: dict[str, Decision] = {}
        for decision in decide_all(manifest, register, self.rules, self.history):
            decisions[decision.case.id] = decision
            found.extend(decision.violations)
        approvals = self._approval_gate(manifest, decisions, found)
        staying = [case for case in manifest.cases.values() if decisions[case.id].removed is None]
        reviewed = self._face_reviews(staying, decisions)
        scans, detector, unavailable = self._face_scans(staying, decisions)
        found.extend(unavailable)
        jobs = [
            PairJob(
                case.id,
                pair.view,
                manifest.file,
                pair.before,
                pair.after,
                pair.edits,
                settings.images,
                str(settings.cache_dir),
                (scans[(case.id, pair.before.src)], scans[(case.id, pair.after.src)]),
                detector,
                pair.line,
            )
            for case in staying
            for pair in case.photos
        ]
        outcome = process_pairs(jobs, self.digests, settings.workers, self.progress)
        processing: list[Violation] = []
        for result in outcome.results.values():
            processing.extend(result.violations)
        processing.extend(self._comparability(staying, outcome.results))
        found.extend(processing)
        # A case whose photos break a rule is not published, not even in a preview.
        held = {v.case for v in processing if v.severity is Severity.ERROR}
        published: dict[str, PublishedCase] = {}
        for case in manifest.cases.values():
            if case.id in held:
                continue
            item = self._publishable(case, decisions[case.id], manifest, outcome.results, found, approvals.get(case.id))
            if item is not None:
                published[case.id] = item
        self._plan = Plan(
            manifest,
            register,
            decisions,
            published,
            reviewed,
            detector,
            tuple(found),
            outcome.processed,
            outcome.cache_hits,
            frozenset(result.cache_key for result in outcome.results.values() if result.cache_key),
            approvals,
        )
        return self._plan

    def _approval_gate(self, manifest: Manifest, decisions: dict[str, Decision], found: list[Violation]) -> dict[str, CaseApproval]:
        """CG406 for every case not approved as it is now (`approval: required`); its decision then blocks it."""
        if not self.settings.approval_required:
            return {}
        approvals = self._load_approvals(manifest)
        found.extend(approvals.violations)
        states = self._approval_states(manifest, decisions, approvals)
        for case_id, state in states.items():
            decision = decisions[case_id]
            violation = approval_violation(decision.case, state, approvals.file, self.settings.cli_config)
            if violation is not None:
                decisions[case_id] = Decision(decision.case, decision.consent, (*decision.violations, violation))
                found.append(violation)
        return states

    def _load_approvals(self, manifest: Manifest) -> Approvals:
        settings = self.settings
        path = settings.approvals_file
        return load_approvals(path, settings.relative(path), manifest.cases, settings.approvers)

    def _approval_states(self, manifest: Manifest, decisions: Mapping[str, Decision], approvals: Approvals) -> dict[str, CaseApproval]:
        """Each case that is not removed (a removed case needs no approval) against its approval in force."""
        in_force, trusted = approvals.latest(), not approvals.damaged
        return {
            case.id: review_case(
                case,
                manifest.treatments.get(case.treatment or ""),
                decisions[case.id].consent,
                in_force.get(case.id),
                trusted,
                self.settings.approvers,
                self.digests,
            )
            for case in manifest.cases.values()
            if decisions[case.id].removed is None
        }

    def approval_review(self) -> ApprovalReview:
        """Load the files and judge every case against its approval, processing no photo (the CLI's approve and pending)."""
        settings = self.settings
        manifest = load_manifest(settings.manifest, settings.relative(settings.manifest), settings.project_root, settings.photos)
        register = load_register(settings.consents, settings.relative(settings.consents))
        approvals = self._load_approvals(manifest)
        found = [*manifest.violations, *register.violations, *approvals.violations]
        if not manifest.loaded or not register.loaded:
            return ApprovalReview(manifest, register, approvals, {}, {}, tuple(found))
        decisions = {decision.case.id: decision for decision in decide_all(manifest, register, self.rules)}
        for decision in decisions.values():
            found.extend(decision.violations)
        states = self._approval_states(manifest, decisions, approvals)
        self.digests.save()
        return ApprovalReview(manifest, register, approvals, decisions, states, tuple(found))

    def _tracked_by_git(self) -> list[Violation]:
        """CG115 when git tracks the photo folder, the manifest or the register, unless the clinic declared why that is safe."""
        settings = self.settings
        self.tracked = repository.tracked_inputs(settings.project_root, settings.photos, [settings.manifest, settings.consents])
        if not self.tracked or settings.originals_in_git != "warn":
            return []
        folder = settings.relative(settings.photos)
        names = self.tracked.names(folder)
        untrack = " ".join(self.tracked.paths(folder))
        return [
            Violation(
                CG115,
                Where(self.tracked.paths(folder)[0]),
                f"tracked by git: {', '.join(names)}; every clone and the remote keep the raw originals, with their metadata, "
                "in the history, also after a withdrawal",
                f"keep them out of the repository (for example in the clinic's records system): 'git rm -r --cached {untrack}', "
                f"add '{folder}/' to .gitignore and commit; files already committed stay in the history (docs/withdrawal.md says "
                "how to remove them). If the repository is private and access-controlled, say so once with "
                "'originals_in_git: private' in the plugin options",
            )
        ]

    def originals_in_git(self) -> dict[str, Any] | None:
        """The publication log's entry: what git tracks and what the clinic declared (None outside git or when nothing is tracked)."""
        if not self.tracked:
            return None
        folder = self.settings.relative(self.settings.photos)
        return {"tracked": self.tracked.names(folder), "declared": self.settings.originals_in_git}

    def _outside_project(self, path: Path, label: str) -> list[Violation]:
        root = self.settings.project_root.resolve()
        try:
            real = path.resolve()
        except OSError:
            return []
        if real.is_relative_to(root):
            return []
        return [
            Violation(
                CG106,
                Where(str(path)),
                f"the {label} lies outside the project ({root})",
                "keep the gallery files inside the folder of mkdocs.yml",
            )
        ]

    def _publishable(
        self,
        case: Case,
        decision: Decision,
        manifest: Manifest,
        results: Mapping[tuple[str, str], PairResult],
        found: list[Violation],
        approval: CaseApproval | None = None,
    ) -> PublishedCase | None:
        """The case ready for its card, or None when a rule, a photo or a missing capture date holds it back."""
        if not decision.publishable:
            return None
        if not case.photos or any(v.case == case.id and v.severity is Severity.ERROR for v in manifest.violations):
            return None  # an entry of the case could not be read (its photos, say): never publish what is left of it
        pairs = tuple((pair, results[(case.id, pair.view)]) for pair in case.photos)
        if any(result.before is None for _, result in pairs):
            return None
        if approval is not None:
            replaced = _replaced_since_approval(case, pairs, approval)
            if replaced:
                found.extend(replaced)
                return None
        treatment = manifest.treatments.get(case.treatment or "")
        if treatment is None:
            return None  # already reported as CG110
        if "UK" in self.settings.jurisdictions:
            undated = _missing_capture_dates(case, pairs)
            if undated:
                found.extend(undated)
                return None
        material = decision.consent.material_connection if decision.consent else None
        extra = pack_disclosures(case, treatment, self.rules)
        edited = edit_disclosure(case)
        if edited is not None:
            extra.append(edited)  # inside the disclosure block, so the card check (CG404) holds it too
        return PublishedCase(case, treatment, pairs, disclosure_texts(treatment, material, extra))

    def _comparability(self, cases: list[Case], results: Mapping[tuple[str, str], PairResult]) -> list[Violation]:
        """CG309 for pairs lit differently: an error under the packs that require comparable photos, else a warning."""
        strict = sorted({"AU", "US-CA"}.intersection(self.settings.jurisdictions))
        severity = Severity.ERROR if strict else Severity.WARNING
        source = "AHPRA's guidelines and California B&P Code 651 require it" if strict else "readers compare the two photos"
        found = []
        for case in cases:
            for pair in case.photos:
                result = results.get((case.id, pair.view))
                if result is None or result.before is None or result.after is None:
                    continue
                if result.before.light is None or result.after.light is None:
                    continue
                measured = compare.mismatch(result.before.light, result.after.light)
                if not measured.too_large:
                    continue
                found.append(
                    Violation(
                        CG309,
                        Where(case.file, pair.after.line, f"case {case.id}.photos"),
                        f"view '{pair.view}': before and after are not lit alike ({source}): {measured.describe()}",
                        "use a before and an after taken with the same light, camera settings and white balance; do not brighten "
                        "or recolour one photo of the pair (a whole-frame correction must make the two match, not differ)",
                        case.id,
                        severity,
                    )
                )
        return found

    def _face_reviews(self, cases: list[Case], decisions: Mapping[str, Decision]) -> dict[tuple[str, str], FaceReviewed]:
        """Photos a person exempted from the face check, among those the check would scan (once per photo)."""
        reviewed: dict[tuple[str, str], FaceReviewed] = {}
        for case in cases:
            if not (self.settings.face_guard and needs_face_check(decisions[case.id].consent)):
                continue
            for ref in case.image_refs():
                review = ref.face_review
                if review is not None and (case.id, ref.src) not in reviewed:
                    where = Where(case.file, review.line, f"case {case.id}.photos.face_check")
                    reviewed[(case.id, ref.src)] = FaceReviewed(case.id, ref.src, review.reviewed_by, review.reason, where)
        return reviewed

    def _face_scans(self, cases: list[Case], decisions: Mapping[str, Decision]) -> tuple[dict[tuple[str, str], bool], str, list[Violation]]:
        """Which photos the face guard scans, the detector's identity, and CG111 when it is needed but cannot run."""
        wanted: dict[tuple[str, str], bool] = {}
        for case in cases:
            needed = self.settings.face_guard and needs_face_check(decisions[case.id].consent)
            for ref in case.image_refs():
                # A photo listed twice is scanned if either listing asks for it.
                wanted[(case.id, ref.src)] = wanted.get((case.id, ref.src), False) or (needed and ref.face_review is None)
        if not any(wanted.values()):
            return wanted, "", []
        problem = faces.available()
        if problem is None:
            return wanted, faces.default_detector().identity, []
        needing = sorted({case_id for (case_id, _), scan in wanted.items() if scan})
        unavailable = Violation(
            CG111,
            Where("mkdocs.yml", 0, "face_guard"),
            f"the photos of {count(len(needing), 'case')} ({', '.join(needing)}) need the face check, since their releases do not "
            f"allow the face, but the face detector cannot run: {problem}",
            f"{faces.INSTALL_HINT}; or, knowing that faces then go unchecked, set 'face_guard: false' in the plugin options "
            "(a warning on every build, recorded in the publication log)",
        )
        # Fail closed: the build stops on CG111; the photos are still processed for the other checks.
        return dict.fromkeys(wanted, False), "", [unavailable]

    def face_checks(self, case: Case, pairs: tuple[tuple[PhotoPair, PairResult], ...]) -> list[FaceCheck]:
        """What the face guard did with each photo of a published case, for the publication log."""
        consent = self.plan.decisions[case.id].consent
        checks: list[FaceCheck] = []
        for pair, result in pairs:
            for ref, image in zip(pair.images, (result.before, result.after), strict=True):
                review = self.plan.face_reviewed.get((case.id, ref.src))
                if not self.settings.face_guard:
                    checks.append(FaceCheck(ref.src, "off"))
                elif not needs_face_check(consent):
                    checks.append(FaceCheck(ref.src, "not needed: the release allows the face"))
                elif review is not None:
                    checks.append(FaceCheck(ref.src, "reviewed", review.reviewed_by, review.reason))
                else:
                    clear = image is not None and image.face_scanned and not image.faces
                    checks.append(FaceCheck(ref.src, "scanned: no face" if clear else "scanned"))
        return checks

    # -- results --------------------------------------------------------------------------------------

    @property
    def violations(self) -> list[Violation]:
        """Everything found so far: while preparing, on pages, and the warnings about the built site."""
        return [*(self._plan.violations if self._plan else ()), *self.page_problems, *self.site_warnings]

    def errors(self) -> list[Violation]:
        """Every violation that fails the build, sorted by file and line."""
        return of_severity(self.violations, Severity.ERROR)

    def warnings(self) -> list[Violation]:
        return of_severity(self.violations, Severity.WARNING)

    def case_errors(self) -> dict[str, list[Violation]]:
        """The errors of each case that has any, in file and line order."""
        grouped: dict[str, list[Violation]] = {}
        for violation in self.errors():
            if violation.case:
                grouped.setdefault(violation.case, []).append(violation)
        return grouped

    def removed(self) -> dict[str, Violation]:
        """Cases taken down this build (withdrawn or expired consent), with the reason."""
        return self.plan.removed()

    # -- pages ----------------------------------------------------------------------------------------

    def place_page(
        self,
        html: str,
        source: str,
        page_file: str,
        page_url: str,
        url_for: Callable[[str], str],
        preview: Preview | None = None,
    ) -> PlacedPage:
        """Replace every directive of a page by its cards; `source` is the text whose lines errors name.

        Problems (CG108) are kept in `page_problems`; with `preview` (a host's live preview only) they become
        panels in place, and cases that cannot be published leave panels too.
        """
        seen: dict[str, int] = {}
        pieces: list[str] = []
        position = 0
        problems: list[Violation] = []
        expected: dict[str, tuple[str, ...]] = {}
        removed: list[RemovedMention] = []
        self.page_sources[page_file] = source
        directives = find_directives(html)
        for match in directives:
            occurrence = seen.get(match.group(0), 0)
            seen[match.group(0)] = occurrence + 1
            where = Where(page_file, line_in_source(source, match.group(0), occurrence), "directive")
            directive, found = parse_directive(match.group(0), match.group("args"), where)
            rendered = ""
            if directive is not None:
                rendered, found, shown, skipped = self._render(directive, where, page_url, url_for, not expected, preview)
                removed.extend(RemovedMention(where, case_id, directive.case is not None) for case_id in skipped)
                for case_id in shown:
                    expected[case_id] = self.plan.published[case_id].disclosures
            if found and preview is not None:
                rendered = preview.problem_panel(directive.case or "" if directive else "", found)
            problems.extend(found)
            pieces.append(html[position : match.start()])
            pieces.append(rendered)
            position = match.end()
        pieces.append(html[position:])
        near: dict[str, int] = {}
        for comment, meant in find_near_misses(html):
            occurrence = near.get(comment.group(0), 0)
            near[comment.group(0)] = occurrence + 1
            where = Where(page_file, line_in_source(source, comment.group(0), occurrence), "directive")
            problems.append(near_miss_problem(comment.group(0), meant, where))
        if directives and self._plan is not None and self._plan.loaded:
            problems.extend(self._page_text_problems(source, page_file, [m.group(0) for m in directives], list(expected)))
        self.page_problems.extend(problems)
        return PlacedPage("".join(pieces), tuple(problems), expected, tuple(removed))

    def _page_text_problems(self, source: str, page_file: str, directives: list[str], shown: list[str]) -> list[Violation]:
        """CG407, CG209 and CG405 in the text of a page that places a gallery: it is read beside the photos."""
        plan = self.plan
        lines = page_lines(source, directives)
        consents = [(case_id, plan.decisions[case_id].consent) for case_id in shown]
        found = page_text_violations(lines, page_file, consents)
        allowed = [
            claim
            for case_id in shown
            for claim in (*plan.published[case_id].case.allowed_claims, *plan.published[case_id].treatment.allowed_claims)
        ]
        words = GUARANTEE_WORDS + self.settings.claims_forbidden
        found.extend(page_claim_violations(lines, page_file, words, allowed, shown[0] if len(shown) == 1 else ""))
        return found

    def _render(
        self,
        directive: Directive,
        where: Where,
        page_url: str,
        url_for: Callable[[str], str],
        first_on_page: bool,
        preview: Preview | None,
    ) -> tuple[str, list[Violation], list[str], list[str]]:
        """HTML for one directive, its problems, the cases shown and the removed cases it leaves out.

        A removed case renders nothing, an unknown one is CG108. With `preview`, cases that cannot be
        published and removed cases leave panels after the published ones, and unreadable inputs leave one
        for the directive.
        """
        plan = self.plan
        manifest = plan.manifest
        if preview is not None and not plan.loaded:
            return preview.unavailable_panel(self.errors()), [], [], []
        if directive.case is not None:
            if directive.case not in manifest.cases:
                unknown = Violation(
                    CG108,
                    where,
                    f"directive names case '{directive.case}', which is not in the manifest",
                    (did_you_mean(directive.case, manifest.cases).strip() or f"use a case id from {manifest.file}"),
                )
                return "", [unknown], [], []
            wanted = [directive.case]
            label = f"Before and after: case {directive.case}"
        elif directive.treatment is not None:
            if directive.treatment not in manifest.treatments:
                unknown = Violation(
                    CG108,
                    where,
                    f"directive names treatment '{directive.treatment}', which is not in the manifest",
                    (did_you_mean(directive.treatment, manifest.treatments).strip() or f"use a treatment key from {manifest.file}"),
                )
                return "", [unknown], [], []
            wanted = [c.id for c in manifest.cases.values() if c.treatment == directive.treatment]
            label = f"Before and after: {manifest.treatments[directive.treatment].title}"
        else:
            wanted = list(manifest.cases)
            label = "Before and after gallery"
        removed = plan.removed()
        shown = [plan.published[c] for c in wanted if c in plan.published]
        for item in shown:
            self.uses.setdefault(item.case.id, CaseUse()).pages.add(page_url)
        html = self.renderer.gallery(shown, url_for, first_on_page, label) if shown else ""
        if preview is not None:
            problems = self.case_errors()
            for case_id in wanted:
                if case_id in removed:
                    html += preview.removed_panel(case_id, removed[case_id])
                elif case_id not in plan.published:
                    html += preview.problem_panel(case_id, problems.get(case_id, []))
        return html, [], [item.case.id for item in shown], [c for c in wanted if c in removed]

    def check_page(self, written: str, expected: Mapping[str, tuple[str, ...]], page_file: str) -> list[Violation]:
        """CG404 for every card of a page, as the theme wrote it, that does not show its disclosure as it must."""
        found = [
            Violation(
                CG404,
                Where(page_file),
                f"the rendered card of case {case_id}: {problem}",
                "a template override dropped, hid or moved the disclosure block: keep the 'cg-disclosure' block of "
                "fragments/compliant-gallery/case.html visible in the card, directly under the photos, with each "
                "figure's aria-describedby pointing at it",
                case_id,
            )
            for case_id, problem in disclosure_problems(written, expected).items()
        ]
        self.page_problems.extend(found)
        return found

    def generated_pages(
        self, folder: str, directory_urls: bool, existing: Callable[[str], str | None]
    ) -> tuple[dict[str, str], list[Violation]]:
        """The treatment pages to add to the site (URI -> Markdown), or CG104 for each author's page in the way.

        `existing(uri)` is the project-relative path of a page the site already has at that URI, else None.
        """
        pages = treatment_pages(self.renderer, list(self.plan.published.values()), folder, directory_urls)
        clashes = [(uri, existing(uri)) for uri in pages]
        found = [
            Violation(
                CG104,
                Where(path),
                "a page exists where the plugin generates one ('pages: true')",
                f"rename or remove it, or set 'pages_dir' to a folder other than '{folder}'",
            )
            for _, path in clashes
            if path is not None
        ]
        return ({} if found else pages), found

    def image_files(self) -> dict[str, str]:
        """Site path -> cached file, for the cases placed on at least one page."""
        files = {}
        for case_id in self.uses:
            for _, result in self.plan.published[case_id].pairs:
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
        if self._plan is not None:
            for consent in self._plan.register.consents.values():
                strings[consent.id] = (Secret.CONSENT_ID, f"consent id {consent.id}")
                if consent.patient_ref:
                    strings[consent.patient_ref] = (Secret.PATIENT_REF, f"patient_ref of consent {consent.id}")
            for case in self._plan.manifest.cases.values():
                if case.patient_ref:
                    strings.setdefault(case.patient_ref, (Secret.PATIENT_REF, f"patient_ref of case {case.id}"))
        for case_id in self._plan.removed() if self._plan is not None else {}:
            strings[case_id] = (Secret.REMOVED_CASE, f"removed case {case_id}")
        settings = self.settings
        for path in (settings.manifest, settings.consents, settings.approvals_file):
            if path.is_file():
                hashes[_sha256(path)] = settings.relative(path)
        if settings.photos.is_dir():
            for photo in settings.photos.rglob("*"):
                if photo.suffix.lower() in PHOTO_SUFFIXES and photo.is_file():
                    # Digests remembered by size and mtime: an unchanged rebuild does not read the originals again.
                    hashes[self.digests(photo)] = f"raw photo {settings.relative(photo)}"
                    strings.setdefault(photo.name, (Secret.RAW_PHOTO_NAME, f"raw photo file name {photo.name}"))
        return Forbidden(strings, hashes, frozenset(Path(p).name for p in self.image_files()))

    def check_site_images(self, site_dir: Path, sources: Mapping[str, str] | None = None) -> list[Violation]:
        """CG310 over the raster images of a built site that the gallery did not make (see `check_other_images`)."""
        return self.check_other_images(site_images(site_dir, set(self.image_files())), sources or {})

    def check_other_images(self, images: Mapping[str, Path], sources: Mapping[str, str]) -> list[Violation]:
        """The face guard over images the site publishes outside the gallery: a face is CG310.

        `images` maps each image's site path to the file to read; `sources` its site path to where it comes from,
        as the clinic knows it. Returns the errors (CG310 with `other_images: fail`); warnings join `warnings()`.
        Every verdict is kept in `other_images` for the report and the publication log.
        """
        settings = self.settings
        detector: faces.FaceDetector | None = None
        reason = "face_guard is off"
        if settings.face_guard:
            problem = faces.available() if images else None
            if problem is None:
                detector = faces.default_detector() if images else None
            else:
                reason = f"the face detector cannot run: {problem}"
        cache = VerdictCache(settings.cache_dir)
        self.other_images = scan_images(images, sources, settings.other_images_reviewed, cache, detector, reason)
        if detector is not None:
            cache.save()
        self.other_images_scanned = cache.scanned
        severity = Severity.ERROR if settings.other_images == "fail" else Severity.WARNING
        found: list[Violation] = []
        unscanned = [item.source for item in self.other_images if item.verdict.startswith("not scanned: the face detector")]
        if unscanned:
            found.append(
                Violation(
                    CG111,
                    Where("mkdocs.yml", 0, "other_images"),
                    f"{len(unscanned)} site image(s) outside the gallery cannot be checked for patients' faces ({', '.join(unscanned[:5])}): {reason}",
                    faces.INSTALL_HINT,
                    severity=severity,
                )
            )
        for item in self.other_images:
            if item.verdict != "face":
                continue
            count = "a face" if len(item.faces) == 1 else f"{len(item.faces)} faces"
            found.append(
                Violation(
                    CG310,
                    self._where_shown(item),
                    f"'{item.source}' (site/{item.path}) is not a gallery photo but shows {count}: a patient photo placed as a plain "
                    "image bypasses the release, the disclosures and every other check",
                    "if it shows a patient, publish it through the gallery (manifest and release) or remove it; if it is a staff or "
                    f"stock photo a person has checked, list it in the plugin options: 'other_images_reviewed: [{{path: {item.path}, "
                    "reviewed_by: NAME, reason: TEXT}]'",
                    severity=severity,
                )
            )
        self.site_warnings.extend(v for v in found if v.severity is Severity.WARNING)
        return [v for v in found if v.severity is Severity.ERROR]

    def _where_shown(self, item: OtherImage) -> Where:
        """The first page line that names the image's file, else the image itself."""
        name = Path(item.path).name
        for page_file, text in sorted(self.page_sources.items()):
            for number, line in enumerate(text.split("\n"), start=1):
                if name in line:
                    return Where(page_file, number, f"image {item.source}")
        return Where(item.source)

    def guard(self, site_dir: Path, sources: Mapping[str, Path] | None = None, stylesheet_links: Sequence[str] = ()) -> list[Violation]:
        """The output guard over a built site (CG6xx, and CG404 for stylesheets that hide a disclosure); when it
        passes, other images lose their metadata.

        `sources` maps site-relative paths to the files they were built from (pages, the clinic's stylesheets),
        so that messages name what the clinic wrote; `stylesheet_links` are the stylesheets the clinic's
        configuration adds to every page (MkDocs' extra_css). A host fails the build on these and on `page_problems`.
        """
        forbidden = self.forbidden()
        found = guard_site(site_dir, forbidden, IMAGE_FOLDER)
        hiding, self.unchecked_stylesheets = check_site(site_dir, sources or {}, self.settings.relative, stylesheet_links)
        found.extend(hiding)
        if not found:
            self.scrubbed = scrub_tree(site_dir, skip=set(forbidden.own_images))
        return found

    def deploy_check(self, folder: Path, target: DeployTarget, published: set[str]) -> DeployCheck:
        """Whether a gh-deploy from `folder` may keep the deploy branch's history (see audit/deploys.py).

        `published` is what this deploy publishes: the cases placed on a page (`uses`) once the pages are written,
        or, to refuse early, every case cleared for publication (`plan.published`), which can only be more.
        """
        entries, problems = publications.read_entries(self.settings.compliance_dir)
        return check_deploy(folder, entries, [problem.line for problem in problems], published, target)

    def record(
        self, config_text: bytes, now: dt.datetime, command: str = "build", deploy: DeployCheck | None = None
    ) -> tuple[Path, list[Path]]:
        """Append the publication record and write a takedown receipt for every case gone since the last one.

        `command` is the host's command (build, gh-deploy); `deploy` what a gh-deploy keeps of the branch's history.
        """
        plan, settings = self.plan, self.settings
        compliance = settings.compliance_dir
        shown = settings.relative(compliance / publications.LOG_NAME)
        entries, problems = publications.read_entries(compliance, shown)
        self.log_problems = [str(problem) for problem in problems]
        previous = [entry.record for entry in entries]
        record = publications.BuildRecord(
            time=now.isoformat(),
            build_date=settings.build_date.isoformat(),
            tool_version=__version__,
            libraries=publications.library_versions(),
            config_sha256=hashlib.sha256(config_text).hexdigest(),
            channel=settings.channel,
            git=publications.git_state(settings.project_root),
            face_guard={"enabled": settings.face_guard, "detector": plan.face_detector or None},
            approval=(
                {"mode": "required", "file": settings.relative(settings.approvals_file), "approvers": list(settings.approvers)}
                if settings.approval_required
                else {"mode": "off"}
            ),
            command=command,
            site_url=settings.site_url,
            deploy=deploy.record() if deploy is not None and deploy.git else None,
            originals_in_git=self.originals_in_git(),
            other_images=[item.record() for item in self.other_images],
        )
        for case_id in sorted(self.uses):
            item = plan.published[case_id]
            originals: list[str] = []
            outputs: list[str] = []
            images: list[str] = []
            sources: list[str] = []
            for pair, result in item.pairs:
                sources.extend(settings.relative(settings.photos / ref.src) for ref in pair.images)
                for image in (result.before, result.after):
                    assert image is not None
                    originals.append(image.source_sha256)
                    for rendition in image.renditions:
                        outputs.append(rendition.sha256)
                        images.append(f"{IMAGE_FOLDER}/{rendition.name}")
            record.published.append(
                publications.PublishedRecord(
                    case_id,
                    item.case.consent_id or "",
                    item.case.treatment or "",
                    originals,
                    outputs,
                    sorted(self.uses[case_id].pages),
                    images,
                    [{"phrase": phrase, "reason": reason} for phrase, reason in item.case.allowed_claims],
                    [check.record() for check in self.face_checks(item.case, item.pairs)],
                    self._approval_record(case_id),
                    sources=sources,
                    edits=_declared_edits(item.pairs),
                )
            )
        removed = plan.removed()
        for case_id, violation in sorted(removed.items()):
            decision = plan.decisions[case_id]
            entry = {
                "case": case_id,
                "consent": decision.consent.id if decision.consent else "",
                "code": violation.code,
                "reason": violation.message,
            }
            if decision.ended_on is not None:
                entry["ended_on"] = decision.ended_on.isoformat()  # a comeback needs a release signed after it
            record.removed.append(entry)
        receipts = []
        if previous:
            now_published = {p.case for p in record.published}
            last = previous[-1]
            for entry in last.get("published", []):
                if entry["case"] not in now_published:
                    receipt = self._takedown(entry, removed.get(entry["case"]), last.get("site_url"), record)
                    receipts.append(publications.write_takedown(compliance, now, receipt))
        return publications.append_record(compliance, record), receipts

    def _approval_record(self, case_id: str) -> dict[str, str] | None:
        """The approval a published case goes live under, for the log (None with `approval: off`)."""
        state = self.plan.approvals.get(case_id)
        return state.approval.record() if state is not None and state.approval is not None else None

    def _takedown(
        self, entry: dict[str, Any], reason: Violation | None, site_url: str | None, record: publications.BuildRecord
    ) -> publications.TakedownReceipt:
        consent = self.plan.register.consents.get(entry.get("consent", ""))
        # The URLs the case was served at: under the site_url of the build that published it, else today's.
        site_url = site_url or self.settings.site_url
        pages, files = entry.get("pages", []), entry.get("images", [])
        page_urls, file_urls = publications.absolute_urls(site_url, pages), publications.absolute_urls(site_url, files)
        in_git = self._originals_in_git(entry)
        return publications.TakedownReceipt(
            case=entry["case"],
            consent=entry.get("consent"),
            reason=reason.message if reason else "no longer published (removed from the manifest or from every page)",
            code=reason.code if reason else None,
            removed_pages=pages,
            removed_files=files,
            other_channels_to_follow_up=sorted(set(consent.permit) - {self.settings.channel}) if consent else [],
            reminder=_reminder(record.command, record.deploy),
            site_url=site_url,
            removed_page_urls=page_urls,
            removed_file_urls=file_urls,
            urls_unavailable=None
            if site_url
            else "site_url is not set in mkdocs.yml, so the absolute URLs are unknown: set it, then run "
            "'compliant-gallery purge-list', which completes them from the current site_url",
            deploy={"command": record.command, **(record.deploy or {})},
            originals_in_repository=in_git,
        )

    def _originals_in_git(self, entry: dict[str, Any]) -> dict[str, Any] | None:
        """Whether the case's raw originals are in the repository; None outside git (or when no original is known)."""
        settings = self.settings
        sources = [settings.project_root / source for source in entry.get("sources", [])]
        case = self.plan.manifest.cases.get(entry["case"])
        if case is not None:
            sources.extend(settings.photos / ref.src for ref in case.image_refs())
        if not sources:
            return None
        found = repository.originals_in_history(settings.project_root, list(dict.fromkeys(sources)))
        if found is None:
            return None
        return {**found.record(), "declared": settings.originals_in_git}

    def purge_cache(self) -> list[str]:
        """Drop cache entries not used by this build (removed cases, old settings).

        Photos of a case held back by an error stay cached: fixing the register should not reprocess them.
        Nothing is purged when the manifest or the register could not be read: every case is unknown then.
        """
        if self._plan is None or not self._plan.loaded:
            return []
        return purge_cache(self.settings.cache_dir, set(self._plan.cache_keys))

    def summary(self) -> str:
        plan = self.plan
        return (
            f"{count(len(self.uses), 'case')} published, {len(plan.removed())} removed, {count(len(self.warnings()), 'warning')}; "
            f"{count(plan.processed, 'photo pair')} processed, {plan.cache_hits} from cache, in {time.monotonic() - self.started:.1f}s"
        )


def jurisdictions_missing() -> Violation:
    """CG102: the rule packs are never assumed; a California clinic that forgot `US-CA` would get weaker rules."""
    return Violation(
        CG102,
        Where("mkdocs.yml", 0, "jurisdictions"),
        "the plugin option 'jurisdictions' is missing or empty: the build does not guess which laws apply to the clinic",
        f"list every rule pack that applies, e.g. 'jurisdictions: [US, US-CA]'; the packs are: {', '.join(JURISDICTIONS)} "
        "(US is the federal base: HIPAA authorizations and FTC disclosures)",
    )


def exposed_inputs(settings: Settings, docs_dir: Path) -> list[Violation]:
    """CG114 (a warning, on every build) when the manifest, the register, the photo folder (or the approvals file)
    is inside `docs_dir`.

    The plugin keeps them out of the site, but a build without it (the plugin disabled, another host such as
    Zensical, a plain `mkdocs build` of a copy of the project) copies everything in `docs_dir`: raw photos included.
    """
    docs = docs_dir.resolve()
    inputs = [("the photo folder", settings.photos), ("the manifest", settings.manifest), ("the register", settings.consents)]
    if settings.approval_required:
        inputs.append(("the approvals file", settings.approvals_file))  # it names who approved what: internal too
    inside = [f"{label} ({settings.relative(path)})" for label, path in inputs if path.resolve().is_relative_to(docs)]
    if not inside:
        return []
    listed = inside[0] if len(inside) == 1 else ", ".join(inside[:-1]) + " and " + inside[-1]
    return [
        Violation(
            CG114,
            Where("mkdocs.yml", 0, "docs_dir"),
            f"{listed} {'is' if len(inside) == 1 else 'are'} inside docs_dir ({settings.relative(docs)}): this build keeps "
            "them out of the site, but a build without the plugin (disabled, or another host) would publish them, raw "
            "patient photos included",
            "move them to a folder beside docs_dir (the sample site uses gallery/ next to mkdocs.yml) and point the "
            "plugin's 'manifest', 'consents' and 'photos' options (and 'approvals') at the new places",
        )
    ]


def _reminder(command: str, deploy: dict[str, Any] | None) -> str:
    """What is left to do after this build, for the receipt."""
    if command == "gh-deploy" and deploy and deploy.get("history") in ("dropped", "new"):
        return (
            f"Deployed to '{deploy.get('branch')}' without history: no commit of that branch holds the removed files. "
            "Purge the CDN and ask search engines to drop the URLs ('compliant-gallery purge-list'), then record it "
            "with 'compliant-gallery takedown-done'."
        )
    if command == "gh-deploy":
        return (
            "Deployed with gh-deploy. Purge the CDN and ask search engines to drop the URLs ('compliant-gallery purge-list'), "
            "then record it with 'compliant-gallery takedown-done'."
        )
    return (
        "Deploy this build now; a deployed site keeps serving the case until then (with gh-deploy: 'mkdocs gh-deploy "
        "--no-history', so no old commit keeps the files). Then purge the CDN and ask search engines to drop the URLs "
        "('compliant-gallery purge-list'), and record it with 'compliant-gallery takedown-done'."
    )


def _declared_edits(pairs: tuple[tuple[PhotoPair, PairResult], ...]) -> list[dict[str, Any]]:
    """Every photo of a published case with the edits declared on it (an empty list: none declared)."""
    return [
        {"photo": ref.src, "view": pair.view, "edits": [{"kind": edit.kind, "note": edit.note} for edit in pair.edits]}
        for pair, _ in pairs
        for ref in pair.images
    ]


def _missing_capture_dates(case: Case, pairs: tuple[tuple[PhotoPair, PairResult], ...]) -> list[Violation]:
    """CG514: UK advertising asks for proof that images are genuine; the capture date is part of it."""
    return [
        Violation(
            CG514,
            Where(case.file, ref.line, f"case {case.id}.photos"),
            f"'{ref.src}' has no capture date, so it cannot be shown to be a genuine original (UK CAP Code 12.1)",
            "use the camera's original file, which records when it was taken",
            case.id,
        )
        for pair, result in pairs
        for ref, image in zip(pair.images, (result.before, result.after), strict=True)
        if image is not None and image.captured is None
    ]


def _replaced_since_approval(case: Case, pairs: tuple[tuple[PhotoPair, PairResult], ...], approval: CaseApproval) -> list[Violation]:
    """CG406 for a photo whose processed bytes are not the ones the approval pins (replaced while the build ran)."""
    pinned = approval.photo_digests()
    return [
        Violation(
            CG406,
            Where(case.file, ref.line, f"case {case.id}.photos"),
            f"photo {ref.src} of case {case.id} changed while the build ran, after it was checked against its approval",
            "build again; if the photo was meant to change, have it reviewed and approve the case again",
            case.id,
        )
        for pair, result in pairs
        for ref, image in zip(pair.images, (result.before, result.after), strict=True)
        if image is not None and pinned.get(ref.src) != image.source_sha256
    ]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
