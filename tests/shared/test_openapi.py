"""The generated OpenAPI document against the app and docs/api.md: every /api/v1 route documented,
nothing invented, valid, and the schemas the models say."""

import re
import string
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared.app import create_app
from shared.schemas import rest
from shared.schemas.openapi import document

BASE = "http://testserver"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PUBLIC = {("/openapi.json", "get"), ("/healthz", "get")}
ERROR_STATUSES = {"401", "403", "404", "409", "413", "422", "429"}
API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.fixture
def app(tmp_path):
    return create_app({"SKIP_ENV": True, "DATABASE_URL": f"sqlite:///{tmp_path/'t.db'}", "SECRET_KEY": "x",
                       "TESTING": True, "INSTANCE_DIR": str(tmp_path)})


@pytest.fixture
def doc(app):
    return document(app, BASE)


def flask_to_openapi(rule: str) -> str:
    """`/a/<int:x>/<y>` -> `/a/{x}/{y}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def routed(app) -> set[tuple[str, str]]:
    """(path, method) of every rule of the app, in OpenAPI spelling, without HEAD and OPTIONS."""
    return {
        (flask_to_openapi(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def documented(doc: dict) -> set[tuple[str, str]]:
    """(full path, method) of every operation, the server's path (path-level override first) prepended."""
    out = set()
    for path, item in doc["paths"].items():
        server = (item.get("servers") or doc["servers"])[0]["url"]
        assert server.startswith(BASE), server
        prefix = urlsplit(server).path.rstrip("/")
        out |= {(prefix + path, method) for method in item if method in HTTP_METHODS}
    return out


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield path, method, op


def resolve(doc: dict, ref: str):
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node = doc
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def api_md_endpoints() -> dict[tuple[str, str], tuple[str, str]]:
    """`(METHOD, path with {} for parameters)` -> (auth, contract) of docs/api.md's endpoint table."""
    rows = re.findall(r"^\| `([A-Z]+) (/[^`\[?]*)[^`]*`[^|]*\| (\w+) \|[^\n]*\| (v1|additive)[^|]*\|$",
                      API_MD.read_text(encoding="utf-8"), re.MULTILINE)
    return {(method.lower(), re.sub(r"{[^}]+}", "{}", path)): (auth, contract) for method, path, auth, contract in rows}


# -- (a) routes <-> document <-> docs/api.md ------------------------------------------------------


def test_flask_to_openapi_converts_converters():
    assert flask_to_openapi("/api/v1/sessions/<meeting_id>/comments/<int:comment_id>") == (
        "/api/v1/sessions/{meeting_id}/comments/{comment_id}"
    )


def test_every_api_route_is_documented(app, doc):
    api_routes = {(p, m) for p, m in routed(app) if p.startswith("/api/v1/")}
    assert api_routes, "the api blueprint registered no routes"
    missing = api_routes - documented(doc)
    assert not missing, f"routes without documentation: {sorted(missing)}"


def test_every_documented_operation_is_routed(app, doc):
    invented = documented(doc) - routed(app)
    assert not invented, f"documented but not routed: {sorted(invented)}"


def test_every_route_carries_an_operation(doc):
    bare = [(path, method) for path, method, op in operations(doc) if op["tags"] == ["undocumented"]]
    assert not bare, f"routes without @operation(...): {bare}"


def test_docs_api_md_lists_the_same_operations(doc):
    listed = api_md_endpoints()
    assert len(listed) >= 15
    generated = {(method, re.sub(r"{[^}]+}", "{}", path)): op for path, method, op in operations(doc)}
    assert set(listed) == set(generated)
    for key, (auth, contract) in listed.items():
        op = generated[key]
        assert (auth == "public") == (op.get("security") == []), key
        assert op["x-dialogrum-contract"] == contract, key


def test_healthz_is_documented_outside_the_prefix(app, doc):
    assert doc["servers"] == [{"url": BASE + "/api/v1"}]
    health = doc["paths"]["/healthz"]
    assert health["servers"][0]["url"] == BASE
    assert ("/healthz", "get") in routed(app)
    assert not any(item.get("servers") for path, item in doc["paths"].items() if path != "/healthz")


def test_served_document_is_public_and_the_same(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == document(app, "http://localhost")


def test_trailing_slash_of_the_base_url_is_ignored(app):
    assert document(app, BASE + "/") == document(app, BASE)


# -- (b) validity -----------------------------------------------------------------------------


def test_document_validates_with_openapi_spec_validator(doc):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


def test_document_is_openapi_3_1_with_bearer_security(doc):
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        **doc["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearerAuth": []}]


# -- (c) references ---------------------------------------------------------------------------


def test_every_ref_target_exists(doc):
    found = list(refs(doc))
    assert found
    for ref in found:
        resolve(doc, ref)


def test_every_component_is_used(doc):
    used = set(refs(doc))
    for kind in ("schemas", "responses"):
        names = {f"#/components/{kind}/{name}" for name in doc["components"][kind]}
        assert names <= used, names - used


# -- operations -------------------------------------------------------------------------------


def test_operations_have_unique_ids_summaries_and_responses(doc):
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    for path, method, op in operations(doc):
        assert op.get("summary"), (path, method)
        assert any(code.startswith("2") for code in op["responses"]), (path, method)
        assert op["x-dialogrum-contract"] in ("v1", "additive"), (path, method)


