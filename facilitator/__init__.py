"""The facilitator's and organiser's side: sign-in, guide library, sessions, console, projector."""

from facilitator.views import bp

__all__ = ["bp"]
