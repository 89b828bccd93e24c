"""The consent register: records of marketing releases, loaded from YAML or CSV exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalogue import CG102, CG103, CG104, CG109
from ..violations import Violation, Where
from .fhir import Exclusion, FhirRecord, RecipientLimit, fhir_path, fhir_records, fhir_spelling
from .fields import Fields
from .yamlfile import LocatedList, LocatedMap, load_yaml, read_text

CONSENT_KEYS = {
    "id",
    "patient_ref",
    "signed_on",
    "signer",
    "representative_authority",
    "expires_on",
    "expiry_event",
    "event_occurred_on",
    "channels",
    "purposes",
    "scope",
    "allows",
    "material_connection",
    "third_party_remuneration",
    "statements",
    "irrevocable",
    "revoked_on",
    "revocation_received_on",
    "superseded_by",
    "form",
    "procedure_on",
    "subject_age_at_capture",
    "explicit_consent",
    "notes",
    "name_hashes",
    "name_salt",
}
ALLOW_KEYS = ("face", "name", "distinctive_marks", "testimonial")
STATEMENT_KEYS = ("revocation", "conditioning", "redisclosure")
SIGNERS = ("patient", "representative")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ConsentScope:
    """What a release covers: named cases, named images, or a treatment within a date range."""

    cases: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    treatment: str | None = None
    treated_from: dt.date | None = None
    treated_to: dt.date | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.cases or self.images or self.treatment)

    @property
    def names_cases_or_photos(self) -> bool:
        """Whether the release says which cases or photos it covers, rather than a treatment (of its patient)."""
        return bool(self.cases or self.images)


@dataclass(frozen=True)
class Consent:
    """One marketing release as the clinic exported it. Holds no patient name.

    A field the law asks for and the record does not state is None (never a default): the consent rules report it.
    """

    id: str
    file: str
    line: int
    source: str = "yaml"  # yaml | csv | fhir: the words a message uses for a field
    patient_ref: str | None = None
    signed_on: dt.date | None = None
    signer: str | None = None
    representative_authority: str | None = None
    expires_on: dt.date | None = None
    expiry_event: str | None = None
    event_occurred_on: dt.date | None = None
    permit: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    scope: ConsentScope = field(default_factory=ConsentScope)
    allows: dict[str, bool] = field(default_factory=dict)
    material_connection: str | None = None
    material_connection_invalid: bool = False
    third_party_remuneration: bool | None = None
    statements: dict[str, bool] = field(default_factory=dict)  # a statement the record does not mention is absent
    irrevocable: bool | None = None
    revoked_on: dt.date | None = None
    revocation_received_on: dt.date | None = None
    superseded_by: str | None = None
    form_version: str | None = None
    material_connection_recorded: bool = False  # "none" said explicitly, or a disclosure text
    procedure_on: dt.date | None = None
    subject_age_at_capture: int | None = None
    explicit_consent: bool = False
    # What only a FHIR register can say (records/fhir.py): its status, a refusal, when it starts, what it denies, to whom.
    status: str | None = None  # Consent.status; None for YAML and CSV (in force unless withdrawn)
    refuses: bool = False  # the root provision is a deny: the record refuses, except what nested permits name
    in_force_from: dt.date | None = None  # provision.period.start
    exclusions: tuple[Exclusion, ...] = ()
    recipient_limits: tuple[RecipientLimit, ...] = ()
    # Salted SHA-256 of each lower-cased token of the patient's name (rules/identifiers.py), and that salt:
    # the register holds no name, yet the build can find one in public text.
    name_hashes: tuple[str, ...] = ()
    name_salt: str | None = None
    lines: dict[str, int] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)  # register field -> FHIR element path it came from

    @property
    def withdrawn_on(self) -> dt.date | None:
        """When the withdrawal takes effect: the earliest evidence of it (revoked_on or revocation_received_on)."""
        dates = [d for d in (self.revoked_on, self.revocation_received_on) if d is not None]
        return min(dates) if dates else None

    @property
    def withdrawn_key(self) -> str:
        """The field that holds `withdrawn_on`."""
        if self.revocation_received_on is not None and (self.revoked_on is None or self.revocation_received_on < self.revoked_on):
            return "revocation_received_on"
        return "revoked_on"

    def where(self, key: str = "") -> Where:
        """The place of this record, or of one of its fields (`statements.revocation`), in the register.

        For a FHIR register the field is named by its element path (`Consent.provision.period.end`).
        """
        top = key.split(".", 1)[0]
        line = self.lines.get(key, self.lines.get(top, self.line))
        if self.source == "fhir":
            return Where(self.file, line, f"consent {self.id}: {fhir_path(key, self.paths)}")
        return Where(self.file, line, f"consent {self.id}" + (f".{key}" if key else ""))

    def where_element(self, path: str, line: int) -> Where:
        """The place of one FHIR element of this record (a provision the consent rules read directly)."""
        return Where(self.file, line or self.line, f"consent {self.id}: {path}")

    def named(self, key: str) -> str:
        """A field by the name the clinic's file gives it: `signed_on`, the column 'signed_on', or `Consent.dateTime`."""
        if self.source == "fhir":
            return fhir_path(key, self.paths)
        return f"the column '{key}'" if self.source == "csv" else key

    def spelled(self, key: str, value: str) -> str:
        """How the clinic's file writes `key` with `value`: a YAML line, a CSV column, or a FHIR element."""
        if self.source == "fhir":
            return fhir_spelling(key, value)
        if self.source == "csv":
            return f"the column '{key}' = {value}"
        return f"'{key}: {value}'"


