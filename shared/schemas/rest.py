"""REST API v1: the models of every request body, query and response.

Request models (`Schema`) validate what a client sends; their validation-mode JSON Schema says
exactly what they accept. Response models (`Out`) are what the API answers: every handler
serialises its payload through one of them with `dump`, so the document generated from them
(`shared.schemas.openapi`) is the shape on the wire. Fields beyond the contract are marked
"Additive" in their description, as docs/api.md does.

The module is long (about 500 lines) because it is a catalogue: one small model per payload, in
the order of docs/api.md, read side by side with it. Splitting it would scatter one answer's
parts (a state, its item, its section) over several files.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
    model_serializer,
    model_validator,
)

from shared.ids import CODE_ALPHABET, CODE_LENGTH
from shared.meeting import ACTIONS, MAX_COMMENT, MAX_CONCLUSION
from shared.meeting.hands import MAX_COUNT, MAX_PAPER_COMMENTS
from shared.models import CHOICES, JoinDisplay, MeetingStatus
from shared.schemas.fields import INT_SCHEMA, OptionalBool, Out, Schema, Text, fail, strict_int
from shared.schemas.guide import KINDS, LANGUAGES, MAX_TITLE, GuideDocument

MAX_UNIT = 200
MAX_ID = 64
STATUSES = tuple(s.value for s in MeetingStatus)
CODE_PATTERN = f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$"
EXPORT_FORMATS = ("csv", "xlsx", "json", "zip")
ROLLUP_FORMATS = ("json", "csv", "xlsx", "zip")
#: one table per CSV file (issue 12, gap 12): the tables of each export (shared.export)
SESSION_TABLES = ("items", "comments")
ROLLUP_TABLES = ("items", "comments", "tags", "sessions")
DIALECTS = ("comma", "semicolon")
FILE_TABLE = ("Additive: a CSV file of this one table (`zip` holds every table, one CSV file each). Without it, "
              "the documented CSV: for a session both tables with a blank line between, for a roll-up its items.")
FILE_DIALECT = ("Additive: the CSV's separators whatever the language: `comma` (and a decimal point) or "
                "`semicolon` (and a decimal comma).")

Count = Annotated[int, Field(ge=0)]
# Literal[("a", "b")] is Literal["a", "b"]: the closed sets come from where they are defined.
Status = Literal[STATUSES]
LanguageCode = Literal[LANGUAGES]
Kind = Literal[KINDS]
Choice = Literal[CHOICES]
Id = Text(MAX_ID, required=True)
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"}, description="UTC, ISO 8601.")]
Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]


def _exactly(values: tuple[str, ...], description: str | None = None) -> Any:
    """One of `values`, spelt exactly (an action or a format is a name, not a text)."""

    def check(value: object) -> str:
        if value is None:
            fail("required")
        if not isinstance(value, str) or value not in values:
            fail("choice", choices=", ".join(values))
        return value  # type: ignore[return-value]

    schema: dict[str, Any] = {"type": "string", "enum": list(values)}
    if description:
        schema["description"] = description
    return Annotated[str, PlainValidator(check), WithJsonSchema(schema, mode="validation")]


# ---------------------------------------------------------------------------------------------
# Requests


class SessionCreate(Schema):
    """`POST /sessions`: a waiting session from a guide."""

    guide_id: Id
    title: Text(MAX_TITLE, required=True)
    unit: Text(MAX_UNIT, description="The organisational unit, e.g. a department; null or absent: none.") = ""
    language: LanguageCode | None = Field(default=None, description="Additive (v1.1): the meeting's language, "
                                          "which the projector and phones that have not chosen one follow; null "
                                          "or absent: the guide's.")
    approve_comments: OptionalBool = Field(default=None, description="Additive (issue 11): new comments wait "
                                           "for a facilitator's approval; null or absent: the organisers' default "
                                           "(the settings page).")


def _index(value: object, info: ValidationInfo) -> int | None:
    if value is None and info.data.get("action") == "goto":
        fail("required")
    return strict_int(value)


class ControlRequest(Schema):
    """`POST /sessions/{id}/control`: a control action (`goto` with the item's `index`)."""

    action: _exactly(ACTIONS)
    index: Annotated[int | None, PlainValidator(_index), WithJsonSchema(INT_SCHEMA, mode="validation"),
                     Field(description="The 0-based item to go to (with `goto`); additive: with "
                     "`show_summary` the 0-based section whose summary to show, none for the whole guide's.")] = Field(
        default=None, validate_default=True)

    model_config = Schema.model_config | {"json_schema_extra": {
        "if": {"properties": {"action": {"const": "goto"}}, "required": ["action"]},
        "then": {"required": ["index"]},
    }}


class ModerateRequest(Schema):
    """`POST /sessions/{id}/comments/{comment_id}`: hide/unhide and/or pin/unpin a comment."""

    hidden: OptionalBool = None
    pinned: OptionalBool = None
    approved: OptionalBool = Field(default=None, description="Additive (issue 11): true approves a comment that "
                                   "waits for approval (the room then sees it); false makes it wait again.")

    model_config = Schema.model_config | {"json_schema_extra": {
        "description": "Give at least one of the three.",
        "anyOf": [{"required": ["hidden"]}, {"required": ["pinned"]}, {"required": ["approved"]}],
    }}

    @model_validator(mode="after")
    def one_at_least(self) -> ModerateRequest:
        """Nothing to change is a mistake, not a no-op."""
        if self.hidden is None and self.pinned is None and self.approved is None:
            fail("at_least_one", fields="hidden, pinned, approved")
        return self


class ConclusionRequest(Schema):
    """`PUT /sessions/{id}/items/{item_id}/conclusion`: the group's conclusion; "" clears it."""

    text: Text(MAX_CONCLUSION, required=True, blank=True, description="The group's conclusion; empty clears it.")


def _hand(value: object) -> int:
    n = strict_int(value)
    if n is None:
        fail("required")
    if not 0 <= n <= MAX_COUNT:
        fail("number_range", min=0, max=MAX_COUNT)
    return n


#: A counted number of hands or people: a whole number from 0 to MAX_COUNT.
HandCountValue = Annotated[int, PlainValidator(_hand),
                           WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_COUNT}, mode="validation")]
