"""The clinic's files as typed records: the gallery manifest and the consent register (YAML, CSV, FHIR).

Loading problems are CG1xx; every record keeps the file and line it came from.
"""
