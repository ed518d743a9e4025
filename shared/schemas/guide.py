"""The guide document: its models, and `check_document`, which `shared.guides.validate` runs.

A document is a title, a language and sections of items (the contract's "Guide document"). The
models' fields are the normalised shape (strings stripped, optional fields filled in with "", [],
None or False), so `model_dump()` is what every other module works with, and the same models
describe a guide inside API responses. Every error of a document is collected, not only the first,
each with the place it was found (`sections[1].items[0].text`), in document order.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from shared.schemas.fields import (
    FILLED_PATTERN,
    SAFE_PATTERN,
    Closed,
    MissingAs,
    Text,
    choice,
    clean_text,
    describe,
    fail,
)

LANGUAGES = ("sv", "da", "en")
KINDS = ("consideration", "prompt", "info")
MAX_TEXT = 4000  # chars per text field (description, statement, text)
MAX_TITLE = 300  # chars per title and per tag
MAX_MINUTES = 240  # a suggested duration longer than four hours is a typo
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,40}")

_TAG_SEPARATORS = re.compile("[•,]")
_TAG_SCHEMA = {"type": "string", "maxLength": MAX_TITLE, "pattern": FILLED_PATTERN}


def _mapping(value: object, what: str, model: type) -> object:
    if not isinstance(value, dict | model):
        fail(f"{what}_type", what=describe(value))
    return value


def _items_list(value: object) -> object:
    if not isinstance(value, list) or not value:
        fail("non_empty_list")
    return value


def _tags(value: object) -> object:
    if value is None:
        return []
    if isinstance(value, str):
        # "Beboerdemokrati • Frivillighed • Politikker" is how the printed guides write them.
        return [clean_text(part, limit=MAX_TITLE, required=True)
                for part in _TAG_SEPARATORS.split(value) if part.strip()]
    if not isinstance(value, list):
        fail("tags_type", what=describe(value))
    return value


def _item_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        fail("item_id")
    return value


def _kind(value: object) -> str:
    # The contract spells this one message out with the item as its place ("at_parent").
    if value is None:
        fail("required")
    return choice(value, KINDS, kind="kind_choice")


def _item_text(value: object, info: ValidationInfo) -> str:
    kind = info.data.get("kind")
    text = clean_text(value, limit=MAX_TEXT, required=kind in ("consideration", "prompt"))
    # Not when a title was given but refused (it is missing from `info.data`): that error already
    # says what to fix.
    if kind == "info" and not text and info.data.get("title") == "":
        fail("info_needs_text")
    return text


def _allow_unsure(value: object, info: ValidationInfo) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        fail("bool_type", what=describe(value))
    kind = info.data.get("kind")
    if value and kind is not None and kind != "consideration":
        # false is harmless anywhere (normalised items all carry it); true would offer a "not
        # sure" vote on something nobody votes on.
        fail("unsure_only_consideration")
    return value


def _minutes(value: object) -> int | None:
    if value is None or value == "":
        return None
    # bool is an int in Python; "true" minutes is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        fail("int_type", what=describe(value))
    if not 1 <= int(value) <= MAX_MINUTES:
        fail("number_range", min=1, max=MAX_MINUTES)
    return int(value)


#: A suggested duration in whole minutes (issue 11): the console's timer starts from it.
Minutes = Annotated[
    int | None, PlainValidator(_minutes),
    WithJsonSchema({"type": ["integer", "null"], "minimum": 1, "maximum": MAX_MINUTES,
                    "description": "Optional: suggested duration in minutes; the console's timer starts from it."},
                   mode="validation"),
]
#: Facilitator notes: shown on the console only, never on the projector or the phones.
NOTES_DESCRIPTION = "Optional: facilitator notes, shown on the console only (never on the projector or phones)."

Kind = Annotated[
    Literal["consideration", "prompt", "info"],
    PlainValidator(_kind),
    WithJsonSchema({"type": "string", "enum": list(KINDS),
                    "description": "`consideration`: a yes/no question everybody votes on; `prompt`: an open "
                    "question for comments; `info`: a text slide. Case is ignored."}, mode="validation"),
]
Language = Annotated[
    Literal["sv", "da", "en"],
    PlainValidator(lambda v: choice(v, LANGUAGES)),
    WithJsonSchema({"type": "string", "enum": list(LANGUAGES),
                    "description": "Sets the default vote labels (Ja/Nej/Ved ikke ...). Case is ignored."},
                   mode="validation"),
]
Tag = Text(MAX_TITLE, required=True)


class GuideItem(Closed):
    """One item: a consideration (voted on), a prompt (commented on) or an info slide."""

    id: Annotated[
        str | None, PlainValidator(_item_id),
        WithJsonSchema({"type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]{1,40}$",
                        "description": "Optional on import: every item gets a stable id."}, mode="validation"),
    ] = None
    kind: Kind
    title: Text(MAX_TITLE, description="Optional (an `info` item needs a title or a text).") = ""
    text: Annotated[str, PlainValidator(_item_text),
                    WithJsonSchema({"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": SAFE_PATTERN,
                                    "description": "Required for `consideration` and `prompt`."},
                                   mode="validation")] = Field(default=None, validate_default=True)
    allow_unsure: Annotated[bool, PlainValidator(_allow_unsure),
                            WithJsonSchema({"type": ["boolean", "null"],
                                            "description": "Only on considerations: adds a third choice `unsure`."},
                                           mode="validation")] = Field(default=None, validate_default=True)
    notes: Text(MAX_TEXT, description=NOTES_DESCRIPTION) = ""
    duration: Minutes = None

    @model_validator(mode="before")
    @classmethod
    def check_mapping(cls, value: object) -> object:
        """Anything but a mapping is refused before its fields are looked at."""
        return _mapping(value, "item", cls)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        if handler.mode == "validation":
            _item_variants(handler.resolve_ref_schema(schema))
        return schema


class GuideSection(Closed):
    """A titled group of items, with an optional statement and tags."""

    title: Text(MAX_TITLE, required=True)
    statement: Text(MAX_TEXT, description="Optional.") = ""
    tags: Annotated[
        list[Tag], BeforeValidator(_tags),
        WithJsonSchema({"description": "Optional. A list, or one text separated by `•` or `,`.",
                        "anyOf": [{"type": "array", "items": _TAG_SCHEMA},
                                  {"type": "string", "maxLength": MAX_TITLE, "pattern": SAFE_PATTERN},
                                  {"type": "null"}]}, mode="validation"),
    ] = Field(default_factory=list)
    notes: Text(MAX_TEXT, description=NOTES_DESCRIPTION) = ""
    duration: Minutes = None
    items: Annotated[list[GuideItem], BeforeValidator(_items_list), MissingAs("non_empty_list"), Field(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def check_mapping(cls, value: object) -> object:
        """Anything but a mapping is refused before its fields are looked at."""
        return _mapping(value, "section", cls)


class GuideDocument(Closed):
    """A guide, as imported (YAML or JSON) and as stored, normalised, with its item ids."""

    title: Text(MAX_TITLE, required=True)
    language: Language
    description: Text(MAX_TEXT, description="Optional, shown to the facilitator.") = ""
    sections: Annotated[list[GuideSection], BeforeValidator(_items_list), MissingAs("non_empty_list"),
                        Field(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def check_mapping(cls, value: object) -> object:
        """An empty file, or anything but a mapping, is refused as a whole."""
        if value is None:
            fail("empty_document")
        return _mapping(value, "document", cls)


def _item_variants(schema: dict[str, Any]) -> None:
    """The item's input schema as one closed variant per kind, saying what each needs.

    What the validators check across fields (a prompt needs a text, an info slide a title or a
    text, only considerations take `allow_unsure`), the schema has to say too.
    """
    props = schema["properties"]
    def filled(name: str) -> dict[str, Any]:
        prop = {**props[name], "type": "string", "pattern": FILLED_PATTERN}
        prop.pop("default", None)
        return prop

    filled_text, filled_title = filled("text"), filled("title")

    def variant(kind: str, **changes: Any) -> dict[str, Any]:
        properties = {**props, "kind": {"type": "string", "const": kind}, **changes}
        required = ["kind"] + [name for name in ("text",) if kind != "info"]
        return {"type": "object", "properties": {k: v for k, v in properties.items() if v is not None},
                "required": required, "additionalProperties": False}

    no_unsure = {"type": ["boolean", "null"], "enum": [False, None]}
    info = variant("info", allow_unsure=no_unsure)
    schema["oneOf"] = [
        variant("consideration", text=filled_text),
        variant("prompt", text=filled_text, allow_unsure=no_unsure),
        {"anyOf": [{**info, "properties": {**info["properties"], "title": filled_title}, "required": ["kind", "title"]},
                   {**info, "properties": {**info["properties"], "text": filled_text}, "required": ["kind", "text"]}]},
    ]


# ---------------------------------------------------------------------------------------------
# Checking a document


def _duplicate_ids(doc: object) -> list[tuple[tuple, dict[str, Any]]]:
    """`(loc, error)` for every item id used a second time, naming the place of the first use."""
    found: list[tuple[tuple, dict[str, Any]]] = []
    first: dict[str, str] = {}
    sections = doc.get("sections") if isinstance(doc, dict) else None
    for s, section in enumerate(sections if isinstance(sections, list) else []):
        items = section.get("items") if isinstance(section, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            value = item.get("id") if isinstance(item, dict) else None
            if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
                continue
            place = f"sections[{s}].items[{i}]"
            if value in first:
                found.append((("sections", s, "items", i, "id"),
                              {"type": "duplicate_id", "ctx": {"id": value, "place": first[value]}}))
            else:
                first[value] = place
    return found


def check_document(doc: object) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Validate and normalise a parsed document: `(normalised, [])` or `(None, [(place, message)])`.

    Messages are in the request's language when there is a request, else in English.
    """
    from shared.schemas.errors import describe_errors

    raw_errors: list[dict[str, Any]] = []
    result = None
    try:
        result = GuideDocument.model_validate(doc).model_dump()
    except ValidationError as exc:
        raw_errors = exc.errors(include_url=False, include_input=True)
    for loc, error in _duplicate_ids(doc):
        raw_errors.append({**error, "loc": loc})
    if not raw_errors:
        return result, []
    return None, describe_errors(raw_errors, GuideDocument, root="document")
