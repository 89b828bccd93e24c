"""What the test modules share: the clinic project built in a temp dir, its records, and small helpers.

Test modules import from here (and from `tests.photos` and `tests.canaries`), never from each other; the
fixtures that use these live in conftest.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, MkDocsException
from PIL import Image, ImageOps, UnidentifiedImageError

from mkdocs_compliant_gallery.images.cache import sha256_file
from mkdocs_compliant_gallery.records.approvals import NewApproval, append_approvals, case_content
from mkdocs_compliant_gallery.records.fhir import (
    ACT_REASON_SYSTEM,
    CASE_SYSTEM,
    CHANNEL_SYSTEM,
    CONSENT_ACTION_SYSTEM,
    EXTENSION_BASE,
    PARTICIPATION_SYSTEM,
)
from mkdocs_compliant_gallery.records.manifest import load_manifest
from mkdocs_compliant_gallery.records.register import load_register
from tests import HOST
from tests.photos import write_photo

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
BUILD_DATE = "2026-11-23"
APPROVER = "Test Reviewer"
# The command line of the host under test, for tests that run it as a user would.
HOST_CLI = [sys.executable, "-m", HOST]

# exiftool (-a -G1) tags that describe the file itself; anything else is metadata that must not be there.
STRUCTURAL_GROUPS = {"SourceFile", "ExifTool", "System", "File", "JFIF", "RIFF", "PNG", "Composite"}
AVIF_STRUCTURAL_TAGS = {
    f"QuickTime:{tag}"
    for tag in [
        "MajorBrand",
        "MinorVersion",
        "CompatibleBrands",
        "HandlerType",
        "ImageSpatialExtent",
        "ImagePixelDepth",
        "AV1ConfigurationVersion",
        "ChromaFormat",
        "ChromaSamplePosition",
        "ColorProfiles",
        "ColorPrimaries",
        "TransferCharacteristics",
        "MatrixCoefficients",
        "VideoFullRangeFlag",
        "MediaDataSize",
        "MediaDataOffset",
        "MediaData",
        "PixelAspectRatio",
    ]
} | {"Meta:PrimaryItemReference"}
# git as a clinic's machine runs it, without the user's settings (signing, hooks) in the way.
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Clinic web team",
    "GIT_AUTHOR_EMAIL": "web@clinic.example",
    "GIT_COMMITTER_NAME": "Clinic web team",
    "GIT_COMMITTER_EMAIL": "web@clinic.example",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(*args: str, cwd: Path, input_text: str | None = None) -> str:
    """Run git in `cwd` (with `input_text` on its standard input); its output, and an exception when it fails."""
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True, input=input_text).stdout


def cli_in_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`compliant-gallery ARGS` in `cwd`, with git as GIT_ENV sets it up (for the commands that read the repository)."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs_compliant_gallery", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, timeout=300
    )


TREATMENTS: dict[str, Any] = {
    "lip-filler": {
        "title": "Lip filler",
        "typical_results": "Most patients see fuller lips for 6 to 12 months.",
        "substantiation": "internal review n=40",
    },
    "wrinkle-relaxer": {
        "title": "Wrinkle relaxer",
        "typical_results": "Most patients see softer lines for 3 to 4 months.",
    },
}


def case(case_id: str, consent: str, treatment: str = "lip-filler") -> dict[str, Any]:
    return {
        "id": case_id,
        "consent": consent,
        "treatment": treatment,
        "procedures": ["hyaluronic acid filler"],
        "sessions": 1,
        "time_after": "2 weeks",
        "shows": {"face": False, "name": False, "distinctive_marks": False},
        "caption": f"Caption of {case_id}.",
        "photos": [
            {
                "view": "front",
                "before": {"src": f"photos/{case_id}-before.jpg", "alt": f"{case_id} before, front view"},
                "after": {"src": f"photos/{case_id}-after.jpg", "alt": f"{case_id} after, front view"},
            }
        ],
    }


def consent(consent_id: str, case_id: str, patient_ref: str) -> dict[str, Any]:
    return {
        "id": consent_id,
        "patient_ref": patient_ref,
        "signed_on": "2026-03-02",
        "signer": "patient",
        "expires_on": "2028-03-02",
        "channels": {"permit": ["website", "social"], "deny": ["paid_ads"]},
        "purposes": ["marketing"],
        "scope": {"cases": [case_id]},
        "allows": {"face": False, "name": False, "distinctive_marks": False, "testimonial": False},
        "material_connection": "none",
        "third_party_remuneration": False,
        "statements": {"revocation": True, "conditioning": True, "redisclosure": True},
        "irrevocable": False,
        "revoked_on": None,
        "superseded_by": None,
        "form": {"version": "marketing-release-v3"},
    }


@dataclass
class Result:
    """What a build did: success, the log text, and the site folder."""

    ok: bool
    log: str
    site: Path

    def site_files(self) -> list[Path]:
        return sorted(p for p in self.site.rglob("*") if p.is_file()) if self.site.exists() else []

    def site_text(self) -> str:
        """Every text file of the site concatenated (HTML, search index, sitemap, CSS, JS)."""
        parts = []
        for path in self.site_files():
            if path.suffix in {".html", ".json", ".xml", ".js", ".css", ".txt"}:
                parts.append(path.read_text("utf-8", "replace"))
        return "\n".join(parts)

    def gallery_images(self) -> list[Path]:
        folder = self.site / "assets" / "compliant-gallery" / "img"
        return sorted(folder.iterdir()) if folder.exists() else []


@dataclass
class Project:
    """A clinic site: mkdocs.yml, pages, manifest, register, photos. Mutate, then `build()`."""

    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    consents: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    theme: dict[str, Any] = field(default_factory=lambda: {"name": "mkdocs"})
    plugins_before: list[Any] = field(default_factory=lambda: ["search"])
    manifest_text: str | None = None
    consents_text: str | None = None
    consents_name: str = "consents.yml"
    # Every `write()` approves every case as written (the default `approval: required` path, approved): a test of
    # the approval gate itself sets this False and approves through the CLI.
    approve_all: bool = True

    @property
    def gallery(self) -> Path:
        return self.root / "gallery"

    def photo(self, name: str, **kwargs: Any) -> Path:
        path = self.gallery / "photos" / name
        write_photo(path, **kwargs)
        return path

    def write(self) -> Path:
        (self.root / "docs").mkdir(parents=True, exist_ok=True)
        for name, text in self.pages.items():
            page = self.root / "docs" / name
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(text)
        self.gallery.mkdir(parents=True, exist_ok=True)
        (self.gallery / "manifest.yml").write_text(
            self.manifest_text if self.manifest_text is not None else yaml.safe_dump(self.manifest, sort_keys=False)
        )
        register = self.gallery / self.consents_name
        if self.consents_text is not None:
            register.write_text(self.consents_text)
        elif self.consents_name.endswith((".yml", ".yaml")):
            register.write_text(yaml.safe_dump({"consents": self.consents}, sort_keys=False))
        options = {
            "manifest": "gallery/manifest.yml",
            "consents": f"gallery/{self.consents_name}",
            "build_date": BUILD_DATE,
            "jurisdictions": ["US"],  # required: the build never assumes which laws apply
            "widths": [160, 320],
            "workers": 1,
            **self.options,
        }
        options = {key: value for key, value in options.items() if value is not None}
        config = {
            "site_name": "Test clinic",
            "site_url": "https://clinic.example/",
            "theme": self.theme,
            "plugins": [*self.plugins_before, {"compliant-gallery": options}],
            "markdown_extensions": ["mkdocs_compliant_gallery.tripwire"],
        }
        path = self.root / "mkdocs.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        if self.approve_all:
            self.approve_everything(options)
        return path

    @property
    def approvals(self) -> Path:
        return self.root / str(self.options.get("approvals") or "gallery/approvals.yml")

    def approve_everything(self, options: dict[str, Any]) -> None:
        """A fresh approvals file approving each case of the manifest as it is on disk now (by `APPROVER`)."""
        manifest_path = self.root / str(options["manifest"])
        photos = self.root / str(options["photos"]) if options.get("photos") else manifest_path.parent
        manifest = load_manifest(manifest_path, str(options["manifest"]), self.root, photos)
        register = load_register(self.root / str(options["consents"]), str(options["consents"]))
        self.approvals.unlink(missing_ok=True)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        new = [
            NewApproval(
                case.id,
                APPROVER,
                now,
                case_content(
                    case, manifest.treatments.get(case.treatment or ""), register.consents.get(case.consent_id or ""), sha256_file
                ),
            )
            for case in manifest.cases.values()
        ]
        if new:
            self.approvals.parent.mkdir(parents=True, exist_ok=True)
            append_approvals(self.approvals, "approvals.yml", new)

    def build(self, command: str = "build") -> Result:
        config_file = self.write()
        return run_build(config_file, command)

    def consent(self, consent_id: str) -> dict[str, Any]:
        return next(c for c in self.consents if c["id"] == consent_id)

    def case(self, case_id: str) -> dict[str, Any]:
        return next(c for c in self.manifest["cases"] if c["id"] == case_id)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


class _Capture:
    """Collects the host's log records (ProperDocs logs under `properdocs`, plugins still under `mkdocs`)."""

    def __init__(self) -> None:
        self.handler = _Collect()
        self.loggers = [logging.getLogger(name) for name in dict.fromkeys(("mkdocs", HOST))]
        self.levels = [logger.level for logger in self.loggers]

    def __enter__(self) -> list[str]:
        for logger in self.loggers:
            logger.addHandler(self.handler)
            logger.setLevel(logging.DEBUG)
        return self.handler.lines

    def __exit__(self, *exc: object) -> None:
        for logger, level in zip(self.loggers, self.levels, strict=True):
            logger.removeHandler(self.handler)
            logger.setLevel(level)


