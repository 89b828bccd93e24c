"""HL7 FHIR R4 `Consent` resources as a consent register: a Bundle (`.json`) or NDJSON (`.ndjson`).

Each Consent becomes the same nested record a YAML register holds, so the register's own field checks and the
consent rules (CG2xx) judge it as they judge YAML, with FHIR's own meaning where FHIR says more (its status, a
refusal, when it starts, whom it discloses to). Every record and every field carries the line and the element
path (`Consent.provision.provision[1].type`) it came from, so errors point at the element the clinic exported.

Files
    `.json`: a Bundle whose entries' `resource` is a Consent (any Bundle `type`); a single bare Consent is
    accepted too. `.ndjson`: one Consent per line, blank lines ignored. Anything else that is not a Consent is
    CG103; invalid JSON is CG109 with its line; a duplicate JSON key is CG104 and the file is not loaded.
    Elements of Bundle, entry, Consent and provision that are not standard R4 elements are CG101; standard
    elements the gallery does not evaluate (`text`, `category`, `scope`, `policyRule`, `verification`,
    `organization`, ...) are ignored.

Refused Consents (left out of the register, CG103, and named to every case that uses them)
    A `modifierExtension` anywhere in the Consent (or on its Bundle entry): it changes the meaning of what it
    sits on in a way the gallery cannot know. A revocation date that cannot be read: `revokedOn` or
    `revocationReceivedOn` without a readable value (`null`, text, a partial date), placed anywhere but on the
    Consent itself, a URL that is ours but for scheme, letter case or a trailing slash, or any element or
    extension that looks like a revocation (`revoked`, `revocation`, `withdraw` in its name or URL) and is not
    ours. An unreadable revocation is never read as "not revoked". A Consent without `status`, or with a status
    R4 does not define.

Mapping (Consent -> register record)
    `identifier[0].value` -> id. `patient.identifier.value`, else `patient.reference` -> patient_ref.
    `dateTime` -> signed_on (the date part). `performer`: the Consent's own patient (same reference or
    identifier) -> signer patient; a RelatedPerson, or a Patient who is not the Consent's patient -> signer
    representative; other performers are ignored. `sourceAttachment.title` -> form.version;
    `sourceAttachment.url` or `sourceReference.reference` -> form.reference.

    `status`: only `active` is in force. `inactive` is a withdrawal: revoked_on is the `revokedOn` extension,
    else the date of `meta.lastUpdated`; without either the date is unknown and a case under it fails closed
    (CG203 as an error). `draft`, `proposed`, `rejected` and `entered-in-error` are not in force whatever dates
    they carry (CG213 for a case under one).

    `provision` (the root provision): `period.start` -> the release is not in force before it (CG213);
    `period.end` -> expires_on. `purpose` (Coding) and `action` (CodeableConcept) -> purposes: `marketing` when a
    purpose is `HMARKT` of http://terminology.hl7.org/CodeSystem/v3-ActReason and an action is `disclose` of
    http://terminology.hl7.org/CodeSystem/consentaction; any other purpose is kept as its code (so a case gets
    CG208 "not marketing"); purposes without a `disclose` action read "CODE (actions: ...)"; the STU3 URLs of
    those code systems are CG103, naming the R4 URL. `securityLabel`, `class`, `code` and `dataPeriod` would
    narrow the release in ways the gallery cannot check: CG103. `type` deny makes the Consent a refusal: it
    permits only what its nested `permit` provisions name, and it overrides an earlier permit of the same
    patient (see rules/consent.py). `actor`: a provision that names recipients (any role but the custodian,
    author, informant, data enterer, authenticator or verifier) discloses to those recipients only; a channel
    is a recipient when an actor's `reference.identifier` is of the channel system CHANNEL_SYSTEM (value:
    website, social, ...). So a release limited to a journal or a practitioner does not cover the website.

    Nested provisions (one level) decide channels: each has `type` permit or deny and `code` from CHANNEL_SYSTEM
    (website, social, paid_ads, email, print, in_office, directories) -> channels.permit / channels.deny. A
    channel is permitted only when a nested `permit` names it; a deny wins over a permit. A nested `deny` may
    name `data` (cases or photos, as below): those are kept out, on its channels or, without `code`, on all.
    A nested provision may hold `id`, `extension`, `type`, `code`, `actor` and (deny only) `data`; anything
    else, or a code of another system, is CG103.

    Scope, from `provision.data[].reference`: an `identifier` of CASE_SYSTEM names a case slug of the manifest
    (-> scope.cases); an `identifier` of IMAGE_SYSTEM, or a literal reference `Media/<name>`, names a photo by
    its file name or manifest `src` (-> scope.images). Any other reference is CG103, and it is still added to
    scope.images so that no photo is covered by it.

Extensions on the Consent (url = EXTENSION_BASE + name; an unknown name under that base is CG101, and so is a
URL that differs from one of ours only in scheme, letter case or a trailing slash, with "did you mean";
extensions with other urls are ignored unless they look like a revocation)
    `revokedOn` and `revocationReceivedOn` valueDate (or valueDateTime) -> revoked_on and
    revocation_received_on, whatever the status (the earlier takes effect, on its day). `allows`, with
    sub-extensions `face`, `name`, `distinctiveMarks`, `testimonial` (valueBoolean) -> allows. `statements`,
    with sub-extensions `revocation`, `conditioning`, `redisclosure`, `remuneration` (valueBoolean) ->
    statements. `materialConnection` valueString (the disclosure text, or "none") -> material_connection.
    `thirdPartyRemuneration`, `irrevocable` and `explicitConsent` valueBoolean; `representativeAuthority`,
    `supersededBy`, `expiryEvent` valueString; `eventOccurredOn` and `procedureOn` valueDate;
    `subjectAgeAtCapture` valueInteger -> the register fields of the same meaning (snake_case of the name).
    `nameSalt` valueString -> name_salt, and `nameHashes` valueString (the hashes separated by spaces, commas or
    semicolons) -> name_hashes.

What a Consent lacks stays missing in the record, so the consent rules report it per case, naming the element
to add (CG206 for the signed date, expiry, signer, statements, material connection, remuneration and
irrevocability; CG208 for purpose or scope; CG202 for channels). A hospital's own export holds none of the
gallery's extensions: see the README for what an integration step must add.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalogue import CG101, CG102, CG103, CG104, CG109
from ..settings import CHANNELS
from ..violations import Rule, Violation, Where
from .fields import Fields
from .yamlfile import LocatedList, LocatedMap, read_text

BASE = "https://mkdocs-compliant-gallery.dev/fhir"
CHANNEL_SYSTEM = f"{BASE}/CodeSystem/channel"
CASE_SYSTEM = f"{BASE}/NamingSystem/case"
IMAGE_SYSTEM = f"{BASE}/NamingSystem/image"
EXTENSION_BASE = f"{BASE}/StructureDefinition/"
ACT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
CONSENT_ACTION_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentaction"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
# The same code systems as FHIR STU3 (and DSTU2) named them; an R4 export must use the R4 URLs above.
OLD_SYSTEMS = {
    "http://hl7.org/fhir/v3/ActReason": ACT_REASON_SYSTEM,
    "http://hl7.org/fhir/consentaction": CONSENT_ACTION_SYSTEM,
    "http://hl7.org/fhir/v3/ParticipationType": PARTICIPATION_SYSTEM,
}
# Actor roles that say who holds, wrote or checked the record, not who receives it: no limit on recipients.
SOURCE_ROLES = {"CST", "AUT", "INF", "ENT", "LA", "AUTHEN", "VRF"}

IN_FORCE = "active"
WITHDRAWN = "inactive"
NOT_IN_FORCE = ("draft", "proposed", "rejected", "entered-in-error")
STATUSES = (IN_FORCE, WITHDRAWN, *NOT_IN_FORCE)

# Standard R4 elements; primitive ones may also appear as "_name" (their id and extensions).
_RESOURCE = {"resourceType", "id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension"}
_RESOURCE_PRIMITIVES = {"id", "implicitRules", "language"}
BUNDLE_ELEMENTS = _RESOURCE - {"text", "contained", "extension", "modifierExtension"} | {
    "identifier",
    "type",
    "timestamp",
    "total",
    "link",
    "entry",
    "signature",
}
_BUNDLE_PRIMITIVES = _RESOURCE_PRIMITIVES | {"type", "timestamp", "total"}
ENTRY_ELEMENTS = {"id", "extension", "modifierExtension", "link", "fullUrl", "resource", "search", "request", "response"}
_ENTRY_PRIMITIVES = {"id", "fullUrl"}
CONSENT_ELEMENTS = _RESOURCE | {
    "identifier",
    "status",
    "scope",
    "category",
    "patient",
    "dateTime",
    "performer",
    "organization",
    "sourceAttachment",
    "sourceReference",
    "policy",
    "policyRule",
    "verification",
    "provision",
}
_CONSENT_PRIMITIVES = _RESOURCE_PRIMITIVES | {"status", "dateTime"}
PROVISION_ELEMENTS = {
    "id",
    "extension",
    "modifierExtension",
    "type",
    "period",
    "actor",
    "action",
    "securityLabel",
    "purpose",
    "class",
    "code",
    "dataPeriod",
    "data",
    "provision",
}
_PROVISION_PRIMITIVES = {"id", "type"}
# Root provision elements that would narrow the release in ways the gallery cannot check.
_NARROWING = ("securityLabel", "class", "code", "dataPeriod")
# What a nested (channel) provision may hold.
_CHANNEL_PROVISION = {"id", "extension", "type", "code", "actor", "data", "_id", "_type"}

_FLAG_EXTENSIONS = {
    "irrevocable": "irrevocable",
    "thirdPartyRemuneration": "third_party_remuneration",
    "explicitConsent": "explicit_consent",
}
_TEXT_EXTENSIONS = {
    "materialConnection": "material_connection",
    "representativeAuthority": "representative_authority",
    "supersededBy": "superseded_by",
    "expiryEvent": "expiry_event",
    "nameSalt": "name_salt",
}
# A list in one valueString, items separated by spaces, commas or semicolons.
_LIST_EXTENSIONS = {"nameHashes": "name_hashes"}
_REVOCATION_EXTENSIONS = {"revokedOn": "revoked_on", "revocationReceivedOn": "revocation_received_on"}
_DATE_EXTENSIONS = {**_REVOCATION_EXTENSIONS, "eventOccurredOn": "event_occurred_on", "procedureOn": "procedure_on"}
_INTEGER_EXTENSIONS = {"subjectAgeAtCapture": "subject_age_at_capture"}
_GROUP_EXTENSIONS = {
    "allows": {"face": "face", "name": "name", "distinctiveMarks": "distinctive_marks", "testimonial": "testimonial"},
    "statements": {
        "revocation": "revocation",
        "conditioning": "conditioning",
        "redisclosure": "redisclosure",
        "remuneration": "remuneration",
    },
}
EXTENSIONS = (*_FLAG_EXTENSIONS, *_TEXT_EXTENSIONS, *_LIST_EXTENSIONS, *_DATE_EXTENSIONS, *_INTEGER_EXTENSIONS, *_GROUP_EXTENSIONS)
# Names (of elements, or the last part of an extension URL) that say "revoked": never silently ignored.
_LOOKS_REVOKED = re.compile(r"revok|revocation|withdr[ae]w", re.IGNORECASE)

# Where each register field lives in a Consent, for messages about a field the Consent lacks.
FHIR_ELEMENTS: dict[str, str] = {
    "id": "Consent.identifier[0].value",
    "patient_ref": "Consent.patient",
    "signed_on": "Consent.dateTime",
    "signer": "Consent.performer",
    "expires_on": "Consent.provision.period.end",
    "channels": "Consent.provision.provision",
    "purposes": "Consent.provision.purpose",
    "scope": "Consent.provision.data",
    "form": "Consent.sourceAttachment",
    "status": "Consent.status",
    "in_force_from": "Consent.provision.period.start",
    "refuses": "Consent.provision.type",
    **{register: f"Consent.extension:{name}" for name, register in _FLAG_EXTENSIONS.items()},
    **{register: f"Consent.extension:{name}" for name, register in _TEXT_EXTENSIONS.items()},
    **{register: f"Consent.extension:{name}" for name, register in _LIST_EXTENSIONS.items()},
    **{register: f"Consent.extension:{name}" for name, register in _DATE_EXTENSIONS.items()},
    **{register: f"Consent.extension:{name}" for name, register in _INTEGER_EXTENSIONS.items()},
    **{name: f"Consent.extension:{name}" for name in _GROUP_EXTENSIONS},
}
_VALUE_TYPES = {
    **dict.fromkeys(_FLAG_EXTENSIONS.values(), "valueBoolean"),
    **dict.fromkeys(_TEXT_EXTENSIONS.values(), "valueString"),
    **dict.fromkeys(_LIST_EXTENSIONS.values(), "valueString"),
    **dict.fromkeys(_DATE_EXTENSIONS.values(), "valueDate"),
    **dict.fromkeys(_INTEGER_EXTENSIONS.values(), "valueInteger"),
}
_REGISTER_TO_EXTENSION = {
    register: name
    for table in (_FLAG_EXTENSIONS, _TEXT_EXTENSIONS, _LIST_EXTENSIONS, _DATE_EXTENSIONS, _INTEGER_EXTENSIONS)
    for name, register in table.items()
}

_EXPORT_FIX = "export the consents as a FHIR R4 Bundle of Consent resources (.json) or one Consent per line (.ndjson)"
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\]:\n]')
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$")
_LITERAL_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9.-]{1,64})(?:/_history/[A-Za-z0-9.-]{1,64})?$")


def fhir_path(key: str, paths: dict[str, str]) -> str:
    """The element path of register field `key` (`statements.revocation` included): where it was read, or where it belongs."""
    if key in paths:
        return paths[key]
    group, _, part = key.partition(".")
    if part and group in _GROUP_EXTENSIONS:
        name = next((n for n, r in _GROUP_EXTENSIONS[group].items() if r == part), part)
        return f"{paths.get(group) or FHIR_ELEMENTS[group]}.extension:{name}"
    return FHIR_ELEMENTS.get(key, "Consent")


def fhir_spelling(key: str, value: str) -> str:
    """How a FHIR Consent writes register field `key` with `value`, for the fix of a message."""
    if key in _REGISTER_TO_EXTENSION:
        return f"the extension {EXTENSION_BASE}{_REGISTER_TO_EXTENSION[key]} with {_VALUE_TYPES[key]} {value}"
    group, _, part = key.partition(".")
    if group in _GROUP_EXTENSIONS:
        name = next((n for n, r in _GROUP_EXTENSIONS[group].items() if r == part), part)
        return f"a sub-extension '{name}' (valueBoolean {value}) in the extension {EXTENSION_BASE}{group}"
    special = {
        "signer": "Consent.performer referencing the Consent's patient (or the RelatedPerson who signed for them)",
        "purposes": f"Consent.provision.purpose with code HMARKT of {ACT_REASON_SYSTEM} and an action 'disclose' of {CONSENT_ACTION_SYSTEM}",
        "scope": f"Consent.provision.data entries whose reference.identifier has system {CASE_SYSTEM} and the case id as value",
        "channels": f"nested provisions of type permit with codes of {CHANNEL_SYSTEM}",
    }
    return special.get(key, f"{FHIR_ELEMENTS.get(key, 'Consent')} ({value})")


@dataclass(frozen=True)
class Exclusion:
    """A deny provision of a release that names cases or photos: they are kept out, on some channels or on all."""

    cases: tuple[str, ...]
    images: tuple[str, ...]
    channels: tuple[str, ...]  # empty: every channel
    path: str  # the element that says so, e.g. Consent.provision.provision[2]
    line: int

    def covers(self, case_id: str, photos: set[str]) -> bool:
        """Whether the provision names this case, one of its photos (file names and `src` paths), or names nothing."""
        if not (self.cases or self.images):
            return True
        return case_id in self.cases or bool(photos & set(self.images))


@dataclass(frozen=True)
class RecipientLimit:
    """A provision that discloses only to the recipients it names (FHIR `provision.actor`).

    `allowed` are the channels named as recipients; `others` describe every other recipient. The limit applies to
    `channels` (those of the provision it sits on; empty: every channel).
    """

    channels: tuple[str, ...]
    allowed: tuple[str, ...]
    others: tuple[str, ...]
    path: str
    line: int


@dataclass(frozen=True)
class FhirExtras:
    """What a Consent says that a YAML record cannot: its status, a refusal, its start, its exclusions and recipients."""

    status: str | None = None
    refuses: bool = False
    in_force_from: dt.date | None = None
    exclusions: tuple[Exclusion, ...] = ()
    recipient_limits: tuple[RecipientLimit, ...] = ()


class FhirRecord(LocatedMap):
    """A register record read from one Consent: besides lines, the element path of each field, and FhirExtras."""

    key_paths: dict[str, str]
    extras: FhirExtras
    label: str  # "consent <id>", or where the Consent is when it has no id ("Bundle.entry[3].resource", "line 4")

    def in_fhir_words(self, found: list[Violation]) -> list[Violation]:
        """Violations of the register's field checks, re-pointed from register field names to element paths."""
        translated = []
        for violation in found:
            where = violation.where
            prefix, _, rest = where.field.partition(".")
            if prefix.startswith("consent") and rest:
                key, _, sub = rest.partition(".")
                path = self.key_paths.get(key) or FHIR_ELEMENTS.get(key, "Consent")
                label = self.label if prefix == "consents" else prefix
                where = Where(where.file, where.line, f"{label}: {path}" + (f".{sub}" if sub else ""))
            translated.append(Violation(violation.rule, where, violation.message, violation.fix, violation.case, violation.severity))
        return translated


