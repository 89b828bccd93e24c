"""The consent rules (CG201-CG213): whether a case's release is valid, in force, bound to the case and in scope.

A release covers a case only when it names the case (`scope.cases`) or its photos (`scope.images`), or, for a
treatment (and date) scope, when the case carries the release's own `patient_ref`. Withdrawal takes effect on the
earliest evidence of it (`revoked_on`, `revocation_received_on`, a FHIR status other than active, or a later
release of the same patient that refuses the case). The publication log adds two rules: a case once taken down
comes back only under a release signed after its release ended that names it, and a release signed after a build
that published its case is an error (CG212).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..audit.publications import PublicationHistory
from ..catalogue import CG201, CG202, CG203, CG204, CG205, CG206, CG207, CG208, CG209, CG210, CG211, CG212, CG213
from ..records.fhir import CHANNEL_SYSTEM, WITHDRAWN
from ..records.manifest import Case
from ..records.register import STATEMENT_KEYS, Consent, ConsentScope, Register
from ..violations import Rule, Severity, Violation, Where, did_you_mean
from .context import Rules, at_case, at_consent
from .disclosures import caption_testimonial

MARKETING_PURPOSES = {"marketing", "advertising", "HMARKT"}
STATEMENT_WORDING = {
    "revocation": "the right to revoke in writing, and how",
    "conditioning": "whether treatment is conditioned on signing",
    "redisclosure": "that disclosed photos may be redisclosed",
}
NO_HISTORY = PublicationHistory()


def _consent_fix(case: Case, register: Register) -> str:
    """The fix for an unknown consent id, with a did-you-mean: the release whose scope names the case, else the closest id.

    The release that names the case comes first: a close spelling may be another patient's release (which the
    scope rules would then refuse), the one naming the case is the one the form was signed for.
    """
    otherwise = "add the signed release to the register before publishing"
    naming = sorted(c.id for c in register.consents.values() if case.id in c.scope.cases)
    if len(naming) == 1:
        return f"did you mean '{naming[0]}'? It is the release whose scope names case {case.id}; otherwise {otherwise}"
    close = did_you_mean(case.consent_id or "", register.consents).strip()
    return f"{close} Otherwise {otherwise}" if close else f"correct the id, or {otherwise}"


@dataclass(frozen=True)
class Takedown:
    """Why a case is taken down (or held back) whatever else holds, and the day its release stopped being in force."""

    violation: Violation
    ended_on: dt.date | None


def consent_violations(
    case: Case, consent: Consent | None, register: Register, rules: Rules, history: PublicationHistory = NO_HISTORY
) -> list[Violation]:
    """CG201-CG213 for a case and the consent it names."""
    if case.consent_id is None:
        return [at_case(case, CG201, "consent", "has no consent", "add 'consent: <id>' naming the signed release in the register")]
    if consent is None:
        refused = register.refused.get(case.consent_id)
        if refused is not None:
            return [
                at_case(
                    case,
                    CG201,
                    "consent",
                    f"consent '{case.consent_id}' was left out of the register {register.file}: {refused.message} ({refused.where})",
                    refused.fix,
                )
            ]
        return [
            at_case(
                case,
                CG201,
                "consent",
                f"consent '{case.consent_id}' is not in the register {register.file}",
                _consent_fix(case, register),
            )
        ]
    # A release not in force takes the case down (or holds it back) whatever else is wrong with the record.
    down = taken_down(case, consent, register, rules)
    if down is not None:
        return [down.violation]
    found: list[Violation] = []
    if consent.superseded_by:
        found.append(
            at_consent(
                case,
                consent,
                CG205,
                "superseded_by",
                f"consent was superseded by '{consent.superseded_by}'",
                f"point the case at 'consent: {consent.superseded_by}'",
            )
        )
    found.extend(_completeness(case, consent))
    if consent.irrevocable:
        found.append(
            at_consent(
                case,
                consent,
                CG207,
                "irrevocable",
                "release is marked irrevocable, which makes it invalid (45 CFR 164.508(b)(5))",
                "have the patient sign a release that states it can be revoked",
            )
        )
    if consent.signed_on and consent.signed_on > rules.build_date:
        found.append(
            at_consent(
                case,
                consent,
                CG210,
                "signed_on",
                f"signed_on {consent.signed_on} is after the build date {rules.build_date}",
                "correct the date, or publish once the release is signed",
            )
        )
    found.extend(_published_before_signing(case, consent, history))
    found.extend(_channel(case, consent, rules.channel))
    found.extend(_scope(case, consent, rules.channel))
    found.extend(_comeback(case, consent, history))
    found.extend(_identifiability(case, consent))
    if consent.expires_on and not found:
        days_left = (consent.expires_on - rules.build_date).days
        if days_left <= rules.expiry_warning_days:
            found.append(
                at_consent(
                    case,
                    consent,
                    CG211,
                    "expires_on",
                    f"release expires on {consent.expires_on} ({days_left} days); the case will then be removed",
                    "ask the patient to renew the release",
                )
            )
    return found


def taken_down(case: Case, consent: Consent, register: Register, rules: Rules) -> Takedown | None:
    """Withdrawn, refused later, expired, or not in force: the one violation that decides the case, and its end date."""
    severity = Severity.ERROR if rules.fail_on_withdrawn else Severity.REMOVED
    fix = "remove the case from the manifest (on_withdrawn: fail is set)" if rules.fail_on_withdrawn else ""
    withdrawn = consent.withdrawn_on
    if consent.status == WITHDRAWN:
        if withdrawn is None:
            # Fail closed: not in force, and the takedown record and any comeback need the day it ended.
            return Takedown(
                at_consent(
                    case,
                    consent,
                    CG203,
                    "status",
                    "Consent.status is 'inactive' (withdrawn) but the date is unknown: no revokedOn extension, no meta.lastUpdated",
                    f"add {consent.spelled('revoked_on', 'YYYY-MM-DD')} with the day the withdrawal was received, then rebuild "
                    "(the case stays unpublished until then)",
                    Severity.ERROR,
                ),
                None,
            )
        later = f"; an inactive Consent is not in force even before its date {withdrawn}" if withdrawn > rules.build_date else ""
        message = f"consent withdrawn on {withdrawn} (Consent.status 'inactive'{later})"
        return Takedown(at_consent(case, consent, CG203, consent.withdrawn_key, message, fix, severity), withdrawn)
    if withdrawn is not None and withdrawn <= rules.build_date:
        key = consent.withdrawn_key
        received = "" if key == "revoked_on" else " (the day the withdrawal was received)"
        message = f"consent withdrawn on {withdrawn}{received}"
        return Takedown(at_consent(case, consent, CG203, key, message, fix, severity), withdrawn)
    refusal = _later_refusal(case, consent, register, rules.channel)
    if refusal is not None:
        other, where = refusal
        dated = f"signed {other.signed_on}" if other.signed_on else "undated, so taken as later"
        return Takedown(
            Violation(
                CG203,
                where,
                f"a later release of the same patient, consent {other.id} ({dated}), refuses this case on the {rules.channel}: "
                f"it overrides consent {consent.id}",
                fix or f"leave the case out; it comes back only under a new release signed after {other.signed_on or 'that refusal'}",
                case.id,
                severity,
            ),
            other.signed_on or rules.build_date,
        )
    if consent.expires_on and consent.expires_on < rules.build_date:
        return Takedown(
            at_consent(case, consent, CG204, "expires_on", f"consent expired on {consent.expires_on}", fix, severity), consent.expires_on
        )
    if consent.expiry_event and consent.event_occurred_on and consent.event_occurred_on <= rules.build_date:
        message = f"consent ended with '{consent.expiry_event}' on {consent.event_occurred_on}"
        return Takedown(at_consent(case, consent, CG204, "event_occurred_on", message, fix, severity), consent.event_occurred_on)
    if consent.status not in (None, "active"):
        meaning = {
            "draft": "a draft, not signed yet",
            "proposed": "proposed to the patient, not signed yet",
            "rejected": "rejected: the patient did not agree",
            "entered-in-error": "entered in error: the record is void",
        }.get(consent.status, "not active")
        return Takedown(
            at_consent(
                case,
                consent,
                CG213,
                "status",
                f"Consent.status is '{consent.status}' ({meaning}); only an 'active' Consent is in force, whatever dates it carries",
                "publish the case only under an active, signed release; if the export is wrong, correct the status in the records system",
            ),
            None,
        )
    if consent.in_force_from and consent.in_force_from > rules.build_date:
        return Takedown(
            at_consent(
                case,
                consent,
                CG213,
                "in_force_from",
                f"the release is in force from {consent.in_force_from} (Consent.provision.period.start), after the build date {rules.build_date}",
                "publish the case from that day on, or correct the period from the signed form",
            ),
            None,
        )
    return None


def release_ended(consent: Consent, day: dt.date) -> tuple[Rule, str, str] | None:
    """Whether a release's own status and dates kept it out of force on `day`: the rule, the field and why; else None.

    `history` asks this of past build dates. A build asks `taken_down`, which also weighs later refusals by the same
    patient; both read the same fields, so an inactive Consent without a date is out of force on any day (fail closed).
    """
    withdrawn = consent.withdrawn_on
    if consent.status == WITHDRAWN and withdrawn is None:
        return CG203, "status", "Consent.status is 'inactive' (withdrawn) and the date is unknown"
    if withdrawn is not None and withdrawn <= day:
        return CG203, consent.withdrawn_key, f"consent withdrawn on {withdrawn}"
    if consent.expires_on and consent.expires_on < day:
        return CG204, "expires_on", f"consent expired on {consent.expires_on}"
    if consent.expiry_event and consent.event_occurred_on and consent.event_occurred_on <= day:
        return CG204, "event_occurred_on", f"consent ended with '{consent.expiry_event}' on {consent.event_occurred_on}"
    if consent.status not in (None, "active", WITHDRAWN):
        return CG213, "status", f"Consent.status is '{consent.status}'"
    if consent.in_force_from and consent.in_force_from > day:
        return CG213, "in_force_from", f"the release is in force from {consent.in_force_from}"
    return None


def _later_refusal(case: Case, consent: Consent, register: Register, channel: str) -> tuple[Consent, Where] | None:
    """A later release of the same patient that refuses this case on this channel (IHE PCF records refusals so)."""
    if not consent.patient_ref:
        return None
    photos = _photo_names(case)
    for other in register.consents.values():
        if other is consent or other.patient_ref != consent.patient_ref or other.status not in (None, "active"):
            continue
        if other.signed_on and consent.signed_on and other.signed_on < consent.signed_on:
            continue  # earlier: the release of this case came after it and decides
        if other.purposes and not MARKETING_PURPOSES.intersection(other.purposes):
            continue
        where = _refusal_of(other, case, photos, channel)
        if where is not None:
            return other, where
    return None


def _refusal_of(other: Consent, case: Case, photos: set[str], channel: str) -> Where | None:
    """Where `other` refuses this case on `channel`: a root deny, a channel deny or a deny provision naming it."""
    for exclusion in other.exclusions:
        if exclusion.covers(case.id, photos) and (not exclusion.channels or channel in exclusion.channels):
            return other.where_element(exclusion.path, exclusion.line)
    if not _scope_covers(other.scope, case, photos):
        return None
    if other.refuses and channel not in other.permit:
        return other.where("refuses")
    if channel in other.deny:
        return other.where("channels")
    return None


def _scope_covers(scope: ConsentScope, case: Case, photos: set[str]) -> bool:
    """Whether a scope takes in this case (an empty scope takes in everything of its patient)."""
    if scope.is_empty or case.id in scope.cases or photos & set(scope.images):
        return True
    if scope.treatment is None or scope.treatment != case.treatment:
        return False
    treated = case.treated_on
    if treated is None:
        return True  # not known to lie outside: a refusal counts
    return not ((scope.treated_from and treated < scope.treated_from) or (scope.treated_to and treated > scope.treated_to))


def _photo_names(case: Case) -> set[str]:
    return {name for ref in case.image_refs() for name in (ref.src, ref.path.name)}


def _completeness(case: Case, consent: Consent) -> list[Violation]:
    """CG206: the core elements and required statements of 45 CFR 164.508(c), each stated, never assumed."""
    form = f"the signed form ({consent.form_version})" if consent.form_version else "the signed release form"
    missing = []
    if consent.signed_on is None:
        missing.append(("signed_on", "no signed date", f"add {consent.spelled('signed_on', 'YYYY-MM-DD')} from {form}"))
    if consent.expires_on is None and consent.expiry_event is None:
        missing.append(
            (
                "expires_on",
                "no expiry date or expiry event",
                f"add {consent.spelled('expires_on', 'YYYY-MM-DD')} (or the expiry event) as written on {form}",
            )
        )
    if consent.signer is None:
        missing.append(("signer", "no signer", f"add {consent.spelled('signer', 'patient or representative')} as on {form}"))
    elif consent.signer == "representative" and not consent.representative_authority:
        missing.append(
            (
                "representative_authority",
                "signed by a representative without their authority",
                f"add {consent.spelled('representative_authority', 'e.g. parent of a minor, power of attorney')} as on {form}",
            )
        )
    if not consent.purposes:
        missing.append(("purposes", "no purpose", f"add {consent.spelled('purposes', '[marketing]')} as written on {form}"))
    for key in STATEMENT_KEYS:
        stated = consent.statements.get(key)
        if stated is None:
            missing.append(
                (
                    f"statements.{key}",
                    f"'statements.{key}' is not recorded: whether the release states {STATEMENT_WORDING[key]} is never assumed",
                    f"check {form} and record {consent.spelled(f'statements.{key}', 'true or false')}",
                )
            )
        elif not stated:
            missing.append(
                (
                    f"statements.{key}",
                    f"the release does not state {STATEMENT_WORDING[key]}",
                    "use a release form that states the right to revoke, whether treatment is conditioned on signing, and that "
                    "disclosed photos may be redisclosed",
                )
            )
    if not consent.material_connection_recorded:
        missing.append(
            (
                "material_connection",
                "'material_connection' is not recorded: whether the patient received anything for the photos is never assumed 'none'",
                f"check {form} and record {consent.spelled('material_connection', 'none')}, or the disclosure text to show",
            )
        )
    if consent.third_party_remuneration is None:
        missing.append(
            (
                "third_party_remuneration",
                "'third_party_remuneration' is not recorded: whether a third party pays for this marketing is never assumed 'no'",
                f"check {form} and record {consent.spelled('third_party_remuneration', 'true or false')}",
            )
        )
    elif consent.third_party_remuneration and not consent.statements.get("remuneration"):
        missing.append(
            (
                "third_party_remuneration",
                "a third party pays for this marketing but the release does not say so",
                "use a release that states the remuneration (45 CFR 164.508(a)(3)(ii)) and record the remuneration statement as true",
            )
        )
    if consent.irrevocable is None:
        missing.append(
            (
                "irrevocable",
                "'irrevocable' is not recorded: whether the form calls itself irrevocable is never assumed",
                f"check {form} and record {consent.spelled('irrevocable', 'false')} (or true, which makes it invalid)",
            )
        )
    return [at_consent(case, consent, CG206, key, f"release incomplete: {what}", fix) for key, what, fix in missing]


def _published_before_signing(case: Case, consent: Consent, history: PublicationHistory) -> list[Violation]:
    """CG212: builds in the publication log that published the case under this release before it was signed."""
    signed = consent.signed_on
    if signed is None:
        return []
    early = [p for p in history.publications.get(case.id, ()) if p.consent == consent.id and p.build_date < signed]
    if not early:
        return []
    dates = sorted({p.build_date.isoformat() for p in early})
    return [
        at_consent(
            case,
            consent,
            CG212,
            "signed_on",
            f"the release was signed on {signed}, but the publication log shows {len(early)} earlier build(s) publishing this case "
            f"under it (build dates {', '.join(dates)}): those publications had no authorization",
            f"if {consent.named('signed_on')} is wrong, correct it from the signed form; if it is right, the photos were disclosed "
            "without authorization: assess and report the breach (`compliant-gallery report` lists those builds), and publish "
            "the case again only under a new release, or remove it",
        )
    ]


def _channel(case: Case, consent: Consent, channel: str) -> list[Violation]:
    if consent.refuses and channel not in consent.permit:
        return [
            at_consent(
                case,
                consent,
                CG202,
                "refuses",
                f"the release is a refusal (Consent.provision.type deny) and no nested permit names the '{channel}' channel",
                "do not publish this case; it needs a release that permits the channel",
            )
        ]
    if channel in consent.deny:
        return [
            at_consent(
                case,
                consent,
                CG202,
                "channels",
                f"release denies the '{channel}' channel",
                f"do not publish this case on the {channel}, or obtain a new release that permits it",
            )
        ]
    if channel not in consent.permit:
        permitted = ", ".join(consent.permit) or "none"
        return [
            at_consent(
                case,
                consent,
                CG202,
                "channels",
                f"release does not permit the '{channel}' channel (permits: {permitted})",
                f"remove the case from this site, or obtain a release that permits '{channel}'",
            )
        ]
    for limit in consent.recipient_limits:
        if (not limit.channels or channel in limit.channels) and channel not in limit.allowed:
            recipients = ", ".join(limit.others) or "recipients other than the channel"
            return [
                Violation(
                    CG202,
                    consent.where_element(limit.path, limit.line),
                    f"the release discloses only to {recipients}: the public '{channel}' is not among its recipients",
                    f"publish the case only under a release whose recipients include the {channel} (an actor whose "
                    f"reference.identifier has system {CHANNEL_SYSTEM} and value {channel}), or remove it",
                    case.id,
                )
            ]
    return []


def _scope(case: Case, consent: Consent, channel: str) -> list[Violation]:
    """CG208: purpose, the binding of release to case, and the cases, images or treatment window the release names."""
    found = []
    if consent.purposes and not MARKETING_PURPOSES.intersection(consent.purposes):
        found.append(
            at_consent(
                case,
                consent,
                CG208,
                "purposes",
                f"release covers {', '.join(consent.purposes)}, not marketing",
                "a website gallery is marketing: obtain a marketing release",
            )
        )
    photos = _photo_names(case)
    for exclusion in consent.exclusions:
        if exclusion.covers(case.id, photos) and (not exclusion.channels or channel in exclusion.channels):
            on = f" on the {channel}" if exclusion.channels else ""
            found.append(
                Violation(
                    CG208,
                    consent.where_element(exclusion.path, exclusion.line),
                    f"a deny provision of the release keeps this case out{on}",
                    "do not publish the case under this release",
                    case.id,
                )
            )
    scope = consent.scope
    if scope.is_empty:
        found.append(
            at_consent(
                case,
                consent,
                CG208,
                "scope",
                "release names no cases, images or treatment",
                f"add {consent.spelled('scope', '{cases: [' + case.id + ']}')} as written on the form",
            )
        )
        return found
    found.extend(_binding(case, consent))
    if scope.cases and case.id not in scope.cases:
        found.append(
            at_consent(
                case,
                consent,
                CG208,
                "scope",
                f"release covers cases {', '.join(scope.cases)}, not '{case.id}'",
                "use the consent that covers this case, or correct the scope from the signed form",
            )
        )
    if scope.images:
        covered = set(scope.images)
        for ref in case.image_refs():
            if ref.src not in covered and ref.path.name not in covered:
                found.append(
                    Violation(
                        CG208,
                        Where(case.file, ref.line, f"case {case.id}.photos"),
                        f"photo '{ref.src}' is not among the images the release covers",
                        "remove the photo, or obtain a release that names it",
                        case.id,
                    )
                )
    if scope.treatment:
        found.extend(_treatment_window(case, consent))
    return found


def _binding(case: Case, consent: Consent) -> list[Violation]:
    """A release belongs to one patient: a treatment scope covers only a case that carries the release's patient_ref."""
    if case.patient_ref and consent.patient_ref and case.patient_ref != consent.patient_ref:
        return [
            at_case(
                case,
                CG208,
                "patient_ref",
                f"the case's patient_ref is not the patient of consent {consent.id}: that release belongs to another patient",
                "point the case at its own patient's release, or correct the case's patient_ref",
            )
        ]
    if consent.scope.names_cases_or_photos:
        return []
    what = f"treatment '{consent.scope.treatment}'"
    named = f"or have the release name the case ({consent.spelled('scope', '{cases: [' + case.id + ']}')})"
    if not consent.patient_ref:
        return [
            at_consent(
                case,
                consent,
                CG208,
                "scope",
                f"release {consent.id} covers {what} but names no patient_ref, so it cannot be tied to this case's patient",
                f"record the patient's pseudonymous patient_ref on the release and on the case, {named}",
            )
        ]
    if not case.patient_ref:
        return [
            at_case(
                case,
                CG208,
                "patient_ref",
                f"consent {consent.id} covers {what} of one patient, not named cases, and the case carries no patient_ref "
                "tying it to that patient",
                f"add 'patient_ref:' to the case with the pseudonymous reference of consent {consent.id}'s patient, {named}",
            )
        ]
    return []