HandCounts = Annotated[dict[Choice, HandCountValue], Field(
    description="Counted hands per choice; a choice left out is not counted. Every item's hands, all choices "
    "summed, must not exceed the session's stated participants where given (422 `invalid_count`).")]


class HandsRequest(Schema):
    """`PUT /sessions/{id}/hands/{item_id}` (additive): the counted hands of one item, replacing its earlier ones."""

    counts: HandCounts


class PaperItem(Schema):
    """One item of a dialogue held on paper (additive)."""

    counts: HandCounts = Field(default_factory=dict)
    conclusion: Text(MAX_CONCLUSION, blank=True, description="The group's conclusion; empty: none.") = ""
    comments: list[Text(MAX_COMMENT, required=True)] = Field(default_factory=list, max_length=MAX_PAPER_COMMENTS,
                                                            description="Comments typed in from the paper.")


class PaperSessionCreate(Schema):
    """`POST /sessions/paper` (additive): record a dialogue held on paper as an ended session."""

    guide_id: Id
    held_on: Annotated[dt.date, Field(description="The day it was held: from 2000-01-01, not in the future "
                                      "(422 `invalid_count` otherwise).")]
    participants: HandCountValue = Field(description="How many took part.")
    unit: Text(MAX_UNIT, description="The organisational unit; null or absent: none.") = ""
    title: Text(MAX_TITLE, description="Null or absent: the guide's title.") = ""
    items: dict[str, PaperItem] = Field(default_factory=dict, description="By the guide's item ids; an id the "
                                        "guide does not have answers 404 `unknown_item`.")


def _day(value: object) -> dt.date | None:
    # Absent is no bound; present and empty (`?to=`) is a mistake to name, not "no bound".
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    fail("date_type")
    return None  # pragma: no cover - fail raises


Day = Annotated[dt.date | None, PlainValidator(_day), WithJsonSchema({"type": "string", "format": "date"},
                                                                      mode="validation")]


FILE_LANGUAGE = ("Additive: CSV and XLSX for a spreadsheet in this language: every column, sheet and value "
                 "in it, times in the configured time zone, and for `sv` and `da` CSV separated by semicolons "
                 "with decimal commas, as Excel in those locales reads it. Without it, the stable English "
                 "columns (comma-separated, UTC times in CSV). JSON is the same either way.")