def fhir_records(path: Path, shown: str, sink: list[Violation], refused: dict[str, Violation] | None = None) -> list[FhirRecord] | None:
    """Register records from a FHIR R4 Bundle (`.json`) or NDJSON (`.ndjson`) of Consent resources.

    Returns None when the file cannot be read as a whole (the register then counts as not loaded); every problem
    is appended to `sink` with the file, line and element path concerned. A Consent left out for a reason a case
    must hear (a modifierExtension, an unreadable revocation) is added to `refused` under its id.
    """
    text, problems = read_text(path, shown)
    sink.extend(problems)
    if text is None:
        return None
    read = _ndjson_resources if path.suffix.lower() == ".ndjson" else _bundle_resources
    resources = read(text, shown, sink)
    if resources is None:
        return None
    records = []
    for resource, location, refusal in resources:
        reader = _ConsentReader(resource, shown, sink, location)
        if refusal is not None:
            reader.refuse(refusal)
        record = reader.record()
        if record is not None:
            records.append(record)
        elif reader.consent_id and reader.refusal is not None and refused is not None:
            refused.setdefault(reader.consent_id, reader.refusal)
    return records


# -- reading JSON with lines ----------------------------------------------------------------------------


def _parse(text: str, shown: str, sink: list[Violation], first_line: int = 1) -> tuple[bool, Any]:
    """(parsed, value): JSON whose objects are LocatedMaps with the line of themselves and their keys."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        sink.append(
            Violation(
                CG109,
                Where(shown, first_line + error.lineno - 1),
                f"is not valid JSON: {error.msg} (column {error.colno})",
                "fix the JSON at that line (a missing comma or quote, a trailing comma), or export the file again",
            )
        )
        return False, None
    except (ValueError, RecursionError) as error:
        sink.append(Violation(CG109, Where(shown, first_line), f"is not valid JSON: {error}", "export the file again"))
        return False, None
    objects = list(_objects(text, first_line))
    duplicates = False
    for _line, keys in objects:
        seen: dict[str, int] = {}
        for key, line in keys:
            if key in seen:
                duplicates = True
                sink.append(
                    Violation(
                        CG104,
                        Where(shown, line, key),
                        f"duplicate key '{key}' (first on line {seen[key]})",
                        "keep one of the two; JSON readers disagree on which one counts",
                    )
                )
            seen.setdefault(key, line)
    if duplicates:
        return False, None
    located = list(_preorder(data))
    if len(located) != len(objects):  # cannot happen for valid JSON without duplicates; stay usable anyway
        objects = [(first_line, [])] * len(located)
    for mapping, (line, keys) in zip(located, objects, strict=True):
        mapping.line = line
        mapping.key_lines = dict(keys)
    return True, data


def _pairs(pairs: list[tuple[str, Any]]) -> LocatedMap:
    result = LocatedMap(pairs)
    result.line = 0
    result.key_lines = {}
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"'{name}' is not a JSON number")


def _objects(text: str, first_line: int) -> Iterator[tuple[int, list[tuple[str, int]]]]:
    """Every JSON object of (valid) `text` in document order: its line, and its keys with their lines."""
    line = first_line
    stack: list[list[tuple[str, int]] | None] = []
    last_string: tuple[str, int] | None = None
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
        elif token == "{":
            keys: list[tuple[str, int]] = []
            stack.append(keys)
            yield line, keys
        elif token == "[":
            stack.append(None)
        elif token in "}]":
            stack.pop()
        elif token == ":":
            top = stack[-1] if stack else None
            if top is not None and last_string is not None:
                top.append(last_string)
            last_string = None
        else:
            last_string = (json.loads(token), line)


def _preorder(data: Any) -> Iterator[LocatedMap]:
    """Objects of a parsed JSON value, parents before children, children in document order."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, LocatedMap):
            yield value
            pending.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            pending.extend(reversed(value))