@dataclass
class Register:
    """All consents of a register by id, plus what went wrong loading it.

    `refused` names the records left out because they cannot be read safely (a FHIR modifierExtension, an
    unreadable revocation date), with the reason, so that a case naming one is told why.
    """

    file: str
    consents: dict[str, Consent] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    loaded: bool = False
    refused: dict[str, Violation] = field(default_factory=dict)
    name_salt: str | None = None  # the register's `name_salt:`, for every record that has no salt of its own


def load_register(path: Path, shown: str) -> Register:
    """Load a register from YAML (`consents:` list), CSV (a row per consent) or FHIR R4 Consents (.json Bundle, .ndjson); fails closed."""
    register = Register(shown)
    suffix = path.suffix.lower()
    records: Sequence[LocatedMap] | None
    if suffix == ".csv":
        records = _csv_records(path, shown, register.violations)
    elif suffix in {".yml", ".yaml"}:
        records, register.name_salt = _yaml_records(path, shown, register.violations)
    elif suffix in {".json", ".ndjson"}:
        records = fhir_records(path, shown, register.violations, register.refused)
    else:
        register.violations.append(
            Violation(
                CG103,
                Where(shown),
                f"consent register format '{suffix or 'none'}' is not supported",
                "export the register as .yml, .yaml or .csv, or as FHIR R4 Consent resources in a .json Bundle or .ndjson",
            )
        )
        return register
    if records is None:
        return register
    register.loaded = True
    source = "csv" if suffix == ".csv" else "fhir" if suffix in {".json", ".ndjson"} else "yaml"
    for record in records:
        consent = _parse_consent(record, shown, register.violations, source, register.name_salt)
        if consent is None:
            continue
        if consent.id in register.consents:
            first = register.consents[consent.id]
            register.violations.append(
                Violation(
                    CG104,
                    Where(shown, consent.line, "id"),
                    f"consent id '{consent.id}' appears twice (first on line {first.line})",
                    "give every release its own id, or merge the two records",
                )
            )
            continue
        register.consents[consent.id] = consent
    return register


def _yaml_records(path: Path, shown: str, sink: list[Violation]) -> tuple[list[LocatedMap] | None, str | None]:
    """The records of a YAML register, and its top-level `name_salt` (None when absent or unusable)."""
    data, problems = load_yaml(path, shown)
    sink.extend(problems)
    if data is None and problems:
        return None, None
    if not isinstance(data, LocatedMap) or not isinstance(data.get("consents"), LocatedList):
        sink.append(
            Violation(
                CG102,
                Where(shown, getattr(data, "line", 0) or 1, "consents"),
                "the register must have a top-level 'consents:' list",
                "start the file with 'consents:' followed by one '- id: ...' entry per release",
            )
        )
        return None, None
    top = Fields(data, shown, "", sink)
    top.reject_unknown({"consents", "name_salt"})
    salt = top.text("name_salt")
    records: list[LocatedMap] = []
    for item, line in zip(data["consents"], data["consents"].item_lines, strict=True):
        if isinstance(item, LocatedMap):
            records.append(item)
        else:
            sink.append(Violation(CG103, Where(shown, line, "consents"), "each consent must be a mapping", "write '- id: ...'"))
    return records, salt


