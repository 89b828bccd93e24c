"""The compliance officer's view of a gallery: the state of every case and consent, as text and as HTML.

Everything here is computed from the public state of a prepared `GalleryBuild` plus the records a build leaves
behind (`publications.jsonl`, `takedowns/*.json`); nothing is built or published. The HTML report is an
internal document: it names consent ids, but never a `patient_ref` (every text is scrubbed, and the finished
page is checked before it is returned). Thumbnails are the smallest processed JPEG from the build cache, never
the raw originals.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .. import __version__
from ..catalogue import CG203, CG204
from ..engine import GalleryBuild
from ..images.others import OtherImage
from ..images.pipeline import ProcessedImage
from ..records.register import Consent
from ..violations import Violation, count
from . import publications

TEMPLATES = Path(__file__).parent.parent / "templates"
REPORT_TEMPLATE = "report.html"
STATUS_ORDER = ("expiring", "removed", "blocked", "published")
STATUS_LABELS = {"expiring": "expiring soon", "removed": "removed", "blocked": "blocked", "published": "published"}
PATIENT_REF_PLACEHOLDER = "[patient_ref withheld]"


class PatientRefLeakError(RuntimeError):
    """A patient_ref reached the report; it is never written."""


@dataclass(frozen=True)
class Expiring:
    """A case still published whose consent expires within `expiry_warning_days`."""

    case: str
    consent: str
    expires_on: dt.date
    days_left: int


@dataclass(frozen=True)
class UnusedConsent:
    """A consent of the register that no case of the manifest names."""

    consent: str
    file: str
    line: int
    state: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Problem:
    """A violation as the report shows it (scrubbed text)."""

    code: str
    where: str
    message: str
    fix: str


@dataclass(frozen=True)
class Receipt:
    """One takedown receipt from `.compliance/takedowns/`."""

    file: str
    case: str
    time: str
    reason: str
    code: str
    pages: tuple[str, ...]
    files: int
    other_channels: tuple[str, ...]


@dataclass(frozen=True)
class Breach:
    """A build that published a case under a release signed only later: what a breach notice needs (CG212)."""

    time: str
    build_date: str
    consent: str
    signed_on: str
    pages: tuple[str, ...]


@dataclass(frozen=True)
class Thumbnail:
    """One before/after pair, as data: URIs of processed JPEGs."""

    view: str
    before: str
    before_alt: str
    after: str
    after_alt: str


@dataclass
class CaseRow:
    """Everything the report says about one case of the manifest."""

    case: str
    treatment: str
    status: str
    consent: str = ""
    consent_where: str = ""
    permit: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    signed_on: str = ""
    expiry: str = ""
    days_left: int | None = None
    reason: str = ""
    reason_code: str = ""
    removed_on: str = ""
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    last_published: str = ""
    last_build_date: str = ""
    last_pages: tuple[str, ...] = ()
    in_latest_build: bool = False
    takedown: str = ""  # done | pending | not-needed, for removed cases
    receipts: list[Receipt] = field(default_factory=list)
    pages: tuple[str, ...] = ()
    thumbnails: list[Thumbnail] = field(default_factory=list)
    approval: str = ""  # where the case stands against its approval ("approved by ... on ...", "never approved", ...)
    published_under: str = ""  # the approval of its last publication, from the log
    breaches: list[Breach] = field(default_factory=list)  # publications before the release was signed

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def codes(self) -> list[str]:
        return sorted({p.code for p in self.problems})

    def sort_key(self) -> tuple[int, int, str, str]:
        rank = STATUS_ORDER.index(self.status)
        if self.status == "expiring":
            return (rank, self.days_left or 0, "", self.case)
        if self.status == "removed":
            # Most recent removal first.
            return (rank, -dt.date.fromisoformat(self.removed_on).toordinal() if self.removed_on else 0, "", self.case)
        return (rank, 0, "", self.case)


@dataclass
class StatusReport:
    """The state of a whole gallery, ready for `text_summary` and `render_html`."""

    site_name: str
    generated: str
    build_date: str
    channel: str
    jurisdictions: tuple[str, ...]
    manifest: str
    register: str
    compliance: str
    expiry_warning_days: int
    rows: list[CaseRow] = field(default_factory=list)
    general: list[Problem] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    unused: list[UnusedConsent] = field(default_factory=list)
    orphan_receipts: list[Receipt] = field(default_factory=list)
    log_problems: list[str] = field(default_factory=list)
    last_build: str = ""
    pages_scanned: bool = False
    tool_version: str = __version__
    other_images: list[OtherImage] = field(default_factory=list)  # site images outside the gallery (CG310)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def breaches(self) -> list[tuple[str, Breach]]:
        """(case, build) for every publication the log shows before its release was signed."""
        return [(row.case, breach) for row in self.rows for breach in row.breaches]

    @property
    def build_fails(self) -> bool:
        return self.errors > 0


# -- facts shared with `check` ------------------------------------------------------------------------------


def expiring(gallery: GalleryBuild) -> list[Expiring]:
    """Cases not removed whose consent expires within `expiry_warning_days` of the build date, soonest first."""
    settings = gallery.settings
    found = []
    for case_id, decision in gallery.plan.decisions.items():
        consent = decision.consent
        if decision.removed is not None or consent is None or consent.expires_on is None:
            continue
        days_left = (consent.expires_on - settings.build_date).days
        if 0 <= days_left <= settings.expiry_warning_days:
            found.append(Expiring(case_id, consent.id, consent.expires_on, days_left))
    return sorted(found, key=lambda e: (e.days_left, e.case))


def unused_consents(gallery: GalleryBuild) -> list[UnusedConsent]:
    """Consents that no case of the manifest names (empty when either file could not be read)."""
    if not gallery.plan.loaded:
        return []
    named = {case.consent_id for case in gallery.plan.manifest.cases.values() if case.consent_id}
    return [
        UnusedConsent(consent.id, consent.file, consent.line, consent_state(consent, gallery.settings.build_date))
        for consent in gallery.plan.register.consents.values()
        if consent.id not in named
    ]


def consent_state(consent: Consent, today: dt.date) -> str:
    """A short description of where a consent stands on `today`."""
    withdrawn = consent.withdrawn_on
    if consent.status == "inactive":
        return f"withdrawn on {withdrawn}" if withdrawn else "withdrawn (status inactive, date unknown)"
    if withdrawn and withdrawn <= today:
        return f"withdrawn on {withdrawn}"
    if consent.status not in (None, "active"):
        return f"not in force (status {consent.status})"
    if consent.expires_on and consent.expires_on < today:
        return f"expired on {consent.expires_on}"
    if consent.expiry_event and consent.event_occurred_on and consent.event_occurred_on <= today:
        return f"ended with '{consent.expiry_event}' on {consent.event_occurred_on}"
    if consent.superseded_by:
        return f"superseded by {consent.superseded_by}"
    if consent.expires_on:
        return f"in force until {consent.expires_on}"
    if consent.expiry_event:
        return f"in force until '{consent.expiry_event}'"
    return "in force, no expiry recorded"


def read_receipts(compliance_dir: Path) -> tuple[list[Receipt], list[str]]:
    """Every takedown receipt, oldest first, and a line for each one that cannot be read."""
    folder = compliance_dir / "takedowns"
    receipts, problems = [], []
    if not folder.is_dir():
        return [], []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("case"), str):
                raise ValueError("no case")
        except (OSError, ValueError) as error:
            problems.append(f"{path.name}: takedown receipt cannot be read ({error})")
            continue
        stamp = path.name.split("-", 1)[0]
        try:
            when = _when(dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc).isoformat())
        except ValueError:
            when = stamp
        receipts.append(
            Receipt(
                file=path.name,
                case=data["case"],
                time=when,
                reason=str(data.get("reason") or ""),
                code=str(data.get("code") or ""),
                pages=tuple(str(p) or "/" for p in data.get("removed_pages") or ()),
                files=len(data.get("removed_files") or ()),
                other_channels=tuple(str(c) for c in data.get("other_channels_to_follow_up") or ()),
            )
        )
    return receipts, problems


# -- the report -----------------------------------------------------------------------------------------------


def collect(gallery: GalleryBuild, site_name: str = "", now: dt.datetime | None = None, pages_scanned: bool = False) -> StatusReport:
    """The state of every case of a prepared build, ordered: expiring soon, removed, blocked, published.

    `pages_scanned` says whether the host placed the site's directives through `gallery.place_page`, so that
    `gallery.uses` tells which cases are placed on a page.
    """
    settings = gallery.settings
    now = now or dt.datetime.now(dt.timezone.utc)
    scrub = _Scrubber(gallery)
    report = StatusReport(
        site_name=site_name,
        generated=now.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        build_date=settings.build_date.isoformat(),
        channel=settings.channel,
        jurisdictions=settings.jurisdictions,
        manifest=settings.relative(settings.manifest),
        register=settings.relative(settings.consents),
        compliance=settings.relative(settings.compliance_dir),
        expiry_warning_days=settings.expiry_warning_days,
        pages_scanned=pages_scanned,
    )
    errors, warnings = gallery.errors(), gallery.warnings()
    report.errors, report.warnings = len(errors), len(warnings)
    records, report.log_problems = publications.read_log(settings.compliance_dir)
    history = publications.history_of(records)
    receipts, receipt_problems = read_receipts(settings.compliance_dir)
    report.log_problems.extend(receipt_problems)
    if records:
        report.last_build = _when(str(records[-1].get("time", "")))
    last_seen: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    published_under: dict[str, str] = {}
    for record in records:
        for entry in record.get("published") or ():
            if isinstance(entry, dict) and "case" in entry:
                pages = tuple(str(page) or "/" for page in entry.get("pages") or ())
                last_seen[entry["case"]] = (_when(str(record.get("time", ""))), str(record.get("build_date", "")), pages)
                published_under[entry["case"]] = _approval_note(entry.get("approval"), record.get("approval"))
    latest = {entry.get("case") for entry in (records[-1].get("published") or ())} if records else set()
    cases = gallery.plan.manifest.cases
    soon = {item.case: item for item in expiring(gallery)}
    for case_id, case in cases.items():
        decision = gallery.plan.decisions.get(case_id)
        consent = decision.consent if decision else None
        case_errors = [v for v in errors if v.case == case_id]
        treatment = gallery.plan.manifest.treatments.get(case.treatment or "")
        row = CaseRow(case=case_id, treatment=treatment.title if treatment else (case.treatment or ""), status="blocked")
        row.consent = case.consent_id or ""
        if consent is not None:
            row.consent_where = f"{consent.file}:{consent.line}" if consent.line else consent.file
            row.permit, row.deny = consent.permit, consent.deny
            row.signed_on = consent.signed_on.isoformat() if consent.signed_on else ""
            row.expiry = _expiry(consent)
            if consent.expires_on:
                row.days_left = (consent.expires_on - settings.build_date).days
        removed = decision.removed if decision else None
        if removed is not None:
            row.status = "removed"
            row.reason, row.reason_code = scrub(removed.message), removed.code
            row.removed_on = decision.ended_on.isoformat() if decision and decision.ended_on else _removal_date(removed, consent)
        elif case_id in gallery.plan.published and not case_errors:
            row.status = "expiring" if case_id in soon else "published"
        row.problems = [_problem(v, scrub) for v in case_errors]
        if row.status == "blocked" and not row.problems:
            reason = "the register could not be read" if decision is None else "its photos could not be processed"
            row.problems = [Problem("", "", f"not publishable: {reason} (see the errors above)", "")]
        row.warnings = [_problem(v, scrub) for v in warnings if v.case == case_id]
        if case_id in last_seen:
            row.last_published, row.last_build_date, row.last_pages = last_seen[case_id]
            row.published_under = published_under.get(case_id, "")
        state = gallery.plan.approvals.get(case_id)
        if state is not None:
            row.approval = scrub(state.state())
        elif removed is None:
            row.approval = "approval off" if not settings.approval_required else ""
        row.in_latest_build = case_id in latest
        row.breaches = _breaches(history.publications.get(case_id, ()), gallery.plan.register.consents)
        row.receipts = [r for r in receipts if r.case == case_id]
        if row.status == "removed":
            if row.in_latest_build:
                row.takedown = "pending"
            elif row.receipts:
                row.takedown = "done"
            else:
                row.takedown = "not-needed"
        if case_id in gallery.uses:
            row.pages = tuple(sorted(gallery.uses[case_id].pages))
        if row.status in ("published", "expiring"):
            row.thumbnails = _thumbnails(gallery, case_id)
        report.rows.append(row)
    report.rows.sort(key=CaseRow.sort_key)
    report.general = [_problem(v, scrub) for v in errors if v.case not in cases]
    report.unused = [UnusedConsent(u.consent, u.file, u.line, scrub(u.state)) for u in unused_consents(gallery)]
    report.orphan_receipts = [r for r in receipts if r.case not in cases]
    report.other_images = list(gallery.other_images)
    return report


def text_summary(report: StatusReport) -> str:
    """A few lines for the terminal: one per case in report order, then the totals."""
    lines = [f"Gallery compliance report: build date {report.build_date}, channel {report.channel}"]
    if report.build_fails:
        lines.append(f"  THE NEXT BUILD FAILS: {count(report.errors, 'error')} (run 'compliant-gallery check' for the list)")
    for case, breach in report.breaches:
        lines.append(
            f"  BREACH     {case:<20} published by the build of {breach.build_date} ({breach.time}) under consent {breach.consent}, "
            f"signed only on {breach.signed_on}"
        )
    for row in report.rows:
        lines.append(f"  {row.status:<10} {row.case:<20} consent {row.consent or '-':<14} {_row_detail(row)}")
    for unused in report.unused:
        lines.append(f"  {'unused':<10} {'-':<20} consent {unused.consent:<14} used by no case; {unused.state}")
    for image in report.other_images:
        detail = f"reviewed by {image.reviewed_by}" if image.verdict == "reviewed" else image.verdict
        lines.append(f"  {'image':<10} {image.path:<36} {detail} ({image.source})")
    lines.append(
        f"{count(len(report.rows), 'case')}: {report.count('published') + report.count('expiring')} published "
        f"({report.count('expiring')} expiring soon), {report.count('removed')} removed, {report.count('blocked')} blocked; "
        f"{count(len(report.unused), 'consent')} used by no case; {count(len(report.other_images), 'site image')} outside the gallery, "
        f"{sum(1 for image in report.other_images if image.verdict == 'face')} showing a face"
    )
    return "\n".join(lines)


def render_html(report: StatusReport, patient_refs: Iterable[str] = ()) -> str:
    """The self-contained HTML report (inline CSS, data: thumbnails, autoescaped). Refuses to leak a patient_ref."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    html = env.get_template(REPORT_TEMPLATE).render(report=report, labels=STATUS_LABELS)
    leaked = sorted(ref for ref in patient_refs if ref and ref in html)
    if leaked:
        raise PatientRefLeakError(f"the report would contain {count(len(leaked), 'patient_ref value')}; it was not written")
    return html


