"""The REST API against its generated OpenAPI document, and the shapes of its answers.

schemathesis generates requests from the document (`GET /api/v1/openapi.json`) and sends them to
the in-process app on SQLite with a valid token. For every answer it checks that the server did not
fail (no 5xx), that the status, content type, headers and body are the documented ones, and that
nothing the document allows was refused as malformed (`positive_data_acceptance`: a 422 or 400 for
a request the schema accepts). Path parameters are drawn from seeded guides, sessions, items and
comments (and one unknown id each), so the requests reach the handlers instead of stopping at 404.

The run is bounded: `EXAMPLES` per operation, a few hundred in all, well under a minute.
"""

from __future__ import annotations

import copy
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from shared.schemas import rest
from tests.conftest import REGIONS_GUIDE, SMALL_GUIDE, hold_meeting

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: Examples per operation (the coverage of a deterministic seed, not a random sample each run).
EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, positive_data_acceptance]


@pytest.fixture
def db_url(sqlite_url):
    """SQLite only: the schema does not depend on the database (the API tests run on both)."""
    return sqlite_url


@pytest.fixture
def seeded(app, make):
    """A facilitator with a token, guides, and sessions in every state with votes and comments."""
    from shared.db import get_db

    user = make.user("facilitator")
    other = make.user("facilitator")
    regions = make.guide(REGIONS_GUIDE)
    small = make.guide(SMALL_GUIDE)
    engine = get_db(app).engine
    live = make.meeting(user, regions, title="Live", unit="Region Nord")
    comments = hold_meeting(engine, live, {"c1": ["yes", "no", "yes"], "c2": ["unsure"]}, ["Hej", "Nej tak", "Hmm"],
                            hide=["Nej tak"], pin=["Hmm"], conclusions={"c1": "Flertal"}, end=False)
    ended = make.meeting(user, regions, title="Ended", unit="Region Syd")
    hold_meeting(engine, ended, {"c1": ["yes"]}, ["Ok"])
    waiting = make.meeting(user, small, title="Waiting")
    theirs = make.meeting(other, small, title="Not mine")
    doomed = [make.meeting(user, small, title=f"Doomed {n}") for n in range(3)]
    campaign_id = _campaign(app, user, regions, ("Region Syd", "Region Nord", "Region Öst"))
    return {
        "token": make.token(user),
        "meeting_id": [live, ended, waiting, theirs, "nosuchsession"],
        "doomed": [*doomed, "nosuchsession"],
        "guide_id": [regions, small, "nosuchguide"],
        "item_id": ["c1", "c2", "p1", "nosuchitem"],
        "comment_id": [*comments.values(), 999999],
        "campaign_id": [campaign_id, 999999],
    }


def _campaign(app, user, guide_id, unit_names) -> int:
    """A campaign asking three units to hold the guide: one has, two have not (issue 12, gap 8)."""
    from shared import campaigns, organiser
    from shared.db import get_db
    from shared.models import User

    with app.app_context():
        db = get_db().session
        ids = [organiser.add_unit(db, name).id for name in unit_names]
        campaign = campaigns.save_campaign(db, db.get(User, user.id), guide_id=guide_id, unit_ids=ids,
                                           deadline="2030-01-01", message="Hej")
        db.commit()
        campaign_id = campaign.id
        db.remove()
    return campaign_id


def pinned_document(doc: dict, seeded: dict) -> dict:
    """The generated document with path parameters drawn from the seeded ids."""
    doc = copy.deepcopy(doc)
    for item in doc["paths"].values():
        for param in item.get("parameters", []):
            if param["in"] == "path":
                param["schema"] = {"enum": seeded[param["name"]]}
        if "delete" in item:  # deleting a session must not delete the ones the other operations use
            item["delete"]["parameters"] = [
                {**param, "schema": {"enum": seeded["doomed"]}} if param["name"] == "meeting_id" else param
                for param in item.get("parameters", [])]
    return doc


