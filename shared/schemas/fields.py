"""Field types every model shares: texts, ids, booleans, whole numbers, choices.

A field is an `Annotated` type: the Python type says what the value is after validation (and so what
a response holds), a plain validator says what input is accepted, and the validation-mode JSON
Schema says the same as the validator, never more. The generated OpenAPI document and schemathesis
rely on that last point: a value the schema allows must never be refused as malformed.

Refusals raise `PydanticCustomError` whose type names a message in `shared.schemas.errors` and
whose context fills it in; the message is translated only when it is shown.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from shared.ids import MAX_INT
from shared.text import LINE_BREAKS, clean

# Control characters and lone surrogates cannot be shown, break UTF-8 encoding of exports and
# PostgreSQL's text columns, and are almost always the remains of a bad copy-and-paste; tab and
# newline are the only ones kept.
BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# The same rule as a JSON Schema pattern (ECMA, Python and Rust regex agree on this syntax). The
# line breaks that are folded (\r, \x85) are allowed; lone surrogates cannot be written in JSON
# Schema portably, so the validator alone refuses them.
_ALLOWED = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]"
# Something visible: not white space, and not a bidirectional override (dropped on storing).
_VISIBLE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\s\u202a-\u202e\u2066-\u2069]"
SAFE_PATTERN = f"^{_ALLOWED}*$"
#: Safe, and something left after stripping white space.
FILLED_PATTERN = f"^{_ALLOWED}*{_VISIBLE}{_ALLOWED}*$"


def fail(kind: str, **context: Any) -> None:
    """Refuse a value: `kind` names the message in `shared.schemas.errors.MESSAGES`."""
    raise PydanticCustomError(kind, kind, context)


def describe(value: object) -> str:
    """What a refused value is, in the words of a person who wrote a YAML file."""
    if value is None:
        return "empty"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__  # dates and times from YAML


def clean_text(value: object, *, limit: int, required: bool = False, blank: bool = False) -> str:
    """A stripped text with its line breaks folded to "\\n"; "" when absent and allowed.

    `required`: null or a missing value is refused; `blank`: an empty text is then still allowed
    (a conclusion is cleared with "").
    """
    if value is None:
        if required:
            fail("required")
        return ""
    if not isinstance(value, str):
        fail("text_type" if isinstance(value, list | dict) else "text_type_quote", what=describe(value))
    value = LINE_BREAKS.sub("\n", value).strip()
    if not value:
        if required and not blank:
            fail("not_empty")
        return ""
    bad = BAD_CHARS.search(value)
    if bad:
        code = ord(bad.group())
        fail("lone_surrogate" if 0xD800 <= code <= 0xDFFF else "control_character", code=f"{code:04X}")
    # The one cleaning rule of stored text (shared/text.py): what is left to drop here are the
    # bidirectional overrides, which are refused nowhere because pasted text often carries them.
    value = clean(value)
    if not value and required and not blank:
        fail("not_empty")
    if len(value) > limit:
        fail("too_long", limit=limit, actual=len(value))
    return value


def Text(limit: int, *, required: bool = False, blank: bool = False, nullable: bool = True,  # noqa: N802 - a type
         description: str | None = None) -> Any:
    """A text field of at most `limit` characters (after stripping); see `clean_text`.

    `nullable=False` keeps null out of the JSON Schema (a query parameter is never null).
    """
    schema: dict[str, Any] = {"type": "string", "maxLength": limit,
                              "pattern": FILLED_PATTERN if required and not blank else SAFE_PATTERN}
    if not required and nullable:
        schema["type"] = ["string", "null"]
    if description:
        schema["description"] = description
    validator = partial(clean_text, limit=limit, required=required, blank=blank)
    return Annotated[str, PlainValidator(validator), WithJsonSchema(schema, mode="validation")]


def _strict_bool(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    fail("bool_type", what=describe(value))
    return None  # pragma: no cover - fail raises


#: true or false; null counts as "not given" (the JSON Schema says boolean: send one or leave it out).
OptionalBool = Annotated[
    bool | None, PlainValidator(_strict_bool), WithJsonSchema({"type": "boolean"}, mode="validation"),
]


def strict_int(value: object) -> int | None:
    """A whole number that the databases can store; None stays None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INT:
        value = int(value)  # JSON Schema counts 3.0 as an integer, so we do
    if isinstance(value, bool) or not isinstance(value, int):
        fail("int_type", what=describe(value))
    if not -MAX_INT <= value <= MAX_INT:
        fail("number_range", min=-MAX_INT, max=MAX_INT)
    return value


INT_SCHEMA = {"type": "integer", "minimum": -MAX_INT, "maximum": MAX_INT}
#: A whole number (not true/false, not 1.5, not "1"); null counts as "not given".
OptionalInt = Annotated[int | None, PlainValidator(strict_int), WithJsonSchema(INT_SCHEMA, mode="validation")]


def choice(value: object, choices: tuple[str, ...], *, kind: str = "choice") -> str:
    """One of `choices`; case and surrounding spaces are forgiven ("Consideration", " SV ")."""
    if value is None:
        fail("required")
    if isinstance(value, str) and value.strip().lower() in choices:
        return value.strip().lower()
    fail(kind, choices=", ".join(choices))
    return ""  # pragma: no cover - fail raises


class MissingAs:
    """Field metadata: report the field's absence with this message type instead of "required"."""

    def __init__(self, kind: str) -> None:
        self.kind = kind


class Schema(BaseModel):
    """Base of request models: unknown fields are ignored (a client may send more than we read)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Closed(BaseModel):
    """Base of the guide document's models: an unknown field is a typo and is refused."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class Out(BaseModel):
    """Base of response models: what they hold is exactly what is sent.

    Keys a rule returns that a model does not declare are dropped, so the generated document can
    promise `additionalProperties: false`; tests check that no rule returns undeclared keys.
    """

    model_config = ConfigDict(extra="ignore", json_schema_extra={"additionalProperties": False},
                              json_schema_serialization_defaults_required=True)
