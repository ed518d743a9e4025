"""Tests for shared.guides: parsing, validation, ids, flattening, serialising, built-in guides."""

import copy
import json
import pickle
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import guides
from shared import ids as id_module


def make_doc(**overrides):
    """A small valid raw document; keyword arguments replace top-level fields."""
    doc = {
        "title": "Tema",
        "language": "da",
        "sections": [
            {
                "title": "Første",
                "statement": "Vi vil noget",
                "tags": ["A", "B"],
                "items": [
                    {"kind": "consideration", "text": "Er det godt?"},
                    {"kind": "prompt", "text": "Hvordan?"},
                    {"kind": "info", "title": "Formål", "text": "Fordi."},
                ],
            },
            {
                "title": "Anden",
                "items": [{"kind": "prompt", "text": "Hvorfor?"}],
            },
        ],
    }
    doc.update(overrides)
    return doc


def errors_of(doc):
    with pytest.raises(guides.GuideError) as caught:
        guides.validate(doc)
    return caught.value.errors


# ---------------------------------------------------------------------------------------------
# validate: the normalised shape


def test_validate_fills_defaults_and_strips():
    doc = make_doc(title="  Tema  ", language=" DA ")
    doc["sections"][1]["items"][0]["text"] = "\n  Hvorfor?\r\n"

    result = guides.validate(doc)

    assert result == {
        "title": "Tema",
        "language": "da",
        "description": "",
        "sections": [
            {
                "title": "Første",
                "statement": "Vi vil noget",
                "tags": ["A", "B"],
                "notes": "",
                "duration": None,
                "items": [
                    {
                        "id": None,
                        "kind": "consideration",
                        "title": "",
                        "text": "Er det godt?",
                        "allow_unsure": False,
                        "notes": "",
                        "duration": None,
                    },
                    {
                        "id": None,
                        "kind": "prompt",
                        "title": "",
                        "text": "Hvordan?",
                        "allow_unsure": False,
                        "notes": "",
                        "duration": None,
                    },
                    {
                        "id": None,
                        "kind": "info",
                        "title": "Formål",
                        "text": "Fordi.",
                        "allow_unsure": False,
                        "notes": "",
                        "duration": None,
                    },
                ],
            },
            {
                "title": "Anden",
                "statement": "",
                "tags": [],
                "notes": "",
                "duration": None,
                "items": [
                    {
                        "id": None,
                        "kind": "prompt",
                        "title": "",
                        "text": "Hvorfor?",
                        "allow_unsure": False,
                        "notes": "",
                        "duration": None,
                    }
                ],
            },
        ],
    }
    assert list(result) == ["title", "language", "description", "sections"]


def test_validate_does_not_touch_its_input_and_escapes_nothing():
    doc = make_doc(description="<b>Tom & Jerry</b>")
    before = copy.deepcopy(doc)
    result = guides.validate(doc)
    assert doc == before
    assert result["description"] == "<b>Tom & Jerry</b>"


def test_validate_is_idempotent():
    once = guides.validate(make_doc())
    assert guides.validate(once) == once
    with_ids = guides.assign_ids(once)
    assert guides.validate(with_ids) == with_ids


def test_multiline_text_keeps_inner_lines_and_normalises_line_breaks():
    doc = make_doc()
    doc["sections"][0]["items"][2]["text"] = "Krav:\r\n– at deltage\r– at engagere\u2028slut\n\n"
    item = guides.validate(doc)["sections"][0]["items"][2]
    assert item["text"] == "Krav:\n– at deltage\n– at engagere\nslut"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ("Beboerdemokrati • Frivillighed • Politikker", ["Beboerdemokrati", "Frivillighed", "Politikker"]),
        ("Påverkan, Opinion,", ["Påverkan", "Opinion"]),
        ("Ensam", ["Ensam"]),
        ("", []),
        (None, []),
        ([" Spaced "], ["Spaced"]),
    ],
)
def test_tags_accept_a_list_or_a_separated_string(tags, expected):
    doc = make_doc()
    doc["sections"][0]["tags"] = tags
    assert guides.validate(doc)["sections"][0]["tags"] == expected


def test_optional_fields_may_be_null():
    doc = make_doc(description=None)
    doc["sections"][0]["statement"] = None
    doc["sections"][0]["items"][0].update(id=None, title=None, allow_unsure=None, notes=None, duration=None)
    result = guides.validate(doc)
    assert result["description"] == ""
    assert result["sections"][0]["statement"] == ""
    assert result["sections"][0]["items"][0] == {
        "id": None,
        "kind": "consideration",
        "title": "",
        "text": "Er det godt?",
        "allow_unsure": False,
        "notes": "",
        "duration": None,
    }


