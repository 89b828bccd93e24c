"""The consent rules (CG201-CG211): whether a case's release is valid, in force and in scope for this channel."""

from __future__ import annotations

from ..catalogue import CG201, CG202, CG203, CG204, CG205, CG206, CG207, CG208, CG209, CG210, CG211
from ..records.manifest import Case
from ..records.register import STATEMENT_KEYS, Consent, Register
from ..violations import Severity, Violation, Where
from .context import Rules, at_case, at_consent
from .disclosures import caption_testimonial

MARKETING_PURPOSES = {"marketing", "advertising", "HMARKT"}


def consent_violations(case: Case, consent: Consent | None, register: Register, rules: Rules) -> list[Violation]:
    """CG201-CG211 for a case and the consent it names."""
    if case.consent_id is None:
        return [at_case(case, CG201, "consent", "has no consent", "add 'consent: <id>' naming the signed release in the register")]
    if consent is None:
        return [
            at_case(
                case,
                CG201,
                "consent",
                f"consent '{case.consent_id}' is not in the register {register.file}",
                "correct the id, or add the signed release to the register before publishing",
            )
        ]
    # Withdrawal and expiry take the case down whatever else is wrong with the record.
    taken_down = _withdrawn_or_expired(case, consent, rules)
    if taken_down:
        return [taken_down]
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
    found.extend(_channel(case, consent, rules.channel))
    found.extend(_scope(case, consent))
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


def _withdrawn_or_expired(case: Case, consent: Consent, rules: Rules) -> Violation | None:
    severity = Severity.ERROR if rules.fail_on_withdrawn else Severity.REMOVED
    fix = "remove the case from the manifest (on_withdrawn: fail is set)" if rules.fail_on_withdrawn else ""
    if consent.revoked_on and consent.revoked_on <= rules.build_date:
        return at_consent(case, consent, CG203, "revoked_on", f"consent withdrawn on {consent.revoked_on}", fix, severity)
    if consent.expires_on and consent.expires_on < rules.build_date:
        return at_consent(case, consent, CG204, "expires_on", f"consent expired on {consent.expires_on}", fix, severity)
    if consent.expiry_event and consent.event_occurred_on and consent.event_occurred_on <= rules.build_date:
        return at_consent(
            case,
            consent,
            CG204,
            "event_occurred_on",
            f"consent ended with '{consent.expiry_event}' on {consent.event_occurred_on}",
            fix,
            severity,
        )
    return None


def _completeness(case: Case, consent: Consent) -> list[Violation]:
    """CG206: the core elements and required statements of 45 CFR 164.508(c)."""
    missing = []
    if consent.signed_on is None:
        missing.append(("signed_on", "no signed date", "add 'signed_on: YYYY-MM-DD' from the signed form"))
    if consent.expires_on is None and consent.expiry_event is None:
        missing.append(
            ("expires_on", "no expiry date or expiry event", "add 'expires_on: YYYY-MM-DD' (or 'expiry_event:') as written on the form")
        )
    if consent.signer is None:
        missing.append(("signer", "no signer", "add 'signer: patient' or 'signer: representative'"))
    elif consent.signer == "representative" and not consent.representative_authority:
        missing.append(
            (
                "representative_authority",
                "signed by a representative without their authority",
                "add 'representative_authority:' (e.g. parent of a minor, power of attorney)",
            )
        )
    if not consent.purposes:
        missing.append(("purposes", "no purpose", "add 'purposes: [marketing]' as written on the form"))
    absent = [key for key in STATEMENT_KEYS if not consent.statements.get(key)]
    if absent:
        missing.append(
            (
                "statements",
                f"required statements missing: {', '.join(absent)}",
                "use a release form that states the right to revoke, whether treatment is conditioned on signing, and that disclosed photos may be redisclosed; then mark them true",
            )
        )
    if consent.third_party_remuneration and not consent.statements.get("remuneration"):
        missing.append(
            (
                "third_party_remuneration",
                "a third party pays for this marketing but the release does not say so",
                "use a release that states the remuneration (45 CFR 164.508(a)(3)(ii)) and set statements.remuneration: true",
            )
        )
    return [at_consent(case, consent, CG206, key, f"release incomplete: {what}", fix) for key, what, fix in missing]


def _channel(case: Case, consent: Consent, channel: str) -> list[Violation]:
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
    return []


def _scope(case: Case, consent: Consent) -> list[Violation]:
    """CG208: purpose, and the cases, images or treatment window the release names."""
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
    scope = consent.scope
    if scope.is_empty:
        found.append(
            at_consent(
                case,
                consent,
                CG208,
                "scope",
                "release names no cases, images or treatment",
                "add 'scope: {cases: [" + case.id + "]}' as written on the form",
            )
        )
        return found
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
