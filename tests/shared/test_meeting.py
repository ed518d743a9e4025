"""The meeting rules (shared/meeting/), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import meeting as rules
from shared import uow
from shared.db import get_db
from shared.errors import DialogrumError
from shared.events import StateChanged, VotesChanged
from shared.models import Comment, Participant, Vote, utcnow
from shared.ratelimit import Limiter
from shared.uow import Work

#: the counted hands in a counts dict (issue 11) where nobody counted any
NO_HANDS = {"hands_yes": 0, "hands_no": 0, "hands_unsure": 0}


@pytest.fixture
def engine(app):
    """The app's Database: `begin()` gives a connection in a transaction, and votes need it whole."""
    return get_db(app)


@pytest.fixture
def meeting_id(make):
    return make.meeting(make.user())


def run(database, fn, *args, **kwargs):
    """Call a command in its own unit of work, like every handler does; votes take the Database."""
    if fn is rules.cast_vote:
        return fn(database, *args, **kwargs)
    return uow.run(database, fn, *args, **kwargs)


def refused(code, engine, fn, *args, **kwargs):
    with pytest.raises(DialogrumError) as info:
        run(engine, fn, *args, **kwargs)
    assert info.value.code == code
    return info.value


def join(engine, meeting_id, token=None):
    with engine.begin() as conn:
        return rules.join(Work(conn), rules.get_meeting(conn, meeting_id), token)


def goto_consideration(engine, meeting_id, open_voting=True):
    run(engine, rules.control, meeting_id, "start")
    state = run(engine, rules.control, meeting_id, "next")  # item 1: the first consideration
    if open_voting:
        state = run(engine, rules.control, meeting_id, "open_voting")
    return state["item"]["id"]


# -- codes and sessions ------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("k7m2qx", "K7M2QX"), ("K7M-2QX", "K7M2QX"), (" k7 m2 qx ", "K7M2QX"), ("K7M2Q", None),
    ("K7M2Q0", None), ("K7M2QI", None), (None, None), (123456, None),
])
def test_codes_are_matched_ignoring_case_spaces_and_dashes(raw, expected):
    assert rules.normalise_code(raw) == expected


def test_new_codes_use_only_the_unambiguous_alphabet():
    for _ in range(200):
        code = rules.new_code()
        assert len(code) == 6
        assert set(code) <= set(rules.CODE_ALPHABET)


def test_create_meeting_snapshots_the_guide(app, make, engine):
    user = make.user()
    mid = make.meeting(user, title="  Møde i Aarhus ", unit="Region Midt")
    with engine.begin() as conn:
        row = rules.get_meeting(conn, mid)
        assert (row.title, row.unit, row.status, row.position) == ("Møde i Aarhus", "Region Midt", "waiting", None)
        assert rules.find_by_code(conn, row.code.lower()).id == mid
        assert rules.find_by_projector_key(conn, row.projector_key).id == mid
        assert rules.snapshot(conn, mid).title == "Testguide"


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"guide_id": None, "title": "x"}, "invalid"),
    ({"guide_id": "nope", "title": "x"}, "not_found"),
    ({"title": ""}, "invalid"),
    ({"title": 5}, "invalid"),
    ({"title": "x", "unit": ["a"]}, "invalid"),
    ({"title": "x" * 301}, "invalid"),
])
def test_create_meeting_refuses_bad_input(make, engine, kwargs, code):
    args = {"guide_id": make.guide(), "title": "x", "unit": "", **kwargs}
    refused(code, engine, rules.create_meeting, facilitator_id=None, **args)


# -- control -----------------------------------------------------------------------------------