def patient_refs(gallery: GalleryBuild) -> list[str]:
    """Every patient_ref of the register and the manifest (never shown; used to check the report)."""
    refs = [c.patient_ref for c in gallery.plan.register.consents.values() if c.patient_ref]
    return refs + [c.patient_ref for c in gallery.plan.manifest.cases.values() if c.patient_ref]


def _breaches(published: Iterable[publications.Publication], consents: Mapping[str, Consent]) -> list[Breach]:
    """Builds that published a case under a release of the register signed only after that build."""
    found = []
    for item in published:
        consent = consents.get(item.consent)
        if consent is not None and consent.signed_on is not None and item.build_date < consent.signed_on:
            pages = tuple(page or "/" for page in item.pages)
            found.append(Breach(_when(item.time), item.build_date.isoformat(), item.consent, consent.signed_on.isoformat(), pages))
    return found


# -- helpers --------------------------------------------------------------------------------------------------


class _Scrubber:
    """Replaces any patient_ref in a text (a message quoting a register value, say) with a placeholder."""

    def __init__(self, gallery: GalleryBuild):
        self.refs = sorted(set(patient_refs(gallery)), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for ref in self.refs:
            text = text.replace(ref, PATIENT_REF_PLACEHOLDER)
        return text


def _problem(violation: Violation, scrub: _Scrubber) -> Problem:
    return Problem(violation.code, scrub(str(violation.where)), scrub(violation.message), scrub(violation.fix))


def _approval_note(approval: object, mode: object) -> str:
    """The approval a logged publication went out under, in a few words."""
    if isinstance(approval, dict) and approval.get("by"):
        return f"approved by {approval['by']} on {_when(str(approval.get('at', '')))} (digest {str(approval.get('digest', ''))[:12]})"
    if isinstance(mode, dict) and mode.get("mode") == "off":
        return "published with approval off"
    return ""


def _when(iso: str) -> str:
    """An ISO 8601 time from the records as `YYYY-MM-DD HH:MM UTC` (unchanged when it cannot be read)."""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _expiry(consent: Consent) -> str:
    if consent.expires_on:
        return consent.expires_on.isoformat()
    if consent.expiry_event:
        occurred = f" (occurred {consent.event_occurred_on})" if consent.event_occurred_on else ""
        return f"on '{consent.expiry_event}'{occurred}"
    return ""


def _removal_date(reason: Violation, consent: Consent | None) -> str:
    if consent is None:
        return ""
    if reason.rule is CG203 and consent.withdrawn_on:
        return consent.withdrawn_on.isoformat()
    if reason.rule is CG204:
        if consent.event_occurred_on and reason.where.field.endswith("event_occurred_on"):
            return consent.event_occurred_on.isoformat()
        if consent.expires_on:
            return consent.expires_on.isoformat()
    return ""


def _row_detail(row: CaseRow) -> str:
    if row.status == "removed":
        detail = f"{row.reason} ({row.reason_code})"
        if row.takedown == "pending":
            detail += "; STILL ONLINE until the next build is deployed"
        elif row.receipts:
            detail += f"; takedown receipt {row.receipts[-1].file}"
        return detail + f"; history: compliant-gallery history {row.case}"
    approval = f"; {row.approval}" if row.approval else ""
    if row.published_under and not row.published_under.startswith(row.approval or "-"):
        approval += f"; last published under: {row.published_under}"
    if row.status == "blocked":
        return "errors: " + (", ".join(row.codes) or "see above") + approval
    if row.status == "expiring":
        return f"expires {row.expiry} (in {row.days_left} days){approval}"
    return f"expires {row.expiry or '-'}{approval}"


def _thumbnails(gallery: GalleryBuild, case_id: str) -> list[Thumbnail]:
    """The smallest processed JPEG of each photo, read from the build cache (never from an original)."""
    cache = gallery.settings.cache_dir.resolve()
    thumbnails = []
    for pair, result in gallery.plan.published[case_id].pairs:
        before, after = _data_uri(result.before, cache), _data_uri(result.after, cache)
        if before and after:
            thumbnails.append(Thumbnail(pair.view, before, pair.before.alt, after, pair.after.alt))
    return thumbnails


def _data_uri(image: ProcessedImage | None, cache: Path) -> str:
    if image is None:
        return ""
    jpegs = image.of_format("jpeg")
    if not jpegs:
        return ""
    path = Path(jpegs[0].path).resolve()
    if not path.is_relative_to(cache) or not path.is_file():
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