class GuideVersion(Schema):
    """The version an edit of a guide started from (`GuideSave` without its document, which the guide's
    own models check so that their errors name every place)."""

    version: Annotated[int, PlainValidator(strict_int), Field(ge=1), WithJsonSchema(
        {**INT_SCHEMA, "minimum": 1}, mode="validation")] = Field(
        description="The guide's `version` the edit started from; another is refused with `409 version_conflict`.")


class GuideSave(GuideVersion):
    """`PUT /guides/{id}`: an edited document and the version it was based on."""

    document: GuideDocument = Field(description="The whole guide document. Items that keep their `id` keep their "
                                    "results in the roll-up; items without one get a new id.")


def _strict_flag(value: object) -> bool:
    from shared.schemas.fields import describe

    if value is None:
        fail("required")
    if not isinstance(value, bool):
        fail("bool_type", what=describe(value))
    return value


class GuideArchive(Schema):
    """`POST /guides/{id}/archive`."""

    archived: Annotated[bool, PlainValidator(_strict_flag), WithJsonSchema(
        {"type": "boolean"}, mode="validation")] = Field(
        description="true archives the guide (left out of new sessions' choices), false brings it back.")


class GuideListQuery(Schema):
    """`GET /guides?archived=`."""

    archived: _exactly(("false", "true"), "Additive: `true` lists archived guides too (marked `archived`).") = "false"


class GuideExportQuery(Schema):
    """`GET /guides/{id}/export?format=`."""

    format: _exactly(("yaml", "json"), "The file format (YAML by default).") = "yaml"


class DeleteSessionQuery(Schema):
    """`DELETE /sessions/{id}?keep_counts=`."""

    keep_counts: _exactly(("false", "true"), "Additive: `true` deletes only an ended session's personal traces "
                          "(its comments and the phones' tokens) and keeps its counts and conclusions, so published "
                          "roll-ups stay as they are; 409 for a session that has not ended.") = "false"


class ExportQuery(Schema):
    """`GET /sessions/{id}/export?format=`."""

    format: _exactly(EXPORT_FORMATS, "The file format; without it, JSON (additive default); `zip` (additive): "
                     "one CSV file per table.") = "json"
    language: LanguageCode | None = Field(default=None, description=FILE_LANGUAGE)
    table: _exactly(SESSION_TABLES) | None = Field(default=None, description=FILE_TABLE)
    dialect: _exactly(DIALECTS) | None = Field(default=None, description=FILE_DIALECT)


class RollupQuery(Schema):
    """`GET /guides/{id}/rollup?format=&unit=&from=&to=`."""

    format: _exactly(ROLLUP_FORMATS, "The roll-up as JSON (the default, additive) or as a file; `zip` "
                     "(additive): one CSV file per table.") = "json"
    language: LanguageCode | None = Field(default=None, description=FILE_LANGUAGE)
    table: _exactly(ROLLUP_TABLES) | None = Field(default=None, description=FILE_TABLE)
    dialect: _exactly(DIALECTS) | None = Field(default=None, description=FILE_DIALECT)
    unit: Text(MAX_UNIT, nullable=False, description="Additive: only sessions of this unit.") = ""
    since: Annotated[Day, Field(alias="from", description="Additive: only sessions started on or after this "
                                "day (UTC).")] = None
    until: Annotated[Day, Field(alias="to", description="Additive: only sessions started on or before this "
                                "day (UTC).")] = None

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """`from` as the start of its UTC day; `to` as the start of the day after (an exclusive end)."""
        def start(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)

        since = start(self.since) if self.since else None
        # The last day there is has no day after it: no upper bound is the same range.
        until = start(self.until + dt.timedelta(days=1)) if self.until and self.until < dt.date.max else None
        return since, until


# ---------------------------------------------------------------------------------------------
# Responses


class OmitNone(Out):
    """A response whose optional fields are left out, not sent as null, when they have no value."""

    omit_if_none: ClassVar[tuple[str, ...]] = ()

    # No return annotation: the serialisation schema stays the model's own.
    @model_serializer(mode="wrap")
    def _omit(self, handler):
        data = handler(self)
        for name in self.omit_if_none:
            if data.get(name) is None:
                data.pop(name, None)
        return data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        resolved = handler.resolve_ref_schema(schema)
        if handler.mode == "serialization":
            resolved["required"] = [name for name in resolved.get("required", []) if name not in cls.omit_if_none]
            for name in cls.omit_if_none:  # absent rather than null
                prop = resolved["properties"].get(name, {})
                prop.pop("default", None)
                options = [o for o in prop.pop("anyOf", []) if o.get("type") != "null"]
                if len(options) == 1:
                    prop.update(options[0])
        return schema


