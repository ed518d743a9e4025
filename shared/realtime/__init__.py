"""Realtime: the hub (this process's sockets and how committed events reach each audience) and
the socket handlers (authentication at connect, commands translated to the meeting rules)."""

from shared.realtime.hub import Client, Hub, room
from shared.realtime.sockets import Sockets, init_app

__all__ = ["Client", "Hub", "Sockets", "init_app", "room"]
