"""Browser fixtures: the system's Chromium through Playwright, one browser per test module.

The server is the `server` fixture of tests/conftest.py (a real `dialogrum serve` subprocess,
one per module); this module adds the browser, a facilitator account and small page helpers.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
PHONE = {"width": 360, "height": 740}
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium (the system's, never a downloaded build) per module."""
    if not Path(CHROMIUM).exists():
        # `make test` installs it; in CI a missing browser is a failure, not a reason to skip.
        unavailable("Chromium (make browsers)", FileNotFoundError(CHROMIUM))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def facilitator(server) -> dict[str, str]:
    """A facilitator account on the module's server."""
    email = "leder@example.org"
    server.cli("user", "create", "--email", email, "--role", "facilitator", "--name", "Mødeleder",
               stdin=PASSWORD + "\n")
    return {"email": email, "password": PASSWORD}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The git-ignored folder for screenshots to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def axe_violations(page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core (from the npm registry, node_modules) on a page opened in a `scan_context`; the
    violations of those impacts."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in impacts
    ]


def sign_in(page, base: str, account: dict[str, str], lang: str = "da") -> None:
    """Sign in through the login form."""
    page.goto(f"{base}/login?lang={lang}")
    page.locator("input[name=email]").fill(account["email"])
    page.locator("input[name=password]").fill(account["password"])
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/sessions")


def open_console(page) -> str:
    """Send the Danish new-session form, filled in by the caller, and wait until the console is
    connected; returns the join code."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Opret og åbn konsollen").click()
    page.wait_for_url("**/console/*")
    expect(page.locator("#connection")).to_have_text("Forbundet.")
    return page.locator(".join-code").inner_text().strip()


def scan_context(browser, **kwargs):
    """A context in which axe-core can be injected: CSP is bypassed only here, for the scanner's own
    script; the meeting itself runs in ordinary contexts under the real policy."""
    return browser.new_context(bypass_csp=True, **kwargs)


@pytest.fixture(scope="session")
def ui():
    """The helpers above, for test modules (conftest modules are not imported by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(axe_violations=axe_violations, sign_in=sign_in, open_console=open_console,
                           scan_context=scan_context,
                           phone=PHONE, launch_args=LAUNCH_ARGS)
