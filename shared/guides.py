"""Guide documents: parse, validate, identify, flatten and serialise discussion guides.

A guide is a YAML or JSON document (see the "Guide document" section of the contract):
a title, a language, and sections of items. Each item is a *consideration* (a Ja/Nej question
everybody votes on), a *prompt* (an open question) or an *info* slide. This module owns the one
normalised shape every other module works with; nothing here touches the database.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

# The document's constants live with its models; they stay importable from here.
from shared.ids import random_id
from shared.schemas.errors import parse_error, render
from shared.schemas.guide import ID_PATTERN, KINDS, LANGUAGES, MAX_TEXT, MAX_TITLE, check_document  # noqa: F401

VOTE_LABELS = {
    "sv": {"yes": "Ja", "no": "Nej", "unsure": "Vet inte"},
    "da": {"yes": "Ja", "no": "Nej", "unsure": "Ved ikke"},
    "en": {"yes": "Yes", "no": "No", "unsure": "Not sure"},
}

#: Item ids from shared.ids' alphabet (no l, o, 0 or 1: read aloud or copied by hand from an export).
ID_LENGTH = 10

BUILTIN_DIR = Path(__file__).with_name("builtin_guides")


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
        raise GuideError([(f"line {exc.lineno}", parse_error("json_syntax", f"{exc.msg} (column {exc.colno})",
                                                             column=exc.colno))]) from None
    except _DuplicateJSONKeyError as exc:
        raise GuideError([("document", parse_error("duplicate_key", f'duplicate key "{exc.args[0]}"',
                                                   key=exc.args[0]))]) from None
    except RecursionError:
        raise GuideError([("document", render("too_deep") or "is nested too deeply")]) from None


def _parse_yaml(text: str) -> object:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # The context says what the parser was doing ("while parsing a flow sequence"), which is
        # often what makes the problem understandable.
        parts = [part for part in (exc.context, exc.problem) if part]
        message = ": ".join(parts) or "invalid YAML"
        problem = exc.problem or ""
        if problem.startswith("duplicate key") and '"' in problem:
            kind, values = "duplicate_key", {"key": problem.split('"')[1]}
        else:
            kind, values = "yaml_syntax", {"column": mark.column + 1 if mark else "?"}
        if mark is None:
            raise GuideError([("document", parse_error(kind, message, **values))]) from None
        raise GuideError([(f"line {mark.line + 1}", parse_error(kind, f"{message} (column {mark.column + 1})",
                                                                **values))]) from None
    except yaml.reader.ReaderError as exc:
        # Raised for characters YAML does not allow in a stream; it has a position but no mark.
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        place = _line_of(text, exc.position)
        raise GuideError([(place, parse_error("bad_character", f"the character U+{code:04X} is not allowed",
                                              code=f"{code:04X}"))]) from None
    except yaml.YAMLError as exc:
        raise GuideError([("document", parse_error("yaml_syntax", str(exc), column="?"))]) from None
    except RecursionError:
        raise GuideError([("document", render("too_deep") or "is nested too deeply")]) from None


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
            raise GuideError([(f"line {line}", parse_error("not_utf8", "is not UTF-8 text"))]) from None
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


def validate(doc: object) -> dict:
    """Check and normalise a parsed guide document.

    Runs the models of `shared.schemas.guide`. Collects every error (not only the first) and
    raises :class:`GuideError` with all of them, in the request's language when there is one.
    Returns ``{"title", "language", "description", "sections": [{"title", "statement", "tags",
    "notes", "duration", "items": [{"id", "kind", "title", "text", "allow_unsure", "notes",
    "duration"}]}]}`` with strings stripped, optional fields filled in ("" / [] / None / False)
    and nothing HTML-escaped.
    Validating a normalised document returns an equal one.
    """
    result, errors = check_document(doc)
    if errors:
        raise GuideError(errors)
    return result


# --------------------------------------------------------------------------------------------
# Ids


def _iter_items(doc: dict):
    for section in doc.get("sections", []):
        yield from section.get("items", [])


def _fresh_id(taken: set[str]) -> str:
    while True:
        candidate = random_id(ID_LENGTH)
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

    Each entry is ``{"index", "id", "kind", "title", "text", "allow_unsure", "choices", "notes",
    "duration", "section": {"index", "title", "statement", "tags"}, "section_notes",
    "section_duration"}``; ``index`` counts across sections. The notes and durations are the
    facilitator's: `shared.meeting.read.public_item` keeps them from the room.
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
                    # Console only: read.public_item leaves these out of what the room sees.
                    "notes": item.get("notes") or "",
                    "duration": item.get("duration"),
                    "section": {
                        "index": s,
                        "title": section["title"],
                        "statement": section.get("statement", ""),
                        "tags": list(section.get("tags", [])),
                    },
                    "section_notes": section.get("notes") or "",
                    "section_duration": section.get("duration"),
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
        for key in ("notes", "duration"):
            if section.get(key):
                s[key] = section[key]
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
            for key in ("notes", "duration"):
                if item.get(key):
                    i[key] = item[key]
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
