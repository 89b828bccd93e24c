"""The gallery manifest: treatments and cases, each photo tied to a file and each case to a consent."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..catalogue import CG102, CG103, CG104, CG105, CG106, CG107, CG110
from ..settings import EDIT_KINDS
from ..violations import Violation, Where, did_you_mean, display_path
from .fields import Fields
from .yamlfile import LocatedMap, load_yaml

# Files a clinic's camera or phone produces; any of them lying unlisted in the photo folder is a raw PHI file.
PHOTO_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".jpe",
    ".mpo",
    ".png",
    ".webp",
    ".tif",
    ".tiff",
    ".heic",
    ".heif",
    ".avif",
    ".gif",
    ".bmp",
    ".svg",
    # Raw camera files (refused as photos, CG303, but patient files all the same), editors' files, stereo JPEG.
    ".dng",
    ".cr2",
    ".cr3",
    ".crw",
    ".nef",
    ".nrw",
    ".arw",
    ".srf",
    ".sr2",
    ".orf",
    ".rw2",
    ".raf",
    ".pef",
    ".srw",
    ".iiq",
    ".3fr",
    ".x3f",
    ".psd",
    ".jxl",
    ".jps",
}
CASE_KEYS = {
    "id",
    "consent",
    "treatment",
    "area",
    "procedures",
    "sessions",
    "time_after",
    "treated_on",
    "shows",
    "caption",
    "testimonial",
    "photos",
    "layout",
    "model",
    "allow_claims",
    "patient_ref",
}
SHOWS_KEYS = ("face", "name", "distinctive_marks")
PHOTO_KEYS = {"view", "before", "after", "crop", "redact", "edits", "face_check"}
IMAGE_KEYS = {"src", "alt", "crop", "redact", "face_check"}
FACE_CHECK_KEYS = {"reviewed_by", "reason"}
LAYOUTS = ("side-by-side", "slider")

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Treatment:
    """A treatment and the results patients can generally expect from it."""

    key: str
    title: str
    typical_results: str | None
    line: int
    risks: str | None = None
    allowed_claims: tuple[tuple[str, str], ...] = ()  # (phrase, reason) exempt from the claims lint in its title and text


@dataclass(frozen=True)
class Edit:
    """A declared change to a photo beyond crop, resize and redaction."""

    kind: str
    note: str = ""


@dataclass(frozen=True)
class FaceReview:
    """A person's recorded judgement that the face guard's finding on a photo is a false positive."""

    reviewed_by: str
    reason: str
    line: int


@dataclass(frozen=True)
class ImageRef:
    """One photo file of a pair, with the boxes that apply to it."""

    src: str
    path: Path
    alt: str
    crop: Box | None
    redact: tuple[Box, ...]
    line: int
    face_review: FaceReview | None = None
    alt_line: int = 0  # the line of its alt text, which errors about that text name


@dataclass(frozen=True)
class PhotoPair:
    """A before and an after photo of the same view."""

    view: str
    before: ImageRef
    after: ImageRef
    edits: tuple[Edit, ...]
    line: int

    @property
    def images(self) -> tuple[ImageRef, ImageRef]:
        return (self.before, self.after)


@dataclass(frozen=True)
class Case:
    """One published before/after case, tied to one consent."""

    id: str
    file: str
    line: int
    consent_id: str | None
    treatment: str | None
    area: str | None = None
    procedures: tuple[str, ...] = ()
    sessions: int | None = None
    time_after: str | None = None
    treated_on: Any = None
    shows: dict[str, bool] = field(default_factory=dict)
    caption: str | None = None
    testimonial: str | None = None
    model: bool = False  # the person shown is a model, not a patient of the clinic
    patient_ref: str | None = None  # pseudonymous, never published: binds the case to a treatment-scoped release
    allowed_claims: tuple[tuple[str, str], ...] = ()  # (phrase, reason) exempt from the claims lint
    photos: tuple[PhotoPair, ...] = ()
    lines: dict[str, int] = field(default_factory=dict)
    layout: str | None = None  # side-by-side | slider; None follows the site-wide `slider` option
    entry: Mapping[str, Any] = field(default_factory=dict)  # the case as written in the manifest (what an approval covers)

    def where(self, key: str = "") -> Where:
        """The place of this case, or of one of its fields, in the manifest."""
        return Where(self.file, self.lines.get(key, self.line), f"case {self.id}" + (f".{key}" if key else ""))

    def image_refs(self) -> Iterator[ImageRef]:
        for pair in self.photos:
            yield from pair.images


@dataclass
class Manifest:
    """Treatments and cases in manifest order, plus every problem found loading them."""

    file: str
    photos_root: Path
    treatments: dict[str, Treatment] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    loaded: bool = False
    # Every file a `src:` names or, when it names none, the one its error suggests: such a file is not "unlisted"
    # (CG107) even when its entry could not be loaded, since that entry's own error already explains it.
    mentioned: set[Path] = field(default_factory=set)
    # The files some `src:` names exactly: a "did you mean" never points at one of them, which belong to a case already.
    named: set[Path] = field(default_factory=set)


def load_manifest(path: Path, shown: str, project_root: Path, photos_root: Path) -> Manifest:
    """Load and validate the manifest; photo paths are relative to `photos_root`."""
    manifest = Manifest(shown, photos_root)
    data, problems = load_yaml(path, shown)
    manifest.violations.extend(problems)
    if data is None:
        if not problems:
            manifest.violations.append(Violation(CG102, Where(shown, 1), "the manifest is empty", "add 'treatments:' and 'cases:'"))
        return manifest
    if not isinstance(data, LocatedMap):
        manifest.violations.append(
            Violation(CG103, Where(shown, 1), "the manifest must be a mapping", "start with 'treatments:' and 'cases:'")
        )
        return manifest
    top = Fields(data, shown, "", manifest.violations)
    top.reject_unknown({"treatments", "cases"})
    treatments = top.mapping("treatments", required=True)
    if treatments:
        for key in treatments.data:
            _load_treatment(manifest, treatments, key)
    listed = top.items("cases", required=True) or []
    for item, _ in listed:
        if isinstance(item, LocatedMap):
            manifest.named.update(_named_photos(item, manifest.photos_root, project_root, None))
    for item, line in listed:
        if not isinstance(item, LocatedMap):
            manifest.violations.append(Violation(CG103, Where(shown, line, "cases"), "each case must be a mapping", "write '- id: ...'"))
            continue
        manifest.mentioned.update(_named_photos(item, manifest.photos_root, project_root, manifest.named))
        case = _load_case(manifest, item, project_root)
        if case is None:
            continue
        if case.id in manifest.cases:
            first = manifest.cases[case.id]
            manifest.violations.append(
                Violation(
                    CG104,
                    case.where("id"),
                    f"case id '{case.id}' is used twice (first on line {first.line})",
                    "give each case its own id",
                    case.id,
                )
            )
            continue
        manifest.cases[case.id] = case
    manifest.loaded = True
    _check_case_clashes(manifest)
    _check_unlisted_photos(manifest, project_root)
    return manifest


def _load_treatment(manifest: Manifest, treatments: Fields, key: str) -> None:
    entry = treatments.mapping(key)
    if entry is None:
        return
    entry.reject_unknown({"title", "typical_results", "substantiation", "area", "risks", "allow_claims"})
    if not _valid_key(key):
        entry.problem(CG103, "", f"treatment key '{key}' is not a valid id", "use ASCII letters, digits, '.', '_' and '-'")
    manifest.treatments[key] = Treatment(
        key=key,
        title=entry.text("title") or key,
        typical_results=entry.text("typical_results"),
        line=treatments.line(key),
        risks=entry.text("risks"),
        allowed_claims=_allowed_claims(entry),
    )


def _valid_key(key: str) -> bool:
    from .fields import ID_PATTERN

    return bool(ID_PATTERN.match(key))


def _load_case(manifest: Manifest, data: LocatedMap, project_root: Path) -> Case | None:
    fields = Fields(data, manifest.file, "case", manifest.violations)
    case_id = fields.identifier("id", required=True, fix="add 'id: <public slug>' such as lips-003")
    if case_id is None:
        return None
    fields = Fields(data, manifest.file, f"case {case_id}", manifest.violations, case=case_id)
    fields.reject_unknown(CASE_KEYS)
    treatment = fields.identifier("treatment", required=True, fix="name one of the keys under 'treatments:'")
    if treatment is not None and treatment not in manifest.treatments:
        fields.problem(
            CG110,
            "treatment",
            f"treatment '{treatment}' is not defined under 'treatments:'",
            did_you_mean(treatment, manifest.treatments).strip() or f"add '{treatment}:' under 'treatments:' or fix the name",
        )
    shows: dict[str, bool] = {}
    shows_fields = fields.mapping("shows", required=True)
    if shows_fields:
        shows_fields.reject_unknown(SHOWS_KEYS)
        for key in SHOWS_KEYS:
            value = shows_fields.boolean(key, required=True)
            # Identifiability is an explicit declaration: a missing answer is CG102, which stops the build, and is
            # left out here rather than read as "yes", so that it is not reported again as CG209.
            if value is not None:
                shows[key] = value
    photos: list[PhotoPair] = []
    views: dict[str, int] = {}
    listed = fields.items("photos", required=True)
    for item, line in listed or []:
        pair = _load_pair(manifest, fields, item, line, project_root)
        if pair is None:
            continue
        if pair.view in views:
            fields.sink.append(
                Violation(
                    CG104,
                    Where(manifest.file, pair.line, f"case {case_id}.photos.view"),
                    f"view '{pair.view}' appears twice (first on line {views[pair.view]})",
                    "give each view of a case its own label",
                    case_id,
                )
            )
            continue
        views[pair.view] = pair.line
        photos.append(pair)
    if listed == []:  # an entry that could not be loaded has its own error: this one is for an empty list only
        fields.problem(CG102, "photos", "the case has no photos", "add at least one before/after pair")
    layout = fields.text("layout")
    if layout is not None and layout not in LAYOUTS:
        fields.problem(
            CG103,
            "layout",
            f"layout '{layout}' is not known",
            "write 'layout: slider' or 'layout: side-by-side', or leave it out to follow the site's 'slider' option",
        )
        layout = None
    consent = data.get("consent")
    return Case(
        id=case_id,
        file=manifest.file,
        line=data.line,
        # An unusable consent value is reported by the policy as CG201, as the spec decides.
        consent_id=consent.strip() if isinstance(consent, str) and consent.strip() else None,
        treatment=treatment,
        area=fields.text("area"),
        procedures=fields.texts("procedures") or (),
        sessions=fields.integer("sessions", minimum=1),
        time_after=fields.text("time_after"),
        treated_on=fields.date("treated_on"),
        shows=shows,
        caption=fields.text("caption"),
        testimonial=fields.text("testimonial"),
        model=bool(fields.boolean("model", default=False)),
        patient_ref=fields.text("patient_ref"),
        allowed_claims=_allowed_claims(fields),
        photos=tuple(photos),
        lines=dict(data.key_lines),
        layout=layout,
        entry=data,
    )


def _load_pair(manifest: Manifest, case_fields: Fields, item: object, line: int, project_root: Path) -> PhotoPair | None:
    if not isinstance(item, LocatedMap):
        case_fields.sink.append(
            Violation(
                CG103,
                Where(manifest.file, line, f"{case_fields.path}.photos"),
                "each photo entry must be a mapping",
                "write '- view: front' with 'before:' and 'after:'",
                case_fields.case,
            )
        )
        return None
    fields = Fields(item, manifest.file, f"{case_fields.path}.photos", manifest.violations, case_fields.case)
    fields.reject_unknown(PHOTO_KEYS)
    view = fields.text("view", required=True, fix="add 'view: front' (or left, right, oblique-left, ...)")
    crop = _box(fields, "crop")
    redact = _boxes(fields, "redact")
    review = _face_review(fields)
    edits = _edits(fields)
    before = _load_image(manifest, fields, "before", crop, redact, review, project_root)
    after = _load_image(manifest, fields, "after", crop, redact, review, project_root)
    if view is None or before is None or after is None:
        return None
    return PhotoPair(view=view, before=before, after=after, edits=edits, line=line)


def _load_image(
    manifest: Manifest,
    pair: Fields,
    key: str,
    crop: Box | None,
    redact: tuple[Box, ...],
    review: FaceReview | None,
    project_root: Path,
) -> ImageRef | None:
    fields = pair.mapping(key, required=True)
    if fields is None:
        return None
    fields.reject_unknown(IMAGE_KEYS)
    src = fields.text("src", required=True, fix=f"add 'src: photos/<file>' for the {key} photo")
    alt = fields.text(
        "alt", required=True, fix=f"describe the {key} photo for people who cannot see it, e.g. 'Lips {key} treatment, front view'"
    )
    own_crop = _box(fields, "crop") if "crop" in fields.data else crop
    own_redact = _boxes(fields, "redact") if "redact" in fields.data else redact
    own_review = _face_review(fields) if "face_check" in fields.data else review
    if src is None or alt is None:
        return None
    path = _resolve_photo(fields, src, manifest.photos_root, project_root, manifest.named)
    if path is None:
        return None
    return ImageRef(
        src=src,
        path=path,
        alt=alt,
        crop=own_crop,
        redact=own_redact,
        line=fields.line("src"),
        face_review=own_review,
        alt_line=fields.line("alt"),
    )


def _resolve_photo(fields: Fields, src: str, photos_root: Path, project_root: Path, taken: set[Path]) -> Path | None:
    """The real path of a photo, refusing anything that could reach outside the project."""
    if "\\" in src:
        fields.problem(CG106, "src", f"'{src}' uses backslashes", "write paths with forward slashes: photos/lips-003-before.jpg")
        return None
    posix = PurePosixPath(src)
    if posix.is_absolute() or (len(src) > 1 and src[1] == ":"):
        fields.problem(CG106, "src", f"'{src}' is an absolute path", "write the path relative to the manifest's folder")
        return None
    if ".." in posix.parts:
        fields.problem(CG106, "src", f"'{src}' contains '..'", "keep photos inside the photo folder and write the path without '..'")
        return None
    candidate = photos_root / posix
    try:
        real = candidate.resolve(strict=True)
    except FileNotFoundError:
        suggestion = suggest_photo(src, photos_root, project_root, taken)
        fix = "check the file name and its folder, or remove the photo from the manifest"
        if suggestion is not None:
            fix = f"did you mean '{suggestion[0]}'? {suggestion[2]}"
        fields.problem(CG105, "src", f"photo '{src}' does not exist (looked for {display_path(candidate, project_root)})", fix)
        return None
    except (OSError, RuntimeError) as error:
        fields.problem(CG105, "src", f"photo '{src}' cannot be opened: {error}", "check the file")
        return None
    if not real.is_relative_to(project_root.resolve()):
        fields.problem(
            CG106,
            "src",
            f"'{src}' leads outside the project (to {real})",
            "copy the photo into the project's photo folder instead of linking to it",
        )
        return None
    if not real.is_file():
        fields.problem(CG105, "src", f"'{src}' is not a file", "point 'src' at a photo file")
        return None
    return real


def suggest_photo(src: str, photos_root: Path, project_root: Path, taken: set[Path] | None = None) -> tuple[str, Path, str] | None:
    """The photo a missing `src` most likely means: (the src to write, the file, why), or None.

    Files in `taken` (named exactly by some entry: another case's photos) are never suggested: in a folder of
    lips-001-before.jpg, lips-002-before.jpg, ... a mistyped case id must not lead to another patient's photo.

    Tried in order: the path written relative to mkdocs.yml instead of the photo folder; the same path in other
    letter case (a photo renamed .JPG); the one file of that name elsewhere in the photo folder (moved into a
    folder); a close spelling of a photo in the same folder.
    """
    posix = PurePosixPath(src)
    if posix.is_absolute() or ".." in posix.parts or "\\" in src:
        return None
    root = photos_root.resolve()
    taken = taken or set()
    from_project = (project_root / posix).resolve()
    if from_project.is_file() and from_project.is_relative_to(root) and from_project not in taken:
        written = from_project.relative_to(root).as_posix()
        return (
            written,
            from_project,
            f"photo paths are relative to the photo folder ({display_path(root, project_root.resolve())}), not to mkdocs.yml",
        )
    photos = [path for path in _photo_files(root) if path.resolve() not in taken]
    wanted = posix.as_posix().casefold()
    same_but_case = [path for path in photos if path.relative_to(root).as_posix().casefold() == wanted]
    if len(same_but_case) == 1:
        return same_but_case[0].relative_to(root).as_posix(), same_but_case[0], "file names are matched exactly, letter case included"
    same_name = [path for path in photos if path.name.casefold() == posix.name.casefold()]
    if len(same_name) == 1:
        return same_name[0].relative_to(root).as_posix(), same_name[0], "a file of that name is in another folder of the photo folder"
    # A close spelling only in the same folder: per-case folders hold files of the same names, and a suggestion must
    # never lead to another patient's photo.
    folder = (root / posix).parent
    relative = {path.relative_to(root).as_posix(): path for path in photos if path.parent == folder}
    close = difflib.get_close_matches(posix.as_posix(), list(relative), n=1, cutoff=0.8)
    if close:
        return close[0], relative[close[0]], "it is the closest name in that folder"
    return None


def _photo_files(root: Path, limit: int = 20_000) -> list[Path]:
    """The photo files under `root` (hidden folders skipped), at most `limit` of them."""
    found: list[Path] = []
    if not root.is_dir():
        return found
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder) / name for name in sorted(names) if Path(name).suffix.lower() in PHOTO_SUFFIXES)
        if len(found) >= limit:
            break
    return found


def _named_photos(case: LocatedMap, photos_root: Path, project_root: Path, taken: set[Path] | None) -> set[Path]:
    """The files the `src:` entries of one case name, however broken the rest of the case is: as written and, unless
    `taken` is None (exact names only), as their error will suggest."""
    named: set[Path] = set()
    pairs = case.get("photos")
    for pair in pairs if isinstance(pairs, list) else []:
        for key in ("before", "after"):
            entry = pair.get(key) if isinstance(pair, dict) else None
            src = entry.get("src") if isinstance(entry, dict) else None
            if not isinstance(src, str) or not src.strip():
                continue
            candidate = photos_root / src.strip()
            if "\\" not in src and candidate.is_file():
                named.add(candidate.resolve())
                continue
            if taken is None:
                continue
            suggestion = suggest_photo(src.strip(), photos_root, project_root, taken)
            if suggestion is not None:
                named.add(suggestion[1].resolve())
    return named


def _box(fields: Fields, key: str) -> Box | None:
    value = fields.data.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 4
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in value)
        or value[0] < 0
        or value[1] < 0
        or value[2] <= 0
        or value[3] <= 0
    ):
        fields.problem(
            CG103,
            key,
            f"'{key}' must be [x, y, width, height] in whole pixels, width and height above 0",
            f"write e.g. '{key}: [120, 80, 1600, 1067]'",
        )
        return None
    return (value[0], value[1], value[2], value[3])


def _boxes(fields: Fields, key: str) -> tuple[Box, ...]:
    value = fields.data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        fields.problem(CG103, key, f"'{key}' must be a list of [x, y, width, height] boxes", f"write e.g. '{key}: [[40, 30, 200, 80]]'")
        return ()
    boxes = []
    for index, item in enumerate(value):
        box = _box(Fields(_wrap(item, fields.line(key)), fields.file, f"{fields.path}.{key}[{index}]", fields.sink, fields.case), "box")
        if box is not None:
            boxes.append(box)
    return tuple(boxes)


def _wrap(value: object, line: int) -> LocatedMap:
    wrapper = LocatedMap(box=value)
    wrapper.line = line
    wrapper.key_lines = {"box": line}
    return wrapper


def _face_review(fields: Fields) -> FaceReview | None:
    """`face_check: {reviewed_by, reason}`: both named, so a suppressed CG209 always has an owner and a reason."""
    entry = fields.mapping("face_check")
    if entry is None:
        return None
    entry.reject_unknown(FACE_CHECK_KEYS)
    reviewed_by = entry.text("reviewed_by", required=True, fix="name the person who looked at the photo: 'reviewed_by: Dr Lee'")
    reason = entry.text(
        "reason", required=True, fix="say why no face is identifiable, e.g. 'the detection is a pattern on the gown' (it is recorded)"
    )
    if reviewed_by is None or reason is None:
        return None
    return FaceReview(reviewed_by, reason, fields.line("face_check"))


def _edits(fields: Fields) -> tuple[Edit, ...]:
    result = []
    for item, line in fields.items("edits") or []:
        kind, note = (item, "") if isinstance(item, str) else (None, "")
        if isinstance(item, LocatedMap):
            entry = Fields(item, fields.file, f"{fields.path}.edits", fields.sink, fields.case)
            entry.reject_unknown({"kind", "note"})
            kind, note = entry.text("kind", required=True), entry.text("note") or ""
        if kind not in EDIT_KINDS:
            fields.sink.append(
                Violation(
                    CG103,
                    Where(fields.file, line, f"{fields.path}.edits"),
                    f"edit {kind!r} is not a known kind",
                    f"use one of: {', '.join(EDIT_KINDS)}",
                    fields.case,
                )
            )
            continue
        result.append(Edit(str(kind), note))
    return tuple(result)


def _allowed_claims(fields: Fields) -> tuple[tuple[str, str], ...]:
    """`allow_claims: [{phrase, reason}]`: a phrase that reads like a promise but is not one here."""
    result = []
    for item, line in fields.items("allow_claims") or []:
        if not isinstance(item, LocatedMap):
            fields.sink.append(
                Violation(
                    CG103,
                    Where(fields.file, line, f"{fields.path}.allow_claims"),
                    "each entry needs a phrase and a reason",
                    "write '- {phrase: ..., reason: ...}'",
                    fields.case,
                )
            )
            continue
        entry = Fields(item, fields.file, f"{fields.path}.allow_claims", fields.sink, fields.case)
        entry.reject_unknown({"phrase", "reason"})
        phrase = entry.text("phrase", required=True)
        reason = entry.text("reason", required=True, fix="say why this phrase is not a promise of results (it is recorded)")
        if phrase and reason:
            result.append((phrase, reason))
    return tuple(result)


def _check_case_clashes(manifest: Manifest) -> None:
    """CG104 for photo paths that differ only in letter case: one file on Windows, macOS and many servers."""
    seen: dict[str, tuple[str, int]] = {}
    for case in manifest.cases.values():
        for ref in case.image_refs():
            folded = ref.src.casefold()
            first = seen.setdefault(folded, (ref.src, ref.line))
            if first[0] != ref.src:
                manifest.violations.append(
                    Violation(
                        CG104,
                        Where(manifest.file, ref.line, f"case {case.id}.photos"),
                        f"'{ref.src}' and '{first[0]}' (line {first[1]}) differ only in letter case",
                        "rename one of the files: on a case-insensitive disk or server they are the same file",
                        case.id,
                    )
                )


def _check_unlisted_photos(manifest: Manifest, project_root: Path) -> None:
    """CG107 for every photo file in the photo folder that no case lists (or names in an entry with an error)."""
    listed = {ref.path for case in manifest.cases.values() for ref in case.image_refs()} | manifest.mentioned
    root = manifest.photos_root
    if not root.is_dir():
        return
    for path in _photo_files(root, limit=10**9):
        if path.resolve() in listed:
            continue
        hint = _shared_listing_hint(manifest, path)
        manifest.violations.append(
            Violation(
                CG107,
                Where(display_path(path, project_root)),
                "photo is in the photo folder but no case lists it",
                hint
                or "add it to a case in the manifest, or move it out of the photo folder (an unlisted photo is a raw patient file left lying next to published ones)",
            )
        )


def _shared_listing_hint(manifest: Manifest, unlisted: Path) -> str:
    """A did-you-mean for an unlisted photo: a case that lists another case's photo of a close name, in its place."""
    listings: dict[Path, list[tuple[Case, ImageRef]]] = {}
    for case in manifest.cases.values():
        for ref in case.image_refs():
            listings.setdefault(ref.path, []).append((case, ref))
    for path, uses in listings.items():
        cases = {case.id for case, _ in uses}
        if len(cases) < 2 or difflib.SequenceMatcher(None, path.name, unlisted.name).ratio() < 0.8:
            continue
        for case, ref in uses:
            # The case whose id the unlisted file's name carries is the one that means it.
            if case.id in unlisted.name and case.id not in path.name:
                written = unlisted.resolve().relative_to(manifest.photos_root.resolve()).as_posix()
                others = ", ".join(sorted(cases - {case.id}))
                return f"did you mean '{written}'? case {case.id} ({manifest.file}:{ref.line}) lists '{ref.src}', a photo of case {others}"
    return ""
