"""The approvals file: who approved which case, when, and exactly what they approved (CG1xx when it is damaged).

Each approval pins a case to its *content*: a canonical JSON document of everything of the case that a visitor
sees or that decides whether it may be shown (the case's manifest entry, the SHA-256 of each of its photos, its
treatment's texts, its consent's id, scope, channels, allows and material connection). The document is kept in
the entry beside its SHA-256 (`digest`), so a later build can say what changed since, not only that something
did. Expiry and withdrawal are not in it: they take a case down whatever was approved.

The file is written only by `compliant-gallery approve`, which appends entries and keeps the text above them.
The latest entry of a case is the approval in force. A file that cannot be read, or whose entries do not hold
together, approves nothing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalogue import CG102, CG103, CG112, CG113
from ..violations import Violation, Where
from .fields import Fields
from .manifest import Case, Treatment
from .register import Consent
from .yamlfile import LocatedList, LocatedMap, load_yaml

CONTENT_VERSION = 1  # the shape of the content document; a change in shape asks for every case to be approved again
ENTRY_KEYS = ("case", "by", "at", "note", "digest", "content")
DIGEST_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MAX_NAME = 200
HEADER = (
    "# Approvals of gallery cases for publication, appended by `compliant-gallery approve`: do not edit by hand.\n"
    "# Each entry pins one case as it was approved. `content` holds everything of the case a visitor sees or that\n"
    "# decides whether it may be shown (its manifest entry, the SHA-256 of its photos, its treatment's texts, its\n"
    "# consent's id, scope, channels and allows); `digest` is the SHA-256 of `content`. The latest entry of a case\n"
    "# is in force: when the case no longer matches it, the build stops until someone approves the case again.\n"
)


@dataclass(frozen=True)
class Approval:
    """One entry of the approvals file: a person's approval of a case exactly as `content` describes it."""

    case: str
    by: str
    at: dt.datetime  # UTC
    note: str
    digest: str
    content: str  # the canonical JSON document the digest covers
    where: Where

    def document(self) -> dict[str, Any]:
        """The content as a document (checked to parse and match the digest when the file was loaded)."""
        parsed = json.loads(self.content)
        return parsed if isinstance(parsed, dict) else {}

    @property
    def when(self) -> str:
        return when_text(self.at)

    def record(self) -> dict[str, str]:
        """The publication log's note of the approval a case was published under."""
        entry = {"by": self.by, "at": iso_utc(self.at), "digest": self.digest}
        if self.note:
            entry["note"] = self.note
        return entry


@dataclass
class Approvals:
    """Every entry of the approvals file, in file order, and what is wrong with the file."""

    file: str
    entries: list[Approval] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    exists: bool = False
    # Whether new entries can be appended: the file is absent, empty, or a readable `approvals:` list.
    appendable: bool = True

    @property
    def damaged(self) -> bool:
        """True when the file cannot be trusted at all: it then approves nothing.

        An entry for a case the manifest lacks, or in force by someone not among the approvers (CG112), spoils
        only that entry; anything else (syntax, shape, a digest that does not match its content) spoils the file.
        """
        return any(v.rule is not CG112 for v in self.violations)

    def latest(self) -> dict[str, Approval]:
        """The approval in force of each case: its last entry in the file."""
        return {entry.case: entry for entry in self.entries}


@dataclass(frozen=True)
class Change:
    """One difference between what was approved and what the case is now."""

    summary: str  # e.g. "caption changed", "photo photos/x.jpg replaced", "consent changed from C-1 to C-2"
    was: str = ""
    now: str = ""


# -- the content of a case --------------------------------------------------------------------------------------