def test_a_meeting_steps_through_its_guide(engine, meeting_id):
    with engine.begin() as conn:
        state = rules.state(conn, rules.get_meeting(conn, meeting_id))
    assert state["item"] is None
    assert state["position"] == {"index": 0, "count": 4}
    state = run(engine, rules.control, meeting_id, "start")
    assert (state["session"]["status"], state["position"]["index"]) == ("live", 0)
    refused("wrong_state", engine, rules.control, meeting_id, "prev")
    refused("wrong_state", engine, rules.control, meeting_id, "open_voting")  # info item
    run(engine, rules.control, meeting_id, "next")
    run(engine, rules.control, meeting_id, "open_voting")
    state = run(engine, rules.control, meeting_id, "show_results")
    assert state["voting_open"] and state["results_visible"]
    refused("wrong_state", engine, rules.control, meeting_id, "open_voting")
    # Moving on closes voting and hides results on the item left behind.
    state = run(engine, rules.control, meeting_id, "goto", 3)
    assert (state["position"]["index"], state["voting_open"], state["results_visible"]) == (3, False, False)
    refused("wrong_state", engine, rules.control, meeting_id, "next")
    refused("wrong_state", engine, rules.control, meeting_id, "goto", 4)
    refused("invalid", engine, rules.control, meeting_id, "goto", "2")
    refused("invalid", engine, rules.control, meeting_id, "goto", True)
    refused("invalid", engine, rules.control, meeting_id, "dance")
    state = run(engine, rules.control, meeting_id, "end")
    assert state["session"]["status"] == "ended"
    for action in rules.ACTIONS:
        refused("session_ended", engine, rules.control, meeting_id, action, 0)


def test_state_tells_voting_not_yet_opened_from_voting_closed(engine, meeting_id):
    """`voting_opened` (additive) is true once voting was opened on the current item, and stays
    true after it closes and when the session comes back to the item (issue 9, point 3)."""
    run(engine, rules.control, meeting_id, "start")
    state = run(engine, rules.control, meeting_id, "next")  # SMALL_GUIDE: 1 and 2 are considerations
    assert (state["voting_open"], state["voting_opened"]) == (False, False)
    state = run(engine, rules.control, meeting_id, "open_voting")
    assert (state["voting_open"], state["voting_opened"]) == (True, True)
    state = run(engine, rules.control, meeting_id, "close_voting")
    assert (state["voting_open"], state["voting_opened"]) == (False, True)
    assert run(engine, rules.control, meeting_id, "next")["voting_opened"] is False
    state = run(engine, rules.control, meeting_id, "prev")
    assert (state["voting_open"], state["voting_opened"]) == (False, True)
    run(engine, rules.control, meeting_id, "open_voting")  # opened twice: remembered once
    with engine.begin() as conn:
        row = rules.get_meeting(conn, meeting_id)
        assert row.voting_opened_items == [state["item"]["id"]]
        assert rules.state(conn, row)["voting_opened"] is True


def test_the_join_code_shows_in_a_corner_large_or_not_at_all(engine, meeting_id):
    """`join_display` (additive): the projector's QR code, address and code while live, in a corner
    by default; the facilitator shows it large or hides it, also before the start (issue 9, point 5)."""
    with engine.begin() as conn:
        assert rules.state(conn, rules.get_meeting(conn, meeting_id))["join_display"] == "corner"
    refused("wrong_state", engine, rules.control, meeting_id, "show_join")
    assert run(engine, rules.control, meeting_id, "hide_join")["join_display"] == "hidden"
    state = run(engine, rules.control, meeting_id, "start")
    assert state["join_display"] == "hidden"
    state = run(engine, rules.control, meeting_id, "show_join_large")
    assert (state["join_display"], state["version"]) == ("large", 3)
    assert run(engine, rules.control, meeting_id, "next")["join_display"] == "large"  # stays across items
    assert run(engine, rules.control, meeting_id, "show_join")["join_display"] == "corner"
    run(engine, rules.control, meeting_id, "end")
    refused("session_ended", engine, rules.control, meeting_id, "hide_join")


