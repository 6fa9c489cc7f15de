"""GET /api/openapi.json: every route Chalice knows is documented, with its payload schemas."""
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from chalice import Chalice
from marshmallow import Schema

from api import idempotency, openapi, responses, schemas
from app import app

ROOT = Path(__file__).resolve().parents[2]

# Success answers that carry no JSON: file downloads (their content types instead) and 204s (none today).
# A new route that answers JSON needs a response schema; one that answers a file or nothing goes here.
FILE_DOWNLOADS = {
    ("GET", "/api/communities/{community_id}/poster"),
    ("GET", "/api/rounds/{round_id}/exports/{kind}"),
    ("GET", "/api/rounds/{round_id}/payment-qr"),
    ("GET", "/api/settlements/statement"),
    ("GET", "/api/sites/{site_id}/log/export"),
    ("GET", "/api/sub-districts/mine/demand/export"),
}
NO_CONTENT: set[tuple[str, str]] = set()


def _operations():
    return sorted((method, path, entry.view_function) for path, methods in app.routes.items()
                  for method, entry in methods.items())


@pytest.fixture
def spec(client):
    response = client.http.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json_body


def test_openapi__is_openapi_3_with_bearer_security(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer",
                                                              "bearerFormat": "JWT"}


def test_openapi__lists_every_route_and_method_of_the_app(spec):
    routes = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    documented = {(path, method) for path, operations in spec["paths"].items() for method in operations}

    assert documented == routes
    assert ("/api/orders", "post") in routes  # the comparison is over the real route table


def test_openapi__post_orders__documents_the_idempotency_key_header(spec):
    parameters = spec["paths"]["/api/orders"]["post"]["parameters"]

    [header] = [p for p in parameters if p["in"] == "header"]
    assert (header["name"], header["required"]) == ("Idempotency-Key", True)
    assert header["schema"]["pattern"] == idempotency._KEY_PATTERN.pattern  # as the server checks it
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (8, 100)


def test_openapi__post_orders__documents_the_request_body_schema(spec):
    body = spec["paths"]["/api/orders"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]

    assert body["required"] is True
    assert set(schema["properties"]) == {"round_id", "lines"}
    assert set(schema["required"]) == {"round_id", "lines"}
    assert schema["additionalProperties"] is False  # unknown fields are refused


def test_openapi__post_orders__documents_201_and_its_refusals(spec):
    responses = spec["paths"]["/api/orders"]["post"]["responses"]

    assert {"201", "400", "401", "403", "409", "422"} <= set(responses)


def test_openapi__public_routes__need_no_token_and_protected_ones_do(spec):
    paths = spec["paths"]

    assert "security" not in paths["/api/health"]["get"]
    assert "security" not in paths["/api/join/{join_key}/households"]["post"]
    assert "security" not in paths["/api/invites/{code}/accept"]["post"]
    assert paths["/api/orders"]["post"]["security"] == [{"bearer": []}]
    assert paths["/api/rounds"]["post"]["security"] == [{"bearer": []}]


def test_openapi__path_parameters_are_declared(spec):
    parameters = spec["paths"]["/api/rounds/{round_id}/exports/{kind}"]["get"]["parameters"]

    assert {p["name"] for p in parameters if p["in"] == "path"} == {"round_id", "kind"}
    assert {p["name"] for p in parameters if p["in"] == "query"} == {"format", "layout", "status", "community_id",
                                                                     "building"}


# --- every answer documented (issue 12, point 1: the fuzz checks answers against these) -------------------

def test_openapi__every_json_success_has_a_response_schema(spec):
    """A new route without a response schema fails here: give its @documented a `response=` (or, for a
    file download or a 204, add it to the allow-lists above)."""
    missing = []
    for method, path, _ in _operations():
        responses = spec["paths"][path][method.lower()]["responses"]
        for code, answer in responses.items():
            if not code.startswith("2") or (method, path) in NO_CONTENT:
                continue
            content = answer.get("content") or {}
            if (method, path) in FILE_DOWNLOADS:
                assert content and "application/json" not in content, (method, path)
                assert all(c["schema"] == {"type": "string", "format": "binary"} for c in content.values())
            elif "$ref" not in (content.get("application/json") or {}).get("schema", {}):
                missing.append(f"{method} {path} {code}")
    assert missing == []


def test_openapi__file_allow_list__is_the_documents_own():
    assert set(openapi.FILES) == FILE_DOWNLOADS


def test_openapi__fallback_tables__name_real_routes_without_their_own_schema():
    routes = {(method, path): view for method, path, view in _operations()}
    for key in (*openapi.OVERRIDES, *openapi.OPTIONAL_IDEMPOTENCY_KEY, *openapi.ALSO_200):
        assert key in routes, key


def test_openapi__response_schemas_refuse_undocumented_fields(spec):
    """additionalProperties: false on every response object, so a field the code adds without the schema
    is a fuzz failure rather than a silent gap."""
    loose = [name for name, schema in spec["components"]["schemas"].items()
             if schema.get("type") == "object" and "properties" in schema and schema.get("additionalProperties") is not False]
    assert loose == []


