"""`python -m mkdocs_compliant_gallery` runs the CLI."""

from .cli import main

raise SystemExit(main())
