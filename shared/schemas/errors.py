"""Validation errors as people read them: `(place, message)` pairs, translated, in document order.

pydantic reports an error as a type, a location (`("sections", 1, "items", 0, "kind")`) and a
context. `describe_errors` turns each into a place (`sections[1].items[0].kind`) and a message
from `MESSAGES`, in the request's language (English without a request: the CLI, the tests), and
sorts them as the fields stand in the document. `RequestError` carries them to the API's error
handler, which answers the contract's 422 body (`error_body`).
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from flask import has_request_context
from flask_babel import get_locale, gettext
from pydantic import BaseModel, ValidationError

from shared.schemas.fields import MissingAs, describe


def N_(text: str) -> str:  # noqa: N802 - the gettext marker pybabel extracts by default
    """Mark a text for translation; it is translated when shown (`render`)."""
    return text


#: Message of each error type; `%(name)s` is filled in from the error's context.
MESSAGES: dict[str, str] = {
    "required": N_("required"),
    "not_empty": N_("must not be empty"),
    "text_type": N_("must be text, not %(what)s"),
    "text_type_quote": N_("must be text, not %(what)s (put it in quotes)"),
    "control_character": N_("contains the control character U+%(code)s"),
    "lone_surrogate": N_("contains U+%(code)s, which is not a character (a lone surrogate: invalid Unicode)"),
    "too_long": N_("must be at most %(limit)s characters (has %(actual)s)"),
    "choice": N_("must be one of %(choices)s"),
    "kind_choice": N_("kind must be one of %(choices)s"),
    "non_empty_list": N_("must be a non-empty list"),
    "tags_type": N_("must be a list of text, not %(what)s"),
    "empty_document": N_("is empty"),
    "document_type": N_("must be a mapping with title, language and sections, not %(what)s"),
    "section_type": N_("must be a mapping with title and items, not %(what)s"),
    "item_type": N_("must be a mapping with kind and text, not %(what)s"),
    "unknown_field": N_('unknown field "%(field)s"'),
    "unknown_field_hint": N_('unknown field "%(field)s" (did you mean "%(hint)s"?)'),
    "info_needs_text": N_("info needs a title or a text"),
    "bool_type": N_("must be true or false, not %(what)s"),
    "unsure_only_consideration": N_("is only allowed on considerations"),
    "item_id": N_('must be 1 to 40 letters (A-Z, a-z), digits, "-" or "_"'),
    "duplicate_id": N_('"%(id)s" is already used at %(place)s'),
    "int_type": N_("must be a whole number, not %(what)s"),
    "number_range": N_("must be between %(min)s and %(max)s"),
    "object_type": N_("must be a JSON object, not %(what)s"),
    "not_json": N_("is not valid JSON"),
    "too_deep": N_("is nested too deeply"),
    "date_type": N_("must be a date like 2026-05-31"),
    "at_least_one": N_("give at least one of %(fields)s"),
    # A guide file that cannot be read at all (shared.guides); in English the parser's own words,
    # which say more, stand instead (`parse_error`).
    "not_utf8": N_("is not UTF-8 text"),
    "duplicate_key": N_('has the key "%(key)s" twice'),
    "yaml_syntax": N_("is not valid YAML here (column %(column)s)"),
    "json_syntax": N_("is not valid JSON here (column %(column)s)"),
    "bad_character": N_("the character U+%(code)s is not allowed"),
}

#: What a refused value was (`fields.describe`), for "%(what)s".
WHAT: dict[str, str] = {
    "empty": N_("empty"),
    "text": N_("text"),
    "true/false": N_("true/false"),
    "a number": N_("a number"),
    "a list": N_("a list"),
    "a mapping": N_("a mapping"),
    "a decimal number": N_("a decimal number"),
}

#: Errors the contract places on the mapping that holds the field, not on the field itself.
AT_PARENT = {"kind_choice", "info_needs_text"}


def _translate(text: str, **values: Any) -> str:
    if has_request_context():
        return gettext(text, **values)
    return text % values if values else text


def parse_error(kind: str, english: str, **context: Any) -> str:
    """A guide file's syntax error for its reader: the parser's own English words (which name
    the token it expected) where the reader reads English or there is no request (the CLI, the
    tests); else the message of `kind`, translated, so that a Danish page shows no English."""
    if not has_request_context() or str(get_locale()) == "en":
        return english
    return render(kind, context) or english


def render(kind: str, context: dict[str, Any] | None = None) -> str | None:
    """The message of an error type, filled in and translated; None for an unknown type."""
    template = MESSAGES.get(kind)
    if template is None:
        return None
    values = dict(context or {})
    if "what" in values:
        values["what"] = _translate(WHAT[values["what"]]) if values["what"] in WHAT else values["what"]
    return _translate(template, **values)


# ---------------------------------------------------------------------------------------------
# Locations


def _inner_model(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """("model", M) for a field holding a model, ("list", M) for a list of them, else None."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("model", annotation)
    if typing.get_origin(annotation) is list:
        inner = _inner_model(typing.get_args(annotation)[0])
        if inner and inner[0] == "model":
            return ("list", inner[1])
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(args) == 1:  # Optional[M]
        return _inner_model(args[0])
    return None