def test_allow_unsure_on_consideration_and_false_on_other_kinds():
    doc = make_doc()
    doc["sections"][0]["items"][0]["allow_unsure"] = True
    doc["sections"][0]["items"][1]["allow_unsure"] = False
    items = guides.validate(doc)["sections"][0]["items"]
    assert items[0]["allow_unsure"] is True
    assert items[1]["allow_unsure"] is False


def test_info_needs_only_a_title_or_a_text():
    doc = make_doc()
    doc["sections"][0]["items"][2] = {"kind": "info", "title": "Pause"}
    doc["sections"][1]["items"][0] = {"kind": "info", "text": "Kaffe"}
    result = guides.validate(doc)
    assert result["sections"][0]["items"][2]["text"] == ""
    assert result["sections"][1]["items"][0]["title"] == ""


def test_lengths_at_the_limit_are_accepted():
    doc = make_doc(title="t" * 300, description="d" * guides.MAX_TEXT)
    doc["sections"][0]["items"][0]["text"] = "x" * guides.MAX_TEXT
    doc["sections"][0]["items"][0]["id"] = "i" * 40
    assert guides.validate(doc)["title"] == "t" * 300


# ---------------------------------------------------------------------------------------------
# validate: errors and their places


def _set(path, value):
    """A change to make_doc(): set (or with value=KeyError, delete) the field at path."""

    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return doc

    return change


ITEM0 = ("sections", 0, "items", 0)
BAD_ID = 'must be 1 to 40 letters (A-Z, a-z), digits, "-" or "_"'

ERROR_CASES = [
    (_set(("title",), KeyError), ("title", "required")),
    (_set(("title",), "   "), ("title", "must not be empty")),
    (_set(("title",), 2027), ("title", "must be text, not a number (put it in quotes)")),
    (_set(("title",), "t" * 301), ("title", "must be at most 300 characters (has 301)")),
    (_set(("language",), KeyError), ("language", "required")),
    (_set(("language",), "de"), ("language", "must be one of sv, da, en")),
    (_set(("language",), ["da"]), ("language", "must be one of sv, da, en")),
    (_set(("description",), "d" * 4001), ("description", "must be at most 4000 characters (has 4001)")),
    (_set(("description",), ["x"]), ("description", "must be text, not a list")),
    (_set(("sections",), KeyError), ("sections", "must be a non-empty list")),
    (_set(("sections",), []), ("sections", "must be a non-empty list")),
    (_set(("sections",), {"title": "x"}), ("sections", "must be a non-empty list")),
    (_set(("sections", 1), "Anden"), ("sections[1]", "must be a mapping with title and items, not text")),
    (_set(("sections", 0, "title"), KeyError), ("sections[0].title", "required")),
    (_set(("sections", 0, "title"), "s" * 301), ("sections[0].title", "must be at most 300 characters (has 301)")),
    (_set(("sections", 0, "statement"), 5), ("sections[0].statement", "must be text, not a number (put it in quotes)")),
    (_set(("sections", 0, "tags"), 5), ("sections[0].tags", "must be a list of text, not a number")),
    (_set(("sections", 0, "tags"), ["A", ""]), ("sections[0].tags[1]", "must not be empty")),
    (
        _set(("sections", 0, "tags"), ["A", True]),
        ("sections[0].tags[1]", "must be text, not true/false (put it in quotes)"),
    ),
    (_set(("sections", 0, "items"), KeyError), ("sections[0].items", "must be a non-empty list")),
    (_set(("sections", 0, "items"), []), ("sections[0].items", "must be a non-empty list")),
    (_set(("sections", 0, "colour"), "red"), ("sections[0]", 'unknown field "colour"')),
    (
        _set(("sections", 0, "items", 1), "Hvordan?"),
        ("sections[0].items[1]", "must be a mapping with kind and text, not text"),
    ),
    (_set(("sections", 0, "items", 2, "foo"), 1), ("sections[0].items[2]", 'unknown field "foo"')),
    (_set((*ITEM0, "txt"), "x"), ("sections[0].items[0]", 'unknown field "txt" (did you mean "text"?)')),
    (_set(("foo",), 1), ("document", 'unknown field "foo"')),
    (_set((*ITEM0, "kind"), KeyError), ("sections[0].items[0].kind", "required")),
    (_set((*ITEM0, "kind"), "question"), ("sections[0].items[0]", "kind must be one of consideration, prompt, info")),
    (_set((*ITEM0, "text"), KeyError), ("sections[0].items[0].text", "required")),
    (_set((*ITEM0, "text"), " \n "), ("sections[0].items[0].text", "must not be empty")),
    (_set((*ITEM0, "text"), False), ("sections[0].items[0].text", "must be text, not true/false (put it in quotes)")),
    (_set((*ITEM0, "text"), "x" * 4001), ("sections[0].items[0].text", "must be at most 4000 characters (has 4001)")),
    (_set((*ITEM0, "text"), "Ja\x07Nej"), ("sections[0].items[0].text", "contains the control character U+0007")),
    (_set((*ITEM0, "text"), "Ja\ud800"),
     ("sections[0].items[0].text", "contains U+D800, which is not a character (a lone surrogate: invalid Unicode)")),
    (_set((*ITEM0, "title"), "t" * 301), ("sections[0].items[0].title", "must be at most 300 characters (has 301)")),
    (_set(("sections", 0, "items", 1, "text"), ""), ("sections[0].items[1].text", "must not be empty")),
    (_set(("sections", 0, "items", 2), {"kind": "info"}), ("sections[0].items[2]", "info needs a title or a text")),
    (_set((*ITEM0, "allow_unsure"), "yes"), ("sections[0].items[0].allow_unsure", "must be true or false, not text")),
    (_set((*ITEM0, "allow_unsure"), 1), ("sections[0].items[0].allow_unsure", "must be true or false, not a number")),
    (
        _set(("sections", 0, "items", 1, "allow_unsure"), True),
        ("sections[0].items[1].allow_unsure", "is only allowed on considerations"),
    ),
    (_set((*ITEM0, "id"), "a b"), ("sections[0].items[0].id", BAD_ID)),
    (_set((*ITEM0, "id"), "i" * 41), ("sections[0].items[0].id", BAD_ID)),
    (_set((*ITEM0, "id"), ""), ("sections[0].items[0].id", BAD_ID)),
    (_set((*ITEM0, "id"), 7), ("sections[0].items[0].id", BAD_ID)),
]


