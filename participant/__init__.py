"""The participant's side: the start page with the join field and the phone view of a session."""

from participant.views import bp

__all__ = ["bp"]
