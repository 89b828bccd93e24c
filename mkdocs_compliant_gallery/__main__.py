"""`python -m mkdocs_compliant_gallery` runs the CLI."""

from .hosts.cli import main

raise SystemExit(main())