def test_openapi__a_view_that_reads_an_idempotency_key__documents_it_and_its_200_replay(spec):
    """Found from the view's code, so a new idempotent route cannot leave the header or the replay out."""
    checked = 0
    for method, path, view in _operations():
        source = inspect.getsource(view)
        operation = spec["paths"][path][method.lower()]
        if "key_from_headers" in source:
            checked += 1
            [header] = [p for p in operation.get("parameters", []) if p["in"] == "header"]
            assert header["name"] == "Idempotency-Key", path
            assert header["schema"]["pattern"] == idempotency._KEY_PATTERN.pattern
            assert header["required"] is ('if "idempotency-key" in' not in source
                                          and "headers.get(\"idempotency-key\")" not in source), path
        if re.search(r"status_code=201 if \w+ else 200", source):
            assert {"200", "201"} <= set(operation["responses"]), path
            assert operation["responses"]["200"]["content"] == operation["responses"]["201"]["content"], path
    assert checked >= 7  # orders, assisted orders, payment claims, pickups, rounds, deliveries, invites


def test_openapi__every_write_documents_415_and_reads_do_not(spec):
    for method, path, _ in _operations():
        responses = spec["paths"][path][method.lower()]["responses"]
        assert ("415" in responses) is (method != "GET"), (method, path)
        if method != "GET":
            assert responses["415"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorSchema"}


def test_openapi__push_subscription__documents_the_https_endpoint_it_checks(spec):
    schema = spec["components"]["schemas"]["PushSubscription"]["properties"]["endpoint"]

    assert (schema["format"], schema["pattern"]) == ("uri", "^https://")


def test_openapi__deep_health__documents_its_checks_and_its_503_body(spec):
    responses = spec["paths"]["/api/health/deep"]["get"]["responses"]
    ref = {"$ref": "#/components/schemas/DeepHealth"}

    assert responses["200"]["content"]["application/json"]["schema"] == ref
    assert responses["503"]["content"]["application/json"]["schema"] == ref
    assert set(spec["components"]["schemas"]["DeepHealth"]["properties"]) == {"ok", "checks", "error"}


# --- the answers' classes are built for the document only (issue 12, point 8: the cold import) -------------

def test_openapi__import_app__does_not_build_the_response_schemas_and_the_document_does():
    """A fresh interpreter, as a cold Lambda: `import app` leaves api.responses (and its classes) unloaded;
    building the document loads it."""
    probe = ("import sys\n"
             "from marshmallow import class_registry\n"
             "import app\n"
             "print('api.responses' in sys.modules, 'OrdersOutSchema' in class_registry._registry)\n"
             "import api.openapi\n"
             "document = api.openapi.spec(app.app)\n"
             "print('api.responses' in sys.modules, 'OrdersOutSchema' in class_registry._registry,"
             " 'OrdersOut' in document['components']['schemas'])\n")
    # os.environ carries tests/conftest.py's app config (table, stage, region, test credentials).
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=dict(os.environ),
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["False False", "True True True"]


def test_openapi__every_response_names_a_schema_class_in_api_responses():
    names = {}
    for method, path, view in _operations():
        name = view.__openapi__["response"]
        if (method, path) in FILE_DOWNLOADS and name is None:
            continue
        assert isinstance(name, str), (method, path, name)  # one rule: a name, resolved when the document is built
        names[(method, path)] = name
    names.update({(*key, code): name for key, by_code in openapi.OVERRIDES.items() for code, name in by_code.items()})

    def resolves(name):
        found = getattr(responses, name, None)
        return isinstance(found, type) and issubclass(found, Schema)
    unresolved = {key: name for key, name in names.items() if not resolves(name)}
    assert unresolved == {}
    assert len(names) >= 100  # the check ran over the real route table


def test_openapi__a_class_named_in_both_modules_is_one_class():
    """api/responses.py re-exports what it shares with api/schemas.py; a second class of the same name would
    give two OpenAPI components one name."""
    def classes(module):
        return {n: v for n, v in vars(module).items()
                if isinstance(v, type) and issubclass(v, Schema) and v is not Schema}
    in_schemas, in_responses = classes(schemas), classes(responses)

    assert {n for n in in_schemas.keys() & in_responses.keys() if in_schemas[n] is not in_responses[n]} == set()
    assert "OrdersOutSchema" in in_responses and "OrdersOutSchema" not in in_schemas  # moved, not copied


def test_openapi__an_unknown_response_name__fails_the_build_naming_the_route_and_the_name():
    other = Chalice(app_name="openapi-unknown-name")

    @other.route("/api/things", methods=["GET"])
    @openapi.documented("Things", response="ThingsOutSchema", errors=())
    def things():
        return {}

    with pytest.raises(RuntimeError, match=r"GET /api/things \(things\).*'ThingsOutSchema'.*api/responses\.py"):
        openapi.spec(other)


def test_openapi__a_class_instead_of_a_name__fails_the_build():
    other = Chalice(app_name="openapi-class-not-name")

    @other.route("/api/things", methods=["GET"])
    @openapi.documented("Things", response=responses.HealthSchema, errors=())
    def things():
        return {}

    with pytest.raises(RuntimeError, match=r"GET /api/things"):
        openapi.spec(other)