def _treatment_window(case: Case, consent: Consent) -> list[Violation]:
    scope = consent.scope
    found = []
    if case.treatment != scope.treatment:
        found.append(
            at_consent(
                case,
                consent,
                CG208,
                "scope",
                f"release covers treatment '{scope.treatment}', not '{case.treatment}'",
                "use the consent for this treatment",
            )
        )
    if scope.treated_from or scope.treated_to:
        treated = case.treated_on
        if treated is None:
            found.append(
                at_case(
                    case,
                    CG208,
                    "treated_on",
                    "release covers a date range but the case has no 'treated_on' date",
                    "add 'treated_on: YYYY-MM-DD' to the case",
                )
            )
        elif (scope.treated_from and treated < scope.treated_from) or (scope.treated_to and treated > scope.treated_to):
            found.append(
                at_consent(
                    case,
                    consent,
                    CG208,
                    "scope",
                    f"case treated on {treated} is outside the release's date range",
                    "use the release that covers that treatment date",
                )
            )
    return found


def _comeback(case: Case, consent: Consent, history: PublicationHistory) -> list[Violation]:
    """CG208: a case taken down for withdrawal or expiry comes back only under a release signed later that names it."""
    removal = history.removals.get(case.id)
    if removal is None:
        return []
    signed_later = consent.signed_on is not None and consent.signed_on > removal.ended_on
    named = case.id in consent.scope.cases
    if signed_later and named:
        return []
    reasons = []
    if not signed_later:
        reasons.append(f"consent {consent.id} was signed on {consent.signed_on or 'an unknown date'}, not after {removal.ended_on}")
    if not named:
        reasons.append(f"consent {consent.id} does not name '{case.id}' in {consent.named('scope')}")
    return [
        at_consent(
            case,
            consent,
            CG208,
            "signed_on" if not signed_later else "scope",
            f"the case was taken down by the build of {removal.build_date} ({removal.code}: {removal.reason}; the publication log); "
            f"it comes back only under a release signed after {removal.ended_on} that names it, and {' and '.join(reasons)}",
            f"obtain a new signed release that names '{case.id}' ({consent.spelled('scope', '{cases: [' + case.id + ']}')}) and "
            "point the case at it, or leave the case out",
        )
    ]


