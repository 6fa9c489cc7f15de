"""What the supply chain's tests share (docs/api.md § The sub-district's supply chain): a frozen
clock, staff joined by invite, allocation orders walked along their status chain, the ledger's
distributions, supply points with their reporters and daily reports, and reading XLSX and PDF
files back.

Time is frozen at NOW (Friday 2026-11-20, 10:00 in Beijing) unless a test parametrizes `frozen`
indirectly with another moment; everything a test makes (tokens included) is made at that moment,
and `frozen.move_to(...)` moves the clock on. Fixtures are imported by name into the test modules
that use them.
"""
import io
import subprocess
from datetime import date, datetime, timedelta, timezone

import openpyxl
import pytest
import time_machine

from tests.api.helpers import create_community, get, post

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 2026-11-20 10:00 in Beijing
TODAY = "2026-11-20"
YESTERDAY = "2026-11-19"
TOMORROW = "2026-11-21"

CATEGORIES = ("rice", "flour", "oil", "meat", "eggs", "milk", "vegetables", "water", "protective", "other")
CATEGORY_ZH = {"rice": "大米", "flour": "面粉", "oil": "食用油", "meat": "肉类", "eggs": "鸡蛋", "milk": "奶",
               "vegetables": "蔬菜", "water": "饮用水", "protective": "防疫物资", "other": "其他"}
STEPS = ("requested", "allocated", "dispatched", "received", "distributed")


def beijing(moment: str) -> datetime:
    """'2025-01-24 17:00' in Beijing as an aware UTC datetime, for `frozen` and `move_to`."""
    return (datetime.fromisoformat(moment) - timedelta(hours=8)).replace(tzinfo=timezone.utc)


def day_after(day: str, n: int = 1) -> str:
    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def frozen(request):
    """The clock stands at NOW, or at the moment given by `parametrize("frozen", [...], indirect=True)`."""
    moment = getattr(request, "param", NOW)
    with time_machine.travel(moment, tick=False) as traveller:
        yield traveller


@pytest.fixture
def admin(demo) -> str:
    return demo["tokens"]["admin"]


@pytest.fixture
def liaison(demo) -> str:
    return demo["tokens"]["liaison"]


@pytest.fixture
def other_sub_district(client):
    """A second sub-district with its own community (and its liaison, by invite) and supplier."""
    from tests.api.helpers import create_sub_district, create_supplier
    other = create_sub_district("另一个街道")
    community = create_community(other["sub_district_id"], "别处小区")
    return {**other, "community_id": community["community_id"],
            "liaison": invited(client, other["token"], "liaison", community["community_id"]),
            "supplier_id": create_supplier(other["sub_district_id"], "别处超市")["supplier_id"]}


# --- staff ------------------------------------------------------------------------------------

def invited(client, inviter: str, role: str, scope_id: str, name: str = "") -> str:
    """A staff token, the way staff join: an invite and its acceptance."""
    body = {"role": role, "scope_id": scope_id}
    if name:
        body["name"] = name
    invite = post(client, "/api/invites", body, inviter)
    assert invite.status_code == 201, invite.body
    accepted = post(client, f"/api/invites/{invite.json_body['code']}/accept", {})
    assert accepted.status_code == 200, accepted.body
    return accepted.json_body["token"]


def community_with_liaison(client, demo, name: str) -> dict:
    """Another community of the demo sub-district, with a liaison invited by the admin."""
    community = create_community(demo["sub_district_id"], name)
    return {**community, "name": name,
            "liaison": invited(client, demo["tokens"]["admin"], "liaison", community["community_id"])}


# --- allocations ------------------------------------------------------------------------------

def allocation_body(community_id: str, supplier_id: str | None = None, /, **overrides) -> dict:
    """A valid POST /api/allocations body: 100 kg of rice at ¥4.30 from a supplier (or the reserve
    when `source="reserve"`), for tomorrow; `overrides` replace fields (None removes one)."""
    body = {"category": "rice", "quantity": 100, "unit": "kg", "spec": "5kg/袋 东北大米", "unit_price": "4.30",
            "source": "supplier", "supplier_id": supplier_id, "community_id": community_id,
            "deliver_at": "2026-11-21T01:00:00Z", "contact_name": "李经理", "contact_phone": "13912345678"}
    if overrides.get("source") == "reserve":
        body.pop("supplier_id")
        body["reserve_name"] = "区粮食储备库"
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def create_allocation(client, demo, **overrides) -> dict:
    """An allocation order to the demo community from the demo supplier, by the admin: the 201 body."""
    body = allocation_body(demo["community_id"], demo["supplier_id"], **overrides)
    response = post(client, "/api/allocations", body, demo["tokens"]["admin"])
    assert response.status_code == 201, response.body
    return response.json_body


def advance(client, token: str, allocation_id: str, to: str, note: str | None = None):
    body = {"to": to}
    if note is not None:
        body["note"] = note
    return post(client, f"/api/allocations/{allocation_id}/advance", body, token)


def advance_to(client, token: str, allocation: dict, to: str) -> dict:
    """Step an allocation along the chain up to `to` (each step must answer 200): the last body."""
    for status in STEPS[STEPS.index(allocation["status"]) + 1:STEPS.index(to) + 1]:
        response = advance(client, token, allocation["allocation_id"], status)
        assert response.status_code == 200, response.body
        allocation = response.json_body
    return allocation


def received_allocation(client, demo, **overrides) -> dict:
    """An allocation to the demo community, advanced by the admin to `received` (its balance is in)."""
    return advance_to(client, demo["tokens"]["admin"], create_allocation(client, demo, **overrides), "received")


