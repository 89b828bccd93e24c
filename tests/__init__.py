"""The tests build through the host under test: MkDocs, or ProperDocs with COMPLIANT_GALLERY_HOST=properdocs.

This package is imported before conftest and every test module. ProperDocs' own command line makes every later
`mkdocs.*` import resolve to `properdocs.*` (its `replacement` module); importing that module here does the same
for in-process builds, so the plugin, the fixtures and the tests all run on ProperDocs.
"""

from __future__ import annotations

import importlib
import os

HOST = os.environ.get("COMPLIANT_GALLERY_HOST", "mkdocs")
if HOST == "properdocs":
    importlib.import_module("properdocs.replacement")
elif HOST != "mkdocs":
    raise RuntimeError(f"COMPLIANT_GALLERY_HOST must be 'mkdocs' or 'properdocs', not {HOST!r}")
