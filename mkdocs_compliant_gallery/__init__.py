"""mkdocs-compliant-gallery: consent-gated before/after galleries for clinic websites."""

__version__ = "0.1.0"
