"""POST /api/rounds/{round_id}/payments/statement end to end: real orders placed through the API, statement
files shaped like the wallets' exports (WeChat Pay's UTF-8 bill with its preamble, ¥ amounts and tab-padded
交易单号; Alipay's GBK app export), the preview, and the confirmation that follows it with `transactions`.

The shapes are copied from tests/fixtures/statements/ (see its README); the rows are built here from each
order's own `payment_note` and `total_fen`, with times inside the round's window.
"""
import secrets
from datetime import datetime, timedelta

import pytest

from api import clock
from api.statements import MAX_BYTES
from tests.api.helpers import (
    create_round, create_sub_district, create_supplier, error_of, fair_share_off, get, new_key, orders_in, place_order,
    post, register, stock_left, writes,
)

# Two bundles with plenty of stock: these tests are about money, not scarcity.
BUNDLES = [
    {"name": "蔬菜套餐", "price_fen": 4850, "stock": 50, "per_household_limit": 5,
     "items": [{"name": "白菜", "qty": "1", "unit": "颗"}]},
    {"name": "米面油套餐", "price_fen": 12800, "stock": 50, "per_household_limit": 5,
     "items": [{"name": "大米", "qty": "5", "unit": "kg"}]},
]
VEG, RICE = 0, 1

FLATS = [
    {"building": "3栋", "unit": "2单元", "room": "1502", "phone": "13900001502"},
    {"building": "1栋", "room": "101", "phone": "13900000101"},
    {"building": "10栋", "unit": "1单元", "room": "601", "phone": "13900000601"},
    {"building": "2栋", "room": "302", "phone": "13900000302"},
]


# --- statement files, shaped like the real exports ------------------------------------------------

# 微信支付账单明细 (UTF-8 with BOM): 16 lines of preamble, the list's title line, then the header.
WECHAT_PREAMBLE = """\
微信支付账单明细,,,,,,,,,,
微信昵称：[邻家便利超市],,,,,,,,,,
起始时间：[{start} 00:00:00] 终止时间：[{end} 23:59:59],,,,,,,,,,
导出类型：[全部],,,,,,,,,,
导出时间：[{exported}],,,,,,,,,,
,,,,,,,,,,
共{count}笔记录,,,,,,,,,,
收入：{count}笔 ¥0.00,,,,,,,,,,
支出：0笔 ¥0.00,,,,,,,,,,
中性交易：0笔 ¥0.00,,,,,,,,,,
注：,,,,,,,,,,
1. 充值/提现/理财通购买/零钱通存取/信用卡还款等交易，将计入中性交易,,,,,,,,,,
2. 除微信支付外的其他支付方式交易记录，可在相应平台查询,,,,,,,,,,
3. 本明细仅展示当前账单中的交易，不包括已删除的记录,,,,,,,,,,
4. 本明细仅供个人对账使用,,,,,,,,,,
,,,,,,,,,,
----------------------微信支付账单明细列表--------------------,,,,,,,,,,
交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注"""

# 支付宝交易明细 (GBK), the app export 用于个人对账: preamble, 特别提示, then the header (trailing comma).
ALIPAY_PREAMBLE = """\
------------------------------------------------------------------------------------
导出信息：
姓名：王建国
支付宝账户：138****0021
起始时间：[{start} 00:00:00]    终止时间：[{end} 23:59:59]
导出交易类型：[全部]
导出时间：[{exported}]
共{count}笔记录
收入：{count}笔 0.00元
支出：0笔 0.00元
不计收支：0笔 0.00元

特别提示：
1.本回单内容可表明支付宝受理了该笔交易，不能作为付款方是否真正转出款项的依据；
2.本回单不作为收款方是否发货的依据；
3.本回单只证明用户在支付宝平台的交易结果，不能作为交易内容真实性的依据；

------------------------支付宝（中国）网络技术有限公司  电子客户回单------------------------
交易时间,交易分类,交易对方,对方账号,商品说明,收/支,金额,收/付款方式,交易状态,交易订单号,商家订单号,备注,"""