class GuideSummary(Out):
    """An entry of the guide list."""

    id: str
    title: str
    language: LanguageCode
    items: Count = Field(description="How many items the guide has.")
    builtin: bool = Field(description="Additive: one of the guides shipped with Dialogrum.")
    version: int = Field(ge=1, description="Additive: 1 when created, +1 on every saved change of the document.")
    archived: bool = Field(description="Additive: left out of the choices for new sessions (listed only with "
                           "`?archived=true`).")
    editable: bool = Field(description="Additive: the caller may change, archive and delete it (organisers every "
                           "guide that is not built in, facilitators their own).")


class GuideDetail(GuideSummary):
    """Additive: a guide summary with its document (item ids and optional fields filled in)."""

    document: GuideDocument


class GuideCreated(Out):
    """The id of an imported guide."""

    id: str


class Session(Out):
    """The contract's session object."""

    id: str
    code: Annotated[str, Field(pattern=CODE_PATTERN,
                               description="The join code; matched ignoring case, spaces and dashes.")]
    title: str
    unit: str
    status: Status
    join_url: Url = Field(description="`<base>/j/<code>`")
    facilitator_url: Url
    projector_url: Url = Field(description="`<base>/p/<projector_key>`: no login needed; the key is also "
                               "the projector's Socket.IO credential.")
    qr_svg_url: Url = Field(description="A QR code of `join_url`.")
    guide_id: str | None = Field(description="Additive; null once the guide is deleted.")
    guide_version: int | None = Field(default=None, description="Additive: the guide's version the session's "
                                      "snapshot is of; null for sessions older than guide versions.")
    created_at: Timestamp = Field(description="Additive.")
    language: LanguageCode = Field(description="v1.1: the meeting's language (by default its guide's); the "
                                   "projector and phones that have not chosen a language follow it.")
    entered_by_hand: bool = Field(default=False, description="Additive: recorded after the fact from a dialogue "
                                  "held on paper (`POST /sessions/paper`).")

    @classmethod
    def of(cls, meeting: Any, base: str) -> Session:
        """The session object of a `Meeting` row, with links under `base`."""
        return cls(
            id=meeting.id, code=meeting.code, title=meeting.title, unit=meeting.unit, status=meeting.status,
            join_url=f"{base}/j/{meeting.code}", facilitator_url=f"{base}/console/{meeting.id}",
            projector_url=f"{base}/p/{meeting.projector_key}", qr_svg_url=f"{base}/j/{meeting.code}/qr.svg",
            guide_id=meeting.guide_id, guide_version=meeting.guide_version, created_at=meeting.created_at.isoformat(),
            language=meeting.language or meeting.guide_snapshot["language"],
            entered_by_hand=bool(meeting.entered_by_hand),
        )


class Section(Out):
    """The section an item belongs to."""

    title: str
    statement: str = Field(description="Empty when the guide gives none.")
    tags: list[str]
    index: Count = Field(description="Additive: the section's 0-based place in the guide.")


class StateSession(Out):
    """The session part of the state object."""

    id: str
    code: Annotated[str, Field(pattern=CODE_PATTERN)]
    title: str
    status: Status


class Position(Out):
    """Where the session is in its guide."""

    index: Count = Field(description="0-based; 0 while the session is waiting (`item` is then null).")
    count: Count = Field(description="How many items the session has.")


class StateItem(Out):
    """The item on screen."""

    id: str
    kind: Kind
    title: str
    text: str
    choices: list[Choice] = Field(description="`[yes, no]` or `[yes, no, unsure]` on considerations, else empty.")
    section: Section


class Labels(Out):
    """Additive: the vote labels in the guide's language."""

    yes: str
    no: str
    unsure: str


class Me(Out):
    """A participant's own vote and comment count on the current item."""

    vote: Choice | None
    comments: Count


class SummarySection(Out):
    """Additive: which closing summary is on the projector."""

    section: Count | None = Field(description="The section's 0-based index; null for the whole guide.")


