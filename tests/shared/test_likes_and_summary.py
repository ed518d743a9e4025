"""Idea votes on comments and the closing summary (issue 11, sections 3 and 5): the rules, on
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared import meeting as rules
from shared import uow
from shared.db import get_db
from shared.errors import DialogrumError
from shared.events import LikesChanged
from shared.meeting import likes, summary
from shared.models import CommentLike
from shared.ratelimit import IDEAS_LIMIT, LIKE_LIMIT, Limiter
from shared.uow import Work


@pytest.fixture
def engine(app):
    return get_db(app)


def run(engine, fn, *args, **kwargs):
    return uow.run(engine, fn, *args, **kwargs)


def refused(code, engine, fn, *args, **kwargs):
    with pytest.raises(DialogrumError) as info:
        run(engine, fn, *args, **kwargs)
    assert info.value.code == code


def join(engine, meeting_id):
    with engine.begin() as conn:
        return rules.join(Work(conn), rules.get_meeting(conn, meeting_id))[0]


def items(engine, meeting_id):
    with engine.begin() as conn:
        return rules.snapshot(conn, meeting_id).items


def index_of(engine, meeting_id, kind, after=-1):
    return next(i["index"] for i in items(engine, meeting_id) if i["kind"] == kind and i["index"] > after)


def test_one_thumbs_up_per_phone_per_comment_not_own_not_hidden_not_elsewhere(engine, make):
    meeting_id = make.meeting(make.user())
    alice, bob, carol = (join(engine, meeting_id) for _ in range(3))
    prompt_at = index_of(engine, meeting_id, "prompt")
    run(engine, rules.control, meeting_id, "start")
    prompt = run(engine, rules.control, meeting_id, "goto", prompt_at)["item"]["id"]
    idea = run(engine, rules.add_comment, meeting_id, alice, prompt, "Flere pauser")
    other = run(engine, rules.add_comment, meeting_id, alice, prompt, "Kortere møder")

    events = []
    with uow.unit_of_work(engine) as work:
        assert likes.set_like(work, meeting_id, bob, idea["id"], True)["likes"] == 1
        events = list(work.events)
    assert events == [LikesChanged(meeting_id, prompt)]
    # Twice is once (a retry after a lost ack), and says so without an event.
    assert run(engine, likes.set_like, meeting_id, bob, idea["id"], True) == {
        "comment_id": idea["id"], "item_id": prompt, "likes": 1, "liked": True}
    assert run(engine, likes.set_like, meeting_id, carol, idea["id"], True)["likes"] == 2
    assert run(engine, likes.set_like, meeting_id, carol, idea["id"], False)["likes"] == 1
    refused("own_comment", engine, likes.set_like, meeting_id, alice, idea["id"], True)
    for bad_id, liked, code in ((str(idea["id"]), True, "invalid"), (True, True, "invalid"),
                                (idea["id"], "yes", "invalid"), (0, True, "unknown_comment"),
                                (2**63, True, "unknown_comment"), (999999, True, "unknown_comment")):
        refused(code, engine, likes.set_like, meeting_id, bob, bad_id, liked)
    # Another session's comment is unknown here.
    elsewhere = make.meeting(make.user())
    refused("unknown_comment", engine, likes.set_like, elsewhere, bob, idea["id"], True)
    # Hidden: unknown to the phones, and nothing changes.
    run(engine, rules.moderate, meeting_id, other["id"], hidden=True)
    refused("unknown_comment", engine, likes.set_like, meeting_id, bob, other["id"], True)

    with engine.begin() as conn:
        shown = likes.phone_comments(conn, meeting_id, bob, prompt)
        assert [(c["text"], c["likes"], c["liked_by_me"], c["mine"]) for c in shown] == [
            ("Flere pauser", 1, True, False)]
        assert likes.phone_comments(conn, meeting_id, alice, prompt)[0]["mine"] is True
        assert [c["likes"] for c in rules.comments_for(conn, meeting_id, prompt, include_hidden=True)] == [0, 1]
        exported = next(i for i in rules.results(conn, meeting_id)["items"] if i["id"] == prompt)
        assert {c["text"]: c["likes"] for c in exported["comments"]} == {"Flere pauser": 1, "Kortere møder": 0}
        assert likes.likes_payload(conn, meeting_id, prompt) == {"item_id": prompt, "likes": {str(idea["id"]): 1}}

    # Once the room moved on, the comment is no longer on the current item.
    run(engine, rules.control, meeting_id, "goto", 0)
    refused("not_current_item", engine, likes.set_like, meeting_id, carol, idea["id"], True)
    run(engine, rules.control, meeting_id, "end")
    refused("comments_closed", engine, likes.set_like, meeting_id, carol, idea["id"], True)
    with engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(CommentLike)).scalar_one() == 1


def test_likes_are_rate_limited_and_a_refused_one_changes_nothing(engine, make):
    meeting_id = make.meeting(make.user())
    alice, bob = join(engine, meeting_id), join(engine, meeting_id)
    run(engine, rules.control, meeting_id, "start")
    prompt = run(engine, rules.control, meeting_id, "goto", index_of(engine, meeting_id, "prompt"))["item"]["id"]
    idea = run(engine, rules.add_comment, meeting_id, alice, prompt, "Idé")
    limiter = Limiter("memory://")
    for n in range(LIKE_LIMIT.amount):
        likes.post_like(engine, meeting_id, bob, idea["id"], n % 2 == 0, limiter=limiter)
    with pytest.raises(DialogrumError, match="rate_limited"):
        likes.post_like(engine, meeting_id, bob, idea["id"], True, limiter=limiter)
    with engine.begin() as conn:  # the refused one changed nothing: the last allowed was a take-back
        assert conn.execute(sa.select(sa.func.count()).select_from(CommentLike)).scalar_one() == 0
    # Asking for the list of ideas has a budget of its own.
    for _ in range(IDEAS_LIMIT.amount):
        assert likes.comments_for_phone(engine, meeting_id, bob, limiter=limiter)[0] == prompt
    with pytest.raises(DialogrumError, match="rate_limited"):
        likes.comments_for_phone(engine, meeting_id, bob, limiter=limiter)


def test_the_order_of_comments_is_shared_state(engine, make):
    meeting_id = make.meeting(make.user())
    run(engine, rules.control, meeting_id, "start")
    assert run(engine, rules.control, meeting_id, "sort_comments_by_likes")["comment_order"] == "likes"
    refused("wrong_state", engine, rules.control, meeting_id, "sort_comments_by_likes")
    assert run(engine, rules.control, meeting_id, "sort_comments_by_time")["comment_order"] == "newest"


def test_the_closing_summary(engine, make):
    meeting_id = make.meeting(make.user())
    alice, bob = join(engine, meeting_id), join(engine, meeting_id)
    snap_items = items(engine, meeting_id)
    refused("wrong_state", engine, rules.control, meeting_id, "show_summary", 0)  # not live yet
    run(engine, rules.control, meeting_id, "start")
    first = index_of(engine, meeting_id, "consideration")
    voted = run(engine, rules.control, meeting_id, "goto", first)["item"]
    run(engine, rules.control, meeting_id, "open_voting")
    rules.cast_vote(engine, meeting_id, alice, voted["id"], "yes")
    rules.cast_vote(engine, meeting_id, bob, voted["id"], "no")
    rules.cast_vote(engine, meeting_id, join(engine, meeting_id), voted["id"], "yes")
    run(engine, rules.set_conclusion, meeting_id, voted["id"], "Vi vil have flere pauser.")
    section = voted["section"]["index"]

    state = run(engine, rules.control, meeting_id, "show_summary", section)
    assert state["summary"] == {"section": section}
    refused("wrong_state", engine, rules.control, meeting_id, "show_summary", section)
    for bad, code in (("0", "invalid"), (True, "invalid"), (99, "wrong_state"), (-1, "wrong_state")):
        refused(code, engine, rules.control, meeting_id, "show_summary", bad)
    with engine.begin() as conn:
        part = summary.summary(conn, meeting_id, section)
        whole = summary.summary(conn, meeting_id, None)
    assert part["title"] == voted["section"]["title"] and [s["index"] for s in part["sections"]] == [section]
    entry = next(i for i in part["sections"][0]["items"] if i["id"] == voted["id"])
    assert entry["voted"] is True and entry["voters"] == 3
    assert entry["counts"]["yes"] == 2 and entry["percent"] == {"yes": 67, "no": 33, "unsure": 0}
    assert entry["conclusion"] == "Vi vil have flere pauser."
    never = [i for s in whole["sections"] for i in s["items"]
             if i["kind"] == "consideration" and i["id"] != voted["id"]]
    assert never and all(i["voted"] is False and "counts" not in i for i in never)
    # Never on screen, no votes, no conclusion: not reached (as the report says it).
    assert entry["reached"] is True and all(i["reached"] is False for i in never)
    assert len(whole["sections"]) == len({i["section"]["index"] for i in snap_items})
    assert whole["sections"][0]["statement"] == snap_items[0]["section"]["statement"]

    # The whole guide's, then hidden; moving on ends a summary too.
    assert run(engine, rules.control, meeting_id, "show_summary")["summary"] == {"section": None}
    assert run(engine, rules.control, meeting_id, "hide_summary")["summary"] is None
    refused("wrong_state", engine, rules.control, meeting_id, "hide_summary")
    run(engine, rules.control, meeting_id, "show_summary", section)
    assert run(engine, rules.control, meeting_id, "goto", 0)["summary"] is None


def test_summary_percentages_round_half_up_like_every_screen():
    assert summary.percentages({"yes": 5, "no": 3, "unsure": 0, "voters": 8}) == {"yes": 63, "no": 38, "unsure": 0}
    assert summary.percentages({"yes": 0, "no": 0, "unsure": 0, "voters": 0}) == {"yes": 0, "no": 0, "unsure": 0}


def test_a_comment_waiting_for_approval_cannot_be_liked_until_approved(engine, make):
    meeting_id = make.meeting(make.user())
    alice, bob = join(engine, meeting_id), join(engine, meeting_id)
    run(engine, rules.control, meeting_id, "approval_on")
    run(engine, rules.control, meeting_id, "start")
    prompt = run(engine, rules.control, meeting_id, "goto", index_of(engine, meeting_id, "prompt"))["item"]["id"]
    waiting = run(engine, rules.add_comment, meeting_id, alice, prompt, "Venter")
    refused("unknown_comment", engine, likes.set_like, meeting_id, bob, waiting["id"], True)
    with engine.begin() as conn:
        assert likes.phone_comments(conn, meeting_id, bob, prompt) == []
    run(engine, rules.moderate, meeting_id, waiting["id"], approved=True)
    assert run(engine, likes.set_like, meeting_id, bob, waiting["id"], True)["likes"] == 1