def beijing_now(minutes_ago: int = 5) -> datetime:
    return (clock.now() - timedelta(minutes=minutes_ago)).astimezone(clock.SHANGHAI)


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def wechat_txn() -> str:
    return "1000107101" + "".join(secrets.choice("0123456789") for _ in range(22))


def alipay_txn() -> str:
    return "20221129220014" + "".join(secrets.choice("0123456789") for _ in range(14))


def wechat_row(amount_fen: int, note: str = "/", txn: str | None = None, *, when: datetime | None = None,
               who: str = "阿梅", kind: str = "二维码收款", direction: str = "收入", status: str = "已收钱") -> str:
    when = when or beijing_now()
    return (f"{when:%Y-%m-%d %H:%M:%S},{kind},{who},/,{direction},¥{yuan(amount_fen)},/,{status},"
            f"{txn or wechat_txn()}\t,/\t,{note}")


def wechat_bill(*rows: str) -> bytes:
    now = beijing_now(0)
    preamble = WECHAT_PREAMBLE.format(start=f"{now - timedelta(days=1):%Y-%m-%d}", end=f"{now:%Y-%m-%d}",
                                      exported=f"{now:%Y-%m-%d %H:%M:%S}", count=len(rows))
    return ("\ufeff" + "\n".join([preamble, *rows]) + "\n").encode("utf-8")


def alipay_row(amount_fen: int, note: str = "", txn: str | None = None, *, when: datetime | None = None,
               who: str = "李**", direction: str = "收入", status: str = "交易成功") -> str:
    when = when or beijing_now()
    return (f"{when:%Y-%m-%d %H:%M:%S},转账红包,{who},138******21,收钱码收款,{direction},{yuan(amount_fen)},,"
            f"{status},{txn or alipay_txn()}\t,\t,{note},")


def alipay_bill(*rows: str) -> bytes:
    now = beijing_now(0)
    preamble = ALIPAY_PREAMBLE.format(start=f"{now - timedelta(days=1):%Y-%m-%d}", end=f"{now:%Y-%m-%d}",
                                      exported=f"{now:%Y-%m-%d %H:%M:%S}", count=len(rows))
    return "\n".join([preamble, *rows, ""]).encode("gbk")


def txn_of(row: str) -> str:
    """The 交易单号 / 交易订单号 written into a row (without its tab)."""
    return next(cell.strip() for cell in row.split(",") if cell.strip().isdigit() and len(cell.strip()) > 20)


# --- calling the route ---------------------------------------------------------------------------

