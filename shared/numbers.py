"""Percentages as people expect them: the one rounding rule of every page, file and screen.

Python's round() and Babel's format_percent round half to even (5 of 8 would read "62 %"); people,
Excel and the browser's Intl.NumberFormat round half up (63 %). Every share Dialogrum shows goes
through `percent`, in exact decimal arithmetic so that no binary float tips a tie either way; the
scripts mirror it in `DR.percent` (shared/static/js/dialogrum.js).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import format_percent


def percent(part: int, whole: int, places: int = 0) -> Decimal | None:
    """`part` of `whole` in percent, rounded half up to `places` decimals; None when `whole` is 0."""
    if whole <= 0:
        return None
    exact = Decimal(part * 100) / Decimal(whole)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent_text(part: int, whole: int) -> str:
    """A whole percentage in the request's language ("63 %", "63%"), or a dash when `whole` is 0."""
    value = percent(part, whole)
    # The rounded value is exact, so Babel's own rounding has nothing left to round.
    return "–" if value is None else format_percent(value / 100)
