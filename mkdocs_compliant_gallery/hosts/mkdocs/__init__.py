"""The MkDocs 1.6 / ProperDocs adapter: typed options, event wiring, and refusals of neighbouring plugins."""