def test_public_operations_and_the_rest_need_a_token(doc):
    for path, method, op in operations(doc):
        if (path, method) in PUBLIC:
            assert op["security"] == [], path
        else:
            assert "security" not in op, f"{method} {path} should inherit the bearer requirement"
            assert {"401", "429"} <= set(op["responses"]), (path, method)


def test_bodies_and_queries_can_be_refused(doc):
    for path, method, op in operations(doc):
        if "requestBody" in op:
            assert {"413", "422"} <= set(op["responses"]), (path, method)
        if any(p["in"] == "query" for p in op.get("parameters", [])):
            assert "422" in op["responses"], (path, method)


def test_error_responses_reference_the_error_schema(doc):
    for path, _method, op in operations(doc):
        for status, declared in op["responses"].items():
            if status not in ERROR_STATUSES:
                continue
            response = resolve(doc, declared["$ref"]) if "$ref" in declared else declared
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                path, status)


def test_path_parameters_match_the_path(doc):
    for path, item in doc["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            params = item.get("parameters", []) + op.get("parameters", [])
            declared = {p["name"] for p in params if p["in"] == "path"}
            assert declared == names, (path, method)
            assert all(p["required"] for p in params if p["in"] == "path")
    comment = doc["paths"]["/sessions/{meeting_id}/comments/{comment_id}"]["parameters"][1]
    assert comment["schema"]["type"] == "integer"


def test_exports_offer_their_formats(doc):
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    export = doc["paths"]["/sessions/{meeting_id}/export"]["get"]
    fmt = next(p for p in export["parameters"] if p["name"] == "format")
    assert fmt["in"] == "query"
    assert set(fmt["schema"]["enum"]) == {"csv", "xlsx", "json", "zip"}
    assert set(export["responses"]["200"]["content"]) == {"text/csv", xlsx, "application/json", "application/zip"}
    # One table per CSV file (issue 12, gap 12): the tables by name, and the separators.
    table = next(p for p in export["parameters"] if p["name"] == "table")
    assert table["schema"]["anyOf"][0]["enum"] == ["items", "comments"] and "one table" in table["description"]
    rollup = doc["paths"]["/guides/{guide_id}/rollup"]["get"]
    params = {p["name"]: p for p in rollup["parameters"]}
    assert {"csv", "xlsx", "zip"} <= set(params["format"]["schema"]["enum"])
    assert set(params) == {"format", "unit", "from", "to", "language", "table", "dialect"}
    assert params["table"]["schema"]["anyOf"][0]["enum"] == ["items", "comments", "tags", "sessions"]
    assert params["dialect"]["schema"]["anyOf"][0]["enum"] == ["comma", "semicolon"]
    assert params["from"]["schema"]["format"] == "date"
    assert {"text/csv", xlsx} <= set(rollup["responses"]["200"]["content"])


def test_a_guide_may_be_posted_as_yaml(doc):
    content = doc["paths"]["/guides"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/yaml"} <= set(content)


# -- the schemas mirror the rules -------------------------------------------------------------


def test_enums_match_the_rules(doc):
    from shared import guides, meeting
    from shared.models import CHOICES

    schemas = doc["components"]["schemas"]
    assert schemas["ControlRequest"]["properties"]["action"]["enum"] == list(meeting.ACTIONS)
    assert schemas["GuideDocument-Input"]["properties"]["language"]["enum"] == list(guides.LANGUAGES)
    assert schemas["GuideItem-Input"]["properties"]["kind"]["enum"] == list(guides.KINDS)
    assert list(schemas["Counts"]["properties"]) == list(CHOICES)
    char = re.compile(rest.CODE_PATTERN.replace("{6}", ""))
    assert {ch for ch in string.digits + string.ascii_uppercase if char.fullmatch(ch)} == set(meeting.CODE_ALPHABET)


def test_state_schema_is_the_contract_plus_the_additive_fields(doc):
    state = doc["components"]["schemas"]["State"]
    contract = {"session", "position", "item", "voting_open", "results_visible", "participants"}
    additive = {"language", "labels", "version", "voting_opened", "join_display", "me",
                # issue 11: the countdown and approve first; the top ideas order and the summary
                "timer", "approve_comments", "comment_order", "summary"}
    assert set(state["properties"]) == contract | additive
    assert state["additionalProperties"] is False
    assert "me" not in state["required"]
    assert contract <= set(state["required"])


def test_position_index_is_an_integer_also_while_waiting(doc):
    index = doc["components"]["schemas"]["Position"]["properties"]["index"]
    assert index["type"] == "integer"
    assert "anyOf" not in index
    text = API_MD.read_text(encoding="utf-8")
    assert "`position.index` is then `null`" not in text
    assert "`position.index` is then `0`" in text


def test_limits_in_the_schemas_are_the_rules(doc):
    from shared import meeting

    schemas = doc["components"]["schemas"]
    assert schemas["ConclusionRequest"]["properties"]["text"]["maxLength"] == meeting.MAX_CONCLUSION
    assert schemas["SessionCreate"]["properties"]["title"]["maxLength"] == 300


def test_every_error_code_is_described(doc):
    from shared.errors import STATUS

    text = doc["components"]["schemas"]["Error"]["description"]
    for code in STATUS:
        assert code in text