@pytest.mark.parametrize(("change", "expected"), ERROR_CASES)
def test_each_error_names_its_place(change, expected):
    assert errors_of(change(make_doc())) == [expected]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (None, ("document", "is empty")),
        ([], ("document", "must be a mapping with title, language and sections, not a list")),
        ("Tema", ("document", "must be a mapping with title, language and sections, not text")),
    ],
)
def test_root_must_be_a_mapping(doc, expected):
    assert errors_of(doc) == [expected]


def test_the_contracts_example_message():
    doc = make_doc()
    doc["sections"][1]["items"][0]["kind"] = "poll"
    with pytest.raises(guides.GuideError) as caught:
        guides.validate(doc)
    assert str(caught.value) == "sections[1].items[0]: kind must be one of consideration, prompt, info"
    assert caught.value.errors == [("sections[1].items[0]", "kind must be one of consideration, prompt, info")]


def test_duplicate_ids_name_the_first_use():
    doc = make_doc()
    doc["sections"][0]["items"][1]["id"] = "same"
    doc["sections"][1]["items"][0]["id"] = "same"
    assert errors_of(doc) == [("sections[1].items[0].id", '"same" is already used at sections[0].items[1]')]


def test_all_errors_are_collected_in_document_order():
    doc = make_doc(language="no", extra=True)
    doc["sections"][0]["items"][0]["kind"] = "vote"
    doc["sections"][0]["items"][1]["text"] = ""
    doc["sections"][1]["title"] = ""

    with pytest.raises(guides.GuideError) as caught:
        guides.validate(doc)

    assert caught.value.errors == [
        ("document", 'unknown field "extra"'),
        ("language", "must be one of sv, da, en"),
        ("sections[0].items[0]", "kind must be one of consideration, prompt, info"),
        ("sections[0].items[1].text", "must not be empty"),
        ("sections[1].title", "must not be empty"),
    ]
    assert str(caught.value) == 'document: unknown field "extra"; 4 more'
    assert caught.value.messages[1] == "language: must be one of sv, da, en"


def test_a_refused_text_is_not_also_reported_as_missing():
    doc = make_doc()
    doc["sections"][0]["items"][2] = {"kind": "info", "text": "x" * 4001}
    assert errors_of(doc) == [("sections[0].items[2].text", "must be at most 4000 characters (has 4001)")]


def test_guide_error_is_a_value_error_and_pickles():
    error = guides.GuideError([("title", "required"), ("language", "required")])
    assert isinstance(error, ValueError)
    assert str(error) == "title: required; 1 more"
    again = pickle.loads(pickle.dumps(error))
    assert again.errors == error.errors
    assert str(again) == str(error)
    assert str(guides.GuideError("unreadable")) == "document: unreadable"