# -- files: Bundle and NDJSON ----------------------------------------------------------------------------


def _bundle_resources(text: str, shown: str, sink: list[Violation]) -> list[tuple[LocatedMap, str, Violation | None]] | None:
    parsed, data = _parse(text, shown, sink)
    if not parsed:
        return None
    if not isinstance(data, LocatedMap):
        sink.append(Violation(CG103, Where(shown, 1), "must hold one FHIR Bundle (a JSON object)", _EXPORT_FIX))
        return None
    kind = data.get("resourceType")
    if kind == "Consent":
        return [(data, "", None)]
    if kind != "Bundle":
        sink.append(
            Violation(
                CG103,
                Where(shown, data.line, "resourceType"),
                f"resourceType is {_shown(kind)}, not Bundle",
                _EXPORT_FIX,
            )
        )
        return None
    _reject_unknown(data, BUNDLE_ELEMENTS, _BUNDLE_PRIMITIVES, shown, "Bundle", sink)
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        sink.append(Violation(CG103, Where(shown, data.key_lines.get("entry", data.line), "Bundle.entry"), "entry must be a list", ""))
        return None
    resources = []
    for index, entry in enumerate(entries):
        path = f"Bundle.entry[{index}]"
        if not isinstance(entry, LocatedMap):
            sink.append(Violation(CG103, Where(shown, data.key_lines.get("entry", data.line), path), "each entry must be an object", ""))
            continue
        _reject_unknown(entry, ENTRY_ELEMENTS, _ENTRY_PRIMITIVES, shown, path, sink)
        refusal = None
        if "modifierExtension" in entry:
            refusal = _modifier(shown, entry.key_lines["modifierExtension"], path)
            sink.append(refusal)
        resource = _consent_resource(entry.get("resource"), shown, entry.key_lines.get("resource", entry.line), f"{path}.resource", sink)
        if resource is not None:
            resources.append((resource, f"{path}.resource", refusal))
    return resources


