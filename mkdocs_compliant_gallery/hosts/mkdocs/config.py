"""The plugin's options in mkdocs.yml (typed, validated by MkDocs before the build starts)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from mkdocs.config import config_options as opt
from mkdocs.config.base import BaseConfigOption, Config, ValidationError

CHANNELS = ("website", "social", "paid_ads", "email", "print", "in_office", "directories")
JURISDICTIONS = ("US", "US-CA", "US-NY", "US-TX", "CA-ON", "AU", "EU", "UK")
FORMATS = ("avif", "webp", "jpeg")


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


class GalleryConfig(Config):  # type: ignore[no-untyped-call]
    """Options of the `compliant-gallery` plugin; paths are relative to mkdocs.yml."""

    enabled = opt.Type(bool, default=True)

    # Inputs
    manifest = opt.Type(str, default="gallery/manifest.yml")
    consents = opt.Type(str, default="gallery/consents.yml")
    photos = opt.Optional(opt.Type(str))  # default: the manifest's folder

    # Rules
    channel = opt.Choice(CHANNELS, default="website")
    jurisdictions = opt.ListOfItems(opt.Choice(JURISDICTIONS), default=["US"])
    expiry_warning_days = opt.Type(int, default=30)
    on_withdrawn = opt.Choice(("remove", "fail"), default="remove")
    timezone = TimeZone()
    build_date = BuildDate()
    practitioner_registration = opt.Optional(opt.Type(str))  # shown on every card under the AU pack
    claims_forbidden = opt.ListOfItems(opt.Type(str), default=[])  # words added to the guarantee-language list
    face_guard = opt.Type(bool, default=True)  # scan photos whose release forbids the face; off: warned and recorded

    # Images
    widths = Widths(default=[480, 960, 1600])
    formats = Formats(default=["avif", "webp", "jpeg"])
    jpeg_quality = opt.Type(int, default=82)
    webp_quality = opt.Type(int, default=80)
    avif_quality = opt.Type(int, default=60)
    max_pixels = opt.Type(int, default=100_000_000)
    workers = opt.Type(int, default=0)  # 0: one per CPU

    # Presentation
    slider = opt.Type(bool, default=True)  # before/after slider over side by side (a case's `layout` overrides)
    filter = opt.Type(bool, default=True)  # treatment filter buttons above a gallery of several treatments
    pages = opt.Type(bool, default=False)  # generate an index of treatments and one page per treatment
    pages_dir = SiteFolder(default="results")  # where generated pages go, inside the site

    # Places, next to mkdocs.yml
    cache_dir = opt.Type(str, default=".cache/plugin/compliant-gallery")
    compliance_dir = opt.Type(str, default=".compliance")


def option_names() -> list[str]:
    """Every option name, for "did you mean" hints."""
    names: list[Any] = [name for name, _ in GalleryConfig._schema]
    return [str(n) for n in names]