def run_build(config_file: Path, command: str = "build", dirty: bool = False) -> Result:
    """A real `mkdocs build` in-process; never raises, returns what happened."""
    site = config_file.parent / "site"
    ok = False
    with _Capture() as lines:
        try:
            config = load_config(config_file=str(config_file), site_dir=str(site))
            config.plugins.on_startup(command=command, dirty=dirty)  # type: ignore[arg-type]
            try:
                build(config, dirty=dirty)
                ok = True
            finally:
                config.plugins.on_shutdown()
        except (Abort, MkDocsException) as error:
            lines.append(f"ERROR: {error}")
    return Result(ok, "\n".join(lines), site)


def run_serve_builds(config_file: Path, between: Callable[[], object]) -> tuple[Result, Result]:
    """Two builds the way `mkdocs serve` makes them: one startup, the config reloaded for the rebuild (plugin
    instances kept), `between` run in between. The second site is copied aside before the first is reported."""
    site = config_file.parent / "site"
    results = []
    with _Capture() as lines:
        config = load_config(config_file=str(config_file), site_dir=str(site))
        config.plugins.on_startup(command="serve", dirty=False)
        try:
            for index in range(2):
                start = len(lines)
                ok = False
                if index:
                    between()
                    config = load_config(config_file=str(config_file), site_dir=str(site))
                try:
                    build(config)
                    ok = True
                except (Abort, MkDocsException) as error:
                    lines.append(f"ERROR: {error}")
                kept = config_file.parent / f"site-{index + 1}"
                if site.exists():
                    shutil.copytree(site, kept)
                results.append(Result(ok, "\n".join(lines[start:]), kept))
        finally:
            config.plugins.on_shutdown()
    return results[0], results[1]