def distribute(client, token: str, community_id: str, allocation_id: str, quantity: int,
               kind: str = "households", text: str = "1栋 101–110 户", note: str | None = None):
    body = {"allocation_id": allocation_id, "quantity": quantity, "to": {"kind": kind, "text": text}}
    if note is not None:
        body["note"] = note
    return post(client, f"/api/communities/{community_id}/ledger/distribute", body, token)


def distributed_allocation(client, demo, **overrides) -> dict:
    """An allocation received by the demo community, all of it handed out by the liaison, and
    advanced to `distributed` (the end of supply)."""
    allocation = received_allocation(client, demo, **overrides)
    out = distribute(client, demo["tokens"]["liaison"], demo["community_id"], allocation["allocation_id"],
                     allocation["quantity"])
    assert out.status_code == 201, out.body
    return advance_to(client, demo["tokens"]["admin"], allocation, "distributed")


def ledger(client, token: str, community_id: str, **query) -> dict:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    response = get(client, f"/api/communities/{community_id}/ledger" + (f"?{params}" if params else ""), token)
    assert response.status_code == 200, response.body
    return response.json_body


def balance(ledger_body: dict, category: str = "rice", unit: str = "kg") -> int:
    """The balance of one (category, unit) in a ledger answer; 0 if it has none."""
    return next((b["balance"] for b in ledger_body["balances"]
                 if (b["category"], b["unit"]) == (category, unit)), 0)


# --- supply points ----------------------------------------------------------------------------

COMMODITIES = [{"name": "东北大米", "category": "rice", "unit": "kg"},
               {"name": "猪肉", "category": "meat", "unit": "kg"}]


def supply_point_body(**overrides) -> dict:
    body = {"name": "城南农贸市场", "kind": "market", "address": "城南路 1 号", "usual_markup_pct": 20,
            "commodities": COMMODITIES}
    body.update(overrides)
    return body


def create_supply_point(client, admin_token: str, **overrides) -> dict:
    response = post(client, "/api/supply-points", supply_point_body(**overrides), admin_token)
    assert response.status_code == 201, response.body
    return response.json_body


def commodity_ids(point: dict) -> dict[str, str]:
    """A point's commodities: name → commodity_id."""
    return {c["name"]: c["commodity_id"] for c in point["commodities"]}


def supply_point_with_reporter(client, admin_token: str, **overrides) -> dict:
    """A supply point and its reporter's token (by invite): the SupplyPoint plus `token`, `ids`."""
    point = create_supply_point(client, admin_token, **overrides)
    return {**point, "ids": commodity_ids(point),
            "token": invited(client, admin_token, "supply_point", point["point_id"])}


def price_line(commodity_id: str, price: str = "4.20", cost: str = "3.80", stock: int = 1000,
               sales: int = 100) -> dict:
    return {"commodity_id": commodity_id, "price": price, "cost": cost, "stock": stock, "sales": sales}


def daily_report(client, point: dict, lines: list[dict], day: str | None = None, replace: bool | None = None,
                 token: str | None = None):
    """POST a supply point's daily report (as its reporter unless `token` says otherwise)."""
    body: dict = {"lines": lines}
    if day is not None:
        body["day"] = day
    if replace is not None:
        body["replace"] = replace
    return post(client, f"/api/supply-points/{point['point_id']}/reports", body, token or point["token"])


# --- demand -----------------------------------------------------------------------------------

def demand_line(category: str, quantity: int, unit: str, note: str | None = None) -> dict:
    line = {"category": category, "quantity": quantity, "unit": unit}
    if note is not None:
        line["note"] = note
    return line


def report_demand(client, token: str, community_id: str, lines: list[dict], day: str | None = None,
                  replace: bool | None = None):
    body: dict = {"lines": lines}
    if day is not None:
        body["day"] = day
    if replace is not None:
        body["replace"] = replace
    return post(client, f"/api/communities/{community_id}/demand", body, token)


# --- files ------------------------------------------------------------------------------------

def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), response.headers
    return openpyxl.load_workbook(io.BytesIO(response.body))


def rows(sheet) -> list[tuple]:
    """A sheet's non-empty rows as tuples of values, header included."""
    return [row for row in sheet.iter_rows(values_only=True) if any(v not in (None, "") for v in row)]


def as_fen(value) -> int | None:
    """A money cell read back as fen: a number of yuan (12.5), or text such as '¥12.50' / '1,250.00'."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return round(value * 100)
    text = str(value).replace("¥", "").replace("￥", "").replace(",", "").strip()
    return round(float(text) * 100)


def pdf_file(response, tmp_path, name: str = "statement.pdf"):
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("application/pdf"), response.headers
    path = tmp_path / name
    path.write_bytes(response.body)
    return path


def run(*command) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout


def pdf_text(path) -> str:
    """The PDF's text as poppler's pdftotext reads it (pypdf is not among the dev requirements)."""
    return run("pdftotext", "-layout", "-enc", "UTF-8", str(path), "-")


def pdf_fonts(path) -> list[dict]:
    """pdffonts' rows as {name, emb}: emb is the fifth column from the right (emb sub uni object gen)."""
    return [{"name": row.split()[0], "emb": row.split()[-5]} for row in run("pdffonts", str(path)).splitlines()[2:]]


def yuan(fen: int) -> str:
    """How a person reads an amount: ¥1,234.50 (the thousands separator optional when matching)."""
    return f"{fen // 100:,}.{fen % 100:02d}"


def not_found(response) -> dict:
    """A 404 refusal in the API's error shape (each module names its own code: not_found, no_such_…)."""
    assert response.status_code == 404, response.body
    error = response.json_body["error"]
    assert error["code"] and error["message"].strip() and error["message_en"].strip()
    return error
