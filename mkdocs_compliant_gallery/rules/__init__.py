"""Pure rules over records: consent (CG2xx), disclosures and claims (CG4xx), jurisdiction packs (CG5xx)."""