# ---------------------------------------------------------------------------------------------
# load_document

YAML_DOC = """\
title: "Almene Mål – Tema 3"
language: da
sections:
  - title: Den almene sektor
    statement: Vi vil vise og styrke den almene sektor
    tags: Beboerdemokrati • Frivillighed
    items:
      - kind: consideration
        text: Er der tillid og opbakning til os?
      - kind: prompt
        text: |
          Hvordan understøtter vi
          den brede deltagelse?
"""


def test_load_yaml():
    doc = guides.load_document(YAML_DOC)
    section = doc["sections"][0]
    assert doc["title"] == "Almene Mål – Tema 3"
    assert section["tags"] == ["Beboerdemokrati", "Frivillighed"]
    assert section["items"][1]["text"] == "Hvordan understøtter vi\nden brede deltagelse?"


def test_load_accepts_bytes_with_or_without_bom():
    plain = guides.load_document(YAML_DOC)
    assert guides.load_document(YAML_DOC.encode()) == plain
    assert guides.load_document(b"\xef\xbb\xbf" + YAML_DOC.encode(), "guide.yaml") == plain
    assert guides.load_document("\ufeff" + YAML_DOC) == plain


def test_load_json_by_content_and_by_file_name():
    doc = guides.validate(make_doc())
    text = json.dumps(make_doc(), indent=2)
    assert guides.load_document(text) == doc
    assert guides.load_document(text.encode(), "guide.JSON") == doc
    assert guides.load_document("\n  " + text) == doc


def test_flow_style_yaml_starting_with_a_brace_still_loads():
    text = "{title: T, language: en, sections: [{title: S, items: [{kind: prompt, text: Why}]}]}"
    assert guides.load_document(text)["sections"][0]["items"][0]["text"] == "Why"


@pytest.mark.parametrize(
    ("text", "place", "message"),
    [
        ("title: x\nlanguage: da\nsections:\n  - title: [unclosed\n", "line 5", "expected ',' or ']'"),
        ("title: x\nlanguage: da\n\tsections: []\n", "line 3", "found character '\\t' that cannot start any token"),
        ("title: x\nlanguage: da\nsections:\n  - title: s\n    title: t\n", "line 5", 'duplicate key "title"'),
        (
            "title: x\nlanguage: da\nsections: !!python/object/apply:os.system [ls]\n",
            "line 3",
            "could not determine a constructor",
        ),
        ("title: x\n\x07\n", "line 2", "the character U+0007 is not allowed"),
        ("title: x\n---\ntitle: y\n", "line 2", "expected a single document in the stream: but found another document"),
    ],
)
def test_yaml_syntax_errors_give_the_line(text, place, message):
    with pytest.raises(guides.GuideError) as caught:
        guides.load_document(text)
    [(got_place, got_message)] = caught.value.errors
    assert got_place == place
    assert message in got_message


@pytest.mark.parametrize(
    ("text", "filename", "place", "message"),
    [
        ('{\n  "title": "x",\n  "language": "da",,\n}', None, "line 3", "Expecting property name"),
        ('{\n  "title": "x"\n  "language": "da"\n}', "guide.txt", "line 3", "Expecting ',' delimiter"),
        ("title: x\nlanguage: da\n", "guide.json", "line 1", "Expecting value"),
    ],
)
def test_json_syntax_errors_give_the_line(text, filename, place, message):
    with pytest.raises(guides.GuideError) as caught:
        guides.load_document(text, filename)
    [(got_place, got_message)] = caught.value.errors
    assert got_place == place
    assert message in got_message


def test_json_duplicate_keys_are_refused():
    with pytest.raises(guides.GuideError, match='document: duplicate key "title"'):
        guides.load_document('{"title": "a", "title": "b"}')


def test_undecodable_bytes_give_the_line():
    with pytest.raises(guides.GuideError) as caught:
        guides.load_document(b"title: x\nlanguage: \xff\n")
    assert caught.value.errors == [("line 2", "is not UTF-8 text")]


@pytest.mark.parametrize("text", ["[" * 100_000, "a:\n" + "- " * 5000 + "x\n"])
def test_absurd_nesting_is_refused_cleanly(text):
    with pytest.raises(guides.GuideError):
        guides.load_document(text)


def test_yaml_scalars_that_are_not_text_ask_for_quotes():
    text = YAML_DOC.replace("text: Er der tillid og opbakning til os?", "text: yes")
    with pytest.raises(guides.GuideError) as caught:
        guides.load_document(text)
    assert caught.value.errors == [("sections[0].items[0].text", "must be text, not true/false (put it in quotes)")]