def test_state_object_has_the_contract_shape(engine, meeting_id):
    run(engine, rules.control, meeting_id, "start")
    state = run(engine, rules.control, meeting_id, "next")
    with engine.begin() as conn:
        assert rules.state(conn, rules.get_meeting(conn, meeting_id)) == state, "computed once, the same"
    assert set(state) >= {"session", "position", "item", "voting_open", "results_visible", "participants"}
    assert set(state["session"]) == {"id", "code", "title", "status"}
    assert state["item"]["kind"] == "consideration"
    assert state["item"]["choices"] == ["yes", "no"]
    assert state["item"]["section"] == {"title": "Demokrati", "statement": "Vi vil styrke demokratiet",
                                        "tags": ["Beboerdemokrati", "Frivillighed"], "index": 0} or \
        state["item"]["section"]["tags"] == ["Beboerdemokrati", "Frivillighed"]
    assert state["labels"] == {"yes": "Ja", "no": "Nej", "unsure": "Ved ikke"}


def test_start_twice_is_refused(engine, meeting_id):
    run(engine, rules.control, meeting_id, "start")
    refused("wrong_state", engine, rules.control, meeting_id, "start")


def test_unknown_session(engine):
    refused("unknown_session", engine, rules.control, "nope", "start")
    refused("unknown_session", engine, rules.control, None, "start")


# -- votes -------------------------------------------------------------------------------------


def test_one_participant_one_vote_per_item(engine, meeting_id):
    item = goto_consideration(engine, meeting_id)
    alice, _ = join(engine, meeting_id)
    bob, _ = join(engine, meeting_id)
    run(engine, rules.cast_vote, meeting_id, alice, item, "yes")
    run(engine, rules.cast_vote, meeting_id, alice, item, "no")
    run(engine, rules.cast_vote, meeting_id, bob, item, "no")
    with engine.begin() as conn:
        assert rules.counts(conn, meeting_id, [item])[item] == {"yes": 0, "no": 2, "unsure": 0, "voters": 2, **NO_HANDS}
        assert conn.execute(sa.select(sa.func.count()).select_from(Vote)).scalar_one() == 2


def test_votes_are_refused_with_the_contract_codes(engine, meeting_id):
    alice, _ = join(engine, meeting_id)
    with engine.begin() as conn:
        first_consideration = rules.snapshot(conn, meeting_id).items[1]["id"]
        unsure_item = rules.snapshot(conn, meeting_id).items[2]["id"]
    refused("voting_closed", engine, rules.cast_vote, meeting_id, alice, first_consideration, "yes")
    item = goto_consideration(engine, meeting_id, open_voting=False)
    assert item == first_consideration
    refused("voting_closed", engine, rules.cast_vote, meeting_id, alice, item, "yes")
    run(engine, rules.control, meeting_id, "open_voting")
    refused("invalid_choice", engine, rules.cast_vote, meeting_id, alice, item, "unsure")  # not allowed here
    refused("invalid_choice", engine, rules.cast_vote, meeting_id, alice, item, "YES")
    refused("invalid_choice", engine, rules.cast_vote, meeting_id, alice, item, 1)
    refused("not_current_item", engine, rules.cast_vote, meeting_id, alice, "nope", "yes")
    refused("not_current_item", engine, rules.cast_vote, meeting_id, alice, None, "yes")
    refused("not_current_item", engine, rules.cast_vote, meeting_id, alice, unsure_item, "unsure")
    run(engine, rules.control, meeting_id, "next")
    run(engine, rules.control, meeting_id, "open_voting")
    run(engine, rules.cast_vote, meeting_id, alice, unsure_item, "unsure")
    refused("not_current_item", engine, rules.cast_vote, meeting_id, alice, item, "yes")
    run(engine, rules.control, meeting_id, "end")
    refused("voting_closed", engine, rules.cast_vote, meeting_id, alice, unsure_item, "yes")
    with engine.begin() as conn:
        assert conn.execute(sa.select(Vote.item_id, Vote.choice)).all() == [(unsure_item, "unsure")]


