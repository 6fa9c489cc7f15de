"""What one order, one pickup and one notice poll cost, item by item, in a 1-community and a 200-community round.

Printed, never asserted; docs/capacity.md is computed from these figures. In-process under moto, rate
limits counted separately (their two counters per write, when api/limits.py is in the tree). Unlike
bench.calls (whose world turns fair share off), the communities keep the default fair share (one live
order per household per 3 days), so the order writes its FAIRSHARE item as it would in a lockdown.

For each round size: a sub-district with N communities (the largest round the schema allows is 200), one
supplier, one round over all of them with one bundle (and the same with three bundles), a flat that
registers through the join link and orders through the API; the supplier confirms its payment; a
volunteer marks it collected; the resident polls the notices. Each request is metered with
bench.capacity.Meter: its calls, and each item a write names, with its size and write units.
"""
import json
import logging
import os
import secrets
import uuid
from datetime import timedelta

SIZES = [int(n) for n in os.environ.get("BENCH_ROUND_SIZES", "1,200").split(",")]


def _environment() -> None:
    from bench.calls import ENV
    os.environ.update(dict(ENV, BAOGONG_TABLE="baogong-bench-order-cost"))
    os.environ.pop("BAOGONG_AWS_ENDPOINT", None)


def _headers(token=None, **extra):
    headers = {"content-type": "application/json", **{k.replace("_", "-"): v for k, v in extra.items()}}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


def measure(client, meter, n: int, bundles: int) -> dict:
    from api import bootstrap, clock, communities
    sub = bootstrap.create_sub_district(f"基准街道{n}-{bundles}")
    made = [communities.create(sub.sub_district_id, f"小区{i:03d}", bootstrap.DEMO_BUILDINGS) for i in range(n)]
    supplier = bootstrap.create_supplier(sub.sub_district_id, "全市保供平台", "13800000000")
    supplier_token = bootstrap.create_staff("supplier", supplier.supplier_id)
    now = clock.now()
    body = {"name": "全市保供 第1期", "community_ids": [c.community_id for c in made],
            "opens_at": clock.iso(now - timedelta(minutes=5)), "closes_at": clock.iso(now + timedelta(days=1)),
            "payment_deadline": clock.iso(now + timedelta(days=1, hours=6)), "payment_qr": "wxp://f2f0-bench-qr",
            "bundles": [{"name": f"保供套餐{b + 1}", "price_fen": 12800, "stock": 100000, "per_household_limit": 2,
                         "items": [{"name": "大米", "qty": "5", "unit": "kg"}, {"name": "面粉", "qty": "2.5", "unit": "kg"},
                                   {"name": "食用油", "qty": "1.8", "unit": "L"}]} for b in range(bundles)]}
    meter.start()
    r = client.http.post("/api/rounds", body=json.dumps(body), headers=_headers(supplier_token))
    meter.stop()
    assert r.status_code == 201, r.body
    created = {"calls": dict(meter.calls), "wcu": meter.wcu, "gsi": meter.gsi_wcu, "rcu": meter.rcu}
    round_ = r.json_body
    first = made[0]
    r = client.http.post(f"/api/join/{first.join_key}/households", headers=_headers(),
                         body=json.dumps({"building": "1栋", "room": "501", "phone": "13812345678"}))
    assert r.status_code == 201, r.body
    resident = r.json_body["token"]
    volunteer = bootstrap.create_staff("volunteer", first.community_id)
    out = {"round_created": created}

    def metered(label, method, url, token, body=None, **extra):
        meter.start()
        response = client.http.request(method, url, headers=_headers(token, **extra),
                                       body=b"" if body is None else json.dumps(body).encode())
        meter.stop()
        assert 200 <= response.status_code < 300, (label, response.status_code, response.body[:300])
        out[label] = {"calls": dict(meter.calls), "wcu": meter.wcu, "gsi": meter.gsi_wcu, "rcu": meter.rcu,
                      "items": list(meter.items)}
        return response.json_body

    order = metered("order", "POST", "/api/orders", resident,
                    {"round_id": round_["round_id"],
                     "lines": [{"bundle_id": b["bundle_id"], "qty": 1} for b in round_["bundles"]]},
                    idempotency_key=str(uuid.uuid4()))
    r = client.http.post(f"/api/rounds/{round_['round_id']}/payments/confirm", headers=_headers(supplier_token),
                         body=json.dumps({"order_ids": [order["order_id"]]}))
    assert r.status_code == 200, r.body
    metered("pickup", "POST", f"/api/orders/{order['order_id']}/pickup", volunteer, {"method": "self"},
            idempotency_key=str(uuid.uuid4()))
    metered("poll", "GET", "/api/notices/mine", resident)
    return out


def main() -> None:
    _environment()
    logging.disable(logging.INFO)
    import boto3
    from chalice.test import Client
    from moto import mock_aws
    with mock_aws():
        from api import config, models
        boto3.client("ssm", region_name=config.REGION).put_parameter(
            Name=config.TOKEN_SECRET_PARAM, Value=secrets.token_hex(32), Type="SecureString")
        models.create_table()
        if hasattr(config, "RATE_LIMITS"):
            config.RATE_LIMITS = False
        from app import app
        from bench.capacity import Meter
        meter = Meter(models.dynamodb_client(), boto3.client("dynamodb", region_name=config.REGION), config.TABLE_NAME)
        print("one order, pickup and notice poll, item by item (fair share on, rate limits off; each limit "
              "counter adds 1 UpdateItem and 1 WCU to a write)")
        with Client(app) as client:
            for n in SIZES:
                for bundles in (1, 3):
                    result = measure(client, meter, n, bundles)
                    c = result["round_created"]
                    print(f"\nround of {n} communit{'y' if n == 1 else 'ies'}, {bundles} bundle(s) ordered: "
                          f"creating it {_ops(c['calls'])}, {c['wcu']} WCU + {c['gsi']} GSI")
                    for label in ("order", "pickup", "poll"):
                        m = result[label]
                        print(f"  {label:<6} {_ops(m['calls']):<44} {m['wcu']:>3} WCU + {m['gsi']} GSI WCU, "
                              f"{m['rcu']:g} RCU")
                        if label == "order" or (label == "pickup" and bundles == 1):
                            for action, sk, size, units in m["items"]:
                                print(f"      {action:<14} {sk:<44} {size:>6} B  {units:>2} WCU")


def _ops(calls: dict) -> str:
    return " + ".join(f"{n} {op}" for op, n in sorted(calls.items())) or "none"


if __name__ == "__main__":
    main()