class Cards(HTMLParser):
    """Reads case cards back: id, visible text, image tags."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, dict[str, Any]] = {}
        self.current: str | None = None
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        card = values.get("data-cg-case")
        if card:
            self.current = card
            self.cards[card] = {"text": "", "imgs": [], "sources": []}
            self.depth = 0
        if self.current is None:
            return
        if tag == "article":
            self.depth += 1
        if tag == "img":
            self.cards[self.current]["imgs"].append(values)
        if tag == "source":
            self.cards[self.current]["sources"].append(values)

    def handle_endtag(self, tag: str) -> None:
        if self.current is not None and tag == "article":
            self.depth -= 1
            if self.depth == 0:
                self.current = None

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.cards[self.current]["text"] += data


def cards_of(path: Path) -> dict[str, dict[str, Any]]:
    parser = Cards()
    parser.feed(path.read_text())
    return parser.cards


def assert_nothing_published(site: Path, root: Path) -> None:
    """A failed build leaves nothing of the gallery, and never a raw photo."""
    if not site.exists():
        return
    raw = {p.read_bytes() for p in (root / "gallery" / "photos").glob("*") if p.is_file()}
    for path in site.rglob("*"):
        if not path.is_file():
            continue
        assert "compliant-gallery/img" not in path.as_posix(), f"processed photo left behind: {path}"
        data = path.read_bytes()
        assert data not in raw, f"raw photo in site: {path}"
        if path.suffix == ".html":
            assert b"cg-case" not in data, f"case card left behind in {path}"


# Two pictures whose 16x16 thumbnails differ by less than this (mean absolute difference per channel, 0-255) show the
# same photo: a processed rendition of a test photo stays within ~3 of it, photos of other seeds differ by 20 and more.
SAME_PICTURE = 8.0


def _thumbnail(image: Image.Image) -> list[int]:
    return list(ImageOps.exif_transpose(image).convert("RGB").resize((16, 16)).tobytes())


def assert_case_absent(result: Result, root: Path, case_id: str, texts: Iterable[str] = ()) -> None:
    """Nothing of one case in any file of site/: not its id, caption or alt texts (`texts`), not the bytes of its raw
    photos, and no image (whatever its name or format) whose pixels are one of its photos."""
    raws = sorted((root / "gallery" / "photos").glob(f"{case_id}-*"))
    assert raws, f"no photos of {case_id} to look for"
    raw_bytes = {path.read_bytes() for path in raws}
    pictures = {path.name: _thumbnail(Image.open(path)) for path in raws}
    needles = [case_id.encode(), *(text.encode() for text in texts)]
    for path in result.site_files():
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} of the refused case {case_id} is in {path}"
        assert data not in raw_bytes, f"a raw photo of {case_id} is {path}"
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                seen = _thumbnail(image)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            continue
        for name, picture in pictures.items():
            distance = sum(abs(a - b) for a, b in zip(seen, picture, strict=True)) / len(seen)
            assert distance > SAME_PICTURE, f"{path} shows {name} of the refused case {case_id} (difference {distance:.1f})"


def csv_register(records: list[dict[str, Any]]) -> str:
    """A register as the CSV a spreadsheet exports: nested fields as dotted columns, lists joined with ';', None left empty."""
    rows = []
    for record in records:
        row: dict[str, str] = {}
        for key, value in record.items():
            items = value.items() if isinstance(value, dict) else [("", value)]
            for inner, item in items:
                column = f"{key}.{inner}" if inner else key
                if item is None:
                    continue
                row[column] = ";".join(item) if isinstance(item, list) else str(item).lower() if isinstance(item, bool) else str(item)
        rows.append(row)
    columns = ["id", *sorted({column for row in rows for column in row} - {"id"})]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def fhir_bundle(resources: list[dict[str, Any]]) -> str:
    """A FHIR R4 Bundle of the resources, one key per line (so every element has a line of its own)."""
    entries = [{"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{n:012d}", "resource": r} for n, r in enumerate(resources)]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}, indent=2)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(url: str) -> tuple[int, str]:
    """(status, body) of a GET; (0, "") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def wait_for(predicate: Callable[[], object], seconds: float) -> bool:
    """Poll `predicate` every 0.3 s until it is true (True) or `seconds` have passed (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


# A hook that copies a raw photo into the site behind MkDocs' back, as a careless theme customisation might.
COPYING_HOOK = """
import shutil
from pathlib import Path

