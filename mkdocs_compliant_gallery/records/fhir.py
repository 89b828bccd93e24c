"""HL7 FHIR R4 `Consent` resources as a consent register: a Bundle (`.json`) or NDJSON (`.ndjson`).

Each Consent becomes the same nested record a YAML register holds, so the register's own field checks
and the consent rules (CG2xx) judge it exactly as they judge YAML. Every record, and every field of it,
carries the line of the FHIR element it came from, so errors point at the file and line of the resource.

Files
    `.json`: a Bundle whose entries' `resource` is a Consent (any Bundle `type`); a single bare Consent
    is accepted too. `.ndjson`: one Consent per line, blank lines ignored. Anything else that is not a
    Consent is CG103; invalid JSON is CG109 with its line; a duplicate JSON key is CG104 and the file is
    not loaded. Elements of Bundle, entry, Consent and provision that are not standard R4 elements are
    CG101; standard elements the gallery does not evaluate (`text`, `category`, `scope`, `policyRule`,
    `verification`, `organization`, `provision.actor`, ...) are ignored. A `modifierExtension` anywhere
    changes the meaning of what it sits on, so a Consent carrying one is reported (CG103) and left out.

Mapping (Consent → register record)
    `identifier[0].value` → id. `patient.identifier.value`, else `patient.reference` → patient_ref.
    `dateTime` → signed_on (the date part). `performer`: a Patient (or the Consent's own patient) →
    signer patient; else a RelatedPerson → signer representative; other performers are ignored.
    `sourceAttachment.title` → form.version; `sourceAttachment.url` or `sourceReference.reference` →
    form.reference.

    `status`: `active` is in force. `inactive`, `rejected` and `entered-in-error` are revoked: revoked_on
    is the `revokedOn` extension, else the date of `meta.lastUpdated`; with neither the date is unknown,
    which is CG206 and the Consent is left out of the register (fail closed: its cases then get CG201).
    `draft` and `proposed` are not signed: their `dateTime` is not taken as a signed date, so a case that
    uses one gets CG206 (no signed date).

    `provision` (the root provision): `period.end` → expires_on (`period.start` is not evaluated).
    `purpose` (Coding) and `action` (CodeableConcept) → purposes: `marketing` when a purpose is `HMARKT`
    of http://terminology.hl7.org/CodeSystem/v3-ActReason and an action is `disclose` of
    http://terminology.hl7.org/CodeSystem/consentaction; any other purpose is kept as its code (so a case
    gets CG208 "not marketing"), and purposes without a `disclose` action read "CODE (actions: ...)".
    `securityLabel`, `class`, `code` and `dataPeriod` would narrow the release in ways the gallery cannot
    check: CG103. The root `type` (permit or deny) is validated but grants nothing by itself.

    Channels come only from nested provisions (one level): each has `type` permit or deny and `code`
    from the channel code system CHANNEL_SYSTEM (codes: website, social, paid_ads, email, print,
    in_office, directories) → channels.permit / channels.deny. A channel is permitted only when a nested
    `permit` names it; a deny wins over a permit. A nested provision may hold nothing but `id`,
    `extension`, `type` and `code` (anything else, or a code of another system, is CG103).

    Scope, from `provision.data[].reference`: an `identifier` of CASE_SYSTEM names a case slug of the
    manifest (→ scope.cases); an `identifier` of IMAGE_SYSTEM, or a literal reference `Media/<name>`,
    names a photo by its file name or manifest `src` (→ scope.images). Any other reference is CG103, and
    it is still added to scope.images so that no photo is covered by it.

Extensions on the Consent (url = EXTENSION_BASE + name; an unknown name under that base is CG101;
extensions with other urls are ignored)
    `revokedOn` valueDate (or valueDateTime) → revoked_on, whatever the status (a future date takes
    effect on that day). `allows`, with sub-extensions `face`, `name`, `distinctiveMarks`, `testimonial`
    (valueBoolean) → allows. `statements`, with sub-extensions `revocation`, `conditioning`,
    `redisclosure`, `remuneration` (valueBoolean) → statements. `materialConnection` valueString (the
    disclosure text, or "none") → material_connection. `thirdPartyRemuneration`, `irrevocable` and
    `explicitConsent` valueBoolean; `representativeAuthority`, `supersededBy`, `expiryEvent` valueString;
    `eventOccurredOn` and `procedureOn` valueDate; `subjectAgeAtCapture` valueInteger → the register
    fields of the same meaning (snake_case of the name). `nameSalt` valueString → name_salt, and
    `nameHashes` valueString (the hashes separated by spaces, commas or semicolons) → name_hashes.

What a Consent lacks stays missing in the record, so the consent rules report it per case (CG206 for
the signed date, expiry, signer or statements, CG208 for purpose or scope, CG202 for channels).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..catalogue import CG101, CG102, CG103, CG104, CG109, CG206
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

IN_FORCE = "active"
UNSIGNED = ("draft", "proposed")
REVOKED = ("inactive", "rejected", "entered-in-error")
STATUSES = (IN_FORCE, *UNSIGNED, *REVOKED)

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
_CHANNEL_PROVISION = {"id", "extension", "type", "code", "_id", "_type"}

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
_DATE_EXTENSIONS = {"revokedOn": "revoked_on", "eventOccurredOn": "event_occurred_on", "procedureOn": "procedure_on"}
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

_EXPORT_FIX = "export the consents as a FHIR R4 Bundle of Consent resources (.json) or one Consent per line (.ndjson)"
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\]:\n]')
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$")
_LITERAL_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9.-]{1,64})(?:/_history/[A-Za-z0-9.-]{1,64})?$")


def fhir_records(path: Path, shown: str, sink: list[Violation]) -> list[LocatedMap] | None:
    """Register records from a FHIR R4 Bundle (`.json`) or NDJSON (`.ndjson`) of Consent resources.

    Returns None when the file cannot be read as a whole (the register then counts as not loaded);
    every problem is appended to `sink` with the file and line of the element concerned.
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
    for resource in resources:
        record = _ConsentReader(resource, shown, sink).record()
        if record is not None:
            records.append(record)
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


