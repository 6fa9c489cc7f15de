"""GET /api/health."""


def test_health__anyone__gets_ok_true(client):
    response = client.http.get("/api/health")

    assert response.status_code == 200
    assert response.json_body == {"ok": True}


def test_health__needs_no_token_and_ignores_a_bad_one(client):
    response = client.http.get("/api/health", headers={"authorization": "Bearer garbage"})

    assert response.status_code == 200
    assert response.json_body == {"ok": True}