def _identifiability(case: Case, consent: Consent) -> list[Violation]:
    """CG209: what the photos and text show against what the release allows."""
    shown = dict(case.shows)
    quoted = caption_testimonial(case.caption)
    shown["testimonial"] = case.testimonial is not None or quoted is not None
    labels = {
        "face": "the face",
        "name": "the patient's name",
        "distinctive_marks": "distinctive marks (tattoos, scars, birthmarks)",
        "testimonial": "a testimonial",
    }
    found = []
    for key, label in labels.items():
        if shown.get(key) and not consent.allows.get(key, False):
            found.append(
                Violation(
                    CG209,
                    case.where(_testimonial_key(case) if key == "testimonial" else "shows"),
                    f"case shows {label} but the release does not allow it"
                    + (f" (the caption is one: {quoted})" if key == "testimonial" and case.testimonial is None else ""),
                    "crop or redact the photos (then set shows." + key + ": false)"
                    if key != "testimonial"
                    else "remove the testimonial (or the quotation from the caption), or obtain a release that allows one",
                    case.id,
                )
            )
    return found


def _testimonial_key(case: Case) -> str:
    return "testimonial" if case.testimonial is not None else "caption"


def needs_face_check(consent: Consent | None) -> bool:
    """Whether the face guard scans a case's photos: unless its release allows the face (no release allows nothing)."""
    return consent is None or not consent.allows.get("face", False)