class Timer(Out):
    """Additive: the facilitator's countdown for the current item (shared state: every console,
    a reload and the projector see the same time)."""

    duration: Count = Field(description="Seconds the countdown starts from: the item's suggested duration, "
                            "else 5 minutes.")
    remaining: Annotated[float, Field(ge=0)] = Field(
        description="Seconds left when the state was made (to the millisecond). Count down locally from the "
        "moment the state arrived while `running`; 0 means the time is up.")
    running: bool
    visible: bool = Field(description="The projector shows the countdown.")
    ends_at: Timestamp | None = Field(description="When it reaches 0 on the server's clock; null when not "
                                      "running. Prefer `remaining`: clocks differ.")


class State(OmitNone):
    """The state object; also the payload of the Socket.IO `state` event."""

    omit_if_none: ClassVar[tuple[str, ...]] = ("me",)

    session: StateSession
    position: Position
    item: StateItem | None = Field(description="Null while the session is waiting.")
    voting_open: bool
    results_visible: bool
    participants: Count = Field(description="Phones connected right now.")
    language: LanguageCode = Field(description="Additive: the guide's language.")
    labels: Labels
    version: Count = Field(description="Additive: grows with every change of state.")
    voting_opened: bool = Field(description="Additive: voting was opened on the current item at least once, "
                                "so the screens can say \"opens soon\" before and \"closed\" after.")
    join_display: JoinDisplay = Field(
        description="Additive: how the projector shows the QR code, address and join code while live.")
    comment_order: Literal["newest", "likes"] = Field(
        description="Additive: how the console and the projector order an open question's comments: newest "
        "first, or by thumbs-up (\"top ideas\"); pinned comments come first either way.")
    summary: SummarySection | None = Field(
        description="Additive: the closing summary the projector shows over the item; null when none.")
    timer: Timer = Field(description="Additive (issue 11): the current item's countdown, computed on the "
                         "server when the state was made.")
    approve_comments: bool = Field(description="Additive (issue 11): new comments wait for a facilitator's "
                                   "approval before the projector and the phones see them.")
    me: Me | None = Field(default=None, description="Only in `state` events sent to a participant; never "
                          "in REST answers.")


class Comment(Out):
    """A participant's comment (anonymous)."""

    id: Annotated[int, Field(ge=1)]
    item_id: str = Field(description="Additive.")
    text: str
    created_at: Timestamp
    hidden: bool = Field(description="Hidden by a facilitator: never shown to the room.")
    pinned: bool = Field(description="Additive: pinned comments are listed first; on a consideration they "
                         "are the only ones the projector shows.")
    approved: bool = Field(default=True, description="Additive (issue 11): false while it waits for a "
                           "facilitator's approval; the room never sees it then.")
    likes: Count = Field(default=0, description="Additive: how many phones gave the comment a thumbs-up.")


class Conclusion(Out):
    """The group's conclusion on an item."""

    item_id: str
    text: str = Field(description="Empty when cleared.")


class Counts(Out):
    """Votes by choice."""

    yes: Count
    no: Count
    unsure: Count


class Hands(Out):
    """Additive: the counted hands of one item (`PUT /sessions/{id}/hands/{item_id}`)."""

    item_id: str
    hands: dict[Choice, Count] = Field(description="What was counted, per choice.")


class ResultsSession(Out):
    """The session part of the JSON export."""

    id: str
    code: Annotated[str, Field(pattern=CODE_PATTERN)]
    title: str
    unit: str
    status: Status
    guide_id: str | None = Field(description="Additive.")
    guide_title: str = Field(description="Additive.")
    language: LanguageCode = Field(description="Additive.")
    created_at: Timestamp = Field(description="Additive.")
    started_at: Timestamp | None = Field(description="Additive.")
    ended_at: Timestamp | None = Field(description="Additive.")
    facilitator: str | None = Field(description="Additive: name or e-mail of the session's facilitator.")
    participants: Count = Field(description="Additive: phones that ever joined; for a session entered by hand, "
                                "the stated participants.")
    entered_by_hand: bool = Field(description="Additive: recorded after the fact from a dialogue held on paper.")
    held_on: str | None = Field(description="Additive: the day a paper dialogue was held (YYYY-MM-DD).")


class ResultItem(Out):
    """One item of the JSON export, in guide order."""

    id: str
    index: Count = Field(description="Additive.")
    kind: Kind
    title: str = Field(description="Additive.")
    section: Section
    text: str
    choices: list[Choice] = Field(description="Additive.")
    counts: Counts
    voters: Count
    hands: Counts = Field(description="Additive: the counted hands within `counts` and `voters`; the phones' "
                          "part is the difference.")
    comments: list[Comment] = Field(description="Every comment, hidden ones included, oldest first.")
    conclusion: str | None = Field(description="Additive: the group's conclusion; null when none.")