class _Located:
    """Where an error's location points: the place, a document-order key, the field it names."""

    def __init__(self, model: type[BaseModel], loc: tuple) -> None:
        self.parts: list[str | int] = []
        self.key: list[int] = []
        self.parent: type[BaseModel] | None = None  # the model the last part is a field of
        self.field: Any = None  # its FieldInfo, when it is a declared field
        node: tuple[str, type[BaseModel]] | None = ("model", model)
        for part in loc:
            self.parent, self.field = None, None
            if node and node[0] == "model":
                # pydantic names a field by its alias in locations (`from` for `since`).
                fields = {info.alias or name: (n, info) for n, (name, info) in enumerate(node[1].model_fields.items())}
                self.parent = node[1]
                if isinstance(part, str) and part in fields:
                    n, self.field = fields[part]
                    self.key.append(n)
                    node = _inner_model(self.field.annotation)
                else:  # an unknown field: reported first, as the mapping's own error
                    self.key.append(-1)
                    node = None
            elif node and node[0] == "list" and isinstance(part, int):
                self.key.append(part)
                node = ("model", node[1])
            else:
                self.key.append(part if isinstance(part, int) else 0)
                node = None
            self.parts.append(part)

    @staticmethod
    def format(parts: list[str | int], root: str) -> str:
        """`["sections", 1, "items", 0]` -> `sections[1].items[0]`; `[]` -> the root's name."""
        out = ""
        for part in parts:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}" if out else str(part)
        return out or root


def _message(error: dict[str, Any], where: _Located) -> str:
    kind = error["type"]
    ctx = dict(error.get("ctx") or {})
    if kind == "missing":
        marker = next((m for m in getattr(where.field, "metadata", ()) if isinstance(m, MissingAs)), None)
        kind = marker.kind if marker else "required"
    elif kind in ("extra_forbidden", "invalid_key"):
        name = str(where.parts[-1]) if where.parts else str(error.get("input"))
        close = difflib.get_close_matches(name, list(where.parent.model_fields) if where.parent else [], n=1)
        kind, ctx = ("unknown_field_hint", {"field": name, "hint": close[0]}) if close else (
            "unknown_field", {"field": name})
    elif kind == "literal_error":
        kind, ctx = "choice", {"choices": str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")}
    elif kind.startswith("date_"):
        kind = "date_type"
    elif kind == "int_type" and isinstance(error.get("input"), float):
        ctx = {"what": "a decimal number"}
    elif kind in ("model_type", "dict_type", "model_attributes_type"):
        kind, ctx = "object_type", {"what": describe(error.get("input"))}
    return render(kind, ctx) or error.get("msg") or kind


def describe_errors(errors: list[dict[str, Any]], model: type[BaseModel], *, root: str) -> list[tuple[str, str]]:
    """`(place, message)` of each pydantic error (as `ValidationError.errors()` gives them),
    in document order; `root` names the whole document or body (`"document"`, `"body"`)."""
    described = []
    for n, error in enumerate(errors):
        where = _Located(model, tuple(error.get("loc", ())))
        parts = where.parts
        if error["type"] in AT_PARENT or error["type"] in ("extra_forbidden", "invalid_key"):
            parts = parts[:-1]
        described.append((where.key, n, _Located.format(parts, root), _message(error, where)))
    described.sort(key=lambda entry: (entry[0], entry[1]))
    return [(place, message) for _key, _n, place, message in described]


# ---------------------------------------------------------------------------------------------
# The API's 422


class RequestError(Exception):
    """A request body or query the API refuses, with every `(place, message)`; answered with 422."""

    def __init__(self, errors: list[tuple[str, str]], code: str = "invalid") -> None:
        super().__init__("; ".join(f"{place}: {message}" for place, message in errors))
        self.errors = errors
        self.code = code

    @classmethod
    def from_validation(cls, exc: ValidationError, model: type[BaseModel], *, root: str) -> RequestError:
        """From pydantic's error; a text over its limit keeps the contract's `too_long` code."""
        raw = exc.errors(include_url=False)
        code = "too_long" if raw and raw[0]["type"] == "too_long" else "invalid"
        return cls(describe_errors(raw, model, root=root), code)

    @classmethod
    def one(cls, place: str, kind: str, **context: Any) -> RequestError:
        """A single refusal, e.g. `RequestError.one("body", "not_json")`."""
        return cls([(place, render(kind, context) or kind)])


def error_body(exc: RequestError) -> dict[str, Any]:
    """The contract's error body with the places: `{"error", "message", "errors": [{"place", "message"}]}`."""
    from shared.messages import message_for

    return {"error": exc.code, "message": message_for(exc.code, str(exc)),
            "errors": [{"place": place, "message": message} for place, message in exc.errors]}