def test_empty_document():
    with pytest.raises(guides.GuideError, match=r"^document: is empty$"):
        guides.load_document("")


def test_load_document_reports_validation_errors():
    with pytest.raises(guides.GuideError) as caught:
        guides.load_document("title: x\nlanguage: de\nsections: []\n")
    assert caught.value.errors == [
        ("language", "must be one of sv, da, en"),
        ("sections", "must be a non-empty list"),
    ]


# ---------------------------------------------------------------------------------------------
# assign_ids

FRESH_ID = re.compile(r"[abcdefghijkmnpqrstuvwxyz23456789]{10}")


def all_ids(doc):
    return [item["id"] for item in guides.flatten(doc)]


def test_assign_ids_gives_every_item_a_unique_fresh_id():
    doc = guides.validate(make_doc())
    result = guides.assign_ids(doc)
    ids = all_ids(result)
    assert len(set(ids)) == len(ids) == 4
    assert all(FRESH_ID.fullmatch(i) for i in ids)
    assert all_ids(doc) == [None] * 4  # the input is left alone
    assert guides.validate(result) == result


def test_assign_ids_keeps_given_ids():
    raw = make_doc()
    raw["sections"][0]["items"][0]["id"] = "keep-me_1"
    result = guides.assign_ids(guides.validate(raw))
    assert all_ids(result)[0] == "keep-me_1"


def test_assign_ids_reuses_ids_of_kept_items():
    first = guides.assign_ids(guides.validate(make_doc()))
    old = all_ids(first)

    edited = make_doc()
    items = edited["sections"][0]["items"]
    items[1]["text"] = "Hvordan nu?"  # changed: a new question
    items[2]["title"] = "Nyt formål"  # a changed title makes it another item too
    items.insert(0, {"kind": "prompt", "text": "Ny"})  # new item moves the others
    edited["sections"][1]["items"].append({"kind": "consideration", "text": "Er det godt?"})
    second = guides.assign_ids(guides.validate(edited), previous=first)
    new = all_ids(second)

    assert new[1] == old[0]  # the consideration kept its id though it moved
    assert new[4] == old[3]  # so did the prompt of the second section
    assert not {new[0], new[2], new[3]} & set(old)
    # The consideration appears twice now: only one of them can be the old one.
    assert new[5] not in old
    assert len(set(new)) == len(new)


def test_assign_ids_shares_equal_items_out_in_order():
    raw = make_doc()
    raw["sections"][1]["items"] = [{"kind": "prompt", "text": "Igen?"}, {"kind": "prompt", "text": "Igen?"}]
    first = guides.assign_ids(guides.validate(raw))
    second = guides.assign_ids(guides.validate(raw), previous=first)
    assert all_ids(second) == all_ids(first)


def test_assign_ids_never_reuses_an_id_the_document_already_uses():
    first = guides.assign_ids(guides.validate(make_doc()))
    taken = all_ids(first)[0]
    raw = make_doc()
    raw["sections"][1]["items"][0]["id"] = taken  # an explicit id claims the consideration's old id
    second = guides.assign_ids(guides.validate(raw), previous=first)
    ids = all_ids(second)
    assert ids[3] == taken
    assert ids[0] != taken
    assert len(set(ids)) == len(ids)


def _spelling(letters: str):
    """A stand-in for `secrets.token_bytes` that makes `shared.ids.random_id` spell `letters`."""
    sequence = iter(letters)
    return lambda n: bytes(id_module.ID_ALPHABET.index(next(sequence)) for _ in range(n))


def test_fresh_ids_skip_collisions(monkeypatch):
    # The random bytes (through shared.ids) spell "aaaaaaaaaa" (taken by the document), then "aaaaaaaaaa" again
    # for the retry, then a free id: the generator has to go round until it finds one.
    letters = "a" * 20 + "b" * 10 + "c" * 10 + "d" * 10 + "e" * 10
    monkeypatch.setattr(id_module.secrets, "token_bytes", _spelling(letters))
    raw = make_doc()
    raw["sections"][0]["items"][0]["id"] = "aaaaaaaaaa"
    ids = all_ids(guides.assign_ids(guides.validate(raw)))
    assert ids == ["aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd"]


def test_fresh_ids_do_not_revive_removed_items(monkeypatch):
    first = guides.assign_ids(guides.validate(make_doc()))
    removed = all_ids(first)[1]
    monkeypatch.setattr(id_module.secrets, "token_bytes", _spelling(removed + "z" * 10))
    raw = make_doc()
    raw["sections"][0]["items"][1]["text"] = "Nyt spørgsmål"
    ids = all_ids(guides.assign_ids(guides.validate(raw), previous=first))
    assert ids[1] == "z" * 10