def counts_a_choice_the_item_lacks(case) -> bool:
    """Hands for "unsure" on c1, which offers only yes and no: the item's choices are the guide's,
    which a JSON Schema of the body cannot know."""
    body = case.body if isinstance(case.body, dict) else {}
    counts = body.get("counts") if isinstance(body.get("counts"), dict) else {}
    return (case.path_parameters or {}).get("item_id") == "c1" and "unsure" in counts


def repeats_an_item_id(body: object) -> bool:
    """Item ids must be unique in a guide, which a JSON Schema cannot say."""
    if not isinstance(body, dict) or not isinstance(body.get("sections"), list):
        return False
    ids = [item.get("id") for section in body["sections"] if isinstance(section, dict)
           for item in section.get("items") or [] if isinstance(item, dict) and item.get("id") is not None]
    return len(ids) != len(set(ids))


def test_the_api_keeps_its_generated_schema(app, seeded, monkeypatch):
    from shared.schemas.openapi import document

    # A few hundred requests a minute is the point here, not the rate limit (tested in test_ratelimit).
    monkeypatch.setattr(app.extensions["dialogrum.limiter"], "hit", lambda *args: True)
    with app.test_request_context():
        doc = document(app, "http://dialogrum.test")
    schema = schemathesis.openapi.from_dict(pinned_document(doc, seeded))
    schema.app = app
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    sent: dict[str, int] = {}
    statuses: dict[int, int] = {}
    started = time.monotonic()

    def exercise(operation) -> None:
        # schemathesis reads the document's servers, not a path's own (`/healthz` is outside /api/v1).
        base_url = "http://localhost" if operation.path == "/healthz" else "http://localhost/api/v1"
        strategy = operation.as_strategy()
        if operation.method.upper() == "POST" and operation.path == "/guides":
            strategy = strategy.filter(lambda case: not repeats_an_item_id(case.body))
        if operation.path.startswith("/sessions/{meeting_id}/hands/"):
            strategy = strategy.filter(lambda case: not counts_a_choice_the_item_lacks(case))

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            response = case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)
            sent[operation.label] = sent.get(operation.label, 0) + 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        run()

    for operation in operations:
        exercise(operation)

    elapsed = time.monotonic() - started
    total = sum(sent.values())
    print(f"schemathesis: {total} requests over {len(sent)} operations in {elapsed:.1f}s; statuses {statuses}")
    assert set(sent) == {op.label for op in operations}
    # The run's length is bounded by the number of examples, not by a clock (a busy CI machine
    # took 156 s where a quiet one takes 5 s); the elapsed time is only printed.
    assert 200 <= total <= 700  # about 25 per operation, fewer for those with little to vary
    # The seeded ids make most requests reach the handlers: plenty of successes, not only 404s.
    assert sum(n for status, n in statuses.items() if status < 300) > total / 4


# ---------------------------------------------------------------------------------------------
# Shapes: what the main endpoints answer is exactly their model, and the rules return nothing the
# models would drop.


def undeclared(model: type, data: object, place: str = "") -> list[str]:
    """Keys in `data` that `model` (and the models inside it) do not declare."""
    from shared.schemas.errors import _inner_model

    if not isinstance(data, dict):
        return []
    fields = {info.alias or name: info for name, info in model.model_fields.items()}
    found = [f"{place}{key}" for key in data if key not in fields]
    for key, info in fields.items():
        inner = _inner_model(info.annotation)
        value = data.get(key)
        if inner is None or value is None:
            continue
        kind, sub = inner
        if kind == "model":
            found += undeclared(sub, value, f"{place}{key}.")
        elif isinstance(value, list):
            for n, element in enumerate(value):
                found += undeclared(sub, element, f"{place}{key}[{n}].")
    return found


def exactly(model: type, data: object) -> dict:
    """`data` validated by `model`, with no key the model does not declare, and serialised the same."""
    assert not undeclared(model, data), undeclared(model, data)
    assert rest.dump(model, data) == data
    return data


