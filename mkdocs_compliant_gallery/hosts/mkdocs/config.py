"""The plugin's options in mkdocs.yml (typed, validated by MkDocs before the build starts)."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import zoneinfo
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as opt
from mkdocs.config.base import BaseConfigOption, Config, ValidationError

from ...settings import (
    APPROVAL_MODES,
    APPROVALS,
    CACHE_DIR,
    CHANNELS,
    COMPLIANCE_DIR,
    CONSENTS,
    FORMATS,
    JURISDICTIONS,
    MANIFEST,
    ORIGINALS_IN_GIT,
    OTHER_IMAGES,
    ImageSettings,
    ReviewedImage,
    Settings,
    default_of,
    resolve_build_date,
)


class BuildDate(BaseConfigOption[dt.date | None]):
    """A fixed build date (YYYY-MM-DD) for tests and reproducible builds."""

    def run_validation(self, value: object) -> dt.date | None:
        if value is None or isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValidationError(f"expected a date written YYYY-MM-DD, got {value!r}")


class TimeZone(BaseConfigOption[str | None]):
    """An IANA time zone name such as America/New_York."""

    def run_validation(self, value: object) -> str | None:
        if value is None:
            return None
        try:
            zoneinfo.ZoneInfo(str(value))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"'{value}' is not an IANA time zone name (e.g. America/New_York)") from None
        return str(value)


class Widths(opt.ListOfItems[int]):
    """Output widths in pixels, each between 16 and 8192."""

    def __init__(self, default: list[int]):
        super().__init__(opt.Type(int), default=default)

    def run_validation(self, value: object) -> list[int]:
        widths = super().run_validation(value)
        if not widths or any(w < 16 or w > 8192 for w in widths):
            raise ValidationError("give at least one width, each between 16 and 8192 pixels")
        return sorted(set(widths))


class Formats(opt.ListOfItems[str]):
    """Output formats; JPEG is always included as the `<img>` fallback."""

    def __init__(self, default: list[str]):
        super().__init__(opt.Choice(FORMATS), default=default)

    def run_validation(self, value: object) -> list[str]:
        formats = super().run_validation(value)
        return [f for f in FORMATS if f in formats or f == "jpeg"]


class SiteFolder(BaseConfigOption[str]):
    """A folder inside the site, written with forward slashes: `results`, `clinic/before-and-after`."""

    def __init__(self, default: str):
        super().__init__()
        self.default = default

    def run_validation(self, value: object) -> str:
        folder = str(value).strip().strip("/")
        parts = folder.split("/")
        if not isinstance(value, str) or not folder or "\\" in folder or any(part in {"", ".", ".."} for part in parts):
            raise ValidationError(f"expected a folder inside the site such as 'results', got {value!r}")
        return folder


class ApprovalMode(BaseConfigOption[str]):
    """`required` or `off`. YAML reads a bare `off` as false (and `on` as true): those mean the same."""

    def __init__(self, default: str):
        super().__init__()
        self.default = default

    def run_validation(self, value: object) -> str:
        if isinstance(value, bool):
            return APPROVAL_MODES[0] if value else "off"
        if isinstance(value, str) and value.strip().lower() in APPROVAL_MODES:
            return value.strip().lower()
        raise ValidationError(f"expected 'required' or 'off', got {value!r}")


class Approvers(opt.ListOfItems[str]):
    """Names of the people who may approve cases; each approval names one of them exactly."""

    def __init__(self) -> None:
        super().__init__(opt.Type(str), default=[])

    def run_validation(self, value: object) -> list[str]:
        names = [name.strip() for name in super().run_validation(value)]
        if any(not name or not name.isprintable() for name in names):
            raise ValidationError("each approver is a name on one line, such as 'Dr Lee'")
        return names


class ReviewedImages(BaseConfigOption[tuple[ReviewedImage, ...]]):
    """`other_images_reviewed`: site images outside the gallery that a person checked, each with who did."""

    KEYS = ("path", "reviewed_by", "reason", "sha256")

    def __init__(self) -> None:
        super().__init__()
        self.default = ()

    def run_validation(self, value: object) -> tuple[ReviewedImage, ...]:
        if value is None:
            return ()
        if not isinstance(value, (list, tuple)):
            raise ValidationError("expected a list of {path: ..., reviewed_by: ..., reason: ...}")
        reviewed = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise ValidationError(f"entry {index + 1}: expected {{path: ..., reviewed_by: ..., reason: ...}}, got {item!r}")
            unknown = sorted(set(map(str, item)) - set(self.KEYS))
            if unknown:
                raise ValidationError(f"entry {index + 1}: CG101 unknown key '{unknown[0]}' (keys: {', '.join(self.KEYS)})")
            for key in ("path", "reviewed_by"):
                if not isinstance(item.get(key), str) or not item[key].strip():
                    raise ValidationError(
                        f"entry {index + 1}: '{key}' is required: the image's path in the site and the person who checked it"
                    )
            reviewed.append(
                ReviewedImage(
                    item["path"].strip(),
                    item["reviewed_by"].strip(),
                    str(item.get("reason") or "").strip(),
                    str(item.get("sha256") or "").strip(),
                )
            )
        return tuple(reviewed)


class GalleryConfig(Config):  # type: ignore[no-untyped-call]
    """Options of the `compliant-gallery` plugin; paths are relative to mkdocs.yml."""

    enabled = opt.Type(bool, default=True)

    # Inputs
    manifest = opt.Type(str, default=MANIFEST)
    consents = opt.Type(str, default=CONSENTS)
    photos = opt.Optional(opt.Type(str))  # default: the manifest's folder

    # Rules
    channel = opt.Choice(CHANNELS, default=default_of(Settings, "channel"))
    # Required, and checked by the engine (CG102) so that `compliant-gallery check` reports it the same way.
    jurisdictions = opt.Optional(opt.ListOfItems(opt.Choice(JURISDICTIONS)))
    expiry_warning_days = opt.Type(int, default=default_of(Settings, "expiry_warning_days"))
    on_withdrawn = opt.Choice(("remove", "fail"), default="remove")
    timezone = TimeZone()
    build_date = BuildDate()
    practitioner_registration = opt.Optional(opt.Type(str))
    claims_forbidden = opt.ListOfItems(opt.Type(str), default=list(default_of(Settings, "claims_forbidden")))
    face_guard = opt.Type(bool, default=default_of(Settings, "face_guard"))
    originals_in_git = opt.Choice(ORIGINALS_IN_GIT, default=default_of(Settings, "originals_in_git"))
    other_images = opt.Choice(OTHER_IMAGES, default=default_of(Settings, "other_images"))  # a face outside the gallery (CG310)
    other_images_reviewed = ReviewedImages()

    # Review: `required` publishes a case only as someone approved it (`compliant-gallery approve`)
    approval = ApprovalMode(default=default_of(Settings, "approval"))
    approvals = opt.Type(str, default=APPROVALS)  # appended by `compliant-gallery approve`; keep it outside docs_dir
    approvers = Approvers()  # who may approve; empty: anyone

    # Images
    widths = Widths(default=list(default_of(ImageSettings, "widths")))
    formats = Formats(default=list(default_of(ImageSettings, "formats")))
    jpeg_quality = opt.Type(int, default=default_of(ImageSettings, "jpeg_quality"))
    webp_quality = opt.Type(int, default=default_of(ImageSettings, "webp_quality"))
    avif_quality = opt.Type(int, default=default_of(ImageSettings, "avif_quality"))
    max_pixels = opt.Type(int, default=default_of(ImageSettings, "max_pixels"))
    workers = opt.Type(int, default=default_of(Settings, "workers"))

    # Presentation
    slider = opt.Type(bool, default=True)  # before/after slider over side by side (a case's `layout` overrides)
    filter = opt.Type(bool, default=True)  # treatment filter buttons above a gallery of several treatments
    pages = opt.Type(bool, default=False)  # generate an index of treatments and one page per treatment
    pages_dir = SiteFolder(default="results")  # where generated pages go, inside the site

    # Places, next to mkdocs.yml
    cache_dir = opt.Type(str, default=CACHE_DIR)
    compliance_dir = opt.Type(str, default=COMPLIANCE_DIR)


def option_names() -> list[str]:
    """Every option name, for "did you mean" hints."""
    names: list[Any] = [name for name, _ in GalleryConfig._schema]
    return [str(n) for n in names]


def settings_from(options: GalleryConfig, config_file: str | None, site_url: str | None = None) -> Settings:
    """Engine settings from the plugin options (and MkDocs' `site_url`), paths resolved next to mkdocs.yml."""
    root = Path(config_file or ".").resolve().parent
    manifest = root / options.manifest
    return Settings(
        project_root=root,
        manifest=manifest,
        consents=root / options.consents,
        photos=(root / options.photos) if options.photos else manifest.parent,
        build_date=resolve_build_date(options.build_date, options.timezone),
        channel=options.channel,
        jurisdictions=tuple(options.jurisdictions or ()),
        expiry_warning_days=options.expiry_warning_days,
        fail_on_withdrawn=options.on_withdrawn == "fail",
        images=ImageSettings(
            widths=tuple(options.widths),
            formats=tuple(options.formats),
            jpeg_quality=options.jpeg_quality,
            webp_quality=options.webp_quality,
            avif_quality=options.avif_quality,
            max_pixels=options.max_pixels,
        ),
        cache_dir=root / options.cache_dir,
        compliance_dir=root / options.compliance_dir,
        workers=options.workers,
        practitioner_registration=options.practitioner_registration,
        claims_forbidden=tuple(options.claims_forbidden),
        face_guard=options.face_guard,
        approval=options.approval,
        approvals=root / options.approvals,
        approvers=tuple(options.approvers),
        cli_config=cli_config_option(config_file),
        site_url=site_url or None,
        originals_in_git=options.originals_in_git,
        other_images=options.other_images,
        other_images_reviewed=tuple(options.other_images_reviewed),
    )


def cli_config_option(config_file: str | None) -> str:
    """` -f <path>` for commands run where this build runs, or "" when the CLI's default (./mkdocs.yml) finds it."""
    if not config_file:
        return ""
    path = Path(config_file).resolve()
    cwd = Path.cwd().resolve()
    if path == cwd / "mkdocs.yml":
        return ""
    shown = os.path.relpath(path, cwd) if path.is_relative_to(cwd) else str(path)
    return f" -f {shlex.quote(shown)}"
