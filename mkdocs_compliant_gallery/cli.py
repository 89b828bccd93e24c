"""`compliant-gallery check`: the same engine as the plugin, without building a site."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from mkdocs.config import load_config
from mkdocs.exceptions import ConfigurationError

from .plugin import CompliantGalleryPlugin


def _build(config_file: str):  # type: ignore[no-untyped-def]
    from .engine import GalleryBuild

    config = load_config(config_file=config_file)
    plugin = config.plugins.get("compliant-gallery")
    if not isinstance(plugin, CompliantGalleryPlugin):
        raise SystemExit(f"{config_file}: the compliant-gallery plugin is not listed under 'plugins:'")
    gallery = GalleryBuild(plugin.settings(config))
    gallery.prepare()
    return gallery


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 clean, 1 violations, 2 usage or config error)."""
    parser = argparse.ArgumentParser(prog="compliant-gallery", description="Check a clinic gallery against its consent register.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate manifest, register and photos without building the site")
    check.add_argument("-f", "--config-file", default="mkdocs.yml", help="path to mkdocs.yml (default: ./mkdocs.yml)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    if not Path(args.config_file).is_file():
        print(f"{args.config_file}: no such file", file=sys.stderr)
        return 2
    try:
        gallery = _build(args.config_file)
    except ConfigurationError as error:
        print(f"{args.config_file}: {error}", file=sys.stderr)
        return 2
    errors, warnings, removed = gallery.errors(), gallery.warnings(), gallery.removed()
    if args.format == "json":
        rows = [
            {
                "code": v.code,
                "severity": v.severity.value,
                "file": v.where.file,
                "line": v.where.line,
                "field": v.where.field,
                "case": v.case,
                "message": v.message,
                "fix": v.fix,
            }
            for v in [*errors, *warnings, *removed.values()]
        ]
        print(json.dumps({"ok": not errors, "violations": rows}, indent=2))
    else:
        for violation in [*errors, *warnings]:
            print(f"{violation.severity.value}: {violation.format()}")
        for case_id, reason in removed.items():
            print(f"removed: case {case_id}: {reason.message} ({reason.code})")
        print(f"{len(gallery.published)} cases publishable, {len(removed)} removed, {len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0
