"""apmsock reports: run files -> results.json, JUnit XML, the HTML matrix, the gate."""

SCHEMA_VERSION = "1"


class ReportError(Exception):
    """Bad input: the message says which file and what is wrong."""
