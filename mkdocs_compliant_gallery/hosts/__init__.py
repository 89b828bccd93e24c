"""Hosts that drive the engine: the MkDocs (and ProperDocs) plugin and the command line. Only here is a site generator known."""