class Results(Out):
    """The JSON export of one session."""

    session: ResultsSession
    items: list[ResultItem]


class SummaryItem(OmitNone):
    """Additive (issue 11): one item of a closing summary. The vote fields only on considerations,
    the result only on those that were voted on."""

    omit_if_none: ClassVar[tuple[str, ...]] = ("voted", "choices", "counts", "voters", "percent")

    id: str
    index: Count = Field(description="The item's 0-based place in the guide.")
    kind: Kind
    title: str
    text: str
    conclusion: str | None = Field(description="The group's conclusion; null when none was written.")
    reached: bool = Field(description="The session came to this item (it was on screen, or has votes or a "
                          "conclusion); false says \"not reached\".")
    voted: bool | None = Field(default=None, description="Considerations: voting was opened on it or somebody "
                               "voted; false says \"not voted on\".")
    choices: list[Choice] | None = None
    counts: Counts | None = None
    voters: Count | None = None
    percent: Counts | None = Field(default=None, description="Whole percent of the voters per choice, rounded "
                                   "half up.")


class SummaryPart(Out):
    """Additive (issue 11): one section of a closing summary. Information slides appear only when
    they carry a conclusion."""

    index: Count = Field(description="The section's 0-based place in the guide.")
    title: str
    statement: str = Field(description="The section's goal statement; empty when the guide gives none.")
    items: list[SummaryItem]


class Summary(Out):
    """Additive (issue 11): the closing summary ("Samlet refleksion") of a section or of the whole
    guide; also the payload of the `summary` socket event."""

    section: Count | None = Field(description="The section's index; null for the whole guide.")
    title: str = Field(description="The section's title, or the guide's.")
    sections: list[SummaryPart]


class RollupCell(Out):
    """Votes, voters and comments (not hidden) of one item in one session, or in total."""

    yes: Count
    no: Count
    unsure: Count
    voters: Count
    hands_yes: Count = Field(description="Additive: counted hands within `yes`.")
    hands_no: Count = Field(description="Additive: counted hands within `no`.")
    hands_unsure: Count = Field(description="Additive: counted hands within `unsure`.")
    comments: Count = Field(description="Comments that are not hidden.")


class TagCell(Out):
    """Votes and voters of the considerations carrying one tag."""

    yes: Count
    no: Count
    unsure: Count
    voters: Count
    hands_yes: Count = Field(description="Additive: counted hands within `yes`.")
    hands_no: Count = Field(description="Additive: counted hands within `no`.")
    hands_unsure: Count = Field(description="Additive: counted hands within `unsure`.")


class RollupGuide(Out):
    """The guide of a roll-up."""

    id: str
    title: str


class RollupSession(Out):
    """A session counted in a roll-up."""

    id: str
    title: str
    unit: str
    started_at: Timestamp | None
    participants: Count = Field(description="Phones that ever joined; for a session entered by hand, the "
                                "stated participants.")
    entered_by_hand: bool = Field(description="Additive: recorded after the fact from a dialogue held on paper.")


class RollupVariant(Out):
    """Additive: one wording of an item among the versions of the guide in a roll-up."""

    kind: Kind
    text: str = Field(description="The title for info slides.")
    choices: list[Choice]
    versions: list[int] = Field(description="The guide versions worded so, ascending; empty for sessions made "
                                "before guides had versions.")
    sessions: list[str] = Field(description="The ids of the sessions that ran it so.")
    current: bool = Field(description="The guide's current document words it so.")


class RollupComment(Out):
    """Additive: a comment of one session on an item, as the room saw it (hidden ones and those
    waiting for approval are left out)."""

    session_id: str
    id: int
    text: str
    pinned: bool
    created_at: Timestamp | None