def case_content(case: Case, treatment: Treatment | None, consent: Consent | None, digest: Callable[[Path], str]) -> str:
    """The canonical JSON document an approval of `case` covers, as it stands now; `digest` hashes a photo."""
    photos: dict[str, str | None] = {}
    for ref in case.image_refs():
        try:
            photos[ref.src] = digest(ref.path)
        except OSError:
            photos[ref.src] = None  # unreadable now: any later reading differs from it
    document: dict[str, Any] = {
        "version": CONTENT_VERSION,
        "case": plain(case.entry),
        "photos": photos,
        "treatment": None,
        "consent": None,
    }
    if treatment is not None:
        document["treatment"] = {
            "key": treatment.key,
            "title": treatment.title,
            "typical_results": treatment.typical_results,
            "risks": treatment.risks,
        }
    if consent is not None:
        scope = consent.scope
        document["consent"] = {
            "id": consent.id,
            "scope": {
                "cases": list(scope.cases),
                "images": list(scope.images),
                "treatment": scope.treatment,
                "from": scope.treated_from.isoformat() if scope.treated_from else None,
                "to": scope.treated_to.isoformat() if scope.treated_to else None,
            },
            "channels": {"permit": list(consent.permit), "deny": list(consent.deny)},
            "allows": dict(sorted(consent.allows.items())),
            # Shown in the card when there is one, so a visitor reads it.
            "material_connection": consent.material_connection,
        }
    return canonical(document)


