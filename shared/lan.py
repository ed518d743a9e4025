"""A laptop in a hall (issue 10, section 3): which address phones on the local network can reach
this machine at, whether a join link can reach it at all, and a check of the join link from the
server's side.

Finding the address sends no packet: the interfaces are read from the operating system (`ip -j
addr` and /proc/net/route on Linux, `ifconfig` and `route -n get default` elsewhere), never by
connecting a socket towards some outside address. `pick` is a pure function of an interface list,
so it is tested with lists; `DIALOGRUM_LAN_INTERFACES` (a JSON list of such entries) hands one to
`dialogrum serve --lan` for tests and for a machine whose tools say nothing useful.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: The test hook and the way to override detection: `[{"name": "wlan0", "address": "…",
#: "is_loopback": false, "is_up": true, "has_default_route": true}, …]`.
INTERFACES_ENV = "DIALOGRUM_LAN_INTERFACES"
#: How long the join-link check waits for the port to answer.
CONNECT_TIMEOUT = 2.0


@dataclass(frozen=True)
class Interface:
    """One IPv4 address of one network interface."""

    name: str
    address: str
    is_loopback: bool = False
    is_up: bool = True
    has_default_route: bool = False


@dataclass(frozen=True)
class Choice:
    """The address for join links (None: nothing that phones could reach) and the others."""

    address: str | None
    interface: str | None
    others: list[Interface] = field(default_factory=list)


def _reachable(iface: Interface) -> bool:
    """Up, not loopback, and an address a phone on the same network could use (not link-local)."""
    try:
        ip = ipaddress.ip_address(iface.address)
    except ValueError:
        return False
    return iface.is_up and not iface.is_loopback and not ip.is_loopback and not ip.is_link_local \
        and not ip.is_unspecified and ip.version == 4


def pick(interfaces: Iterable[Interface]) -> Choice:
    """The address phones should use: the first usable one on an interface with the default route
    (the network the laptop actually uses, not a container bridge or a VPN without the default),
    else the first usable one; the other usable addresses are listed for the facilitator."""
    usable = [i for i in interfaces if _reachable(i)]
    if not usable:
        return Choice(None, None, [])
    best = next((i for i in usable if i.has_default_route), usable[0])
    return Choice(best.address, best.name, [i for i in usable if i is not best])


# -- reading the operating system (no packets) ---------------------------------------------------


def default_route_interfaces(proc_net_route: str) -> set[str]:
    """The interfaces that carry an IPv4 default route, from the text of /proc/net/route."""
    found = set()
    for line in proc_net_route.splitlines()[1:]:
        cols = line.split()
        # Iface Destination Gateway Flags RefCnt Use Metric Mask …; flag 0x1 is RTF_UP.
        if len(cols) >= 8 and cols[1] == "00000000" and cols[7] == "00000000" and int(cols[3], 16) & 1:
            found.add(cols[0])
    return found


def parse_ip_json(text: str, default_ifaces: set[str]) -> list[Interface]:
    """The IPv4 addresses in the output of `ip -j -4 addr show`."""
    out = []
    for link in json.loads(text or "[]"):
        flags = set(link.get("flags", []))
        loopback = "LOOPBACK" in flags
        # UP is the administrator's switch; LOWER_UP says a cable or a Wi-Fi network is there.
        up = "UP" in flags and ("LOWER_UP" in flags or loopback)
        for addr in link.get("addr_info", []):
            if addr.get("family") == "inet" and addr.get("local"):
                out.append(Interface(link.get("ifname", "?"), addr["local"], loopback, up,
                                     link.get("ifname") in default_ifaces))
    return out


def parse_ifconfig(text: str, default_ifaces: set[str]) -> list[Interface]:
    """The IPv4 addresses in the output of `ifconfig` (macOS and the BSDs: `en0: flags=8863<UP,…>`
    then indented `inet 192.168.1.5 netmask …` lines)."""
    out: list[Interface] = []
    name, flags = "", set()
    for line in text.splitlines():
        if line and not line[0].isspace() and ":" in line:
            name = line.split(":", 1)[0]
            flags = set(line.partition("<")[2].partition(">")[0].split(","))
        elif line.strip().startswith("inet ") and name:
            address = line.split()[1].removeprefix("addr:")
            loopback = "LOOPBACK" in flags
            up = "UP" in flags and ("RUNNING" in flags or loopback)
            out.append(Interface(name, address, loopback, up, name in default_ifaces))
    return out


def _run(*argv: str) -> str | None:
    try:
        # Fixed argument lists of the system's own tools; nothing from a user reaches them.
        return subprocess.run(argv, capture_output=True, text=True, timeout=5, check=True).stdout  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return None


def system_interfaces() -> list[Interface]:
    """This machine's IPv4 addresses, read from the operating system; [] when it cannot tell."""
    try:
        with open("/proc/net/route", encoding="ascii") as fh:
            defaults = default_route_interfaces(fh.read())
    except OSError:
        route = _run("route", "-n", "get", "default") or ""
        defaults = {line.split(":", 1)[1].strip() for line in route.splitlines()
                    if line.strip().startswith("interface:")}
    text = _run("ip", "-j", "-4", "addr", "show")
    if text:
        try:
            return parse_ip_json(text, defaults)
        except (ValueError, AttributeError, TypeError):
            pass
    return parse_ifconfig(_run("ifconfig") or "", defaults)