class RollupItem(Out):
    """One item across the sessions."""

    id: str = Field(description="Stable across the guide's sessions and edits.")
    kind: Kind
    text: str = Field(description="The title for info slides.")
    section: Section = Field(description="Additive.")
    per_session: dict[str, RollupCell] = Field(description="By session id.")
    total: RollupCell
    changed: bool = Field(default=False, description="Additive: the item's wording, kind or choices differ "
                          "between the guide versions rolled up (the sessions' and the current one).")
    changed_in: list[int] = Field(default_factory=list, description="Additive: each version whose wording "
                                  "differs from the version before it that had the item.")
    variants: list[RollupVariant] = Field(default_factory=list, description="Additive: each wording, oldest "
                                          "first; empty when the item did not change.")
    conclusions: dict[str, str] = Field(default_factory=dict, description="Additive: the conclusion each "
                                        "session wrote on the item, by session id (only sessions that wrote one).")
    comment_texts: list[RollupComment] = Field(default_factory=list, description="Additive: the comments that "
                                               "are not hidden nor waiting for approval, in the sessions' order, "
                                               "pinned first within a session.")


class RollupTag(Out):
    """Additive: the considerations carrying a tag (AlmenKompas målepunkter), summed."""

    tag: str
    items: list[str]
    per_session: dict[str, TagCell]
    total: TagCell


class Rollup(Out):
    """One guide across every session of it the caller may see (an organiser all, a facilitator their own)."""

    guide: RollupGuide
    tags: list[RollupTag] = Field(description="Additive.")
    sessions: list[RollupSession]
    items: list[RollupItem]


class CampaignGuide(Out):
    """The guide a campaign asks for."""

    id: str
    title: str


class CampaignHeld(Out):
    """A unit that has held the campaign, by its first counting session."""

    unit: str
    first_held_on: str = Field(json_schema_extra={"format": "date"},
                               description="The day of its first ended session of the guide in the period.")
    sessions: Count = Field(description="How many ended sessions of the guide it held in the period.")
    late: bool = Field(description="The first one was after the deadline.")
    session_id: str | None = Field(description="The first session's id, where the caller may see it; else null.")


class CampaignNotYet(Out):
    """A unit asked that has not held the campaign yet."""

    unit: str
    overdue: bool = Field(description="The deadline has passed.")


class Campaign(Out):
    """Additive: a dialogue campaign (units asked to hold a guide by a deadline) and where it stands."""

    id: int
    title: str = Field(description="Its own name, else its guide's title.")
    guide: CampaignGuide
    message: str = Field(description="What the organiser tells the units asked.")
    starts_on: str | None = Field(json_schema_extra={"format": "date"},
                                  description="The first day a session counts; null: any day.")
    deadline: str = Field(json_schema_extra={"format": "date"})
    status: Literal["open", "closed"]
    units: list[str] = Field(description="The units asked, by name.")
    held: list[CampaignHeld] = Field(description="In order of their first session: the first is the first out.")
    not_yet: list[CampaignNotYet] = Field(description="Every unit asked that has not held it yet, by name.")


class Place(Out):
    """Where a refused request or document is wrong."""

    place: str = Field(description="e.g. `sections[1].items[0]` or `title`")
    message: str


class Error(OmitNone):
    """Every refusal: a stable code and human text in the request's language."""

    omit_if_none: ClassVar[tuple[str, ...]] = ("errors", "request_id", "version")

    error: str = Field(description="A stable machine code, e.g. `wrong_state`.")
    message: str = Field(description="Human text in the request's language, naming the field when one is wrong.")
    errors: list[Place] | None = Field(default=None, description="With 422: every field or place that is "
                                       "wrong (additive).")
    request_id: str | None = Field(default=None, description="With 5xx: the id to quote when reporting it.")
    version: int | None = Field(default=None, description="With `version_conflict` (additive): the guide's "
                                "stored version, which a new save has to name.")


class Health(OmitNone):
    """`GET /healthz`."""

    omit_if_none: ClassVar[tuple[str, ...]] = ("failing",)

    status: Literal["ok", "degraded", "unavailable"]
    failing: list[str] | None = Field(default=None, description="With 503: what does not answer.")


# ---------------------------------------------------------------------------------------------
# Serialising


@cache
def _adapter(shape: Any) -> TypeAdapter:
    return TypeAdapter(shape)


def dump(shape: Any, data: Any) -> Any:
    """`data` (a dict from a rule, a model, or a list of them) as JSON-ready data of `shape`.

    `shape` is a response model or `list[Model]`. Keys the shape does not declare are dropped.
    """
    if isinstance(data, Out):
        return data.model_dump(mode="json")
    return _adapter(shape).dump_python(_adapter(shape).validate_python(data), mode="json")
