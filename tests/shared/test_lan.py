"""A laptop in a hall (issue 10, section 3): picking the address phones reach, reading interface
lists, the loopback test of a join link, and the join-link check's rule that it connects only to
this machine. Every address here is a loopback or a documentation address (RFC 5737): nothing is
sent anywhere but 127.0.0.1."""

from __future__ import annotations

import json
import socket

import pytest

from shared import lan
from shared.lan import Interface

LO = Interface("lo", "127.0.0.1", is_loopback=True)


def test_the_interface_with_the_default_route_wins_and_the_others_are_listed():
    bridge = Interface("docker0", "198.51.100.1")  # first in the list, but no default route
    wifi = Interface("wlan0", "203.0.113.25", has_default_route=True)
    cable = Interface("eth1", "198.51.100.77")
    choice = lan.pick([LO, bridge, wifi, cable])
    assert (choice.address, choice.interface) == ("203.0.113.25", "wlan0")
    assert [i.name for i in choice.others] == ["docker0", "eth1"]
    lines = lan.lan_report(choice, 5000, base_url=None)
    assert lines[0].startswith("Phones join at http://203.0.113.25:5000 (wlan0)")
    assert "  docker0\thttp://198.51.100.1:5000" in lines and "  eth1\thttp://198.51.100.77:5000" in lines


def test_without_a_default_route_the_first_usable_address_is_taken():
    down = Interface("eth0", "198.51.100.3", is_up=False, has_default_route=True)
    link_local = Interface("eth2", "169.254.10.20")
    hotspot = Interface("wlan0", "203.0.113.9")
    choice = lan.pick([LO, down, link_local, hotspot])
    assert choice.address == "203.0.113.9" and choice.others == []


def test_only_loopback_gives_no_address_and_says_what_to_do():
    choice = lan.pick([LO, Interface("lo:1", "127.0.1.1"), Interface("wlan0", "203.0.113.5", is_up=False)])
    assert choice.address is None
    (line,) = lan.lan_report(choice, 5000, base_url=None)
    assert "phones cannot reach this laptop" in line and "hotspot" in line
    # A base URL from the environment is what the phones get, whatever was found.
    assert lan.lan_report(choice, 5000, base_url="https://dialog.example.org")[0] == \
        "Phones join at https://dialog.example.org (DIALOGRUM_BASE_URL)."


def test_the_operating_systems_answers_are_read():
    proc_route = ("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                  "wlan0\t00000000\t017100CB\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
                  "wlan0\t007100CB\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n"
                  "docker0\t006433C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")
    defaults = lan.default_route_interfaces(proc_route)
    assert defaults == {"wlan0"}
    ip_json = json.dumps([
        {"ifname": "lo", "flags": ["LOOPBACK", "UP", "LOWER_UP"],
         "addr_info": [{"family": "inet", "local": "127.0.0.1"}]},
        {"ifname": "docker0", "flags": ["BROADCAST", "MULTICAST", "UP"],  # no cable: not LOWER_UP
         "addr_info": [{"family": "inet", "local": "198.51.100.1"}]},
        {"ifname": "wlan0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
         "addr_info": [{"family": "inet", "local": "203.0.113.25"}]},
    ])
    found = lan.parse_ip_json(ip_json, defaults)
    assert found == [LO, Interface("docker0", "198.51.100.1", is_up=False),
                     Interface("wlan0", "203.0.113.25", has_default_route=True)]
    assert lan.pick(found).address == "203.0.113.25"
    ifconfig = ("lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384\n\tinet 127.0.0.1 netmask 0xff000000\n"
                "en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n"
                "\tether 00:00:5e:00:53:01\n\tinet 203.0.113.40 netmask 0xffffff00 broadcast 203.0.113.255\n")
    assert lan.pick(lan.parse_ifconfig(ifconfig, {"en0"})) == lan.Choice("203.0.113.40", "en0", [])


def test_a_handed_interface_list_replaces_the_systems():
    env = {lan.INTERFACES_ENV: json.dumps([{"name": "wlan0", "address": "203.0.113.25", "has_default_route": True}])}
    assert lan.interfaces(env) == [Interface("wlan0", "203.0.113.25", has_default_route=True)]
    with pytest.raises(SystemExit, match="JSON list"):
        lan.interfaces({lan.INTERFACES_ENV: '[{"nom": "x"}]'})


@pytest.mark.parametrize(("url", "unreachable"), [
    ("http://127.0.0.1:5000/j/ABC234", True), ("http://127.5.0.1/j/ABC234", True),
    ("http://localhost:5000/j/ABC234", True), ("http://[::1]:5000/j/ABC234", True),
    ("http://0.0.0.0:5000/j/ABC234", True), ("http://203.0.113.25:5000/j/ABC234", False),
    ("https://dialog.example.org/j/ABC234", False), ("http://localhost.example.org/j/ABC234", False),
])
def test_a_join_link_to_this_computer_itself_is_unreachable_for_phones(url, unreachable):
    assert lan.unreachable_for_phones(url) is unreachable


def test_the_join_link_check_connects_to_this_machine_only():
    tried: list[tuple] = []

    def connect(address, timeout):
        tried.append(address)
        raise AssertionError("must not connect")

    def resolve(host, port, type):  # socket.getaddrinfo's own keyword
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.25", port))]

    check = lan.check_join_link("http://dialog.example.org/j/ABC234", {"198.51.100.1"},
                                resolve=resolve, connect=connect)
    assert (check.host, check.port, check.loopback) == ("dialog.example.org", 80, False)
    assert check.probes == [lan.Probe("203.0.113.25", "not_tried")] and not check.ok and tried == []


def test_the_join_link_check_tries_a_loopback_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        check = lan.check_join_link(f"http://127.0.0.1:{port}/j/ABC234", set())
        assert check.loopback and check.ok and check.probes == [lan.Probe("127.0.0.1", "answers")]
    closed = lan.check_join_link(f"http://127.0.0.1:{port}/j/ABC234", set())
    assert [p.outcome for p in closed.probes] == ["refused"] and not closed.ok
    unknown = lan.check_join_link("http://dialogrum.invalid/j/ABC234", set(),
                                  resolve=lambda *a, **k: (_ for _ in ()).throw(socket.gaierror(-2, "unknown")))
    assert unknown.resolve_error and unknown.probes == [] and not unknown.ok