def canonical(document: Any) -> str:
    """One text per document: sorted keys, no spaces, ASCII only (so it survives any file encoding)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def digest_of(content: str) -> str:
    """The SHA-256 (hex) of a content document's text."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def plain(value: Any) -> Any:
    """A YAML value as plain JSON: dates as ISO text, other scalars JSON cannot hold as their text."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


# -- what changed -----------------------------------------------------------------------------------------------

_CASE_LABELS = {
    "caption": "caption",
    "testimonial": "testimonial",
    "procedures": "procedures",
    "sessions": "sessions",
    "time_after": "time after",
    "treated_on": "treatment date",
    "shows": "what the photos show (shows)",
    "area": "area",
    "model": "model label",
    "layout": "layout",
    "allow_claims": "allowed claims",
}
_PAIR_LABELS = {"crop": "crop box", "redact": "redaction boxes", "edits": "declared edits", "face_check": "face check review"}
_SKIPPED_CASE_KEYS = {"photos", "consent", "treatment", "id"}  # described with their own sections
_UNSHOWN_KEYS = {"patient_ref"}  # named when they change, their values never printed


def changes_between(approved: Mapping[str, Any], current: Mapping[str, Any]) -> list[Change]:
    """What differs between an approved content document and the current one, in the words of the manifest."""
    if approved.get("version") != current.get("version"):
        return [Change("the approval was recorded in an older format of approvals; it covers less than an approval does now")]
    found: list[Change] = []
    old_case, new_case = _mapping(approved.get("case")), _mapping(current.get("case"))
    keys = [key for key in _CASE_LABELS if key in old_case or key in new_case]
    keys += sorted((set(old_case) | set(new_case)) - set(_CASE_LABELS) - _SKIPPED_CASE_KEYS)
    for key in keys:
        if key in _SKIPPED_CASE_KEYS:
            continue
        changed = _value_change(_CASE_LABELS.get(key, key), old_case.get(key), new_case.get(key), key in old_case, key in new_case)
        found.extend(Change(change.summary) if key in _UNSHOWN_KEYS else change for change in changed)
    found.extend(_photo_changes(old_case.get("photos"), new_case.get("photos")))
    old_photos, new_photos = _mapping(approved.get("photos")), _mapping(current.get("photos"))
    for src in sorted(set(old_photos) & set(new_photos)):
        if old_photos[src] != new_photos[src]:
            found.append(Change(f"photo {src} replaced" if new_photos[src] else f"photo {src} can no longer be read"))
    found.extend(_treatment_changes(approved.get("treatment"), current.get("treatment")))
    found.extend(_consent_changes(approved.get("consent"), current.get("consent"), old_case.get("consent"), new_case.get("consent")))
    if not found and canonical(approved) != canonical(current):
        found.append(Change("the case's content changed"))
    return found


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."


def _value_change(label: str, old: object, new: object, had: bool, has: bool) -> list[Change]:
    if old == new and had == has:
        return []
    if not had:
        return [Change(f"{label} added", now=_short(new))]
    if not has:
        return [Change(f"{label} removed", was=_short(old))]
    return [Change(f"{label} changed", _short(old), _short(new))]


def _photo_changes(old: object, new: object) -> list[Change]:
    """Changes to the photo pairs, matched by view."""
    old_pairs, new_pairs = _by_view(old), _by_view(new)
    if old_pairs is None or new_pairs is None:
        return [] if old == new else [Change("photos changed")]
    found: list[Change] = []
    for view in old_pairs:
        if view not in new_pairs:
            found.append(Change(f"view '{view}' removed"))
    for view, pair in new_pairs.items():
        before = old_pairs.get(view)
        if before is None:
            found.append(Change(f"view '{view}' added"))
            continue
        for side in ("before", "after"):
            found.extend(_image_changes(f"{side} photo (view {view})", _mapping(before.get(side)), _mapping(pair.get(side))))
        for key in sorted((set(before) | set(pair)) - {"view", "before", "after"}):
            label = f"{_PAIR_LABELS.get(key, key)} (view {view})"
            found.extend(_value_change(label, before.get(key), pair.get(key), key in before, key in pair))
    return found


def _by_view(value: object) -> dict[str, Mapping[str, Any]] | None:
    if value is None:
        return {}
    if not isinstance(value, list):
        return None
    pairs: dict[str, Mapping[str, Any]] = {}
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("view"), (str, int)) or str(item["view"]) in pairs:
            return None
        pairs[str(item["view"])] = item
    return pairs


def _image_changes(label: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    found: list[Change] = []
    if old.get("src") != new.get("src"):
        found.append(Change(f"{label} is now {new.get('src')} (was {old.get('src')})", _short(old.get("src")), _short(new.get("src"))))
    if old.get("alt") != new.get("alt"):
        found.append(Change(f"alt text of the {label} changed", _short(old.get("alt")), _short(new.get("alt"))))
    for key in sorted((set(old) | set(new)) - {"src", "alt"}):
        found.extend(_value_change(f"{_PAIR_LABELS.get(key, key)} of the {label}", old.get(key), new.get(key), key in old, key in new))
    return found


def _treatment_changes(old: object, new: object) -> list[Change]:
    before, after = _mapping(old), _mapping(new)
    if before.get("key") != after.get("key"):
        return [Change(f"treatment changed from {before.get('key') or '(none)'} to {after.get('key') or '(none)'}")]
    key = after.get("key")
    labels = {"title": "title", "typical_results": "typical results text", "risks": "risks text"}
    return [
        change
        for name, label in labels.items()
        for change in _value_change(f"{label} of treatment {key}", before.get(name), after.get(name), name in before, name in after)
    ]


def _consent_changes(old: object, new: object, old_named: object, new_named: object) -> list[Change]:
    """Changes of the release; `*_named` are the ids the case names, for a consent the register lacks."""
    before, after = _mapping(old), _mapping(new)
    old_id, new_id = before.get("id") or old_named, after.get("id") or new_named
    if old_id != new_id:
        missing = "" if after or not new_id else " (not in the register)"
        return [Change(f"consent changed from {old_id or '(none)'} to {new_id or '(none)'}{missing}")]
    if bool(before) != bool(after):
        return [Change(f"consent {new_id} is no longer in the register" if before else f"consent {new_id} is now in the register")]
    consent_id = after.get("id")
    labels = {"scope": "scope", "channels": "channels", "allows": "allows", "material_connection": "material connection text"}
    return [
        change
        for name, label in labels.items()
        for change in _value_change(f"{label} of consent {consent_id}", before.get(name), after.get(name), name in before, name in after)
    ]


# -- reading the file -------------------------------------------------------------------------------------------


def load_approvals(path: Path, shown: str, cases: Collection[str], approvers: Sequence[str] = ()) -> Approvals:
    """Read and check the approvals file; `cases` are the manifest's case ids, `approvers` who may approve (all if empty)."""
    approvals = Approvals(shown)
    if not path.exists():
        return approvals
    approvals.exists = True
    data, problems = load_yaml(path, shown)
    approvals.violations.extend(problems)
    if data is None:
        approvals.appendable = not problems
        if not problems:
            approvals.violations.append(
                Violation(
                    CG102,
                    Where(shown, 1),
                    "the approvals file is empty, so it approves nothing (was it truncated?)",
                    "restore it from version control, or delete it and approve the cases again with 'compliant-gallery approve'",
                )
            )
        return approvals
    entries = _entries(data, shown, approvals)
    if entries is None:
        approvals.appendable = False
        return approvals
    for item, line in entries:
        approval = _entry(item, line, shown, approvals.violations)
        if approval is not None:
            approvals.entries.append(approval)
    _check_cases_and_approvers(approvals, cases, approvers)
    return approvals


