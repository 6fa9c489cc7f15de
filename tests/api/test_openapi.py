"""GET /api/openapi.json: every route Chalice knows is documented, with its payload schemas."""
import pytest

from app import app


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

    assert {"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"}} in parameters


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