def interfaces(env: dict[str, str] | None = None) -> list[Interface]:
    """The interface list `serve --lan` picks from: `DIALOGRUM_LAN_INTERFACES` when set, else the
    operating system's."""
    raw = (os.environ if env is None else env).get(INTERFACES_ENV)
    if raw:
        try:
            return [Interface(**entry) for entry in json.loads(raw)]
        except (ValueError, TypeError) as exc:
            raise SystemExit(f"dialogrum: {INTERFACES_ENV} must be a JSON list of interfaces: {exc}") from None
    return system_interfaces()


def lan_report(choice: Choice, port: int, *, base_url: str | None) -> list[str]:
    """What `serve --lan` prints: where phones join, and the other addresses (English, like the
    rest of the command line)."""
    if base_url:
        lines = [f"Phones join at {base_url} (DIALOGRUM_BASE_URL)."]
    elif choice.address:
        lines = [f"Phones join at http://{choice.address}:{port} ({choice.interface}); the QR code says the same."]
    else:
        lines = ["No network found: phones cannot reach this laptop. Join the hall's Wi-Fi or your phone's "
                 "hotspot and start again, or set DIALOGRUM_BASE_URL."]
    if choice.others:
        lines.append("Other addresses of this machine (if the phones are on one of those networks, start with "
                     "DIALOGRUM_BASE_URL=http://ADDRESS:PORT):")
        lines += [f"  {i.name}\thttp://{i.address}:{port}" for i in choice.others]
    return lines


# -- the join link -----------------------------------------------------------------------------


def _is_local_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def unreachable_for_phones(url: str) -> bool:
    """The join link names this machine's loopback (127.0.0.0/8, ::1, localhost) or no address at
    all (0.0.0.0): a phone that opens it talks to itself."""
    host = (urlsplit(url).hostname or "").lower()
    if _is_local_name(host):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


@dataclass
class Probe:
    """One address the join link's host resolves to, and what happened there: `answers`,
    `refused` (with the reason) or `not_tried` (not this machine's: the server connects nowhere
    else)."""

    address: str
    outcome: str
    reason: str = ""


@dataclass
class JoinCheck:
    """The join link checked from the server: host and port, whether the host resolves (None
    with `resolve_error` when it does not), and one probe per address."""

    url: str
    host: str
    port: int
    loopback: bool
    resolve_error: str = ""
    probes: list[Probe] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Resolves, and every address tried answers."""
        return not self.resolve_error and any(p.outcome == "answers" for p in self.probes) \
            and not any(p.outcome == "refused" for p in self.probes)


def own_addresses() -> set[str]:
    """The addresses the join-link check may connect to: loopback and this machine's own (always
    read from the operating system, never from the test hook)."""
    return {i.address for i in system_interfaces()}


def check_join_link(url: str, own: set[str], *, resolve: Callable | None = None,
                    connect: Callable | None = None) -> JoinCheck:
    """Resolve the join link's host and try its port, but only on a loopback address or one of
    `own`: the server must never open connections to other machines on a user's say-so."""
    # Looked up at call time, so that a test's stand-in for the socket module's functions counts.
    resolve = resolve or socket.getaddrinfo
    connect = connect or socket.create_connection
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:  # a port out of range in DIALOGRUM_BASE_URL
        return JoinCheck(url, host, 0, unreachable_for_phones(url), resolve_error=str(exc))
    check = JoinCheck(url, host, port, unreachable_for_phones(url))
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        check.resolve_error = getattr(exc, "strerror", None) or str(exc)
        return check
    seen: list[str] = []
    for info in infos:
        address = info[4][0]
        if address not in seen:
            seen.append(address)
    for address in seen[:4]:
        if not (ipaddress.ip_address(address.split("%", 1)[0]).is_loopback or address in own):
            check.probes.append(Probe(address, "not_tried"))
            continue
        try:
            connect((address, port), timeout=CONNECT_TIMEOUT).close()
            check.probes.append(Probe(address, "answers"))
        except OSError as exc:
            check.probes.append(Probe(address, "refused", exc.strerror or str(exc)))
    return check