def test_answers_have_the_models_shapes(client, seeded):
    auth = {"Authorization": f"Bearer {seeded['token']}"}
    live, ended, waiting = seeded["meeting_id"][:3]

    guides = client.get("/api/v1/guides", headers=auth).get_json()
    for guide in guides:
        exactly(rest.GuideSummary, guide)
    detail = exactly(rest.GuideDetail, client.get(f"/api/v1/guides/{seeded['guide_id'][0]}", headers=auth).get_json())
    assert detail["document"]["sections"][0]["items"][0] == {
        "id": "c1", "kind": "consideration", "title": "", "text": "Når vi 51 procent?", "allow_unsure": False,
        "notes": "", "duration": None}

    for sid in (live, ended, waiting):
        session = exactly(rest.Session, client.get(f"/api/v1/sessions/{sid}", headers=auth).get_json())
        assert set(session) == set(rest.Session.model_fields)
        state = exactly(rest.State, client.get(f"/api/v1/sessions/{sid}/state", headers=auth).get_json())
        assert "me" not in state
        exactly(rest.Results, client.get(f"/api/v1/sessions/{sid}/results", headers=auth).get_json())
    waiting_state = client.get(f"/api/v1/sessions/{waiting}/state", headers=auth).get_json()
    assert waiting_state["item"] is None
    assert waiting_state["position"] == {"index": 0, "count": 4}

    listed = client.get("/api/v1/sessions", headers=auth).get_json()
    assert {s["id"] for s in listed} >= {live, ended, waiting}
    for session in listed:
        exactly(rest.Session, session)

    results = client.get(f"/api/v1/sessions/{live}/results", headers=auth).get_json()
    first = results["items"][0]
    assert first["counts"] == {"yes": 2, "no": 1, "unsure": 0}
    assert first["conclusion"] == "Flertal"
    comments = [c for item in results["items"] for c in item["comments"]]
    assert {c["text"] for c in comments} == {"Hej", "Nej tak", "Hmm"}
    assert all(set(c) == set(rest.Comment.model_fields) for c in comments)

    rollup = exactly(rest.Rollup, client.get(f"/api/v1/guides/{seeded['guide_id'][0]}/rollup",
                                             headers=auth).get_json())
    assert [s["id"] for s in rollup["sessions"]] == [live, ended]
    assert rollup["items"][0]["total"] == {"yes": 3, "no": 1, "unsure": 0, "voters": 4, "comments": 0,
                                           "hands_yes": 0, "hands_no": 0, "hands_unsure": 0}

    state = exactly(rest.State, client.post(f"/api/v1/sessions/{waiting}/control", json={"action": "start"},
                                            headers=auth).get_json())
    assert state["position"] == {"index": 0, "count": 4}
    assert state["item"]["section"] == {"title": "Demokrati", "statement": "Vi vil styrke demokratiet",
                                        "tags": ["Beboerdemokrati", "Frivillighed"], "index": 0}
    comment_id = seeded["comment_id"][0]
    moderated = exactly(rest.Comment, client.post(f"/api/v1/sessions/{live}/comments/{comment_id}",
                                                  json={"pinned": True}, headers=auth).get_json())
    assert moderated["pinned"] is True
    saved = exactly(rest.Conclusion, client.put(f"/api/v1/sessions/{live}/items/c2/conclusion",
                                                json={"text": "  Nej\r\ntak  "}, headers=auth).get_json())
    assert saved == {"item_id": "c2", "text": "Nej\ntak"}
    assert exactly(rest.Health, client.get("/healthz").get_json()) == {"status": "ok"}


def test_rules_return_nothing_the_models_drop(app, seeded):
    """A key a rule adds without its model would vanish from the answer: it must be declared."""
    from shared import meeting as rules
    from shared import reports
    from shared.db import get_db
    from shared.models import Meeting

    with app.app_context():
        db = get_db().session
        conn = db.connection()
        for sid in seeded["meeting_id"][:3]:
            meeting = rules.get_meeting(conn, sid)
            assert not undeclared(rest.State, rules.state(conn, meeting))
            assert not undeclared(rest.State, {**rules.state(conn, meeting), "me": rules.me(conn, sid, "p", None)})
            assert not undeclared(rest.Results, reports.session_results(db, db.get(Meeting, sid)))
        db.remove()


# ---------------------------------------------------------------------------------------------
# Refusals name the field, in the request's language


