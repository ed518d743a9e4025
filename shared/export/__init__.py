"""Render session results and guide roll-ups as CSV, XLSX and JSON files.

Everything here is a pure function of plain dicts (the contract's JSON export and Roll-up objects,
see docs / contract): no database access, no clock, no globals. The caller builds the dicts, so the
same code serves the REST export, the CLI and the facilitator's download buttons.

Two rules run through every spreadsheet cell written here:

* Comments come from anonymous participants, so any text that a spreadsheet could read as a formula
  (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) gets a leading apostrophe, in CSV and XLSX
  alike, and XLSX strings are always stored with the string type, never as formulas.
* XML 1.0 cannot carry most C0 control characters; openpyxl refuses them, so they are stripped from
  XLSX text (CSV keeps the text verbatim).
"""


from shared.export.cells import PLAIN, Style, filename
from shared.export.rollup import ROLLUP_TABLES, rollup_csv, rollup_tables, rollup_xlsx, rollup_zip
from shared.export.session import SESSION_TABLES, session_csv, session_json, session_tables, session_xlsx, session_zip

__all__ = [
    "PLAIN",
    "ROLLUP_TABLES",
    "SESSION_TABLES",
    "Style",
    "filename",
    "rollup_csv",
    "rollup_tables",
    "rollup_xlsx",
    "rollup_zip",
    "session_csv",
    "session_json",
    "session_tables",
    "session_xlsx",
    "session_zip",
]