def test_votes_are_rate_limited(engine, meeting_id):
    item = goto_consideration(engine, meeting_id)
    alice, _ = join(engine, meeting_id)
    limiter = Limiter("memory://")
    for i in range(60):
        run(engine, rules.cast_vote, meeting_id, alice, item, "yes" if i % 2 else "no", limiter=limiter)
    refused("rate_limited", engine, rules.cast_vote, meeting_id, alice, item, "yes", limiter=limiter)
    with engine.begin() as conn:
        assert rules.counts(conn, meeting_id, [item])[item]["yes"] == 1


def test_join_with_the_token_returns_the_same_participant(engine, meeting_id):
    pid, token = join(engine, meeting_id)
    assert join(engine, meeting_id, token) == (pid, token)
    other, other_token = join(engine, meeting_id, "x" * 30)  # unknown token: a new participant
    assert other != pid
    assert other_token != "x" * 30
    run(engine, rules.control, meeting_id, "end")
    with pytest.raises(DialogrumError) as info:
        join(engine, meeting_id, token)
    assert info.value.code == "session_ended"


def test_a_token_from_another_session_is_not_reused(make, engine, meeting_id):
    pid, token = join(engine, meeting_id)
    other_meeting = make.meeting()
    other_pid, _ = join(engine, other_meeting, token)
    assert other_pid != pid


# -- comments, moderation, conclusions --------------------------------------------------------


def _to_prompt(engine, meeting_id):
    run(engine, rules.control, meeting_id, "start")
    return run(engine, rules.control, meeting_id, "goto", 3)["item"]["id"]


def test_comments(engine, meeting_id):
    alice, _ = join(engine, meeting_id)
    with engine.begin() as conn:
        prompt = rules.snapshot(conn, meeting_id).items[3]["id"]
    refused("not_current_item", engine, rules.add_comment, meeting_id, alice, prompt, "too early")
    assert _to_prompt(engine, meeting_id) == prompt
    c = run(engine, rules.add_comment, meeting_id, alice, prompt, "  <b>Hej</b> & velkommen\x07 ")
    assert c["text"] == "<b>Hej</b> & velkommen"  # stored as plain text, escaped at render time
    refused("empty", engine, rules.add_comment, meeting_id, alice, prompt, "   ")
    refused("empty", engine, rules.add_comment, meeting_id, alice, prompt, None)
    refused("too_long", engine, rules.add_comment, meeting_id, alice, prompt, "x" * 1001)
    run(engine, rules.add_comment, meeting_id, alice, prompt, "x" * 1000)
    refused("not_current_item", engine, rules.add_comment, meeting_id, alice, "nope", "hi")
    with engine.begin() as conn:
        assert rules.me(conn, meeting_id, alice, prompt) == {"vote": None, "comments": 2}
    run(engine, rules.control, meeting_id, "goto", 0)
    with engine.begin() as conn:
        info = rules.snapshot(conn, meeting_id).items[0]["id"]
    refused("comments_closed", engine, rules.add_comment, meeting_id, alice, info, "hi")


def test_comment_rate_limit_allows_five_and_refuses_past_thirty(engine, meeting_id):
    alice, _ = join(engine, meeting_id)
    prompt = _to_prompt(engine, meeting_id)
    limiter = Limiter("memory://")
    for i in range(30):
        rules.post_comment(engine, meeting_id, alice, prompt, f"comment {i}", limiter=limiter)
    with pytest.raises(DialogrumError, match="rate_limited"):
        rules.post_comment(engine, meeting_id, alice, prompt, "one more", limiter=limiter)
    bob, _ = join(engine, meeting_id)
    rules.post_comment(engine, meeting_id, bob, prompt, "others are not affected", limiter=limiter)
    with engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Comment)).scalar_one() == 31