def _entries(data: object, shown: str, approvals: Approvals) -> list[tuple[Any, int]] | None:
    """The items of the top-level `approvals:` list with their lines, or None when the file has another shape."""
    fix = "the file is written by 'compliant-gallery approve': restore it from version control, or delete it and approve the cases again"
    if not isinstance(data, LocatedMap) or "approvals" not in data:
        line = data.line if isinstance(data, (LocatedMap, LocatedList)) else 1
        approvals.violations.append(
            Violation(CG102, Where(shown, line or 1, "approvals"), "the file needs a top-level 'approvals:' list", fix)
        )
        return None
    Fields(data, shown, "", approvals.violations).reject_unknown({"approvals"})
    listed = data["approvals"]
    if listed is None:
        return []
    if not isinstance(listed, LocatedList):
        approvals.violations.append(
            Violation(CG103, Where(shown, data.key_lines.get("approvals", data.line), "approvals"), "'approvals' must be a list", fix)
        )
        return None
    return list(zip(listed, listed.item_lines, strict=True))


def _entry(item: object, line: int, shown: str, sink: list[Violation]) -> Approval | None:
    fix_by_cli = "entries are written by 'compliant-gallery approve': restore the file from version control, or approve the case again"
    if not isinstance(item, LocatedMap):
        sink.append(Violation(CG103, Where(shown, line, "approvals"), "each approval must be a mapping ('- case: ...')", fix_by_cli))
        return None
    fields = Fields(item, shown, "approval", sink)
    fields.reject_unknown(ENTRY_KEYS)
    case_id = fields.identifier("case", required=True, fix=fix_by_cli)
    fields = Fields(item, shown, f"approval of {case_id}" if case_id else "approval", sink, case_id or "")
    by = fields.text("by", required=True, fix=fix_by_cli)
    if by is not None and (len(by) > MAX_NAME or "\n" in by):
        fields.problem(CG103, "by", f"'by' must be a name on one line of at most {MAX_NAME} characters", fix_by_cli)
        by = None
    at = _time(fields, fix_by_cli)
    note = fields.text("note") or ""
    digest = fields.text("digest", required=True, fix=fix_by_cli)
    if digest is not None and not DIGEST_PATTERN.match(digest):
        fields.problem(CG103, "digest", f"digest {_clip(digest)!r} is not a SHA-256 (64 lower-case hex digits)", fix_by_cli)
        digest = None
    content = _content(fields, fix_by_cli)
    if case_id is None or by is None or at is None or digest is None or content is None:
        return None
    if digest_of(content) != digest:
        sink.append(
            Violation(
                CG113,
                fields.where("digest"),
                f"the approval of {case_id} by {by} ({when_text(at)}) does not match the content recorded with it: "
                "the entry was edited by hand or damaged",
                fix_by_cli,
                case_id,
            )
        )
        return None
    return Approval(case_id, by, at, note, digest, content, Where(shown, line, f"approval of {case_id}"))


def _time(fields: Fields, fix: str) -> dt.datetime | None:
    value = fields.data.get("at")
    if value is None:
        fields.problem(CG102, "at", "'at' is required (when the case was approved, in UTC)", fix)
        return None
    moment: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        fields.problem(CG103, "at", f"'at' must be a UTC time such as 2026-11-20T14:03:11Z, not {_clip(str(value))!r}", fix)
        return None
    return moment.astimezone(dt.timezone.utc)