def _csv_records(path: Path, shown: str, sink: list[Violation]) -> list[LocatedMap] | None:
    """CSV rows as nested records: `channels.permit` becomes channels: {permit: ...}; lists use ';'."""
    text, problems = read_text(path, shown)
    sink.extend(problems)
    if text is None:
        return None
    # csv.reader, not DictReader (whose line_num named the line before a syntax error): a record's line is the line
    # it starts on (a quoted cell may span lines), and a syntax error's is the line being read when it was found.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        sink.append(Violation(CG109, Where(shown, reader.line_num), f"is not valid CSV: {error}", "re-export the register"))
        return None
    if not header or "id" not in header:
        sink.append(
            Violation(CG102, Where(shown, 1, "id"), "the CSV register needs a header row with an 'id' column", "export with column headers")
        )
        return None
    records = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader, None)
        except csv.Error as error:
            sink.append(Violation(CG109, Where(shown, reader.line_num), f"is not valid CSV: {error}", "re-export the register"))
            return None
        if cells is None:
            break
        if not cells:
            continue  # a blank line
        record = _located({}, line)
        for column, cell in zip(header, cells, strict=False):  # short rows leave columns empty; extra cells have no column
            if not cell.strip():
                continue
            value: Any = [part.strip() for part in cell.split(";") if part.strip()] if _is_list_column(column) else cell.strip()
            target = record
            *parents, leaf = column.strip().split(".")
            for parent in parents:
                child = target.get(parent)
                if not isinstance(child, LocatedMap):
                    child = _located({}, line)
                    target[parent] = child
                    target.key_lines[parent] = line
                target = child
            target[leaf] = _located_list(value, line) if isinstance(value, list) else value
            target.key_lines[leaf] = line
        records.append(record)
    return records


def _is_list_column(column: str) -> bool:
    return column.strip() in {"channels.permit", "channels.deny", "purposes", "scope.cases", "scope.images", "name_hashes"}


def _located(values: dict[str, Any], line: int) -> LocatedMap:
    result = LocatedMap(values)
    result.line = line
    result.key_lines = {key: line for key in values}
    return result


def _located_list(values: list[Any], line: int) -> LocatedList:
    result = LocatedList(values)
    result.line = line
    result.item_lines = [line] * len(values)
    return result


def _parse_consent(record: LocatedMap, shown: str, sink: list[Violation], source: str, register_salt: str | None) -> Consent | None:
    if isinstance(record, FhirRecord):
        if "id" not in record:
            return None  # the reader said so, in FHIR words
        # The field checks below speak of register fields; a FHIR register's clinic knows its element paths.
        found: list[Violation] = []
        consent = _parse_fields(record, shown, found, source, register_salt)
        sink.extend(record.in_fhir_words(found))
        return consent
    return _parse_fields(record, shown, sink, source, register_salt)


