"""The facilitator's and organiser's side: sign-in, guide library, sessions, console, projector,
reports and roll-ups, and the organiser's users, units and settings."""

from facilitator import admin, reports  # noqa: F401  (their routes register on the blueprint)
from facilitator.views import bp

__all__ = ["bp"]
