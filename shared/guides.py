"""Guide documents: parse, validate, identify, flatten and serialise discussion guides.

A guide is a YAML or JSON document (see the "Guide document" section of the contract):
a title, a language, and sections of items. Each item is a *consideration* (a Ja/Nej question
everybody votes on), a *prompt* (an open question) or an *info* slide. This module owns the one
normalised shape every other module works with; nothing here touches the database.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import secrets
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("sv", "da", "en")
KINDS = ("consideration", "prompt", "info")
MAX_TEXT = 4000  # chars per text field (description, statement, text)
MAX_TITLE = 300  # chars per title and per tag

VOTE_LABELS = {
    "sv": {"yes": "Ja", "no": "Nej", "unsure": "Vet inte"},
    "da": {"yes": "Ja", "no": "Nej", "unsure": "Ved ikke"},
    "en": {"yes": "Yes", "no": "No", "unsure": "Not sure"},
}

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,40}")
# No l, o, 0 or 1: an id may be read aloud or copied by hand from an export.
ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
ID_LENGTH = 10

BUILTIN_DIR = Path(__file__).with_name("builtin_guides")

_ROOT_FIELDS = ("title", "language", "description", "sections")
_SECTION_FIELDS = ("title", "statement", "tags", "items")
_ITEM_FIELDS = ("id", "kind", "title", "text", "allow_unsure")
# YAML (and Python's str.splitlines) treat these as line breaks; folding them into "\n" keeps a
# text the same after a YAML round trip and on every screen.
_LINE_BREAKS = re.compile("\r\n|[\r\x85\u2028\u2029]")
# Control characters and lone surrogates cannot be shown, break UTF-8 encoding of exports and are
# almost always the remains of a bad copy-and-paste; tab and newline are the only ones kept.
_BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_TAG_SEPARATORS = re.compile("[•,]")


class GuideError(ValueError):
    """A malformed guide document.

    ``errors`` is a list of ``(place, message)`` tuples, in document order. ``str(exc)`` is the
    first one as ``'<place>: <message>'``, followed by ``'; N more'`` when there are more.
    """

    errors: list[tuple[str, str]]

    def __init__(self, errors: list[tuple[str, str]] | str):
        if isinstance(errors, str):
            errors = [("document", errors)]
        self.errors = [(str(place), str(message)) for place, message in errors]
        if not self.errors:
            raise ValueError("GuideError needs at least one error")
        super().__init__(self._summary())

    def _summary(self) -> str:
        text = self.messages[0]
        if len(self.errors) > 1:
            text += f"; {len(self.errors) - 1} more"
        return text

    @property
    def messages(self) -> list[str]:
        """Every error formatted as ``'<place>: <message>'``."""
        return [f"{place}: {message}" for place, message in self.errors]

    def __reduce__(self):
        # The default would call GuideError(str(self)) and lose the list of errors.
        return (type(self), (self.errors,))


# --------------------------------------------------------------------------------------------
# Parsing


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses duplicate keys.

    Plain PyYAML keeps the last of two equal keys silently, so a guide with two ``text:`` lines in
    one item would lose a question without anybody noticing.
    """

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:  # unhashable key: the base class reports it
                    continue
                if duplicate:
                    raise yaml.constructor.ConstructorError(None, None, f'duplicate key "{key}"', key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _DuplicateJSONKeyError(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateJSONKeyError(key)
        result[key] = value
    return result


def _line_of(text: str, position: int) -> str:
    return f"line {text.count(chr(10), 0, max(position, 0)) + 1}"


def _parse_json(text: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        raise GuideError([(f"line {exc.lineno}", f"{exc.msg} (column {exc.colno})")]) from None
    except _DuplicateJSONKeyError as exc:
        raise GuideError([("document", f'duplicate key "{exc.args[0]}"')]) from None
    except RecursionError:
        raise GuideError([("document", "is nested too deeply")]) from None


def _parse_yaml(text: str) -> object:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # The context says what the parser was doing ("while parsing a flow sequence"), which is
        # often what makes the problem understandable.
        parts = [part for part in (exc.context, exc.problem) if part]
        message = ": ".join(parts) or "invalid YAML"
        if mark is None:
            raise GuideError([("document", message)]) from None
        raise GuideError([(f"line {mark.line + 1}", f"{message} (column {mark.column + 1})")]) from None
    except yaml.reader.ReaderError as exc:
        # Raised for characters YAML does not allow in a stream; it has a position but no mark.
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        place = _line_of(text, exc.position)
        raise GuideError([(place, f"the character U+{code:04X} is not allowed")]) from None
    except yaml.YAMLError as exc:
        raise GuideError([("document", str(exc))]) from None
    except RecursionError:
        raise GuideError([("document", "is nested too deeply")]) from None


def load_document(raw: bytes | str, filename: str | None = None) -> dict:
    """Parse a guide from YAML or JSON text and return it validated and normalised.

    JSON is tried when ``filename`` ends with ``.json`` or the text starts with ``{``; otherwise
    the text is read as YAML (safe loading only). Syntax errors raise :class:`GuideError` with the
    place ``'line N'``; a document that parses but breaks the rules raises it from :func:`validate`.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise GuideError([(f"line {line}", "is not UTF-8 text")]) from None
    else:
        text = raw.removeprefix("\ufeff")

    name = (filename or "").lower()
    if name.endswith(".json"):
        parsed = _parse_json(text)
    elif text.lstrip().startswith("{") and not name.endswith((".yaml", ".yml")):
        # A flow-style YAML mapping also starts with "{": fall back to YAML, but report the JSON
        # error when both fail, since the author most likely wrote JSON.
        try:
            parsed = _parse_json(text)
        except GuideError as json_error:
            try:
                parsed = _parse_yaml(text)
            except GuideError:
                raise json_error from None
    else:
        parsed = _parse_yaml(text)
    return validate(parsed)


# --------------------------------------------------------------------------------------------
# Validation


def _describe(value: object) -> str:
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


class _Checker:
    """Collects every error of one document while building its normalised form."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.id_places: dict[str, str] = {}

    def error(self, place: str, message: str) -> None:
        self.errors.append((place, message))

    def unknown_fields(self, place: str, mapping: dict, allowed: tuple[str, ...]) -> None:
        for key in mapping:
            if key in allowed:
                continue
            message = f'unknown field "{key}"'
            close = difflib.get_close_matches(str(key), allowed, n=1)
            if close:
                message += f' (did you mean "{close[0]}"?)'
            self.error(place, message)

    def text(self, place: str, value: object, limit: int, required: bool) -> str:
        """A stripped string; "" when absent or invalid (the error is recorded)."""
        if value is None:
            if required:
                self.error(place, "required")
            return ""
        if not isinstance(value, str):
            hint = " (put it in quotes)" if not isinstance(value, list | dict) else ""
            self.error(place, f"must be text, not {_describe(value)}{hint}")
            return ""
        value = _LINE_BREAKS.sub("\n", value).strip()
        if not value:
            if required:
                self.error(place, "must not be empty")
            return ""
        bad = _BAD_CHARS.search(value)
        if bad:
            self.error(place, f"contains the control character U+{ord(bad.group()):04X}")
            return ""
        if len(value) > limit:
            self.error(place, f"must be at most {limit} characters (has {len(value)})")
            return ""
        return value

    @staticmethod
    def choice(value: object, choices: tuple[str, ...]) -> str | None:
        # Case is forgiven ("Consideration", "SV"): it carries no meaning in these fields.
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        return None

    def tags(self, place: str, value: object) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            # "Beboerdemokrati • Frivillighed • Politikker" is how the printed guides write them.
            parts = [part for part in _TAG_SEPARATORS.split(value) if part.strip()]
            return [self.text(place, part, MAX_TITLE, required=True) for part in parts]
        if not isinstance(value, list):
            self.error(place, f"must be a list of text, not {_describe(value)}")
            return []
        return [self.text(f"{place}[{i}]", tag, MAX_TITLE, required=True) for i, tag in enumerate(value)]

    def document(self, doc: object) -> dict:
        if not isinstance(doc, dict):
            message = (
                "is empty"
                if doc is None
                else f"must be a mapping with title, language and sections, not {_describe(doc)}"
            )
            self.error("document", message)
            return {}
        self.unknown_fields("document", doc, _ROOT_FIELDS)
        result = {
            "title": self.text("title", doc.get("title"), MAX_TITLE, required=True),
            "language": self.choice(doc.get("language"), LANGUAGES),
            "description": self.text("description", doc.get("description"), MAX_TEXT, required=False),
            "sections": [],
        }
        if doc.get("language") is None:
            self.error("language", "required")
        elif result["language"] is None:
            self.error("language", "must be one of " + ", ".join(LANGUAGES))
        sections = doc.get("sections")
        if not isinstance(sections, list) or not sections:
            self.error("sections", "must be a non-empty list")
        else:
            result["sections"] = [self.section(f"sections[{i}]", section) for i, section in enumerate(sections)]
        return result

    def section(self, place: str, section: object) -> dict:
        if not isinstance(section, dict):
            self.error(place, f"must be a mapping with title and items, not {_describe(section)}")
            return {}
        self.unknown_fields(place, section, _SECTION_FIELDS)
        result = {
            "title": self.text(f"{place}.title", section.get("title"), MAX_TITLE, required=True),
            "statement": self.text(f"{place}.statement", section.get("statement"), MAX_TEXT, required=False),
            "tags": self.tags(f"{place}.tags", section.get("tags")),
            "items": [],
        }
        items = section.get("items")
        if not isinstance(items, list) or not items:
            self.error(f"{place}.items", "must be a non-empty list")
        else:
            result["items"] = [self.item(f"{place}.items[{i}]", item) for i, item in enumerate(items)]
        return result

    def item(self, place: str, item: object) -> dict:
        if not isinstance(item, dict):
            self.error(place, f"must be a mapping with kind and text, not {_describe(item)}")
            return {}
        self.unknown_fields(place, item, _ITEM_FIELDS)
        kind = self.choice(item.get("kind"), KINDS)
        if item.get("kind") is None:
            self.error(f"{place}.kind", "required")
        elif kind is None:
            # The contract spells this one message out with the item as its place.
            self.error(place, "kind must be one of " + ", ".join(KINDS))
        result = {
            "id": self.item_id(f"{place}.id", item.get("id")),
            "kind": kind,
            "title": self.text(f"{place}.title", item.get("title"), MAX_TITLE, required=False),
            "text": self.text(
                f"{place}.text", item.get("text"), MAX_TEXT, required=kind in ("consideration", "prompt")
            ),
            "allow_unsure": False,
        }
        # Not when a title or text was given but refused: that error already says what to fix.
        refused = any(p in (f"{place}.title", f"{place}.text") for p, _ in self.errors)
        if kind == "info" and not (result["title"] or result["text"] or refused):
            self.error(place, "info needs a title or a text")
        allow_unsure = item.get("allow_unsure")
        if allow_unsure is not None:
            if not isinstance(allow_unsure, bool):
                self.error(f"{place}.allow_unsure", f"must be true or false, not {_describe(allow_unsure)}")
            elif allow_unsure and kind is not None and kind != "consideration":
                # false is harmless anywhere (normalised items all carry it); true would offer a
                # "not sure" vote on something nobody votes on.
                self.error(f"{place}.allow_unsure", "is only allowed on considerations")
            else:
                result["allow_unsure"] = allow_unsure
        return result

    def item_id(self, place: str, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
            self.error(place, 'must be 1 to 40 letters (A-Z, a-z), digits, "-" or "_"')
            return None
        if value in self.id_places:
            self.error(place, f'"{value}" is already used at {self.id_places[value]}')
            return None
        self.id_places[value] = place.removesuffix(".id")
        return value


def validate(doc: object) -> dict:
    """Check and normalise a parsed guide document.

    Collects every error (not only the first) and raises :class:`GuideError` with all of them.
    Returns ``{"title", "language", "description", "sections": [{"title", "statement", "tags",
    "items": [{"id", "kind", "title", "text", "allow_unsure"}]}]}`` with strings stripped,
    optional fields filled in ("" / [] / None / False) and nothing HTML-escaped.
    Validating a normalised document returns an equal one.
    """
    checker = _Checker()
    result = checker.document(doc)
    if checker.errors:
        raise GuideError(checker.errors)
    return result


# --------------------------------------------------------------------------------------------
# Ids


def _iter_items(doc: dict):
    for section in doc.get("sections", []):
        yield from section.get("items", [])


def _fresh_id(taken: set[str]) -> str:
    while True:
        candidate = "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
        if candidate not in taken:
            return candidate


def assign_ids(doc: dict, previous: dict | None = None) -> dict:
    """Return a copy of a normalised ``doc`` in which every item has a stable string id.

    Items that carry an id keep it. An item without one that matches an item of ``previous``
    (e.g. the guide's earlier version) by ``(kind, text, title)`` takes that item's id, so results
    can be compared across edits of a guide. Every other item gets a fresh random id of
    10 characters that collides with no other id in the document.
    """
    result = copy.deepcopy(doc)
    items = list(_iter_items(result))
    taken = {item["id"] for item in items if item.get("id")}

    # Several equal items (the same prompt twice) each keep one of the earlier ids, in order.
    reusable: dict[tuple, list[str]] = {}
    old_ids = set()
    for old in _iter_items(previous or {}):
        if old.get("id"):
            old_ids.add(old["id"])
            reusable.setdefault((old.get("kind"), old.get("text"), old.get("title")), []).append(old["id"])

    # A fresh id must not revive the id of an item that was removed: the roll-up would add the
    # old item's results to the new one.
    avoid = taken | old_ids
    for item in items:
        if item.get("id"):
            continue
        candidates = reusable.get((item.get("kind"), item.get("text"), item.get("title")), [])
        while candidates and candidates[0] in taken:
            candidates.pop(0)
        item["id"] = candidates.pop(0) if candidates else _fresh_id(avoid)
        taken.add(item["id"])
        avoid.add(item["id"])
    return result


# --------------------------------------------------------------------------------------------
# Views of a document


def choices_for(item: dict) -> list[str]:
    """The vote choices an item offers: yes/no (+ unsure) for considerations, none otherwise."""
    if item.get("kind") != "consideration":
        return []
    return ["yes", "no", "unsure"] if item.get("allow_unsure") else ["yes", "no"]


def flatten(doc: dict) -> list[dict]:
    """The items of a normalised ``doc`` in guide order, each with its position and section.

    Each entry is ``{"index", "id", "kind", "title", "text", "allow_unsure", "choices",
    "section": {"index", "title", "statement", "tags"}}``; ``index`` counts across sections.
    """
    flat = []
    for s, section in enumerate(doc["sections"]):
        for item in section["items"]:
            flat.append(
                {
                    "index": len(flat),
                    "id": item.get("id"),
                    "kind": item["kind"],
                    "title": item.get("title", ""),
                    "text": item.get("text", ""),
                    "allow_unsure": bool(item.get("allow_unsure")),
                    "choices": choices_for(item),
                    "section": {
                        "index": s,
                        "title": section["title"],
                        "statement": section.get("statement", ""),
                        "tags": list(section.get("tags", [])),
                    },
                }
            )
    return flat


# --------------------------------------------------------------------------------------------
# Serialising


class _FlowList(list):
    """A list written on one line in YAML, like ``tags: [Beboerdemokrati, Frivillighed]``."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        # Equal lists shared between sections must be written out, not as &anchors.
        return True

    def increase_indent(self, flow=False, indentless=False):
        # Indent list items under their key, as the contract's example does.
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line texts (bullet lists, paragraphs) read best as literal blocks; PyYAML falls back
    # to a quoted style by itself when a text cannot be written as a block.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_flow_list(dumper: yaml.SafeDumper, value: list) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_FlowList, _represent_flow_list)


def _compact(doc: dict) -> dict:
    """The document without empty optional fields, keys in a readable order."""
    out: dict = {"title": doc["title"], "language": doc["language"]}
    if doc.get("description"):
        out["description"] = doc["description"]
    out["sections"] = []
    for section in doc["sections"]:
        s: dict = {"title": section["title"]}
        if section.get("statement"):
            s["statement"] = section["statement"]
        if section.get("tags"):
            s["tags"] = _FlowList(section["tags"])
        s["items"] = []
        for item in section["items"]:
            i: dict = {}
            if item.get("id"):
                i["id"] = item["id"]
            i["kind"] = item["kind"]
            if item.get("title"):
                i["title"] = item["title"]
            if item.get("text"):
                i["text"] = item["text"]
            if item.get("allow_unsure"):
                i["allow_unsure"] = True
            s["items"].append(i)
        out["sections"].append(s)
    return out


def dump(doc: dict, fmt: str = "yaml") -> str:
    """Serialise a normalised document as ``"yaml"`` or ``"json"`` text.

    Empty optional fields are left out. ``validate(load_document(dump(doc)))`` equals ``doc``.
    """
    compact = _compact(doc)
    if fmt == "json":
        return json.dumps(compact, ensure_ascii=False, indent=2) + "\n"
    if fmt == "yaml":
        return yaml.dump(compact, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    raise ValueError(f"unknown format {fmt!r}: use 'yaml' or 'json'")


# --------------------------------------------------------------------------------------------
# Built-in guides


def builtin_documents() -> list[dict]:
    """The built-in guides from ``shared/builtin_guides/*.yaml``, sorted by file name.

    Each is validated and carries the fixed item ids written in its file, so the same guide has
    the same ids on every installation.
    """
    return [load_document(path.read_bytes(), path.name) for path in sorted(BUILTIN_DIR.glob("*.yaml"))]