@pytest.mark.parametrize(("body", "place", "message"), [
    ({"title": "Møde"}, "guide_id", "required"),
    ({"guide_id": "g", "title": "   "}, "title", "must not be empty"),
    ({"guide_id": "g", "title": "Ja\x07"}, "title", "contains the control character U+0007"),
    ({"guide_id": "g", "title": "t", "unit": 5}, "unit", "must be text, not a number (put it in quotes)"),
    ({"guide_id": "g", "title": "t" * 301}, "title", "must be at most 300 characters (has 301)"),
    ([1], "body", "must be a JSON object, not a list"),
])
def test_a_refused_body_names_its_field(client, seeded, body, place, message):
    resp = client.post("/api/v1/sessions", json=body, headers={"Authorization": f"Bearer {seeded['token']}"})
    assert resp.status_code == 422
    data = exactly(rest.Error, resp.get_json())
    assert data["error"] in ("invalid", "too_long")
    assert data["errors"][0] == {"place": place, "message": message}
    assert f"{place}: {message}" in data["message"]


def test_a_too_long_conclusion_tells_its_limit_in_every_language(client, seeded):
    live = seeded["meeting_id"][0]
    auth = {"Authorization": f"Bearer {seeded['token']}"}
    texts = {}
    for lang in ("en", "sv", "da"):
        resp = client.put(f"/api/v1/sessions/{live}/items/c1/conclusion", json={"text": "x" * 10_001},
                          headers={**auth, "Accept-Language": lang})
        assert resp.status_code == 422
        body = resp.get_json()
        assert body["error"] == "too_long"
        assert "10000" in body["message"]
        assert "1,000" not in body["message"]
        texts[lang] = body
    assert texts["en"]["errors"] == [{"place": "text", "message": "must be at most 10000 characters (has 10001)"}]
    assert texts["sv"]["errors"] == [{"place": "text", "message": "får vara högst 10000 tecken (har 10001)"}]
    assert texts["da"]["errors"] == [{"place": "text", "message": "må højst være 10000 tegn (har 10001)"}]
    assert texts["da"]["message"].startswith("Teksten er for lang.")


def test_a_guide_error_speaks_the_users_language(client, seeded):
    bad = copy.deepcopy(SMALL_GUIDE)
    bad["sections"][0]["items"][0]["kind"] = "poll"
    bad["sections"][0]["itemz"] = []
    resp = client.post("/api/v1/guides", json=bad, headers={"Authorization": f"Bearer {seeded['token']}",
                                                            "Accept-Language": "sv"})
    assert resp.status_code == 422
    body = exactly(rest.Error, resp.get_json())
    assert body["error"] == "invalid_guide"
    assert body["errors"] == [
        {"place": "sections[0]", "message": 'okänt fält "itemz" (menade du "items"?)'},
        {"place": "sections[0].items[0]", "message": "kind måste vara en av consideration, prompt, info"},
    ]


@pytest.mark.parametrize(("query", "place"), [("format=pdf", "format"), ("from=31-05-2026", "from"),
                                              ("to=tomorrow", "to")])
def test_a_refused_query_names_its_parameter(client, seeded, query, place):
    gid = seeded["guide_id"][0]
    resp = client.get(f"/api/v1/guides/{gid}/rollup?{query}", headers={"Authorization": f"Bearer {seeded['token']}"})
    assert resp.status_code == 422
    assert exactly(rest.Error, resp.get_json())["errors"][0]["place"] == place


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000, b'{"action": "start"', b"\xff\xfe{}"])
def test_bodies_that_cannot_be_read_are_refused_not_failed(client, seeded, raw):
    live = seeded["meeting_id"][0]
    resp = client.post(f"/api/v1/sessions/{live}/control", data=raw,
                       headers={"Authorization": f"Bearer {seeded['token']}", "Content-Type": "application/json"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["place"] == "body"


def test_the_last_day_there_is_can_end_a_rollup(client, seeded):
    gid = seeded["guide_id"][0]
    resp = client.get(f"/api/v1/guides/{gid}/rollup?from=0001-01-01&to=9999-12-31",
                      headers={"Authorization": f"Bearer {seeded['token']}"})
    assert resp.status_code == 200
    assert len(resp.get_json()["sessions"]) == 2
