"""apmsock reports: run files -> results.json, JUnit XML, the HTML matrix, the gate."""

import os
import sys

SCHEMA_VERSION = "1"

# The catalogue and the baseline gate are the harness's own code (harness/apmsock_harness),
# so that both suites read the data and gate alike. This package lives in harness/report/,
# so harness/ is two folders up; appended, it shadows nothing (harness/conftest.py included).
_HARNESS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _HARNESS not in sys.path:
    sys.path.append(_HARNESS)


class ReportError(Exception):
    """Bad input: the message says which file and what is wrong."""