def _content(fields: Fields, fix: str) -> str | None:
    value = fields.data.get("content")
    if value is None:
        fields.problem(CG102, "content", "'content' is required (what was approved; the digest covers it)", fix)
        return None
    if not isinstance(value, str):
        fields.problem(CG103, "content", "'content' must be the JSON text the digest covers", fix)
        return None
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        fields.problem(CG103, "content", "'content' is not the JSON document of a case (was it cut short?)", fix)
        return None
    return value


def _check_cases_and_approvers(approvals: Approvals, cases: Collection[str], approvers: Sequence[str]) -> None:
    """CG112: approvals of cases the manifest does not have, and approvals in force by someone not among `approvers`."""
    unknown: dict[str, list[Approval]] = {}
    for entry in approvals.entries:
        if entry.case not in cases:
            unknown.setdefault(entry.case, []).append(entry)
    for case_id, entries in unknown.items():
        close = difflib.get_close_matches(case_id, list(cases), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        lines = ", ".join(str(e.where.line) for e in entries)
        approvals.violations.append(
            Violation(
                CG112,
                entries[-1].where,
                f"approves case '{case_id}', which is not in the manifest ({'line' if len(entries) == 1 else 'lines'} {lines})",
                f"{hint}if the case was taken out of the manifest, delete its approval{'s' if len(entries) > 1 else ''} from "
                f"{approvals.file}; otherwise restore the case",
                case_id,
            )
        )
    if not approvers:
        return
    for case_id, entry in approvals.latest().items():
        if entry.by not in approvers and case_id in cases:
            close = difflib.get_close_matches(entry.by, list(approvers), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            approvals.violations.append(
                Violation(
                    CG112,
                    entry.where,
                    f"case {case_id} was approved by '{entry.by}'{hint}, who is not among the approvers in mkdocs.yml "
                    f"({', '.join(approvers)})",
                    "have one of the approvers review the case and approve it again; only they may approve",
                    case_id,
                )
            )


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def when_text(moment: dt.datetime) -> str:
    """A time as the messages show it: `2026-11-20 14:03 UTC`."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def iso_utc(moment: dt.datetime) -> str:
    """A time as the file and the log keep it: `2026-11-20T14:03:11Z`."""
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# -- writing the file -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewApproval:
    """An approval about to be appended."""

    case: str
    by: str
    at: dt.datetime
    content: str
    note: str = ""

    @property
    def digest(self) -> str:
        return digest_of(self.content)


class ApprovalsWriteError(Exception):
    """The approvals file could not be appended to safely; it was left as it was."""


def check_name(value: str, label: str, limit: int = MAX_NAME) -> str:
    """A name or note as an approval keeps it: stripped, on one line, printable, not too long."""
    text = value.strip()
    if not text:
        raise ValueError(f"{label} must not be empty")
    if len(text) > limit:
        raise ValueError(f"{label} has {len(text)} characters, more than {limit}")
    if any(not character.isprintable() for character in text):
        raise ValueError(f"{label} must be one line of printable text")
    return text


def append_approvals(path: Path, shown: str, new: Sequence[NewApproval]) -> list[int]:
    """Append `new` to the approvals file in one atomic replace, keeping every byte already there.

    Returns the line of each new entry. The result is read back with the loader first: it must hold the old
    entries and exactly the new ones after them, or nothing is written (`ApprovalsWriteError`).
    """
    if not new:
        return []
    raw = path.read_bytes() if path.exists() else b""
    try:
        old_text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApprovalsWriteError(f"{shown} is not UTF-8 text; nothing was written") from None
    newline = "\r\n" if "\r\n" in old_text else "\n"
    text = old_text.replace("\r\n", "\n")
    before = load_approvals(path, shown, [entry.case for entry in new], ()) if raw.strip() else Approvals(shown)
    if not before.appendable:
        problems = "; ".join(v.format().replace("\n", " ") for v in before.violations if v.rule is not CG112)
        raise ApprovalsWriteError(f"{shown} cannot be read as an approvals file, so nothing was appended: {problems}")
    if not before.exists or (not before.entries and not _has_list_line(text)):
        # New, empty or only comments: start the list (after the comments, if any).
        head = text if text.strip() else HEADER
        text = head + ("" if head.endswith("\n") else "\n") + "approvals:\n"
        indent = 2
    else:
        text, indent = _ready_for_items(text, shown)
    start = text.count("\n") + 1
    lines: list[int] = []
    for entry in new:
        lines.append(start)
        block = _entry_text(entry, indent)
        text += block
        start += block.count("\n")
    _verify(text, shown, before, new)
    _replace(path, raw, text.replace("\n", newline), shown)
    return lines


def _has_list_line(text: str) -> bool:
    return any(re.match(r"approvals\s*:", line) for line in text.splitlines())


def _ready_for_items(text: str, shown: str) -> tuple[str, int]:
    """The text ready for block items at the end (`approvals: []` opened up), and their indentation."""
    lines = text.split("\n")
    items = [index for index, line in enumerate(lines) if re.match(r"\s*- ", line) and not line.lstrip().startswith("#")]
    if items:
        first = lines[items[0]]
        indent = len(first) - len(first.lstrip())
    else:
        indent = 2
        for index, line in enumerate(lines):
            if re.fullmatch(r"approvals\s*:\s*(\[\s*\]|null|~)?\s*(#.*)?", line):
                lines[index] = "approvals:"
                break
        else:
            raise ApprovalsWriteError(f"{shown}: the 'approvals:' list is not written as a block list; nothing was appended")
    text = "\n".join(lines)
    return (text if text.endswith("\n") else text + "\n"), indent


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar that reads back as exactly `value`."""
    out = []
    for character in value:
        if character in '"\\':
            out.append("\\" + character)
        elif character.isprintable() and character not in "\u2028\u2029\u0085\ufeff":
            out.append(character)
        elif ord(character) <= 0xFFFF:
            out.append(f"\\u{ord(character):04x}")
        else:
            out.append(f"\\U{ord(character):08x}")
    return '"' + "".join(out) + '"'


def _entry_text(entry: NewApproval, indent: int) -> str:
    pad = " " * indent
    lines = [
        f"{pad}- case: {_quoted(entry.case)}",
        f"{pad}  by: {_quoted(entry.by)}",
        f'{pad}  at: "{iso_utc(entry.at)}"',
    ]
    if entry.note:
        lines.append(f"{pad}  note: {_quoted(entry.note)}")
    lines.append(f'{pad}  digest: "{entry.digest}"')
    # ASCII JSON in single quotes: only the quote itself needs escaping, and the text reads back unchanged.
    lines.append(f"{pad}  content: '{entry.content.replace(chr(39), chr(39) * 2)}'")
    return "\n".join(lines) + "\n"


def _verify(text: str, shown: str, before: Approvals, new: Sequence[NewApproval]) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=".approvals-check-", suffix=".yml")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        after = load_approvals(Path(temporary), shown, [*(e.case for e in before.entries), *(e.case for e in new)], ())
    finally:
        Path(temporary).unlink(missing_ok=True)
    expected = [(e.case, e.by, e.digest, e.content) for e in before.entries]
    expected += [(e.case, e.by, e.digest, e.content) for e in new]
    found = [(e.case, e.by, e.digest, e.content) for e in after.entries]
    clean = not [v for v in after.violations if v not in before.violations and v.rule is not CG112]
    if found != expected or not clean:
        raise ApprovalsWriteError(
            f"{shown}: the new approvals would not read back as written (is the list the last thing in the file?); nothing was appended"
        )


def _replace(path: Path, expected: bytes, text: str, shown: str) -> None:
    """Write `text` over `path` in one rename, unless the file changed since it was read (another approve)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        current = path.read_bytes() if path.exists() else b""
        if current != expected:
            raise ApprovalsWriteError(
                f"{shown} changed while the approvals were being written (another approve?); nothing was appended, try again"
            )
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def pending_summary(changes: Iterable[Change]) -> str:
    """The changes as one clause for a message: `caption changed; photo photos/x.jpg replaced`."""
    return "; ".join(change.summary for change in changes)