# ---------------------------------------------------------------------------------------------
# flatten


def test_flatten_lists_items_in_guide_order_with_their_section():
    raw = make_doc()
    raw["sections"][0]["items"][0]["allow_unsure"] = True
    raw["sections"][1]["items"].append({"kind": "consideration", "text": "Ja eller nej?"})
    doc = guides.assign_ids(guides.validate(raw))

    flat = guides.flatten(doc)

    assert [i["index"] for i in flat] == [0, 1, 2, 3, 4]
    assert [i["kind"] for i in flat] == ["consideration", "prompt", "info", "prompt", "consideration"]
    assert [i["choices"] for i in flat] == [["yes", "no", "unsure"], [], [], [], ["yes", "no"]]
    assert flat[0]["section"] == {"index": 0, "title": "Første", "statement": "Vi vil noget", "tags": ["A", "B"]}
    assert flat[3]["section"] == {"index": 1, "title": "Anden", "statement": "", "tags": []}
    assert flat[2]["title"] == "Formål"
    assert flat[0]["id"] == doc["sections"][0]["items"][0]["id"]
    assert set(flat[0]) == {"index", "id", "kind", "title", "text", "allow_unsure", "choices", "section",
                           "notes", "duration", "section_notes", "section_duration"}

    flat[0]["section"]["tags"].append("changed")  # a copy: the document is not affected
    assert doc["sections"][0]["tags"] == ["A", "B"]


def test_vote_labels_cover_every_language_and_choice():
    assert set(guides.VOTE_LABELS) == set(guides.LANGUAGES)
    for labels in guides.VOTE_LABELS.values():
        assert set(labels) == {"yes", "no", "unsure"}
    assert guides.VOTE_LABELS["da"]["unsure"] == "Ved ikke"


# ---------------------------------------------------------------------------------------------
# dump


def test_dump_yaml_is_readable_and_omits_empty_fields():
    raw = make_doc()
    raw["sections"][0]["items"][0]["allow_unsure"] = True
    raw["sections"][0]["items"][2]["text"] = "Linje et\n– linje to"
    doc = guides.assign_ids(guides.validate(raw))

    text = guides.dump(doc)

    assert "description" not in text
    assert "statement" not in text.split("- title: Anden")[1]
    assert "allow_unsure: true" in text
    assert "allow_unsure: false" not in text
    assert "tags: [A, B]" in text
    assert "text: |-\n          Linje et\n          – linje to\n" in text
    assert "Første" in text  # unicode as is, not escaped
    assert "&" not in text  # no anchors
    assert "*" not in text  # and no aliases
    assert text.index("  - title: Første") < text.index("      - id:")  # list items indented


def test_dump_writes_shared_lists_without_aliases():
    doc = guides.assign_ids(guides.validate(make_doc()))
    doc["sections"][1]["tags"] = doc["sections"][0]["tags"]
    text = guides.dump(doc)
    assert text.count("tags: [A, B]") == 2
    assert guides.load_document(text) == doc


def test_dump_json():
    doc = guides.assign_ids(guides.validate(make_doc()))
    text = guides.dump(doc, "json")
    data = json.loads(text)
    assert "Første" in text
    assert text.startswith('{\n  "title": "Tema",')
    assert "description" not in data
    assert "allow_unsure" not in data["sections"][0]["items"][0]
    assert "title" not in data["sections"][0]["items"][0]
    assert data["sections"][0]["items"][0]["id"] == doc["sections"][0]["items"][0]["id"]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_dump_round_trips(fmt):
    raw = make_doc(description="Om: «noget» # ikke en kommentar\n\nAnden linje")
    raw["sections"][0]["items"][0]["allow_unsure"] = True
    raw["sections"][0]["tags"] = ["yes", "1.5", "a, b", "null", "- x"]
    raw["sections"][1]["items"][0]["text"] = "'quoted' and \"double\"\n  indented: line"
    doc = guides.assign_ids(guides.validate(raw))
    assert guides.load_document(guides.dump(doc, fmt)) == doc
    assert guides.load_document(guides.dump(doc, fmt).encode(), f"guide.{fmt}") == doc


def test_dump_without_ids_leaves_them_out():
    doc = guides.validate(make_doc())
    assert "id:" not in guides.dump(doc)
    assert guides.load_document(guides.dump(doc)) == doc


def test_dump_refuses_unknown_formats():
    with pytest.raises(ValueError, match="unknown format"):
        guides.dump(guides.validate(make_doc()), "xml")