def test_moderation(engine, meeting_id, make):
    alice, _ = join(engine, meeting_id)
    prompt = _to_prompt(engine, meeting_id)
    first = run(engine, rules.add_comment, meeting_id, alice, prompt, "first")
    second = run(engine, rules.add_comment, meeting_id, alice, prompt, "second")
    run(engine, rules.moderate, meeting_id, first["id"], pinned=True)
    hidden = run(engine, rules.moderate, meeting_id, second["id"], hidden=True)
    assert hidden["hidden"] is True
    with engine.begin() as conn:
        visible = rules.comments_for(conn, meeting_id, prompt, include_hidden=False)
        everything = rules.comments_for(conn, meeting_id, prompt, include_hidden=True)
    assert [c["text"] for c in visible] == ["first"]
    assert [c["text"] for c in everything] == ["first", "second"]
    refused("invalid", engine, rules.moderate, meeting_id, first["id"])
    refused("invalid", engine, rules.moderate, meeting_id, first["id"], hidden="yes")
    refused("invalid", engine, rules.moderate, meeting_id, "1", hidden=True)
    refused("unknown_comment", engine, rules.moderate, meeting_id, 999999, hidden=True)
    other = make.meeting()
    refused("unknown_comment", engine, rules.moderate, other, first["id"], hidden=True)


def test_conclusions(engine, meeting_id):
    with engine.begin() as conn:
        item = rules.snapshot(conn, meeting_id).items[1]["id"]
    run(engine, rules.set_conclusion, meeting_id, item, " Vi er enige. ")
    run(engine, rules.set_conclusion, meeting_id, item, "Vi er næsten enige.")
    with engine.begin() as conn:
        assert rules.conclusions(conn, meeting_id) == {item: "Vi er næsten enige."}
    run(engine, rules.set_conclusion, meeting_id, item, "")
    with engine.begin() as conn:
        assert rules.conclusions(conn, meeting_id) == {}
    refused("unknown_item", engine, rules.set_conclusion, meeting_id, "nope", "x")
    refused("invalid", engine, rules.set_conclusion, meeting_id, item, 5)


def test_results_export(engine, meeting_id):
    item = goto_consideration(engine, meeting_id)
    alice, _ = join(engine, meeting_id)
    bob, _ = join(engine, meeting_id)
    run(engine, rules.cast_vote, meeting_id, alice, item, "yes")
    run(engine, rules.cast_vote, meeting_id, bob, item, "no")
    run(engine, rules.set_conclusion, meeting_id, item, "Delt")
    prompt = run(engine, rules.control, meeting_id, "goto", 3)["item"]["id"]
    c = run(engine, rules.add_comment, meeting_id, bob, prompt, "Flere møder")
    run(engine, rules.moderate, meeting_id, c["id"], hidden=True)
    with engine.begin() as conn:
        data = rules.results(conn, meeting_id, facilitator_name="Facilitator")
    assert data["session"]["participants"] == 2
    assert [i["kind"] for i in data["items"]] == ["info", "consideration", "consideration", "prompt"]
    voted = data["items"][1]
    assert voted["counts"] == {"yes": 1, "no": 1, "unsure": 0}
    assert voted["voters"] == 2
    assert voted["conclusion"] == "Delt"
    assert voted["section"]["tags"] == ["Beboerdemokrati", "Frivillighed"]
    assert data["items"][3]["comments"][0]["text"] == "Flere møder"
    assert data["items"][3]["comments"][0]["hidden"] is True


# -- properties --------------------------------------------------------------------------------

ACTIONS = st.one_of(
    st.tuples(st.just("control"), st.sampled_from(rules.ACTIONS), st.integers(-1, 5)),
    st.tuples(st.just("vote"), st.integers(0, 3), st.integers(0, 3), st.sampled_from(["yes", "no", "unsure", "x"])),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(ACTIONS, max_size=40))