def _ndjson_resources(text: str, shown: str, sink: list[Violation]) -> list[tuple[LocatedMap, str, Violation | None]] | None:
    resources: list[tuple[LocatedMap, str, Violation | None]] = []
    readable = True
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        parsed, data = _parse(line, shown, sink, first_line=number)
        if not parsed:
            readable = False
            continue
        resource = _consent_resource(data, shown, number, f"line {number}", sink)
        if resource is not None:
            resources.append((resource, f"line {number}", None))
    return resources if readable else None


def _consent_resource(value: object, shown: str, line: int, path: str, sink: list[Violation]) -> LocatedMap | None:
    if value is None:
        sink.append(Violation(CG102, Where(shown, line, path), "entry has no resource", "export the Consent resources themselves"))
        return None
    if not isinstance(value, LocatedMap) or value.get("resourceType") != "Consent":
        kind = value.get("resourceType") if isinstance(value, LocatedMap) else None
        sink.append(
            Violation(
                CG103,
                Where(shown, getattr(value, "line", 0) or line, path),
                f"is a {kind} resource, not a Consent" if isinstance(kind, str) else "is not a FHIR resource (no resourceType)",
                "the consent register holds Consent resources only; export the other resources elsewhere",
            )
        )
        return None
    return value


def _reject_unknown(data: LocatedMap, elements: set[str], primitives: set[str], shown: str, path: str, sink: list[Violation]) -> None:
    allowed = elements | {f"_{name}" for name in primitives}
    Fields(data, shown, path, sink).reject_unknown(allowed)


def _modifier(shown: str, line: int, path: str) -> Violation:
    return Violation(
        CG103,
        Where(shown, line, f"{path}.modifierExtension"),
        "carries a modifierExtension, which changes the meaning of its Consent in a way the gallery does not understand; the Consent is left out",
        "export the consent without modifier extensions, or record the release without them",
    )