def _parse_fields(record: LocatedMap, shown: str, sink: list[Violation], source: str, register_salt: str | None) -> Consent | None:
    fields = Fields(record, shown, "consents", sink)
    fields.reject_unknown(CONSENT_KEYS)
    consent_id = fields.identifier("id", required=True, fix="give the release its id from the signed form")
    if consent_id is None:
        return None
    fields = Fields(record, shown, f"consent {consent_id}", sink)
    channels = fields.mapping("channels")
    permit: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    if channels:
        channels.reject_unknown({"permit", "deny"})
        permit = channels.texts("permit") or ()
        deny = channels.texts("deny") or ()
    scope = _parse_scope(fields.mapping("scope"))
    allows: dict[str, bool] = {}
    allow_fields = fields.mapping("allows")
    if allow_fields:
        allow_fields.reject_unknown(ALLOW_KEYS)
        for key in ALLOW_KEYS:
            # Not allowed unless the release says so: a missing answer can only narrow what is published.
            allows[key] = bool(allow_fields.boolean(key, default=False))
    statements: dict[str, bool] = {}
    statement_fields = fields.mapping("statements")
    if statement_fields:
        statement_fields.reject_unknown({*STATEMENT_KEYS, "remuneration"})
        for key in (*STATEMENT_KEYS, "remuneration"):
            stated = statement_fields.boolean(key)
            if stated is not None:  # absent stays absent: the consent rules ask for it (CG206)
                statements[key] = stated
    form = fields.mapping("form")
    form_version = None
    if form:
        form.reject_unknown({"version", "sha256", "reference"})
        form_version = form.text("version")
    signer = fields.text("signer")
    if signer is not None and signer not in SIGNERS:
        fields.problem(CG103, "signer", f"signer '{signer}' is not one of {', '.join(SIGNERS)}", "write 'patient' or 'representative'")
    material, material_invalid = _material_connection(record.get("material_connection"))
    extras = record.extras if isinstance(record, FhirRecord) else None
    name_hashes, name_salt = _name_hashes(fields, register_salt)
    return Consent(
        id=consent_id,
        file=shown,
        line=record.line,
        source=source,
        patient_ref=fields.text("patient_ref"),
        signed_on=fields.date("signed_on"),
        signer=signer,
        representative_authority=fields.text("representative_authority"),
        expires_on=fields.date("expires_on"),
        expiry_event=fields.text("expiry_event"),
        event_occurred_on=fields.date("event_occurred_on"),
        permit=permit,
        deny=deny,
        purposes=fields.texts("purposes") or (),
        scope=scope,
        allows=allows,
        material_connection=material,
        material_connection_recorded=record.get("material_connection") is not None,
        procedure_on=fields.date("procedure_on"),
        subject_age_at_capture=fields.integer("subject_age_at_capture"),
        explicit_consent=bool(fields.boolean("explicit_consent", default=False)),
        material_connection_invalid=material_invalid,
        third_party_remuneration=fields.boolean("third_party_remuneration"),
        statements=statements,
        irrevocable=fields.boolean("irrevocable"),
        revoked_on=fields.date("revoked_on"),
        revocation_received_on=fields.date("revocation_received_on"),
        superseded_by=fields.identifier("superseded_by"),
        form_version=form_version,
        status=extras.status if extras else None,
        refuses=extras.refuses if extras else False,
        in_force_from=extras.in_force_from if extras else None,
        exclusions=extras.exclusions if extras else (),
        recipient_limits=extras.recipient_limits if extras else (),
        name_hashes=name_hashes,
        name_salt=name_salt,
        lines=dict(record.key_lines),
        paths=dict(record.key_paths) if isinstance(record, FhirRecord) else {},
    )


def _name_hashes(fields: Fields, register_salt: str | None) -> tuple[tuple[str, ...], str | None]:
    """`name_hashes` (64 hex digits each) and the salt they were made with: the record's own, else the register's."""
    salt = fields.text("name_salt") or register_salt
    hashes = fields.texts("name_hashes") or ()
    good = tuple(value.lower() for value in hashes if _SHA256.match(value.lower()))
    if len(good) != len(hashes):
        fields.problem(
            CG103,
            "name_hashes",
            "each name hash must be a SHA-256 written as 64 hexadecimal digits",
            "make them with 'compliant-gallery name-hashes \"First Last\"', which uses the register's name_salt",
        )
    if good and salt is None:
        fields.problem(
            CG102,
            "name_hashes",
            "name_hashes are given but no name_salt says how they were salted",
            "add 'name_salt:' at the top of the register (YAML), a name_salt column (CSV) or the nameSalt extension (FHIR)",
        )
        return (), None
    return good, salt


def _parse_scope(fields: Fields | None) -> ConsentScope:
    if fields is None:
        return ConsentScope()
    fields.reject_unknown({"cases", "images", "treatment", "from", "to"})
    return ConsentScope(
        cases=fields.texts("cases") or (),
        images=fields.texts("images") or (),
        treatment=fields.text("treatment"),
        treated_from=fields.date("from"),
        treated_to=fields.date("to"),
    )


def _material_connection(value: object) -> tuple[str | None, bool]:
    """(disclosure text or None for no connection, whether the value is unusable)."""
    if value is None or value is False:
        return None, False
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in {"", "none", "no"}:
            return None, False
        # A one-word value ("discount", "yes") names a connection but discloses nothing.
        return text, len(text.split()) < 3
    return None, True
