"""The organiser's blueprint: users, units and settings (`admin`), the results pages
(`reports`): one session's report and deletion, a guide's roll-up with its downloads and public
links, and API tokens (`tokens`). Facilitators reach the results of their own sessions and their
own tokens; the rest answers them 403.

URLs are the same as before the split (`/users`, `/sessions/<id>/report`, `/guides/<id>/rollup`,
...); endpoints are `organiser.<view>`, templates `organiser/<page>.html`.
"""

from flask import Blueprint

bp = Blueprint("organiser", __name__, template_folder="templates")

# The views register their routes on `bp` when imported, so they come after it.
from facilitator.organiser import admin, campaigns, reports, tokens  # noqa: E402

__all__ = ["admin", "bp", "campaigns", "reports", "tokens"]