def _shown(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else "missing" if value is None else "not text"


# -- one Consent ---------------------------------------------------------------------------------------


def normalised_url(url: str) -> str:
    """A URL without scheme, letter case and trailing slashes: what two spellings of one extension share."""
    text = url.strip().casefold()
    for scheme in ("https://", "http://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
            break
    return text.rstrip("/")


_OURS = {normalised_url(EXTENSION_BASE + name): name for name in EXTENSIONS}
_OUR_BASE = normalised_url(EXTENSION_BASE)
_EXTENSION_ITEM = re.compile(r"\.extension\[\d+\]$")
_ROOT_EXTENSION = re.compile(r"Consent\.extension\[\d+\]")


def _nodes(value: Any, path: str, line: int) -> Iterator[tuple[str, Any, int, Any]]:
    """Every value under `value` with its element path, line and parent, parents first (iterative: no depth limit)."""
    pending: list[tuple[str, Any, int, Any]] = [(path, value, line, None)]
    while pending:
        here, item, at, parent = pending.pop()
        yield here, item, at, parent
        if isinstance(item, LocatedMap):
            children = [(f"{here}.{key}", child, item.key_lines.get(key, item.line or at), item) for key, child in item.items()]
            pending.extend(reversed(children))
        elif isinstance(item, list):
            numbered = [(f"{here}[{index}]", child, getattr(child, "line", 0) or at, parent) for index, child in enumerate(item)]
            pending.extend(reversed(numbered))


class _ConsentReader:
    """Maps one Consent resource onto a register record, reporting what cannot be mapped."""

    def __init__(self, resource: LocatedMap, shown: str, sink: list[Violation], location: str = "Consent") -> None:
        self.resource = resource
        self.shown = shown
        self.sink = sink
        self.out = FhirRecord()
        self.out.line = resource.line
        self.out.key_lines = {}
        self.out.key_paths = {}
        self.label = location  # "" for a file that is one bare Consent
        self.consent_id: str | None = None
        self.refusal: Violation | None = None  # why the Consent is left out, for the cases that name it
        self.status: str | None = None
        self.refuses = False
        self.in_force_from: dt.date | None = None
        self.exclusions: list[Exclusion] = []
        self.limits: list[RecipientLimit] = []

    # reporting

    def where(self, line: int, path: str) -> Where:
        return Where(self.shown, line or self.resource.line, f"{self.label}: {path}" if self.label else path)

    def problem(self, code: Rule, line: int, path: str, message: str, fix: str) -> Violation:
        violation = Violation(code, self.where(line, path), message, fix)
        self.sink.append(violation)
        return violation

    def refuse(self, violation: Violation) -> None:
        """Leave the Consent out of the register; the first reason is what its cases are told."""
        if self.refusal is None:
            self.refusal = violation

    def put(self, key: str, value: Any, line: int, path: str) -> None:
        self.out[key] = value
        self.out.key_lines[key] = line or self.resource.line
        self.out.key_paths[key] = path

    # reading typed values

    def mapping(self, parent: LocatedMap, key: str, path: str) -> LocatedMap | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, LocatedMap):
            self.problem(CG103, parent.key_lines.get(key, parent.line), path, f"'{key}' must be a JSON object", "")
            return None
        return value

    def objects(self, parent: LocatedMap, key: str, path: str) -> list[tuple[str, LocatedMap]]:
        """The objects of a list element, each with its indexed path (`path[2]`); a problem when it is not a list of objects."""
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, LocatedMap) for item in value):
            self.problem(CG103, parent.key_lines.get(key, parent.line), path, f"'{key}' must be a list of JSON objects", "")
            return []
        return [(f"{path}[{index}]", item) for index, item in enumerate(value)]

    def string(self, parent: LocatedMap, key: str, path: str) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(CG103, parent.key_lines.get(key, parent.line), path, f"'{key}' must be non-empty text", "")
            return None
        return value.strip()

    def date(self, parent: LocatedMap, key: str, path: str) -> dt.date | None:
        value = parent.get(key)
        if value is None:
            return None
        parsed = _full_date(value)
        if parsed is None:
            self.problem(
                CG103,
                parent.key_lines.get(key, parent.line),
                path,
                f"{_describe(value)} is not a full date",
                "write the date as YYYY-MM-DD (a dateTime such as 2026-03-02T10:00:00Z works too)",
            )
        return parsed

    # the mapping

    def record(self) -> FhirRecord | None:
        resource = self.resource
        identifiers = self.objects(resource, "identifier", "Consent.identifier")
        consent_id = self.string(identifiers[0][1], "value", "Consent.identifier[0].value") if identifiers else None
        if consent_id is not None:
            self.consent_id = consent_id
            self.label = f"consent {consent_id}"
            self.put("id", consent_id, identifiers[0][1].line, "Consent.identifier[0].value")
        else:
            self.problem(
                CG102,
                resource.key_lines.get("identifier", resource.line),
                "Consent.identifier[0].value",
                "the Consent has no identifier, so no case can name it",
                "export the Consent with identifier[0].value set to the release's id from the signed form",
            )
        _reject_unknown(resource, CONSENT_ELEMENTS, _CONSENT_PRIMITIVES, self.shown, self.where(0, "Consent").field, self.sink)
        self._refuse_modifiers()
        self._refuse_hidden_revocations()
        self._patient()
        self._extensions()
        self._status_and_signature()
        self._signer()
        self._form()
        provision = self.mapping(resource, "provision", "Consent.provision")
        if provision is not None:
            self._provision(provision)
        if self.refusal is not None:
            return None
        self.out.extras = FhirExtras(self.status, self.refuses, self.in_force_from, tuple(self.exclusions), tuple(self.limits))
        self.out.label = self.label
        return self.out

    def _refuse_modifiers(self) -> None:
        """A modifierExtension anywhere changes the meaning of what it sits on: the Consent is not read."""
        for path, value, line, _ in _nodes(self.resource, "Consent", self.resource.line):
            if path.endswith(".modifierExtension") and value is not None:
                self.refuse(
                    self.problem(
                        CG103,
                        line,
                        path,
                        "carries a modifierExtension, which changes the meaning of the element it sits on in a way the gallery "
                        "does not understand; the Consent is left out",
                        "export the consent without modifier extensions, or record the release without them",
                    )
                )

    def _refuse_hidden_revocations(self) -> None:
        """A revocation the reader would not read (misplaced, misspelt, someone else's) is refused, never taken as 'not revoked'.

        Also reports every extension URL that is the gallery's but for scheme, letter case or a trailing slash, and
        every gallery extension placed anywhere but on the Consent itself.
        """
        for path, value, line, parent in _nodes(self.resource, "Consent", self.resource.line):
            if isinstance(value, LocatedMap) and _EXTENSION_ITEM.search(path):
                self._check_extension(path, value, parent)
                continue
            name = path.rsplit(".", 1)[-1].split("[", 1)[0]
            if not path.endswith("]") and _LOOKS_REVOKED.search(name):
                self.refuse(
                    self.problem(
                        CG103,
                        line,
                        path,
                        f"'{name}' looks like a revocation date, but a Consent records one only in the extension "
                        f"{EXTENSION_BASE}revokedOn; a revocation the gallery cannot read is never taken as 'not revoked', "
                        "so the Consent is left out",
                        f"move the date into the extension {EXTENSION_BASE}revokedOn (valueDate) on the Consent itself",
                    )
                )

    def _check_extension(self, path: str, extension: LocatedMap, parent: Any) -> None:
        url = extension.get("url")
        if not isinstance(url, str):
            return
        normal = normalised_url(url)
        ours = _OURS.get(normal)
        revocation = ours in _REVOCATION_EXTENSIONS
        if ours is not None and url != EXTENSION_BASE + ours:
            found = self.problem(
                CG101,
                extension.line,
                path,
                f"extension URL '{url}' differs from the gallery's only in scheme, letter case or a trailing slash, so it is not read"
                + ("; a revocation that cannot be read is never taken as 'not revoked', so the Consent is left out" if revocation else ""),
                f"did you mean '{EXTENSION_BASE}{ours}'?",
            )
        elif ours is not None and not _ROOT_EXTENSION.fullmatch(path):
            found = self.problem(
                CG103,
                extension.line,
                path,
                f"the extension {ours} belongs on the Consent itself (Consent.extension); here it is not read"
                + ("; a revocation that cannot be read is never taken as 'not revoked', so the Consent is left out" if revocation else ""),
                "move it to Consent.extension, the list of the Consent's own extensions",
            )
        elif ours is not None:
            return  # read by _extensions
        elif normal.startswith(_OUR_BASE):
            name = normal[len(_OUR_BASE) :].lstrip("/")
            close = difflib.get_close_matches(name, [n.casefold() for n in EXTENSIONS], n=1, cutoff=0.6)
            suggestion = next((n for n in EXTENSIONS if close and n.casefold() == close[0]), None)
            revocation = bool(_LOOKS_REVOKED.search(name))
            found = self.problem(
                CG101,
                extension.line,
                path,
                f"unknown extension '{url}'"
                + ("; it looks like a revocation, which is never taken as 'not revoked', so the Consent is left out" if revocation else ""),
                f"did you mean '{EXTENSION_BASE}{suggestion}'?" if suggestion else f"known extensions: {', '.join(EXTENSIONS)}",
            )
        elif "/" not in url and ":" not in url:
            # A part of a complex extension: ours are read by _group; a revocation date hidden in one is refused.
            owner = parent.get("url") if isinstance(parent, LocatedMap) and isinstance(parent.get("url"), str) else None
            misplaced = url.casefold() in {name.casefold() for name in _REVOCATION_EXTENSIONS}
            if not misplaced and (owner in {EXTENSION_BASE + group for group in _GROUP_EXTENSIONS} or not _LOOKS_REVOKED.search(url)):
                return
            revocation = True
            found = self.problem(
                CG103,
                extension.line,
                path,
                f"'{url}' looks like a revocation date inside another extension, where it is not read; a revocation that "
                "cannot be read is never taken as 'not revoked', so the Consent is left out",
                f"record it in the extension {EXTENSION_BASE}revokedOn (valueDate) on the Consent itself",
            )
        elif _LOOKS_REVOKED.search(url.rstrip("/").rsplit("/", 1)[-1]):
            revocation = True
            found = self.problem(
                CG103,
                extension.line,
                path,
                f"the extension '{url}' looks like a revocation, but the gallery reads revocations only from "
                f"{EXTENSION_BASE}revokedOn; a revocation it cannot read is never taken as 'not revoked', so the Consent is left out",
                f"map it to the extension {EXTENSION_BASE}revokedOn (valueDate) on the Consent itself",
            )
        else:
            return  # someone else's extension: not a modifier, so it may be ignored
        if revocation:
            self.refuse(found)

    def _patient(self) -> None:
        patient = self.mapping(self.resource, "patient", "Consent.patient")
        if patient is None:
            return
        identifier = self.mapping(patient, "identifier", "Consent.patient.identifier")
        value = self.string(identifier, "value", "Consent.patient.identifier.value") if identifier else None
        path = "Consent.patient.identifier.value"
        if not value:
            value, path = self.string(patient, "reference", "Consent.patient.reference"), "Consent.patient.reference"
        if value:
            self.put("patient_ref", value, self.resource.key_lines["patient"], path)

    def _status_and_signature(self) -> None:
        resource = self.resource
        line = resource.key_lines.get("status", resource.line)
        status = resource.get("status")
        if status is None:
            self.refuse(
                self.problem(
                    CG102, line, "Consent.status", "'status' is required", "export the Consent with its status (active, inactive, ...)"
                )
            )
            return
        if status not in STATUSES:
            self.refuse(
                self.problem(
                    CG103,
                    line,
                    "Consent.status",
                    f"status {_shown(status)} is not one of {', '.join(STATUSES)}; only 'active' is in force",
                    "export a valid R4 status",
                )
            )
            return
        self.status = str(status)
        self.out.key_lines["status"] = line
        self.out.key_paths["status"] = "Consent.status"
        signed = self.date(resource, "dateTime", "Consent.dateTime")
        if signed is not None and status not in ("draft", "proposed"):
            self.put("signed_on", signed, resource.key_lines["dateTime"], "Consent.dateTime")
        if status != WITHDRAWN or "revoked_on" in self.out or "revocation_received_on" in self.out:
            return
        meta = self.mapping(resource, "meta", "Consent.meta")
        updated = self.date(meta, "lastUpdated", "Consent.meta.lastUpdated") if meta else None
        if meta is not None and updated is not None:
            self.put("revoked_on", updated, meta.key_lines["lastUpdated"], "Consent.meta.lastUpdated")
        # Without a date the record stays in: its cases fail closed (CG203 as an error, naming what to add).

    def _signer(self) -> None:
        resource = self.resource
        contained = {
            item.get("id"): item.get("resourceType")
            for _, item in self.objects(resource, "contained", "Consent.contained")
            if isinstance(item.get("id"), str)
        }
        patient = resource.get("patient")
        kinds = set()
        for _, performer in self.objects(resource, "performer", "Consent.performer"):
            kinds.add(_performer_kind(performer, contained, patient))
        signer = "patient" if "own patient" in kinds else "representative" if kinds & {"RelatedPerson", "Patient"} else None
        if signer:
            self.put("signer", signer, resource.key_lines["performer"], "Consent.performer")

    def _form(self) -> None:
        resource = self.resource
        form = _located_map(resource.line)
        attachment = self.mapping(resource, "sourceAttachment", "Consent.sourceAttachment")
        if attachment is not None:
            title = self.string(attachment, "title", "Consent.sourceAttachment.title")
            url = self.string(attachment, "url", "Consent.sourceAttachment.url")
            if title:
                _set(form, "version", title, attachment.key_lines["title"])
            if url:
                _set(form, "reference", url, attachment.key_lines["url"])
        source = self.mapping(resource, "sourceReference", "Consent.sourceReference")
        reference = self.string(source, "reference", "Consent.sourceReference.reference") if source else None
        if reference and source is not None:
            _set(form, "reference", reference, source.key_lines["reference"])
        if form:
            form.line = next(iter(form.key_lines.values()))
            self.put("form", form, form.line, "Consent.sourceAttachment")

    def _extensions(self) -> None:
        seen: dict[str, int] = {}
        value = self.resource.get("extension")
        if value is not None and (not isinstance(value, list) or not all(isinstance(item, LocatedMap) for item in value)):
            # A revocation may be among them: unreadable extensions are never "not revoked".
            self.refuse(
                self.problem(
                    CG103,
                    self.resource.key_lines.get("extension", self.resource.line),
                    "Consent.extension",
                    "'extension' must be a list of JSON objects; the Consent is left out, since a revocation may be among them",
                    "export the extensions as a list of objects with url and value",
                )
            )
            return
        for path, extension in self.objects(self.resource, "extension", "Consent.extension"):
            url = extension.get("url")
            if not isinstance(url, str) or not url.startswith(EXTENSION_BASE):
                continue  # someone else's extension (or a near miss, reported above): not a modifier, so it may be ignored
            name = url[len(EXTENSION_BASE) :]
            if name in seen:
                found = self.problem(
                    CG104, extension.line, path, f"extension '{name}' appears twice (first on line {seen[name]})", "keep one"
                )
                if name in _REVOCATION_EXTENSIONS:
                    self.refuse(found)
                continue
            seen[name] = extension.line
            if name in _FLAG_EXTENSIONS:
                flag = self._value(extension, "valueBoolean", bool, path)
                if flag is not None:
                    self.put(_FLAG_EXTENSIONS[name], flag, extension.line, path)
            elif name in _TEXT_EXTENSIONS:
                text = self._value(extension, "valueString", str, path)
                if text is not None and text.strip():
                    self.put(_TEXT_EXTENSIONS[name], text.strip(), extension.line, path)
            elif name in _LIST_EXTENSIONS:
                text = self._value(extension, "valueString", str, path)
                items = re.split(r"[\s,;]+", text.strip()) if text else []
                if items and items[0]:
                    self.put(_LIST_EXTENSIONS[name], _located_list(items, extension.line), extension.line, path)
            elif name in _DATE_EXTENSIONS:
                self._date_extension(extension, name, path)
            elif name in _INTEGER_EXTENSIONS:
                number = self._value(extension, "valueInteger", int, path)
                if number is not None:
                    self.put(_INTEGER_EXTENSIONS[name], number, extension.line, path)
            elif name in _GROUP_EXTENSIONS:
                self._group(extension, name, path)
            # An unknown name under our base was reported by _check_extension.

    def _date_extension(self, extension: LocatedMap, name: str, path: str) -> None:
        key = next((k for k in ("valueDate", "valueDateTime") if k in extension), None)
        value = extension.get(key) if key else None
        date = _full_date(value) if value is not None else None
        if date is not None:
            self.put(_DATE_EXTENSIONS[name], date, extension.line, path)
            return
        found = self.problem(
            CG103,
            extension.line,
            f"{path}.{key}" if key else path,
            f"extension '{name}' has no readable date ({_describe(value) if key else 'no valueDate'})"
            + (
                "; a revocation that cannot be read is never taken as 'not revoked', so the Consent is left out"
                if name in _REVOCATION_EXTENSIONS
                else ""
            ),
            "write valueDate: YYYY-MM-DD (the day the withdrawal was received, for a revocation)",
        )
        if name in _REVOCATION_EXTENSIONS:
            self.refuse(found)

    def _group(self, extension: LocatedMap, name: str, path: str) -> None:
        parts = _GROUP_EXTENSIONS[name]
        group = _located_map(extension.line)
        for part_path, part in self.objects(extension, "extension", f"{path}.extension"):
            part_name = part.get("url")
            if not isinstance(part_name, str) or part_name not in parts:
                close = difflib.get_close_matches(str(part_name), list(parts), n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(parts)}"
                self.problem(CG101, part.line, part_path, f"unknown part {_shown(part_name)} of the extension {name}", hint)
                continue
            flag = self._value(part, "valueBoolean", bool, part_path)
            if flag is not None:
                _set(group, parts[part_name], flag, part.line)
        self.put(name, group, extension.line, path)

    def _value(self, extension: LocatedMap, key: str, kind: type, path: str) -> Any:
        value = extension.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            others = [k for k in extension if k.startswith("value")]
            found = f"{others[0]}" if others else "no value"
            if others and extension.get(others[0]) is None:
                found += " null"
            self.problem(CG103, extension.line, path, f"needs {key}, found {found}", f"write {key}")
            return None
        return value

    def _provision(self, provision: LocatedMap) -> None:
        lines = provision.key_lines
        root = "Consent.provision"
        _reject_unknown(provision, PROVISION_ELEMENTS, _PROVISION_PRIMITIVES, self.shown, self.where(0, root).field, self.sink)
        for key in _NARROWING:
            if key in provision:
                self.problem(
                    CG103,
                    lines[key],
                    f"{root}.{key}",
                    f"{root}.{key} narrows the release in a way the gallery cannot check",
                    "name what the release covers with provision.data (case or image identifiers) and channels with nested provisions",
                )
        kind = provision.get("type")
        if kind is not None and kind not in ("permit", "deny"):
            self.problem(CG103, lines["type"], f"{root}.type", f"type {_shown(kind)} is not permit or deny", 'write "permit" or "deny"')
        self.refuses = kind == "deny"
        if self.refuses:
            self.out.key_lines["refuses"] = lines["type"]
        period = self.mapping(provision, "period", f"{root}.period")
        if period is not None:
            expires = self.date(period, "end", f"{root}.period.end")
            if expires is not None:
                self.put("expires_on", expires, period.key_lines["end"], f"{root}.period.end")
            self.in_force_from = self.date(period, "start", f"{root}.period.start")
            if self.in_force_from is not None:
                self.out.key_lines["in_force_from"] = period.key_lines["start"]
                self.out.key_paths["in_force_from"] = f"{root}.period.start"
        if not self.refuses:  # a refusal applies to every recipient: its actors cannot narrow it
            limit = self._recipients(provision, root, ())
            if limit is not None:
                self.limits.append(limit)
        self._purposes(provision, root)
        self._scope(provision, root)
        self._channels(provision, root)

    def _recipients(self, provision: LocatedMap, path: str, channels: tuple[str, ...]) -> RecipientLimit | None:
        """The recipients a provision's actors name, when any actor is a recipient (not the custodian, author, ...)."""
        allowed: list[str] = []
        others: list[str] = []
        for actor_path, actor in self.objects(provision, "actor", f"{path}.actor"):
            roles = set()
            role = self.mapping(actor, "role", f"{actor_path}.role")
            for _, coding in self.objects(role, "coding", f"{actor_path}.role.coding") if role else []:
                system, code = coding.get("system"), coding.get("code")
                if isinstance(system, str) and system in OLD_SYSTEMS:
                    self._old_system(coding, f"{actor_path}.role.coding", system)
                if isinstance(code, str):
                    roles.add(code)
            if roles and roles <= SOURCE_ROLES:
                continue
            reference = self.mapping(actor, "reference", f"{actor_path}.reference")
            identifier = self.mapping(reference, "identifier", f"{actor_path}.reference.identifier") if reference else None
            if identifier is not None and identifier.get("system") == CHANNEL_SYSTEM and identifier.get("value") in CHANNELS:
                allowed.append(str(identifier["value"]))
                continue
            others.append(_actor_name(reference, actor_path))
        if not (allowed or others):
            return None
        return RecipientLimit(channels, tuple(allowed), tuple(others), f"{path}.actor", provision.key_lines.get("actor", provision.line))

    def _old_system(self, coding: LocatedMap, path: str, system: str) -> None:
        self.problem(
            CG103,
            coding.line,
            f"{path}.system",
            f"system '{system}' is the FHIR STU3 URL of this code system; an R4 Consent uses '{OLD_SYSTEMS[system]}', so the code is not read",
            f"export the Consent as FHIR R4 (system '{OLD_SYSTEMS[system]}'), or convert it from STU3 before the build",
        )

    def _purposes(self, provision: LocatedMap, root: str) -> None:
        actions = set()
        for concept_path, concept in self.objects(provision, "action", f"{root}.action"):
            for coding_path, coding in self.objects(concept, "coding", f"{concept_path}.coding"):
                system = coding.get("system")
                if isinstance(system, str) and system in OLD_SYSTEMS:
                    self._old_system(coding, coding_path, system)
                elif system == CONSENT_ACTION_SYSTEM and isinstance(coding.get("code"), str):
                    actions.add(coding["code"])
        purposes = []
        for coding_path, coding in self.objects(provision, "purpose", f"{root}.purpose"):
            code, system = coding.get("code"), coding.get("system")
            if not isinstance(code, str) or not code.strip():
                self.problem(CG103, coding.line, f"{coding_path}.code", "a purpose needs a code", f"use code HMARKT of {ACT_REASON_SYSTEM}")
                continue
            if isinstance(system, str) and system in OLD_SYSTEMS:
                self._old_system(coding, coding_path, system)
                code = f"{code} ({system}, the STU3 URL)"
            elif system != ACT_REASON_SYSTEM:
                code = f"{code} ({system or 'no system'})"
            if "disclose" not in actions:
                purposes.append(f"{code} (actions: {', '.join(sorted(actions)) or 'none'})")
            else:
                purposes.append("marketing" if code == "HMARKT" else code)
        if purposes:
            line = provision.key_lines["purpose"]
            self.put("purposes", _located_list(purposes, line), line, f"{root}.purpose")

    def _data(self, provision: LocatedMap, path: str) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        """(cases, images) a provision's data names, with their lines; a reference of anything else is CG103."""
        cases: list[tuple[str, int]] = []
        images: list[tuple[str, int]] = []
        for item_path, item in self.objects(provision, "data", f"{path}.data"):
            reference = self.mapping(item, "reference", f"{item_path}.reference")
            if reference is None:
                self.problem(CG102, item.line, item_path, "data has no reference", "reference the case or photo the release covers")
                continue
            identifier = self.mapping(reference, "identifier", f"{item_path}.reference.identifier")
            literal = reference.get("reference")
            if identifier is not None and identifier.get("system") in (CASE_SYSTEM, IMAGE_SYSTEM):
                value = self.string(identifier, "value", f"{item_path}.reference.identifier.value")
                if value:
                    (cases if identifier.get("system") == CASE_SYSTEM else images).append((value, item.line))
                continue
            match = _LITERAL_REFERENCE.search(literal) if isinstance(literal, str) else None
            if match and match.group(1) == "Media":
                images.append((match.group(2), item.line))
                continue
            shown = literal if isinstance(literal, str) else json.dumps(identifier) if identifier else "an empty reference"
            system = identifier.get("system") if identifier is not None else None
            close = _near_system(system)
            self.problem(
                CG103,
                item.line,
                f"{item_path}.reference",
                f"cannot tell which case or photo {shown} is",
                (f"did you mean '{close}'? " if close else "")
                + f"reference a case by identifier (system {CASE_SYSTEM}), a photo by identifier (system {IMAGE_SYSTEM}) "
                "or as Media/<file name>",
            )
            images.append((str(shown), item.line))  # covers no photo: fail closed
        return cases, images

    def _scope(self, provision: LocatedMap, root: str) -> None:
        cases, images = self._data(provision, root)
        if not (cases or images):
            return
        line = provision.key_lines["data"]
        scope = _located_map(line)
        for key, values in (("cases", cases), ("images", images)):
            if values:
                _set(scope, key, _located_list([v for v, _ in values], values[0][1], [n for _, n in values]), values[0][1])
        self.put("scope", scope, line, f"{root}.data")

    def _channels(self, provision: LocatedMap, root: str) -> None:
        found: dict[str, list[tuple[str, int]]] = {"permit": [], "deny": []}
        for path, nested in self.objects(provision, "provision", f"{root}.provision"):
            for key in nested:
                if key in _CHANNEL_PROVISION or key == "modifierExtension":
                    continue
                if key in PROVISION_ELEMENTS or key.lstrip("_") in PROVISION_ELEMENTS:
                    self.problem(
                        CG103,
                        nested.key_lines[key],
                        f"{path}.{key}",
                        f"a nested provision cannot hold '{key}': the gallery reads only type, code, actor and (in a deny) data there",
                        "put period, purpose and action on the root provision; nest one provision per channel decision",
                    )
                else:
                    Fields(nested, self.shown, self.where(0, path).field, self.sink).problem(
                        CG101, key, f"unknown key '{key}'", f"a nested provision holds: {', '.join(sorted(_CHANNEL_PROVISION))}"
                    )
            kind = nested.get("type")
            if not isinstance(kind, str) or kind not in found:
                self.problem(
                    CG103 if kind is not None else CG102,
                    nested.key_lines.get("type", nested.line),
                    f"{path}.type",
                    f"a nested provision needs type permit or deny, not {_shown(kind)}",
                    'write "type": "permit" or "type": "deny"',
                )
                continue
            channels = self._channel_codes(nested, path)
            if kind == "deny":
                cases, images = self._data(nested, path)
                if cases or images or not nested.get("code"):
                    # A deny of data, or of everything: kept out whatever else permits it.
                    self.exclusions.append(
                        Exclusion(tuple(c for c, _ in cases), tuple(i for i, _ in images), tuple(channels), path, nested.line)
                    )
                    continue
            elif "data" in nested:
                self.problem(
                    CG103,
                    nested.key_lines["data"],
                    f"{path}.data",
                    "a nested permit cannot narrow the data: the gallery would have to publish part of what the root provision covers",
                    "name the cases or photos the release covers on the root provision's data; keep nested permits to channels",
                )
                continue
            elif not nested.get("code"):
                self.problem(
                    CG102,
                    nested.line,
                    path,
                    "a nested permit names no channel",
                    f'add "code": [{{"coding": [{{"system": "{CHANNEL_SYSTEM}", "code": "website"}}]}}]',
                )
            if kind == "permit":
                limit = self._recipients(nested, path, tuple(channels))
                if limit is not None:
                    self.limits.append(limit)
            found[str(kind)].extend((channel, nested.line) for channel in channels)
        if not any(found.values()):
            return
        line = provision.key_lines["provision"]
        channel_map = _located_map(line)
        for key, values in found.items():
            if values:
                _set(channel_map, key, _located_list([v for v, _ in values], values[0][1], [n for _, n in values]), values[0][1])
        self.put("channels", channel_map, line, f"{root}.provision")

    def _channel_codes(self, nested: LocatedMap, path: str) -> list[str]:
        channels = []
        for concept_path, concept in self.objects(nested, "code", f"{path}.code"):
            for coding_path, coding in self.objects(concept, "coding", f"{concept_path}.coding"):
                code, system = coding.get("code"), coding.get("system")
                if system != CHANNEL_SYSTEM:
                    close = _near_system(system)
                    self.problem(
                        CG103,
                        coding.line,
                        coding_path,
                        f"code {_shown(code)} of system {_shown(system)} is not a channel",
                        f"did you mean '{close}'?" if close else f"use codes of {CHANNEL_SYSTEM}: {', '.join(CHANNELS)}",
                    )
                elif code not in CHANNELS:
                    close_code = difflib.get_close_matches(str(code), CHANNELS, n=1, cutoff=0.6)
                    hint = f"did you mean '{close_code[0]}'?" if close_code else f"use one of: {', '.join(CHANNELS)}"
                    self.problem(CG103, coding.line, f"{coding_path}.code", f"channel {_shown(code)} is not a channel code", hint)
                else:
                    channels.append(str(code))
        return channels