def test_counts_always_equal_the_stored_votes(engine, make, steps):
    """Random sequences of actions: counts equal a model of accepted votes and the stored rows,
    and nobody ever has two votes on one item."""
    mid = make.meeting()
    people = [join(engine, mid)[0] for _ in range(4)]
    with engine.begin() as conn:
        items = rules.snapshot(conn, mid).items
    model: dict[tuple[str, str], str] = {}
    for step in steps:
        if step[0] == "control":
            _, action, index = step
            try:
                run(engine, rules.control, mid, action, index)
            except DialogrumError:
                pass
        else:
            _, who, which, choice = step
            item = items[which]
            with engine.begin() as conn:
                row = rules.get_meeting(conn, mid)
            should_work = (row.status == "live" and row.voting_open and row.current_item_id == item["id"]
                           and choice in item["choices"])
            try:
                run(engine, rules.cast_vote, mid, people[who], item["id"], choice)
                accepted = True
            except DialogrumError:
                accepted = False
            assert accepted == should_work
            if accepted:
                model[(people[who], item["id"])] = choice
    with engine.begin() as conn:
        counted = rules.counts(conn, mid)
        stored = conn.execute(sa.select(Vote.participant_id, Vote.item_id, Vote.choice)
                              .where(Vote.meeting_id == mid)).all()
        participants = conn.execute(sa.select(sa.func.count()).select_from(Participant)
                                    .where(Participant.meeting_id == mid)).scalar_one()
    assert participants == 4
    assert {(p, i): c for p, i, c in stored} == model
    assert len(stored) == len({(p, i) for p, i, _ in stored})
    for item in items:
        expected = {"yes": 0, "no": 0, "unsure": 0, "voters": 0, **NO_HANDS}
        for (_, item_id), choice in model.items():
            if item_id == item["id"]:
                expected[choice] += 1
                expected["voters"] += 1
        assert counted.get(item["id"], rules.empty_counts()) == expected


def test_a_vote_is_committed_and_then_published(app, engine, meeting_id):
    """cast_vote (a pooled driver connection, the one vote function of sockets and tests) refuses
    and stores on both databases, and publishes VotesChanged only for a stored vote."""
    database = get_db(app)
    alice, _ = join(engine, meeting_id)
    bob, _ = join(engine, meeting_id)
    with engine.begin() as conn:
        first = rules.snapshot(conn, meeting_id).items[1]["id"]
        unsure_item = rules.snapshot(conn, meeting_id).items[2]["id"]

    def fast_refused(code, *args):
        with pytest.raises(DialogrumError) as info:
            rules.cast_vote(database, meeting_id, *args)
        assert info.value.code == code

    fast_refused("voting_closed", alice, first, "yes")
    item = goto_consideration(engine, meeting_id)
    fast_refused("invalid_choice", alice, item, "unsure")
    fast_refused("invalid_choice", alice, item, None)
    fast_refused("not_current_item", alice, None, "yes")
    fast_refused("not_current_item", alice, "nope", "yes")
    fast_refused("not_current_item", alice, unsure_item, "yes")
    published = []
    database.subscribers.append(published.extend)
    rules.cast_vote(database, meeting_id, alice, item, "yes")
    rules.cast_vote(database, meeting_id, alice, item, "no")
    rules.cast_vote(database, meeting_id, bob, item, "no")
    assert published == [VotesChanged(meeting_id, item)] * 3
    with engine.begin() as conn:
        assert rules.counts(conn, meeting_id, [item])[item] == {"yes": 0, "no": 2, "unsure": 0, "voters": 2, **NO_HANDS}
        stamp = conn.execute(sa.select(Vote.updated_at).where(Vote.participant_id == alice)).scalar_one()
    assert stamp.tzinfo is not None
    assert abs((stamp - utcnow()).total_seconds()) < 60, "timestamps are stored in UTC"
    run(engine, rules.control, meeting_id, "close_voting")
    fast_refused("voting_closed", alice, item, "yes")
    assert len(published) == 4 and isinstance(published[3], StateChanged), "refusals publish nothing"
    with engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Vote)).scalar_one() == 2
