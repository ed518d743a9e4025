"""The side without an account, one blueprint per audience:

* `participant.views`: the phone (the start page with the join field, the phone view of a session,
  its QR code), templates in `templates/participant/`.
* `participant.public`: roll-ups an organiser published at a link, templates in
  `templates/public/`.

The app factory registers them by name (shared.app.BLUEPRINTS); they import shared/ only.
"""