from mkdocs.plugins import event_priority


@event_priority({priority})
def on_post_build(config):
    root = Path(config.config_file_path).parent
    shutil.copyfile(root / "gallery" / "photos" / "lips-001-after.jpg", Path(config.site_dir) / "hero.jpg")
"""


def add_copying_hook(project: Project, config_file: Path, priority: int = 0) -> None:
    """Add a hook to mkdocs.yml that copies a raw photo into the site after the build (at `priority`)."""
    hook = project.root / "hooks" / "hero.py"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(COPYING_HOOK.format(priority=priority))
    config = yaml.safe_load(config_file.read_text())
    config["hooks"] = ["hooks/hero.py"]
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def fhir_consent(
    record: dict[str, Any], status: str = "active", last_updated: str | None = None, revoked_on_extension: bool = False
) -> dict[str, Any]:
    """The FHIR R4 Consent equivalent of a YAML register record (as written by `consent`): a field the record lacks
    (or holds as None) is left out of the Consent too. `revoked_on` and `revocation_received_on` become extensions
    with `revoked_on_extension`."""
    extensions: list[dict[str, Any]] = [
        {"url": "http://example.org/fhir/StructureDefinition/some-vendor-flag", "valueBoolean": True},  # foreign: ignored
    ]
    if record.get("allows") is not None:
        parts = [
            {"url": "distinctiveMarks" if key == "distinctive_marks" else key, "valueBoolean": value}
            for key, value in record["allows"].items()
        ]
        extensions.append({"url": f"{EXTENSION_BASE}allows", "extension": parts})
    if record.get("statements") is not None:
        parts = [{"url": key, "valueBoolean": value} for key, value in record["statements"].items()]
        extensions.append({"url": f"{EXTENSION_BASE}statements", "extension": parts})
    for key, name, value_type in (
        ("material_connection", "materialConnection", "valueString"),
        ("third_party_remuneration", "thirdPartyRemuneration", "valueBoolean"),
        ("irrevocable", "irrevocable", "valueBoolean"),
    ):
        if record.get(key) is not None:
            extensions.append({"url": f"{EXTENSION_BASE}{name}", value_type: record[key]})
    for key, name in (("revoked_on", "revokedOn"), ("revocation_received_on", "revocationReceivedOn")):
        if revoked_on_extension and record.get(key):
            extensions.append({"url": f"{EXTENSION_BASE}{name}", "valueDate": record[key]})
    nested = [
        {"type": kind, "code": [{"coding": [{"system": CHANNEL_SYSTEM, "code": channel}]}]}
        for kind in ("permit", "deny")
        for channel in record["channels"].get(kind, [])
    ]
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": record["id"].lower(),
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Marketing release</div>'},
        "extension": extensions,
        "identifier": [{"system": "https://clinic.example/consents", "value": record["id"]}],
        "status": status,
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"identifier": {"system": "https://clinic.example/patients", "value": record["patient_ref"]}},
        "dateTime": f"{record['signed_on']}T10:30:00+01:00",
        "performer": [{"type": "Patient", "identifier": {"system": "https://clinic.example/patients", "value": record["patient_ref"]}}],
        "sourceAttachment": {"title": record["form"]["version"]},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": {
            "type": "permit",
            "period": {"start": record["signed_on"], "end": record["expires_on"]},
            # The clinic as custodian: it holds the photos, so it limits no recipient.
            "actor": [{"role": {"coding": [{"system": PARTICIPATION_SYSTEM, "code": "CST"}]}, "reference": {"display": "Test clinic"}}],
            "action": [{"coding": [{"system": CONSENT_ACTION_SYSTEM, "code": "disclose"}]}],
            "purpose": [{"system": ACT_REASON_SYSTEM, "code": "HMARKT"}],
            "data": [
                {"meaning": "instance", "reference": {"identifier": {"system": CASE_SYSTEM, "value": case_id}}}
                for case_id in record["scope"]["cases"]
            ],
            "provision": nested,
        },
    }
    if last_updated:
        resource["meta"] = {"lastUpdated": last_updated}
    return resource


# -- table rows: a valid project changed by one or more mutations ---------------------------------------------

Mutation = Callable[[Project], None]


def all_of(*mutations: Mutation) -> Mutation:
    """One mutation made of several, applied in order."""

    def mutate(project: Project) -> None:
        for mutation in mutations:
            mutation(project)

    return mutate


def under_packs(*names: str) -> Mutation:
    """The rule packs `names`, with what each asks of an otherwise valid project: AU a registration number, risks
    and the patient's age; EU explicit consent; CA-ON the procedure's date, before the release was signed."""

    def mutate(project: Project) -> None:
        project.options["jurisdictions"] = list(names)
        if "AU" in names:
            project.options["practitioner_registration"] = "MED0001234567"
            for treatment in project.manifest["treatments"].values():
                treatment["risks"] = "Bruising and swelling for a few days."
            for record in project.consents:
                record["subject_age_at_capture"] = 34
        if "EU" in names:
            for record in project.consents:
                record["explicit_consent"] = True
        if "CA-ON" in names:
            for record in project.consents:
                record["procedure_on"] = "2026-02-20"

    return mutate


def gallery_of_single_photos(project: Project, photos: dict[str, str], face_allowed: bool = True, edited: Iterable[str] = ()) -> None:
    """One case per photo, the photo as both before and after, each under its own valid release, all on one page.

    `photos` maps each case id to its photo's `src` (the file already in the photo folder). Tests of the image
    pipeline use it, so the releases allow the face unless `face_allowed` is false; a case in `edited` declares a
    colour edit (its photo was exported from editing software).
    """
    cases, consents = [], []
    for index, (case_id, src) in enumerate(photos.items()):
        pair: dict[str, Any] = {"view": "front", "before": {"src": src, "alt": "before"}, "after": {"src": src, "alt": "after"}}
        if case_id in set(edited):
            pair["edits"] = [{"kind": "colour", "note": "exported from editing software"}]
        shows = {"face": False, "name": False, "distinctive_marks": False}
        cases.append({"id": case_id, "consent": f"C-{index:04d}", "treatment": "t", "shows": shows, "photos": [pair]})
        consents.append(consent(f"C-{index:04d}", case_id, f"P-{index:05d}"))
        consents[-1]["allows"]["face"] = face_allowed
    project.manifest = {"treatments": {"t": {"title": "Test", "typical_results": "Most patients see a change."}}, "cases": cases}
    project.consents = consents
    project.pages = {"index.md": "# All\n\n<!-- compliant-gallery -->\n"}
