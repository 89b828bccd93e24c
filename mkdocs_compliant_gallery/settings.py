"""What a build is asked to do, without any host: the vocabulary of the options and every default, once.

A host (the MkDocs plugin, the CLI, a future one) reads its own configuration format and builds `Settings`;
its option defaults come from here (`default_of`), so a default is never written twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .violations import display_path

CHANNELS = ("website", "social", "paid_ads", "email", "print", "in_office", "directories")
JURISDICTIONS = ("US", "US-CA", "US-NY", "US-TX", "CA-ON", "AU", "EU", "UK")
FORMATS = ("avif", "webp", "jpeg")  # the <img> fallback, jpeg, is always among the outputs
# `filter`: beauty or skin-smoothing filters; `generated`: pixels made or altered by generative AI (always refused).
EDIT_KINDS = ("exposure", "white-balance", "colour", "sharpen", "retouch", "composite", "background", "filter", "generated")
# What a face in a site image outside the gallery does (CG310): a warning, or an error that stops the build.
OTHER_IMAGES = ("warn", "fail")
ORIGINALS_IN_GIT = ("warn", "private", "synthetic")

# Where things are, relative to the project (the folder of mkdocs.yml) unless a host is told otherwise.
MANIFEST = "gallery/manifest.yml"
CONSENTS = "gallery/consents.yml"
APPROVALS = "gallery/approvals.yml"
CACHE_DIR = ".cache/plugin/compliant-gallery"
COMPLIANCE_DIR = ".compliance"
IMAGE_FOLDER = "assets/compliant-gallery/img"  # inside the site
APPROVAL_MODES = ("required", "off")  # `approval: required` publishes only cases approved as they are now


@dataclass(frozen=True)
class ReviewedImage:
    """A site image outside the gallery that a person checked (a staff portrait, say): faces in it are allowed.

    `path` is the image's path in the site (for a file of docs_dir, its path there); `sha256`, when given, binds
    the review to those exact bytes, so a replaced file is checked again.
    """

    path: str
    reviewed_by: str
    reason: str = ""
    sha256: str = ""


@dataclass(frozen=True)
class ImageSettings:
    """Everything that changes the bytes of an output; part of every cache key."""

    widths: tuple[int, ...] = (480, 960, 1600)
    formats: tuple[str, ...] = FORMATS
    jpeg_quality: int = 82
    webp_quality: int = 80
    avif_quality: int = 60
    max_pixels: int = 100_000_000


@dataclass(frozen=True)
class Settings:
    """Everything a build needs, with paths already resolved against the project root."""

    project_root: Path
    manifest: Path
    consents: Path
    photos: Path
    build_date: dt.date
    channel: str = "website"
    # No default: a clinic that forgot its state's pack would silently get weaker rules. Empty fails the build (CG102).
    jurisdictions: tuple[str, ...] = ()
    expiry_warning_days: int = 30
    fail_on_withdrawn: bool = False
    images: ImageSettings = field(default_factory=ImageSettings)
    cache_dir: Path = Path(CACHE_DIR)
    compliance_dir: Path = Path(COMPLIANCE_DIR)
    workers: int = 0  # 0: one per CPU
    practitioner_registration: str | None = None  # shown on every card under the AU pack
    claims_forbidden: tuple[str, ...] = ()  # the clinic's own words, added to the built-in guarantee words
    face_guard: bool = True  # scan photos whose release does not allow the face (CG209); off is logged and recorded
    approval: str = "required"  # or "off": publish without the approval gate (CG406); off is logged and recorded
    approvals: Path | None = None  # the approvals file; None: APPROVALS in the project
    approvers: tuple[str, ...] = ()  # who may approve; empty: anyone
    # What the `compliant-gallery` command needs to find this project (" -f site/mkdocs.yml"), so messages can
    # name a command that works where the build ran; "" when it is ./mkdocs.yml.
    cli_config: str = ""
    site_url: str | None = None  # the deployed site's root URL, for the absolute URLs of takedown receipts
    # Whether gallery inputs may be tracked by git: "warn" (CG115 on every build), or the clinic's declaration that the
    # repository is "private" and access-controlled (an info line), or that the tracked files are "synthetic" (a demo).
    originals_in_git: str = "warn"
    other_images: str = "warn"  # a face in a site image outside the gallery (CG310): warn, or fail the build
    other_images_reviewed: tuple[ReviewedImage, ...] = ()  # images outside the gallery a person checked

    @property
    def approvals_file(self) -> Path:
        """Where approvals are kept: the `approvals` option, else gallery/approvals.yml next to mkdocs.yml."""
        return self.approvals if self.approvals is not None else self.project_root / APPROVALS

    @property
    def approval_required(self) -> bool:
        return self.approval != "off"

    def relative(self, path: Path) -> str:
        """A path as the user wrote it: relative to the project when inside it."""
        return display_path(path, self.project_root)


def default_of(settings_type: type[Settings] | type[ImageSettings], name: str) -> Any:
    """The default of one field of `Settings` or `ImageSettings`, for a host's option declarations."""
    declared = {item.name: item for item in dataclasses.fields(settings_type)}[name]
    if declared.default_factory is not dataclasses.MISSING:
        return declared.default_factory()
    return declared.default


def resolve_build_date(explicit: dt.date | None, timezone: str | None, environ: dict[str, str] | None = None) -> dt.date:
    """The build date: explicit, else SOURCE_DATE_EPOCH, else today in `timezone` (default: the machine's)."""
    if explicit is not None:
        return explicit
    environ = dict(os.environ) if environ is None else environ
    zone = zoneinfo.ZoneInfo(timezone) if timezone else None
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        moment = dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
        return moment.astimezone(zone).date() if zone else moment.date()
    return dt.datetime.now(zone).date() if zone else dt.date.today()
