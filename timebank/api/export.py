"""Tables as downloads: the media types of the API's CSV and XLSX files.

The tables themselves (one column layout per report) and the writers, with
their formula neutralisation, live in ``timebank.tables``, which the command
line uses too; they are re-exported here for callers of this module.
"""

from __future__ import annotations

from timebank.tables import csv_bytes, neutralised, rows_of, xlsx_bytes

__all__ = [
    "CSV_MEDIA_TYPE",
    "XLSX_MEDIA_TYPE",
    "csv_bytes",
    "neutralised",
    "rows_of",
    "xlsx_bytes",
]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
