"""`make dev` as a newcomer sees it: URL, join QR code, staff links, dev.json."""
import requests




def test_make_dev__prints_url_join_qr_and_staff_links(dev_stack):
    out = dev_stack.output()
    info = dev_stack.info
    assert f"保供 Baogong is running at {info['base_url']}" in out
    assert info["join_url"] in out
    assert "▀" in out and "█" in out  # the terminal QR code
    for role in ("admin", "liaison", "info_officer", "volunteer", "supplier"):
        assert f"{info['base_url']}/#/signin/{info['tokens'][role]}" in out


def test_make_dev__writes_dev_json_per_the_contract(dev_stack):
    info = dev_stack.info
    assert {"base_url", "join_key", "community_id", "round_id", "tokens"} <= set(info)
    assert set(info["tokens"]) >= {"admin", "liaison", "info_officer", "volunteer", "supplier"}
    assert info["base_url"] == f"http://127.0.0.1:{dev_stack.port}"


def test_make_dev__serves_the_pwa_and_the_api_on_one_origin(dev_stack):
    base = dev_stack.info["base_url"]
    page = requests.get(base + "/", timeout=10)
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text
    assert requests.get(base + "/api/health", timeout=10).json() == {"ok": True}
    join = requests.get(f"{base}/api/join/{dev_stack.info['join_key']}", timeout=10).json()
    assert join["community_id"] == dev_stack.info["community_id"]


def test_make_dev__seeds_an_open_round_with_three_bundles_of_limited_stock(dev_stack):
    info = dev_stack.info
    rounds = requests.get(f"{info['base_url']}/api/rounds", params={"community_id": info["community_id"]},
                          headers={"Authorization": f"Bearer {info['tokens']['liaison']}"}, timeout=10).json()["rounds"]
    demo = next(r for r in rounds if r["round_id"] == info["round_id"])
    assert demo["status"] == "open"
    assert len(demo["bundles"]) == 3
    assert len({b["price_fen"] for b in demo["bundles"]}) == 3
    assert all(0 < b["stock_left"] <= b["stock_total"] < 1000 for b in demo["bundles"])


def test_make_dev__api_answers_are_json(dev_stack):
    r = requests.get(dev_stack.info["base_url"] + "/api/health", timeout=10)
    assert r.headers["Content-Type"] == "application/json"
    csv = requests.get(f"{dev_stack.info['base_url']}/api/rounds/{dev_stack.info['round_id']}/exports/packing",
                       headers={"Authorization": f"Bearer {dev_stack.info['tokens']['supplier']}"}, timeout=10)
    assert csv.headers["Content-Type"].startswith("text/csv")