def _bundle_resources(text: str, shown: str, sink: list[Violation]) -> list[LocatedMap] | None:
    parsed, data = _parse(text, shown, sink)
    if not parsed:
        return None
    if not isinstance(data, LocatedMap):
        sink.append(Violation(CG103, Where(shown, 1), "must hold one FHIR Bundle (a JSON object)", _EXPORT_FIX))
        return None
    kind = data.get("resourceType")
    if kind == "Consent":
        return [data]
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
        if "modifierExtension" in entry:
            sink.append(_modifier(shown, entry.key_lines["modifierExtension"], path))
            continue
        resource = _consent_resource(entry.get("resource"), shown, entry.key_lines.get("resource", entry.line), f"{path}.resource", sink)
        if resource is not None:
            resources.append(resource)
    return resources


def _ndjson_resources(text: str, shown: str, sink: list[Violation]) -> list[LocatedMap] | None:
    resources = []
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
            resources.append(resource)
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
        "carries a modifierExtension, which changes its meaning in a way the gallery does not understand; it is left out",
        "export the consent without modifier extensions, or record the release without them",
    )


def _shown(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else "missing" if value is None else "not text"


# -- one Consent ---------------------------------------------------------------------------------------


class _ConsentReader:
    """Maps one Consent resource onto a register record, reporting what cannot be mapped."""

    def __init__(self, resource: LocatedMap, shown: str, sink: list[Violation]) -> None:
        self.resource = resource
        self.shown = shown
        self.sink = sink
        self.out = _located_map(resource.line)
        self.label = "Consent"
        self.usable = True

    # reporting

    def where(self, line: int, path: str) -> Where:
        return Where(self.shown, line, f"{self.label}.{path}" if path else self.label)

    def problem(self, code: Rule, line: int, path: str, message: str, fix: str) -> None:
        self.sink.append(Violation(code, self.where(line, path), message, fix))

    def put(self, key: str, value: Any, line: int) -> None:
        self.out[key] = value
        self.out.key_lines[key] = line or self.resource.line

    # reading typed values

    def mapping(self, parent: LocatedMap, key: str, path: str) -> LocatedMap | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, LocatedMap):
            self.problem(CG103, parent.key_lines.get(key, parent.line), path, f"'{key}' must be a JSON object", "")
            return None
        return value

    def objects(self, parent: LocatedMap, key: str, path: str) -> list[LocatedMap]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, LocatedMap) for item in value):
            self.problem(CG103, parent.key_lines.get(key, parent.line), path, f"'{key}' must be a list of JSON objects", "")
            return []
        return list(value)

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
        match = _DATE.match(value) if isinstance(value, str) else None
        parsed = None
        if match:
            try:
                parsed = dt.date.fromisoformat(match.group(1))
            except ValueError:
                parsed = None
        if parsed is None:
            self.problem(
                CG103,
                parent.key_lines.get(key, parent.line),
                path,
                f"'{key}' {_describe(value)} is not a full date",
                "write the date as YYYY-MM-DD (a dateTime such as 2026-03-02T10:00:00Z works too)",
            )
        return parsed

    # the mapping

    def record(self) -> LocatedMap | None:
        resource = self.resource
        lines = resource.key_lines
        identifiers = self.objects(resource, "identifier", "identifier")
        consent_id = self.string(identifiers[0], "value", "identifier[0].value") if identifiers else None
        if consent_id is not None:
            self.label = f"consent {consent_id}"
            self.put("id", consent_id, identifiers[0].line)
        _reject_unknown(resource, CONSENT_ELEMENTS, _CONSENT_PRIMITIVES, self.shown, self.label, self.sink)
        if "modifierExtension" in resource:
            self.sink.append(_modifier(self.shown, lines["modifierExtension"], self.label))
            return None
        self._patient()
        self._extensions()
        self._status_and_signature()
        self._signer()
        self._form()
        provision = self.mapping(resource, "provision", "provision")
        if provision is not None:
            self._provision(provision)
        return self.out if self.usable else None

    def _patient(self) -> None:
        patient = self.mapping(self.resource, "patient", "patient")
        if patient is None:
            return
        identifier = self.mapping(patient, "identifier", "patient.identifier")
        value = self.string(identifier, "value", "patient.identifier.value") if identifier else None
        value = value or self.string(patient, "reference", "patient.reference")
        if value:
            self.put("patient_ref", value, self.resource.key_lines["patient"])

    def _status_and_signature(self) -> None:
        resource = self.resource
        line = resource.key_lines.get("status", resource.line)
        status = resource.get("status")
        if status is None:
            self.problem(CG102, line, "status", "'status' is required", "export the Consent with its status (active, inactive, ...)")
            self.usable = False
            return
        if status not in STATUSES:
            self.problem(CG103, line, "status", f"status {_shown(status)} is not one of {', '.join(STATUSES)}", "export a valid R4 status")
            self.usable = False
            return
        signed = self.date(resource, "dateTime", "dateTime")
        if signed is not None and status not in UNSIGNED:
            self.put("signed_on", signed, resource.key_lines["dateTime"])
        if status not in REVOKED or "revoked_on" in self.out:
            return
        if "revokedOn" in self._our_extension_names():
            self.usable = False  # the extension is there but unreadable (reported): do not guess a date
            return
        meta = self.mapping(resource, "meta", "meta")
        updated = self.date(meta, "lastUpdated", "meta.lastUpdated") if meta else None
        if meta is None or updated is None:
            self.problem(
                CG206,
                line,
                "status",
                f"status is '{status}' but the revocation date is unknown (no revokedOn extension, no meta.lastUpdated); "
                "the consent is left out of the register",
                f"add the extension {EXTENSION_BASE}revokedOn with valueDate set to the day the withdrawal was received",
            )
            self.usable = False
            return
        self.put("revoked_on", updated, meta.key_lines["lastUpdated"])

    def _signer(self) -> None:
        resource = self.resource
        contained = {
            item.get("id"): item.get("resourceType")
            for item in self.objects(resource, "contained", "contained")
            if isinstance(item.get("id"), str)
        }
        patient = resource.get("patient")
        kinds = set()
        for performer in self.objects(resource, "performer", "performer"):
            kinds.add(_reference_type(performer, contained, patient))
        signer = "patient" if "Patient" in kinds else "representative" if "RelatedPerson" in kinds else None
        if signer:
            self.put("signer", signer, resource.key_lines["performer"])

    def _form(self) -> None:
        resource = self.resource
        form = _located_map(resource.line)
        attachment = self.mapping(resource, "sourceAttachment", "sourceAttachment")
        if attachment is not None:
            title = self.string(attachment, "title", "sourceAttachment.title")
            url = self.string(attachment, "url", "sourceAttachment.url")
            if title:
                _set(form, "version", title, attachment.key_lines["title"])
            if url:
                _set(form, "reference", url, attachment.key_lines["url"])
        source = self.mapping(resource, "sourceReference", "sourceReference")
        reference = self.string(source, "reference", "sourceReference.reference") if source else None
        if reference and source is not None:
            _set(form, "reference", reference, source.key_lines["reference"])
        if form:
            form.line = next(iter(form.key_lines.values()))
            self.put("form", form, form.line)

    def _our_extension_names(self) -> set[str]:
        names = set()
        for extension in self.objects(self.resource, "extension", "extension"):
            url = extension.get("url")
            if isinstance(url, str) and url.startswith(EXTENSION_BASE):
                names.add(url[len(EXTENSION_BASE) :])
        return names

    def _extensions(self) -> None:
        seen: dict[str, int] = {}
        for extension in self.objects(self.resource, "extension", "extension"):
            url = extension.get("url")
            if not isinstance(url, str) or not url.startswith(EXTENSION_BASE):
                continue  # someone else's extension: not a modifier, so it may be ignored
            name = url[len(EXTENSION_BASE) :]
            path = f"extension({name})"
            if name in seen:
                self.problem(CG104, extension.line, path, f"extension '{name}' appears twice (first on line {seen[name]})", "keep one")
                continue
            seen[name] = extension.line
            if name in _FLAG_EXTENSIONS:
                flag = self._value(extension, "valueBoolean", bool, path)
                if flag is not None:
                    self.put(_FLAG_EXTENSIONS[name], flag, extension.line)
            elif name in _TEXT_EXTENSIONS:
                text = self._value(extension, "valueString", str, path)
                if text is not None and text.strip():
                    self.put(_TEXT_EXTENSIONS[name], text.strip(), extension.line)
            elif name in _LIST_EXTENSIONS:
                text = self._value(extension, "valueString", str, path)
                items = re.split(r"[\s,;]+", text.strip()) if text else []
                if items and items[0]:
                    self.put(_LIST_EXTENSIONS[name], _located_list(items, extension.line), extension.line)
            elif name in _DATE_EXTENSIONS:
                key = next((k for k in ("valueDate", "valueDateTime") if k in extension), None)
                date = self.date(extension, key, f"{path}.{key}") if key else None
                if key is None:
                    self.problem(CG103, extension.line, path, f"extension '{name}' needs a valueDate", "write valueDate: YYYY-MM-DD")
                if date is not None:
                    self.put(_DATE_EXTENSIONS[name], date, extension.line)
            elif name in _INTEGER_EXTENSIONS:
                number = self._value(extension, "valueInteger", int, path)
                if number is not None:
                    self.put(_INTEGER_EXTENSIONS[name], number, extension.line)
            elif name in _GROUP_EXTENSIONS:
                self._group(extension, name, path)
            else:
                close = difflib.get_close_matches(name, EXTENSIONS, n=1, cutoff=0.6)
                hint = f"did you mean '{EXTENSION_BASE}{close[0]}'?" if close else f"known extensions: {', '.join(EXTENSIONS)}"
                self.problem(CG101, extension.line, path, f"unknown extension '{url}'", hint)

    def _group(self, extension: LocatedMap, name: str, path: str) -> None:
        parts = _GROUP_EXTENSIONS[name]
        group = _located_map(extension.line)
        for part in self.objects(extension, "extension", f"{path}.extension"):
            part_name = part.get("url")
            if part_name not in parts:
                close = difflib.get_close_matches(str(part_name), list(parts), n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(parts)}"
                self.problem(CG101, part.line, f"{path}.extension", f"unknown part {_shown(part_name)}", hint)
                continue
            flag = self._value(part, "valueBoolean", bool, f"{path}.{part_name}")
            if flag is not None:
                _set(group, parts[part_name], flag, part.line)
        self.put(name, group, extension.line)

    def _value(self, extension: LocatedMap, key: str, kind: type, path: str) -> Any:
        value = extension.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            others = [k for k in extension if k.startswith("value")]
            found = f"{others[0]}" if others else "no value"
            self.problem(CG103, extension.line, path, f"needs {key}, found {found}", f"write {key}")
            return None
        return value

    def _provision(self, provision: LocatedMap) -> None:
        lines = provision.key_lines
        _reject_unknown(provision, PROVISION_ELEMENTS, _PROVISION_PRIMITIVES, self.shown, f"{self.label}.provision", self.sink)
        if "modifierExtension" in provision:
            self.sink.append(_modifier(self.shown, lines["modifierExtension"], f"{self.label}.provision"))
            self.usable = False
            return
        for key in _NARROWING:
            if key in provision:
                self.problem(
                    CG103,
                    lines[key],
                    f"provision.{key}",
                    f"provision.{key} narrows the release in a way the gallery cannot check",
                    "name what the release covers with provision.data (case or image identifiers) and channels with nested provisions",
                )
        kind = provision.get("type")
        if kind is not None and kind not in ("permit", "deny"):
            self.problem(CG103, lines["type"], "provision.type", f"type {_shown(kind)} is not permit or deny", "")
        period = self.mapping(provision, "period", "provision.period")
        expires = self.date(period, "end", "provision.period.end") if period else None
        if expires is not None and period is not None:
            self.put("expires_on", expires, period.key_lines["end"])
        self._purposes(provision)
        self._scope(provision)
        self._channels(provision)

    def _purposes(self, provision: LocatedMap) -> None:
        actions = set()
        for concept in self.objects(provision, "action", "provision.action"):
            for coding in self.objects(concept, "coding", "provision.action.coding"):
                if coding.get("system") == CONSENT_ACTION_SYSTEM and isinstance(coding.get("code"), str):
                    actions.add(coding["code"])
        purposes = []
        for coding in self.objects(provision, "purpose", "provision.purpose"):
            code, system = coding.get("code"), coding.get("system")
            if not isinstance(code, str) or not code.strip():
                self.problem(CG103, coding.line, "provision.purpose", "a purpose needs a code", f"use code HMARKT of {ACT_REASON_SYSTEM}")
                continue
            if system != ACT_REASON_SYSTEM:
                code = f"{code} ({system or 'no system'})"
            if "disclose" not in actions:
                purposes.append(f"{code} (actions: {', '.join(sorted(actions)) or 'none'})")
            else:
                purposes.append("marketing" if code == "HMARKT" else code)
        if purposes:
            self.put("purposes", _located_list(purposes, provision.key_lines["purpose"]), provision.key_lines["purpose"])

    def _scope(self, provision: LocatedMap) -> None:
        found: dict[str, list[tuple[str, int]]] = {"cases": [], "images": []}
        for item in self.objects(provision, "data", "provision.data"):
            reference = self.mapping(item, "reference", "provision.data.reference")
            if reference is None:
                self.problem(CG102, item.line, "provision.data", "data has no reference", "reference the case or photo the release covers")
                continue
            identifier = self.mapping(reference, "identifier", "provision.data.reference.identifier")
            literal = reference.get("reference")
            if identifier is not None and identifier.get("system") in (CASE_SYSTEM, IMAGE_SYSTEM):
                value = self.string(identifier, "value", "provision.data.reference.identifier.value")
                if value:
                    found["cases" if identifier.get("system") == CASE_SYSTEM else "images"].append((value, item.line))
                continue
            match = _LITERAL_REFERENCE.search(literal) if isinstance(literal, str) else None
            if match and match.group(1) == "Media":
                found["images"].append((match.group(2), item.line))
                continue
            shown = literal if isinstance(literal, str) else json.dumps(identifier) if identifier else "an empty reference"
            self.problem(
                CG103,
                item.line,
                "provision.data",
                f"cannot tell which case or photo {shown} is",
                f"reference a case by identifier (system {CASE_SYSTEM}), a photo by identifier (system {IMAGE_SYSTEM}) "
                "or as Media/<file name>",
            )
            found["images"].append((str(shown), item.line))  # covers no photo: fail closed
        if not any(found.values()):
            return
        line = provision.key_lines["data"]
        scope = _located_map(line)
        for key, values in found.items():
            if values:
                _set(scope, key, _located_list([v for v, _ in values], values[0][1], [n for _, n in values]), values[0][1])
        self.put("scope", scope, line)

    def _channels(self, provision: LocatedMap) -> None:
        found: dict[str, list[tuple[str, int]]] = {"permit": [], "deny": []}
        for nested in self.objects(provision, "provision", "provision.provision"):
            path = "provision.provision"
            if "modifierExtension" in nested:
                self.sink.append(_modifier(self.shown, nested.key_lines["modifierExtension"], f"{self.label}.{path}"))
                self.usable = False
                continue
            for key in nested:
                if key in _CHANNEL_PROVISION:
                    continue
                if key in PROVISION_ELEMENTS or key.lstrip("_") in PROVISION_ELEMENTS:
                    self.problem(
                        CG103,
                        nested.key_lines[key],
                        f"{path}.{key}",
                        f"a channel provision cannot hold '{key}': the gallery reads only type and code there",
                        "put period, purpose, action and data on the root provision; nest one provision per channel decision",
                    )
                else:
                    Fields(nested, self.shown, f"{self.label}.{path}", self.sink).problem(
                        CG101, key, f"unknown key '{key}'", f"a channel provision holds: {', '.join(sorted(_CHANNEL_PROVISION))}"
                    )
            kind = nested.get("type")
            if kind not in found:
                self.problem(
                    CG103 if kind is not None else CG102,
                    nested.key_lines.get("type", nested.line),
                    f"{path}.type",
                    f"a channel provision needs type permit or deny, not {_shown(kind)}",
                    'write "type": "permit" or "type": "deny"',
                )
                continue
            channels = self._channel_codes(nested, path)
            if not nested.get("code"):
                self.problem(
                    CG102,
                    nested.line,
                    path,
                    "a nested provision names no channel",
                    f'add "code": [{{"coding": [{{"system": "{CHANNEL_SYSTEM}", "code": "website"}}]}}]',
                )
            found[str(kind)].extend((channel, nested.line) for channel in channels)
        if not any(found.values()):
            return
        line = provision.key_lines["provision"]
        channel_map = _located_map(line)
        for key, values in found.items():
            if values:
                _set(channel_map, key, _located_list([v for v, _ in values], values[0][1], [n for _, n in values]), values[0][1])
        self.put("channels", channel_map, line)

    def _channel_codes(self, nested: LocatedMap, path: str) -> list[str]:
        channels = []
        for concept in self.objects(nested, "code", f"{path}.code"):
            for coding in self.objects(concept, "coding", f"{path}.code.coding"):
                code, system = coding.get("code"), coding.get("system")
                if system != CHANNEL_SYSTEM:
                    self.problem(
                        CG103,
                        coding.line,
                        f"{path}.code",
                        f"code {_shown(code)} of system {_shown(system)} is not a channel",
                        f"use codes of {CHANNEL_SYSTEM}: {', '.join(CHANNELS)}",
                    )
                elif code not in CHANNELS:
                    close = difflib.get_close_matches(str(code), CHANNELS, n=1, cutoff=0.6)
                    hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(CHANNELS)}"
                    self.problem(CG103, coding.line, f"{path}.code", f"channel {_shown(code)} is not a channel code", hint)
                else:
                    channels.append(str(code))
        return channels


def _reference_type(reference: LocatedMap, contained: dict[Any, Any], patient: object) -> str | None:
    """The resource type a Reference points at: the Consent's own patient counts as Patient."""
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
            return "Patient"
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
