"""A small Socket.IO client that speaks the wire protocol (Engine.IO 4, websocket only) with
aiohttp: light enough to connect thousands of phones from one test process, and able to pick its
loopback source address (127.0.0.x), which python-socketio's clients cannot.

Only what joining needs: connect with an `auth` dict, read `welcome` (or the `connect_error`
message), keep the socket open until told, close. Only loopback addresses are used.
"""

from __future__ import annotations

import asyncio
import json
import resource
from dataclasses import dataclass, field
from typing import Any

import aiohttp


def raise_nofile() -> None:
    """Thousands of sockets need thousands of descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class Joined:
    """What a connect attempt got: the welcome, or the refusal's message."""

    welcome: dict | None = None
    refused: str | None = None
    events: list[tuple[str, Any]] = field(default_factory=list)
    ws: Any = None

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()


class Clients:
    """aiohttp sessions, one per loopback source address."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def _session(self, address: str) -> aiohttp.ClientSession:
        if address not in self._sessions:
            connector = aiohttp.TCPConnector(limit=0, local_addr=(address, 0), force_close=True)
            self._sessions[address] = aiohttp.ClientSession(connector=connector)
        return self._sessions[address]

    async def join(self, auth: dict, *, address: str = "127.0.0.1", keep_open: bool = False,
                   wait_for: tuple[str, ...] = ("welcome",), timeout: float = 20.0) -> Joined:
        """Connect with `auth`; return once the refusal or every event of `wait_for` arrived."""
        result = Joined()
        ws = await self._session(address).ws_connect(self.url, timeout=aiohttp.ClientWSTimeout(ws_close=timeout),
                                                      heartbeat=None, autoping=False)
        result.ws = ws
        try:
            await asyncio.wait_for(self._handshake(ws, auth, result, set(wait_for)), timeout)
        finally:
            if not keep_open or result.refused is not None:
                await result.close()
        return result

    async def _handshake(self, ws: Any, auth: dict, result: Joined, wanted: set[str]) -> None:
        opened = await ws.receive_str()
        assert opened.startswith("0"), opened
        await ws.send_str("40" + json.dumps(auth))
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"socket closed before the handshake ended: {msg.type}")
            packet = msg.data
            if packet == "2":  # the server's ping
                await ws.send_str("3")
            elif packet.startswith("44"):
                result.refused = json.loads(packet[2:]).get("message")
                return
            elif packet.startswith("42"):
                event, *args = json.loads(packet[2:])
                result.events.append((event, args[0] if args else None))
                if event == "welcome":
                    result.welcome = args[0]
                wanted.discard(event)
                if not wanted:
                    return

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()


async def gather_limited(coros: list, limit: int = 100) -> list:
    """Run coroutines with at most `limit` at a time, in order of the results."""
    gate = asyncio.Semaphore(limit)

    async def one(coro):
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))