def _full_date(value: object) -> dt.date | None:
    """The date of a FHIR date or dateTime with at least a day; None for anything else (partial dates included)."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _near_system(system: object) -> str | None:
    """One of the gallery's systems that `system` differs from only in scheme, letter case or a trailing slash."""
    if not isinstance(system, str):
        return None
    wanted = normalised_url(system)
    return next((ours for ours in (CHANNEL_SYSTEM, CASE_SYSTEM, IMAGE_SYSTEM) if normalised_url(ours) == wanted and ours != system), None)


def _actor_name(reference: LocatedMap | None, path: str) -> str:
    """How a message names an actor: its literal reference, identifier or display, else its element path."""
    if reference is not None:
        for value in (reference.get("reference"), reference.get("display")):
            if isinstance(value, str) and value.strip():
                return value.strip()[:80]
        identifier = reference.get("identifier")
        if isinstance(identifier, LocatedMap) and isinstance(identifier.get("value"), str):
            return f"{identifier.get('system') or 'identifier'}|{identifier['value']}"[:80]
    return path


def _performer_kind(reference: LocatedMap, contained: dict[Any, Any], patient: object) -> str | None:
    """What signed: 'own patient' (the Consent's patient), or the resource type a performer points at."""
    if isinstance(patient, LocatedMap):
        same_reference = reference.get("reference") is not None and reference.get("reference") == patient.get("reference")
        own = reference.get("identifier")
        theirs = patient.get("identifier")
        same_identifier = (
            isinstance(own, LocatedMap)
            and isinstance(theirs, LocatedMap)
            and own.get("value") is not None
            and (own.get("system"), own.get("value")) == (theirs.get("system"), theirs.get("value"))
        )
        if same_reference or same_identifier:
            return "own patient"
    literal = reference.get("reference")
    if isinstance(literal, str):
        if literal.startswith("#"):
            kind = contained.get(literal[1:])
            return kind if isinstance(kind, str) else None
        match = _LITERAL_REFERENCE.search(literal)
        if match:
            return match.group(1)
    kind = reference.get("type")
    if isinstance(kind, str):
        return kind.rsplit("/", 1)[-1]
    return None


def _describe(value: object) -> str:
    text = json.dumps(value) if isinstance(value, (str, int, float, bool)) or value is None else "(an object or list)"
    return text if len(text) <= 40 else text[:37] + "..."


def _located_map(line: int) -> LocatedMap:
    result = LocatedMap()
    result.line = line
    result.key_lines = {}
    return result


def _set(target: LocatedMap, key: str, value: Any, line: int) -> None:
    target[key] = value
    target.key_lines[key] = line


def _located_list(values: list[Any], line: int, item_lines: list[int] | None = None) -> LocatedList:
    result = LocatedList(values)
    result.line = line
    result.item_lines = item_lines if item_lines is not None else [line] * len(values)
    return result
