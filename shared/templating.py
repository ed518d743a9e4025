"""What the templates of every audience share: the translated names of item kinds, session states
and unit kinds, and the figures a vote bar or a unit chart needs (`shared/templates/_charts.html`).

The app factory registers them once, so the facilitator's, the organiser's and the public pages
get them without one blueprint depending on another.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask_babel import gettext as _

from shared.models import CHOICES
from shared.numbers import percent_text


def names() -> dict[str, dict[str, str]]:
    """Translated names of item kinds, session states and unit kinds, in the request's language."""
    return {
        "kind_names": {"consideration": _("Consideration"), "prompt": _("Discussion question"),
                       "info": _("Information")},
        "status_names": {"waiting": _("Waiting"), "live": _("Live"), "ended": _("Ended")},
        "unit_kinds": {"region": _("Region"), "kreds": _("Kreds"), "forening": _("Forening"), "other": _("Other")},
    }


def download_choices(kind: str = "session") -> list[dict[str, Any]]:
    """The files a session's results (`kind` "session") or a roll-up ("rollup") are offered in on
    the pages: CSV for a spreadsheet in the page's language (semicolons and decimal commas in
    Swedish and Danish, as Excel there reads them), one table per file (issue 12, gap 12): a
    session's items and its comments each, a roll-up's items, and every table as CSV files in a
    ZIP; then CSV with the stable English columns for other programs, XLSX, JSON."""
    if kind == "rollup":
        excel = [{"fmt": "csv", "args": {}, "label": _("CSV for Excel")}]
    else:
        excel = [{"fmt": "csv", "args": {"table": "items"}, "label": _("CSV for Excel: %(table)s", table=_("Items"))},
                 {"fmt": "csv", "args": {"table": "comments"},
                  "label": _("CSV for Excel: %(table)s", table=_("Comments"))}]
    return [*excel,
            {"fmt": "zip", "args": {}, "label": _("Every table as CSV files (ZIP)")},
            {"fmt": "csv", "args": {"plain": "1"}, "label": _("CSV for other programs (commas, English columns)")},
            {"fmt": "xlsx", "args": {}, "label": _("Excel (XLSX)")},
            {"fmt": "json", "args": {}, "label": _("JSON")}]


def share(counts: dict[str, int], choices: list[str] | tuple[str, ...] = CHOICES) -> dict[str, Any]:
    """Votes per choice with their share of all votes on the item: what a bar needs."""
    total = sum(counts.get(c, 0) for c in choices)
    rows = []
    for choice in choices:
        n = counts.get(choice, 0)
        ratio = n / total if total else 0.0
        rows.append({"choice": choice, "count": n, "ratio": ratio, "width": round(100 * ratio, 1),
                     "percent": percent_text(n, total)})
    return {"total": total, "rows": rows}


def percent_yes(cell: dict[str, int] | None) -> str:
    """'% Ja' of a roll-up cell, or a dash when nobody voted."""
    if not cell:
        return "–"
    return percent_text(cell.get("yes", 0), sum(cell.get(c, 0) for c in CHOICES))


def yes_ratio(cell: dict[str, int] | None) -> float:
    """The share of Ja in a roll-up cell (0 when nobody voted)."""
    total = sum((cell or {}).get(c, 0) for c in CHOICES)
    return (cell or {}).get("yes", 0) / total if total else 0.0


def parse_iso(value: str | None) -> dt.datetime | None:
    """An ISO timestamp from a roll-up or an export as a datetime (for Babel's date filters)."""
    return dt.datetime.fromisoformat(value) if value else None


def init_app(app: Flask) -> None:
    """Make the names and helpers available in every template."""

    @app.context_processor
    def _helpers() -> dict[str, Any]:
        return {**names(), "vote_share": share, "percent_yes": percent_yes, "yes_ratio": yes_ratio,
                "parse_iso": parse_iso, "download_choices": download_choices}
