"""The image pipeline: admission, decoding, redaction, encoding without metadata, cache, pool, face guard (CG3xx, CG209)."""