# ---------------------------------------------------------------------------------------------
# Built-in guides


@pytest.fixture(scope="module")
def builtins():
    return guides.builtin_documents()


def test_builtin_files_are_the_three_guides():
    names = sorted(p.name for p in guides.BUILTIN_DIR.iterdir())
    assert names == [
        "01_almene_maal_tema3.da.yaml",
        "02_fortroendemannadialogen.sv.yaml",
        "03_general_dialogue.en.yaml",
    ]


def test_builtins_load_with_fixed_unique_ids(builtins):
    assert [d["language"] for d in builtins] == ["da", "sv", "en"]
    every_id = []
    for doc in builtins:
        ids = all_ids(doc)
        assert all(ids), f"{doc['title']}: every built-in item needs a fixed id"
        every_id += ids
        assert guides.assign_ids(doc) == doc  # nothing left to assign
        assert guides.load_document(guides.dump(doc)) == doc
        assert guides.load_document(guides.dump(doc, "json")) == doc
    assert len(set(every_id)) == len(every_id)
    # The ids are the same on every call (and so on every installation).
    assert [all_ids(d) for d in guides.builtin_documents()] == [all_ids(d) for d in builtins]


def test_builtins_have_the_reference_shape(builtins):
    for doc in builtins:
        flat = guides.flatten(doc)
        kinds = {item["kind"] for item in flat}
        assert kinds == set(guides.KINDS), doc["title"]
        assert flat[0]["kind"] == "info"  # every guide opens with what the meeting is for
        assert doc["description"]


def test_danish_builtin_follows_the_seed(builtins):
    doc = builtins[0]
    assert doc["title"] == "Almene Mål – Tema 3: Demokrati og levende fællesskaber"
    sections = {s["title"]: s for s in doc["sections"]}
    assert [s["title"] for s in doc["sections"]][1:4] == [
        "Den almene sektor som demokratisk aktør",
        "Et relevant og tilgængeligt beboerdemokrati",
        "Kompetencer og støtte til engagement",
    ]
    first = sections["Den almene sektor som demokratisk aktør"]
    assert first["statement"] == "Vi vil vise og styrke den almene sektor som demokratisk aktør"
    assert first["tags"] == ["Beboerdemokrati", "Frivillighed", "Politikker"]
    assert first["items"][0]["id"] == "da3-s1-c1"
    assert sections["Et relevant og tilgængeligt beboerdemokrati"]["tags"] == [
        "Beboerdemokrati",
        "Frivillighed",
        "Lokale fællesskaber",
    ]
    assert sections["Kompetencer og støtte til engagement"]["statement"] == (
        "Vi vil styrke kompetencer og støtte til beboere og organisation"
    )

    flat = guides.flatten(doc)
    considerations = [i["text"] for i in flat if i["kind"] == "consideration"]
    assert considerations == [
        "Er der tillid og opbakning til os som demokratisk aktør/almene boligorganisation?",
        "Er roller og ansvar tydelige i organisationen?",
        "Opleves vores beboerdemokrati som relevant og tilgængeligt i dag?",
        "Har beboere og valgte tilstrækkelig støtte til at løfte deres roller?",
    ]
    assert all(i["choices"] == ["yes", "no"] for i in flat if i["kind"] == "consideration")
    prompts = [i["text"] for i in flat if i["kind"] == "prompt"]
    assert len(prompts) == 6 + 3
    assert "Hvordan kan vi arbejde med kompetenceudvikling af vores beboerdemokrater?" in prompts

    reflection = sections["Samlet refleksion"]["items"]
    assert [i["text"] for i in reflection if i["kind"] == "prompt"] == [
        "Hvor er vores beboerdemokrati stærkt i dag?",
        "Hvor ser vi de største udfordringer fremadrettet?",
        "Hvor bør vi arbejde mere strategisk med demokrati og fællesskaber?",
    ]

    infos = {i["title"]: i["text"] for i in flat if i["kind"] == "info"}
    assert infos["Formål med drøftelsen"].startswith("Beboerdemokratiet er en grundlæggende styrke")
    assert "– at skabe klare rammer og roller." in infos["Perspektiv"]
    assert infos["Perspektiv"].endswith("kræver en aktiv indsats for at udvikle sig.")
    assert "https://lbf.dk/selvbetjening/det-almene-datavarehus" in infos["AlmenKompas"]
    assert "https://www.almenkompas.dk/" in infos["AlmenKompas"]
    assert not any("Ja / Nej" in i["text"] or '"' in i["text"] for i in flat)


