"""The signed-in side, one blueprint per audience:

* `facilitator.views`: the facilitator's blueprint (sign-in, guide library, sessions list and new
  session, console, one session's downloads, projector), templates in `templates/facilitator/`,
  the console's and projector's scripts in `static/`.
* `facilitator.organiser`: the organiser's blueprint (users, units, settings, reports, deleting
  sessions, roll-ups and their public links), templates in `organiser/templates/organiser/`.

The two never import each other; both use shared/ and the shared layout and macros in
shared/templates/. The app factory registers them by name (shared.app.BLUEPRINTS), so importing
this package registers nothing.
"""
