"""One rounding rule for percentages (issue 12, defect 6): half up, as people, Excel and the
browser round, never Python's half to even; the pages' script mirrors the server exactly."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from shared.numbers import percent, percent_text
from tests.conftest import unavailable

SCRIPT = Path(__file__).parents[2] / "shared" / "static" / "js" / "dialogrum.js"


def test_ties_round_half_up():
    assert percent(5, 8) == 63 and percent(3, 8) == 38  # round() says 62 and 38
    assert percent(1, 8) == 13 and percent(29, 200) == 15  # a float tie would read 14
    assert percent(1, 16, places=1) == Decimal("6.3")
    assert percent(0, 0) is None


@pytest.mark.parametrize(("lang", "expected"), [("sv", "63\xa0%"), ("da", "63\xa0%"), ("en", "63%")])
def test_pages_show_the_rounded_share_in_their_language(app, lang, expected):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(lang):
        assert percent_text(5, 8) == expected
        assert percent_text(3, 0) == "–"


def test_the_script_rounds_as_the_server_does():
    node = shutil.which("node")
    if node is None:
        unavailable("node", FileNotFoundError("node"))
    program = SCRIPT.read_text() + """
    var out = [];
    for (var whole = 1; whole <= 60; whole++) {
      for (var part = 0; part <= whole; part++) { out.push(window.Dialogrum.wholePercent(part, whole)); }
    }
    console.log(JSON.stringify({all: out, sv: window.Dialogrum.percent(5, 8, "sv")}));
    """
    # Just enough of a page for the script to load ("loading": its buttons wait for the DOM).
    setup = ("var window = {}; var document = {documentElement: {lang: 'sv'}, readyState: 'loading',"
             " addEventListener: function () {}};\n")
    result = json.loads(subprocess.run([node, "-e", setup + program], capture_output=True, text=True,
                                       check=True, timeout=30).stdout)
    expected = [int(percent(part, whole)) for whole in range(1, 61) for part in range(whole + 1)]
    assert result["all"] == expected
    assert result["sv"].replace("\xa0", " ") == "63 %"