def test_swedish_builtin_follows_the_strategies(builtins):
    doc = builtins[1]
    titles = [s["title"] for s in doc["sections"]]
    for strategy in (
        "Ett systematiskt påverkansarbete och en kraftfull opinionsbildning",
        "En synlig och verklig medlemsnytta",
        "En effektiv organisation som engagerar många medlemmar",
    ):
        section = doc["sections"][titles.index(strategy)]
        assert section["statement"].startswith("Vi ska ")
        assert section["tags"]
        kinds = [i["kind"] for i in section["items"]]
        assert 1 <= kinds.count("consideration") <= 2
        assert 2 <= kinds.count("prompt") <= 3
    intro = guides.flatten(doc)[:2]
    assert any("50 procent" in i["text"] and "22 000" in i["text"] for i in intro)


def test_english_builtin_explains_voting_and_offers_not_sure(builtins):
    flat = guides.flatten(builtins[2])
    assert any(i["kind"] == "info" and i["title"] == "How voting works" for i in flat)
    assert any(i["choices"] == ["yes", "no", "unsure"] for i in flat)
    assert all(s["statement"].startswith("We want") for s in builtins[2]["sections"] if s["statement"])


# ---------------------------------------------------------------------------------------------
# Property: any valid document survives dump -> load_document


# Everything a person could paste, minus surrogates and control characters (refused by validate),
# plus the line breaks and YAML indicators most likely to confuse a serialiser.
_characters = st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from(
    [*"\n\t\r -•,:#?&*!|>'\"%@`{}[]~", "\u2028"]
)
_tricky = st.sampled_from(
    ["yes", "No", "null", "~", "1.5", "0x1F", "2027-01-01", "- x", "? x", "a: b", "#c", "&a", "*a", "!t", "'", '"', "…"]
)


def _text(max_size):
    return (st.text(_characters, min_size=1, max_size=max_size) | _tricky).filter(lambda s: s.strip())


_item = st.one_of(
    st.fixed_dictionaries(
        {"kind": st.just("consideration"), "text": _text(60)},
        optional={"title": _text(20), "allow_unsure": st.booleans()},
    ),
    st.fixed_dictionaries({"kind": st.just("prompt"), "text": _text(60)}, optional={"title": _text(20)}),
    st.fixed_dictionaries({"kind": st.just("info"), "title": _text(20)}, optional={"text": _text(200)}),
)
_section = st.fixed_dictionaries(
    {"title": _text(30), "items": st.lists(_item, min_size=1, max_size=4)},
    optional={"statement": _text(80), "tags": st.lists(_text(15), max_size=4)},
)
_document = st.fixed_dictionaries(
    {
        "title": _text(40),
        "language": st.sampled_from(guides.LANGUAGES),
        "sections": st.lists(_section, min_size=1, max_size=3),
    },
    optional={"description": _text(200)},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=_document, with_ids=st.booleans())
def test_any_valid_document_round_trips(raw, with_ids):
    doc = guides.validate(raw)
    if with_ids:
        doc = guides.assign_ids(doc)
    for fmt in ("yaml", "json"):
        assert guides.load_document(guides.dump(doc, fmt)) == doc
        assert guides.load_document(guides.dump(doc, fmt).encode("utf-8"), f"g.{fmt}") == doc


def test_notes_and_duration_are_optional_and_checked():
    """Facilitator notes and a suggested duration (minutes) on sections and items; the room never
    sees the notes (public_item whitelists its keys)."""
    from shared.meeting.read import public_item

    doc = make_doc()
    doc["sections"][0]["notes"] = "  Start med en runde.  "
    doc["sections"][0]["duration"] = 20
    doc["sections"][0]["items"][0].update(notes="Kun til ordstyreren", duration=5)
    result = guides.validate(doc)
    assert result["sections"][0]["notes"] == "Start med en runde."
    assert result["sections"][0]["items"][0]["duration"] == 5
    flat = guides.flatten(result)[0]
    assert (flat["notes"], flat["duration"], flat["section_notes"], flat["section_duration"]) == (
        "Kun til ordstyreren", 5, "Start med en runde.", 20)
    assert "Kun til ordstyreren" not in str(public_item(flat))
    assert "Start med en runde." not in str(public_item(flat))
    assert guides.validate(guides.load_document(guides.dump(result))) == result

    for bad, message in ((0, "between 1 and 240"), (241, "between 1 and 240"), ("ten", "whole number"),
                         (True, "whole number"), (2.5, "whole number")):
        doc["sections"][0]["items"][0]["duration"] = bad
        with pytest.raises(guides.GuideError, match=message):
            guides.validate(doc)