def upload(client, round_id: str, data: bytes, token: str | None):
    headers = {"content-type": "application/octet-stream"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return client.http.post(f"/api/rounds/{round_id}/payments/statement", headers=headers, body=data)


def preview(client, shop, data: bytes) -> dict:
    """The 200 preview of `data`; a preview writes nothing."""
    with writes() as written:
        response = upload(client, shop["round_id"], data, shop["supplier"])
    assert response.status_code == 200, response.body
    assert written == []
    return response.json_body


def confirm(client, shop, order_ids: list[str], transactions: dict[str, str] | None = None):
    body = {"order_ids": order_ids}
    if transactions is not None:
        body["transactions"] = transactions
    return post(client, f"/api/rounds/{shop['round_id']}/payments/confirm", body, shop["supplier"])


def ledger(client, shop) -> list[dict]:
    response = get(client, f"/api/rounds/{shop['round_id']}/ledger", shop["supplier"])
    assert response.status_code == 200, response.body
    return response.json_body["entries"]


def status_of(round_id: str) -> dict[str, str]:
    return {o.order_id: o.status for o in orders_in(round_id)}


def ids(board_orders: list[dict]) -> list[str]:
    return [o["order_id"] for o in board_orders]


def row_txns(rows: list[dict]) -> list[str]:
    return [r["transaction_id"] for r in rows]


@pytest.fixture
def shop(client, demo):
    """A round of the demo supplier with two roomy bundles, and four registered flats (fair share off,
    so a flat may order twice)."""
    fair_share_off(demo["community_id"])
    rnd = create_round(demo["tokens"]["supplier"], [demo["community_id"]], BUNDLES)
    flats = [register(client, demo["join_key"], **flat) for flat in FLATS]
    return {**rnd, "supplier": demo["tokens"]["supplier"], "flats": flats, "demo": demo}


def order(client, shop, flat: int, *lines: tuple[int, int]) -> dict:
    """A 201 order of flat `flat`: lines as (bundle index, qty)."""
    response = place_order(client, shop["flats"][flat]["token"], shop["round_id"],
                           *((shop["bundle_ids"][b], q) for b, q in lines))
    assert response.status_code == 201, response.body
    return response.json_body


def claim(client, shop, flat: int, placed: dict, reference: str = "") -> dict:
    body = {"reference": reference} if reference else {}
    response = post(client, f"/api/orders/{placed['order_id']}/payment-claim", body, shop["flats"][flat]["token"],
                    idempotency_key=new_key())
    assert response.status_code == 200, response.body
    return response.json_body


# --- matching, confirming, uploading again --------------------------------------------------------

def test_wechat_statement__rows_carrying_the_payment_notes__match_confirm_and_come_back_as_already_used(client, shop):
    a = order(client, shop, 0, (VEG, 1))
    b = order(client, shop, 1, (VEG, 1))                     # same amount as a: only the note tells them apart
    c = order(client, shop, 2, (VEG, 1), (RICE, 2))
    assert a["payment_note"].startswith("3-2-1502 #") and b["payment_note"].startswith("1-101 #")
    rows = {o["order_id"]: wechat_row(o["total_fen"], o["payment_note"], who=who)
            for o, who in ((a, "阿梅"), (b, "小林"), (c, "老周"))}
    noise = [wechat_row(3500, "/", kind="商户消费", direction="支出", status="支付成功", who="美团平台商户"),
             wechat_row(1200, "/", kind="美团平台商户-退款", status="已全额退款", who="美团平台商户"),
             wechat_row(50000, "/", kind="零钱提现", direction="/", status="提现已到账", who="招商银行(1234)")]
    bill = wechat_bill(rows[a["order_id"]], noise[0], rows[b["order_id"]], noise[1], rows[c["order_id"]], noise[2])
    stock_before = stock_left(shop["round_id"])

    found = preview(client, shop, bill)

    assert (found["format"], found["rows"]) == ("wechat", 3)           # the expense, refund and 提现 are not rows
    matched = {m["order"]["order_id"]: m["row"] for m in found["matched"]}
    assert set(matched) == {a["order_id"], b["order_id"], c["order_id"]}
    for placed in (a, b, c):
        row = matched[placed["order_id"]]
        assert row["transaction_id"] == txn_of(rows[placed["order_id"]])   # the tab is gone
        assert (row["amount_fen"], row["note"]) == (placed["total_fen"], placed["payment_note"])
    assert [m["order"]["status"] for m in found["matched"]] == ["placed"] * 3
    assert (found["ambiguous"], found["unmatched"], found["already_used"], found["orders_without_payment"]) == (
        [], [], [], [])
    assert set(status_of(shop["round_id"]).values()) == {"placed"}      # nothing confirmed by a preview

    transactions = {oid: row["transaction_id"] for oid, row in matched.items()}
    response = confirm(client, shop, list(transactions), transactions)

    assert response.status_code == 200, response.body
    assert response.json_body["refused"] == []
    assert sorted(ids(response.json_body["confirmed"])) == sorted(transactions)
    assert all(o["status"] == "paid" and o["payment"]["confirmed_at"] for o in response.json_body["confirmed"])
    assert set(status_of(shop["round_id"]).values()) == {"paid"}
    assert stock_left(shop["round_id"]) == stock_before
    paid_entries = [e for e in ledger(client, shop) if e["to"] == "paid"]
    assert sorted((e["order_id"], e["from"], e["amount_fen"], e["by_role"]) for e in paid_entries) == sorted(
        (o["order_id"], "open", o["total_fen"], "supplier") for o in (a, b, c))

    again = preview(client, shop, bill)

    assert again["matched"] == [] and again["ambiguous"] == [] and again["unmatched"] == []
    assert sorted(row_txns(again["already_used"])) == sorted(transactions.values())
    assert again["orders_without_payment"] == []


def test_alipay_gbk_statement__notes_match_and_confirm(client, shop):
    a = order(client, shop, 3, (RICE, 1))
    b = order(client, shop, 0, (VEG, 2))
    rows = [alipay_row(a["total_fen"], a["payment_note"]), alipay_row(b["total_fen"], b["payment_note"]),
            alipay_row(4550, "", direction="支出", who="肯德基")]

    found = preview(client, shop, alipay_bill(*rows))

    assert (found["format"], found["rows"]) == ("alipay", 2)
    assert [(m["order"]["order_id"], m["row"]["transaction_id"]) for m in found["matched"]] == [
        (a["order_id"], txn_of(rows[0])), (b["order_id"], txn_of(rows[1]))]
    assert found["matched"][0]["row"]["counterparty"] == "李**"
    response = confirm(client, shop, [a["order_id"], b["order_id"]],
                       {m["order"]["order_id"]: m["row"]["transaction_id"] for m in found["matched"]})
    assert ids(response.json_body["confirmed"]) == [a["order_id"], b["order_id"]]


def test_statement__claim_reference_as_the_tail_of_the_transaction_number__is_matched_by_reference(client, shop):
    a = order(client, shop, 0, (VEG, 1))
    b = order(client, shop, 1, (VEG, 1))                     # same amount: by amount alone it would be ambiguous
    txn = wechat_txn()
    claim(client, shop, 0, a, reference=txn[-6:])
    row = wechat_row(a["total_fen"], "/", txn)               # no note: the resident forgot it

    found = preview(client, shop, wechat_bill(row))

    assert [(m["order"]["order_id"], m["row"]["transaction_id"]) for m in found["matched"]] == [(a["order_id"], txn)]
    assert found["matched"][0]["order"]["status"] == "payment_claimed"
    assert found["matched"][0]["order"]["payment"]["reference"] == txn[-6:]
    assert (found["ambiguous"], found["unmatched"]) == ([], [])
    assert ids(found["orders_without_payment"]) == [b["order_id"]]


def test_statement__row_without_note_and_two_orders_of_its_amount__is_ambiguous_listing_both(client, shop):
    a = order(client, shop, 0, (RICE, 1))
    b = order(client, shop, 2, (RICE, 1))
    c = order(client, shop, 1, (VEG, 1))
    inside = wechat_row(a["total_fen"], "/")
    before_opening = wechat_row(c["total_fen"], "/", when=beijing_now(minutes_ago=3 * 24 * 60))

    found = preview(client, shop, wechat_bill(inside, before_opening))

    assert found["matched"] == []
    [ambiguous] = found["ambiguous"]
    assert ambiguous["row"]["transaction_id"] == txn_of(inside)
    assert sorted(ids(ambiguous["candidates"])) == sorted([a["order_id"], b["order_id"]])
    # An amount alone is only a match inside the round's window: a payment before the round opened is not.
    assert row_txns(found["unmatched"]) == [txn_of(before_opening)]
    assert sorted(ids(found["orders_without_payment"])) == sorted([a["order_id"], b["order_id"], c["order_id"]])


def test_statement__amount_one_fen_off__is_unmatched_and_the_order_still_waits(client, shop):
    a = order(client, shop, 0, (VEG, 1), (RICE, 1))
    b = order(client, shop, 1, (RICE, 2))
    short = wechat_row(a["total_fen"] - 1, a["payment_note"])     # names a, one fen short
    over = wechat_row(b["total_fen"] + 1, "/")                   # no note, one fen over b

    found = preview(client, shop, wechat_bill(short, over))

    assert (found["matched"], found["ambiguous"]) == ([], [])
    assert sorted(row_txns(found["unmatched"])) == sorted([txn_of(short), txn_of(over)])
    assert sorted(ids(found["orders_without_payment"])) == sorted([a["order_id"], b["order_id"]])
    assert {o["status"] for o in found["orders_without_payment"]} == {"placed"}


def test_confirm__one_transaction_number_for_two_orders_in_two_requests__the_second_is_refused(client, shop):
    a = order(client, shop, 0, (VEG, 1))
    b = order(client, shop, 1, (VEG, 1))
    txn = wechat_txn()
    first = confirm(client, shop, [a["order_id"]], {a["order_id"]: txn})
    assert ids(first.json_body["confirmed"]) == [a["order_id"]]
    entries_before, stock_before = len(ledger(client, shop)), stock_left(shop["round_id"])

    second = confirm(client, shop, [b["order_id"]], {b["order_id"]: txn})

    assert second.status_code == 200, second.body
    assert second.json_body["confirmed"] == []
    [refused] = second.json_body["refused"]
    assert (refused["order_id"], refused["code"]) == (b["order_id"], "transaction_used")
    assert refused["message"].strip() and refused["message_en"].strip() and refused["message"] != refused["message_en"]
    assert status_of(shop["round_id"]) == {a["order_id"]: "paid", b["order_id"]: "placed"}
    assert len(ledger(client, shop)) == entries_before
    assert stock_left(shop["round_id"]) == stock_before
    # The statement row now shows as used, so it is never offered for b again.
    found = preview(client, shop, wechat_bill(wechat_row(b["total_fen"], b["payment_note"], txn)))
    assert (found["matched"], row_txns(found["already_used"])) == ([], [txn])
    assert ids(found["orders_without_payment"]) == [b["order_id"]]


def test_statement__a_confirmation_taken_back__frees_its_row_to_be_matched_again(client, shop):
    a = order(client, shop, 0, (RICE, 1))
    row = wechat_row(a["total_fen"], a["payment_note"])
    found = preview(client, shop, wechat_bill(row))
    txn = found["matched"][0]["row"]["transaction_id"]
    assert ids(confirm(client, shop, [a["order_id"]], {a["order_id"]: txn}).json_body["confirmed"]) == [a["order_id"]]
    assert row_txns(preview(client, shop, wechat_bill(row))["already_used"]) == [txn]

    undone = post(client, f"/api/rounds/{shop['round_id']}/payments/undo",
                  {"order_id": a["order_id"], "reason": "点错了"}, shop["supplier"])

    assert (undone.status_code, undone.json_body["status"]) == (200, "placed"), undone.body
    again = preview(client, shop, wechat_bill(row))
    assert again["already_used"] == []
    assert [(m["order"]["order_id"], m["row"]["transaction_id"]) for m in again["matched"]] == [(a["order_id"], txn)]
    assert ids(confirm(client, shop, [a["order_id"]], {a["order_id"]: txn}).json_body["confirmed"]) == [a["order_id"]]


def test_confirm__one_transaction_number_for_two_orders_in_one_request__is_bad_input(client, shop):
    a = order(client, shop, 0, (VEG, 1))
    b = order(client, shop, 1, (VEG, 1))
    txn = wechat_txn()

    with writes() as written:
        response = confirm(client, shop, [a["order_id"], b["order_id"]], {a["order_id"]: txn, b["order_id"]: txn})

    assert "transactions" in error_of(response, 400, "bad_input")["fields"]
    assert written == []
    assert set(status_of(shop["round_id"]).values()) == {"placed"}


@pytest.mark.parametrize("named_order_became", ["paid_by_hand", "cancelled_by_resident", "claim_rejected"])
def test_statement__row_naming_an_order_no_longer_open__is_not_offered_to_another_order(
        client, shop, named_order_became):
    # Found by this file: the preview once matched such a row by amount to the other order (fixed in 26fa2c2).
    a = order(client, shop, 0, (VEG, 1))
    b = order(client, shop, 1, (VEG, 1))                     # same amount, never paid
    if named_order_became == "paid_by_hand":                  # the resident showed a screenshot at the gate
        assert ids(confirm(client, shop, [a["order_id"]]).json_body["confirmed"]) == [a["order_id"]]
    elif named_order_became == "cancelled_by_resident":      # cancelled, then paid anyway: a refund is due
        response = post(client, f"/api/orders/{a['order_id']}/cancel", {}, shop["flats"][0]["token"],
                        idempotency_key=new_key())
        assert response.status_code == 200, response.body
    else:                                                      # claimed, the supplier saw nothing: expired
        claim(client, shop, 0, a)
        response = post(client, f"/api/rounds/{shop['round_id']}/payments/reject",
                        {"order_id": a["order_id"], "reason": "没查到"}, shop["supplier"])
        assert (response.status_code, response.json_body["status"]) == (200, "expired")
    row = wechat_row(a["total_fen"], a["payment_note"])        # a's own money, with a's note

    found = preview(client, shop, wechat_bill(row))

    assert found["matched"] == [], f"a's payment was offered as b's: {found['matched'][0]['order']['order_id']}"
    assert row_txns(found["unmatched"]) == [txn_of(row)]
    assert ids(found["orders_without_payment"]) == [b["order_id"]]


# --- files that are not statements ----------------------------------------------------------------

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.parametrize("data, says", [
    pytest.param(b"", "Upload the statement file", id="empty"),
    pytest.param(PNG, "not a statement", id="png"),
    pytest.param("金额,备注\n".encode("utf-8") + b"128.00,\x80\xff\xfe\n", "encoding", id="neither-utf8-nor-gbk"),
    pytest.param("姓名,房号,电话\n阿梅,3-2-1502,13900001502\n".encode("utf-8"), "No header row",
                 id="csv-without-amount-header"),
    pytest.param(b"amount,note\n128.00,#7K3Q\n" + b"\n" * MAX_BYTES, "4 MB", id="over-4-mb"),
])
def test_statement__a_file_that_is_not_a_statement__is_400_on_the_file_and_writes_nothing(client, shop, data, says):
    order(client, shop, 0, (VEG, 1))
    with writes() as written:
        response = upload(client, shop["round_id"], data, shop["supplier"])

    error = error_of(response, 400, "bad_input")
    assert says in error["message_en"]
    assert error["fields"]["file"] and all(isinstance(m, str) and m.strip() for m in error["fields"]["file"])
    assert written == []
    assert set(status_of(shop["round_id"]).values()) == {"placed"}


# --- who may upload ------------------------------------------------------------------------------

def test_statement__another_suppliers_token__is_404(client, shop):
    other = create_supplier(create_sub_district()["sub_district_id"])
    a = order(client, shop, 0, (VEG, 1))

    with writes() as written:
        response = upload(client, shop["round_id"], wechat_bill(wechat_row(a["total_fen"], a["payment_note"])),
                          other["token"])

    error_of(response, 404, "not_found")
    assert written == []


@pytest.mark.parametrize("who", ["liaison", "resident"])
def test_statement__liaison_or_resident__is_403(client, shop, who):
    a = order(client, shop, 0, (VEG, 1))
    token = shop["demo"]["tokens"]["liaison"] if who == "liaison" else shop["flats"][0]["token"]

    with writes() as written:
        response = upload(client, shop["round_id"], wechat_bill(wechat_row(a["total_fen"], a["payment_note"])), token)

    error_of(response, 403, "wrong_role")
    assert written == []


def test_statement__no_token__is_401(client, shop):
    response = upload(client, shop["round_id"], wechat_bill(wechat_row(4850, "/")), None)

    error_of(response, 401, "unauthorized")


@pytest.mark.parametrize("content_type", ["image/png", "multipart/form-data; boundary=----x", "text/csv"])
def test_statement__an_unsupported_content_type__is_a_well_formed_error(client, shop, content_type):
    with writes() as written:
        response = client.http.post(f"/api/rounds/{shop['round_id']}/payments/statement", body=PNG,
                                    headers={"authorization": f"Bearer {shop['supplier']}",
                                             "content-type": content_type})

    assert written == []
    assert response.status_code in (400, 415), response.body
    error = response.json_body["error"]
    assert error["code"] and error["message"].strip() and error["message_en"].strip()
