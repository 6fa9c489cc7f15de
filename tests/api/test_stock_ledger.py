"""收发台账: a community's receive and distribute ledger. Lines are append-only; a mistake is put right
by a correction line that names the line it corrects. Each line moves the balance of its category
and unit in the same transaction, never below zero: a distribution over the balance is 422
insufficient_balance and writes nothing (the parallel case is tests/stack/test_concurrent_ledger.py).

The community's own liaison and information officer keep it; its sub-district's admin reads it;
anyone else's is 404. The clock stands at Friday 2026-11-20 10:00 in Beijing.
"""
import pytest

from api import stock_ledger
from api.models import Allocation, StockLine
from tests.api.faults import injected
from tests.api.helpers import error_of, get, post, writes
from tests.api.supply_helpers import (  # noqa: F401 (fixtures)
    advance_to, balance, community_with_liaison, create_allocation, distribute, frozen, ledger, not_found,
    other_sub_district, received_allocation,
)


def correct(client, token, community_id, line_id, delta, reason="盘点差异 stock-take difference"):
    body = {"quantity_delta": delta}
    if reason is not None:
        body["reason"] = reason
    return post(client, f"/api/communities/{community_id}/ledger/{line_id}/correct", body, token)


def stored_lines(community_id) -> list[StockLine]:
    return list(StockLine.query(f"COMMUNITY#{community_id}", StockLine.sk.startswith("STOCKLINE#"),
                                consistent_read=True))


@pytest.fixture
def rice(client, demo) -> dict:
    """100 kg of rice received by the demo community: its balance is 100."""
    return received_allocation(client, demo)


# --- distributing --------------------------------------------------------------------------

def test_distribute__201_a_negative_line_against_the_allocation_and_the_balance_moves(client, demo, rice):
    response = distribute(client, demo["tokens"]["liaison"], demo["community_id"], rice["allocation_id"], 30,
                          kind="round", text="第1期 1–3 栋", note="北门发放")
    assert response.status_code == 201, response.body
    line = response.json_body
    assert (line["kind"], line["category"], line["unit"], line["quantity"], line["balance_after"]) == \
        ("distribute", "rice", "kg", -30, 70)
    assert line["allocation_id"] == rice["allocation_id"]
    assert line["to"] == {"kind": "round", "text": "第1期 1–3 栋"} and line["note"] == "北门发放"
    assert line["by"] and line["at"] == "2026-11-20T02:00:00Z" and line["corrects"] is None
    assert balance(ledger(client, demo["tokens"]["liaison"], demo["community_id"])) == 70


def test_distribute__by_the_information_officer__201(client, demo, rice):
    response = distribute(client, demo["tokens"]["info_officer"], demo["community_id"], rice["allocation_id"], 5,
                          kind="special", text="独居老人 王奶奶 送货上门")
    assert response.status_code == 201, response.body


def test_distribute__the_whole_balance__201_and_the_balance_is_zero(client, demo, rice):
    response = distribute(client, demo["tokens"]["liaison"], demo["community_id"], rice["allocation_id"], 100)
    assert response.status_code == 201, response.body
    assert response.json_body["balance_after"] == 0
    assert balance(ledger(client, demo["tokens"]["liaison"], demo["community_id"])) == 0


def test_distribute__over_the_balance__422_insufficient_balance_saying_what_is_left_and_nothing_written(
        client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    # 10 kg found spoiled at the stock-take: the balance (90) is now below what the allocation has left (100).
    [received] = ledger(client, liaison, cid)["lines"]
    assert correct(client, liaison, cid, received["line_id"], -10, "受潮 10 kg 报损").status_code == 201
    before = ledger(client, liaison, cid)
    with writes() as written:
        error = error_of(distribute(client, liaison, cid, rice["allocation_id"], 91), 422, "insufficient_balance")
    assert written == []
    assert "90" in error["message"] and "90" in error["message_en"]
    assert ledger(client, liaison, cid) == before
    assert distribute(client, liaison, cid, rice["allocation_id"], 90).status_code == 201


def test_distribute__after_the_balance_is_used_up__422_and_nothing_written(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    assert distribute(client, liaison, cid, rice["allocation_id"], 100).status_code == 201
    with writes() as written:
        response = distribute(client, liaison, cid, rice["allocation_id"], 1)
    assert response.status_code == 422, response.body
    assert written == []
    assert balance(ledger(client, liaison, cid)) == 0 and len(stored_lines(cid)) == 2


@pytest.mark.parametrize("quantity", [0, -10, 1.5, "10"])
def test_distribute__a_quantity_not_above_zero_or_not_whole__refused_and_nothing_written(client, demo, rice,
                                                                                        quantity):
    with writes() as written:
        response = distribute(client, demo["tokens"]["liaison"], demo["community_id"], rice["allocation_id"],
                              quantity)
    assert response.status_code in (400, 422), response.body
    assert written == []
    assert balance(ledger(client, demo["tokens"]["liaison"], demo["community_id"])) == 100


@pytest.mark.parametrize("to", [{"kind": "neighbours", "text": "x"}, {"kind": "households"}, None])
def test_distribute__without_a_valid_recipient__400(client, demo, rice, to):
    body = {"allocation_id": rice["allocation_id"], "quantity": 5}
    if to is not None:
        body["to"] = to
    with writes() as written:
        response = post(client, f"/api/communities/{demo['community_id']}/ledger/distribute", body,
                        demo["tokens"]["liaison"])
    error_of(response, 400, "bad_input")
    assert written == []


def test_distribute__against_an_allocation_not_yet_received__refused_and_nothing_written(client, demo):
    allocation = advance_to(client, demo["tokens"]["admin"], create_allocation(client, demo), "dispatched")
    with writes() as written:
        response = distribute(client, demo["tokens"]["liaison"], demo["community_id"], allocation["allocation_id"], 5)
    assert response.status_code == 422, response.body
    assert written == []


def test_distribute__against_another_communitys_allocation__refused_and_nothing_written(client, demo):
    other = community_with_liaison(client, demo, "和平里小区")
    theirs = advance_to(client, demo["tokens"]["admin"],
                        create_allocation(client, demo, community_id=other["community_id"]), "received")
    received_allocation(client, demo)  # the demo community has rice of its own
    with writes() as written:
        response = distribute(client, demo["tokens"]["liaison"], demo["community_id"], theirs["allocation_id"], 5)
    assert response.status_code in (400, 404, 422), response.body
    assert written == []
    assert balance(ledger(client, other["liaison"], other["community_id"])) == 100


def test_distribute__in_another_communitys_ledger__404_and_nothing_written(client, demo, rice):
    other = community_with_liaison(client, demo, "和平里小区")
    with writes() as written:
        not_found(distribute(client, other["liaison"], demo["community_id"], rice["allocation_id"], 5))
    assert written == []


@pytest.mark.parametrize("role", ["admin", "volunteer", "supplier"])
def test_distribute__wrong_role__403_and_nothing_written(client, demo, rice, role):
    with writes() as written:
        response = distribute(client, demo["tokens"][role], demo["community_id"], rice["allocation_id"], 5)
    assert response.status_code == 403, response.body
    assert written == []


# --- corrections -----------------------------------------------------------------------------

def test_correct__a_new_line_referencing_the_corrected_one_and_the_balance_moves_by_the_delta(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    out = distribute(client, liaison, cid, rice["allocation_id"], 30).json_body
    response = correct(client, liaison, cid, out["line_id"], 3, "多登记了 3 kg")
    assert response.status_code == 201, response.body
    line = response.json_body
    assert (line["kind"], line["corrects"], line["reason"]) == ("correction", out["line_id"], "多登记了 3 kg")
    assert (line["category"], line["unit"], line["quantity"], line["balance_after"]) == ("rice", "kg", 3, 73)
    assert line["line_id"] != out["line_id"]
    body = ledger(client, liaison, cid)
    assert balance(body) == 73
    # Append-only: the corrected line is still there as it was.
    corrected = next(l for l in body["lines"] if l["line_id"] == out["line_id"])
    assert (corrected["quantity"], corrected["balance_after"], corrected["kind"]) == (-30, 70, "distribute")
    assert len(body["lines"]) == 3


def test_correct__below_zero__422_insufficient_balance_and_nothing_written(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    out = distribute(client, liaison, cid, rice["allocation_id"], 95).json_body
    with writes() as written:
        error_of(correct(client, liaison, cid, out["line_id"], -6), 422, "insufficient_balance")
    assert written == []
    assert balance(ledger(client, liaison, cid)) == 5
    assert correct(client, liaison, cid, out["line_id"], -5).json_body["balance_after"] == 0


@pytest.mark.parametrize("delta, reason", [
    (0, "没有变化"), (5, None), (5, ""), ("5", "文本"),
    (5, "   "),
], ids=["zero_delta", "no_reason", "empty_reason", "delta_as_text", "blank_reason"])
def test_correct__bad_input__400_and_nothing_written(client, demo, rice, delta, reason):
    [received] = ledger(client, demo["tokens"]["liaison"], demo["community_id"])["lines"]
    with writes() as written:
        response = correct(client, demo["tokens"]["liaison"], demo["community_id"], received["line_id"], delta, reason)
    error_of(response, 400, "bad_input")
    assert written == []


def test_correct__a_line_of_another_community__404_and_nothing_written(client, demo, rice):
    other = community_with_liaison(client, demo, "和平里小区")
    [received] = ledger(client, demo["tokens"]["liaison"], demo["community_id"])["lines"]
    with writes() as written:
        not_found(correct(client, other["liaison"], demo["community_id"], received["line_id"], 1))
        not_found(correct(client, other["liaison"], other["community_id"], received["line_id"], 1))
        not_found(correct(client, demo["tokens"]["liaison"], demo["community_id"], "01JNOSUCHLINE0000000000000", 1))
    assert written == []


# --- reading -------------------------------------------------------------------------------

def test_ledger__lines_newest_first_and_no_balance_after_is_negative(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    for quantity in (10, 20, 30):
        assert distribute(client, liaison, cid, rice["allocation_id"], quantity).status_code == 201
    body = ledger(client, liaison, cid)
    assert [(l["kind"], l["quantity"], l["balance_after"]) for l in body["lines"]] == [
        ("distribute", -30, 40), ("distribute", -20, 70), ("distribute", -10, 90), ("receive", 100, 100)]
    assert body["balances"] == [{"category": "rice", "unit": "kg", "balance": 40}]
    assert body["next_cursor"] is None


def test_ledger__200_lines_a_page_then_the_cursor_for_the_rest(client, demo):
    """205 lines, written straight to the table (the route under test only reads them)."""
    from api import stock_ledger
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    allocation = received_allocation(client, demo, quantity=300)
    with StockLine.batch_write() as batch:
        for n in range(1, 205):
            line = stock_ledger.new_line(cid, "distribute", "rice", "kg", "test", allocation_id=allocation["allocation_id"])
            line.quantity, line.balance_after = -1, 300 - n
            batch.save(line)
    first = ledger(client, liaison, cid)
    assert len(first["lines"]) == 200 and first["next_cursor"]
    assert first["lines"][0]["balance_after"] == 96 and first["lines"][-1]["balance_after"] == 295
    rest = ledger(client, liaison, cid, cursor=first["next_cursor"])
    assert [l["balance_after"] for l in rest["lines"]] == [296, 297, 298, 299, 300]
    assert rest["lines"][-1]["kind"] == "receive" and rest["next_cursor"] is None


def test_ledger__balances_per_category_and_unit_and_the_filter(client, demo, rice):
    received_allocation(client, demo, category="rice", unit="袋", quantity=20)
    received_allocation(client, demo, category="oil", unit="桶", quantity=12, unit_price="68.00")
    body = ledger(client, demo["tokens"]["liaison"], demo["community_id"])
    assert sorted((b["category"], b["unit"], b["balance"]) for b in body["balances"]) == \
        [("oil", "桶", 12), ("rice", "kg", 100), ("rice", "袋", 20)]
    only = ledger(client, demo["tokens"]["liaison"], demo["community_id"], category="rice", unit="袋")
    assert [(b["category"], b["unit"]) for b in only["balances"]] == [("rice", "袋")]
    assert [(l["category"], l["unit"], l["quantity"]) for l in only["lines"]] == [("rice", "袋", 20)]


def test_ledger__the_sub_districts_admin_reads_it(client, demo, rice):
    assert balance(ledger(client, demo["tokens"]["admin"], demo["community_id"])) == 100


def test_ledger__another_sub_districts_admin_or_another_communitys_liaison__404(client, demo, rice,
                                                                               other_sub_district):
    other = community_with_liaison(client, demo, "和平里小区")
    path = f"/api/communities/{demo['community_id']}/ledger"
    not_found(get(client, path, other_sub_district["token"]))
    not_found(get(client, path, other_sub_district["liaison"]))
    not_found(get(client, path, other["liaison"]))


@pytest.mark.parametrize("role", ["volunteer", "supplier"])
def test_ledger__wrong_role__403(client, demo, role):
    assert get(client, f"/api/communities/{demo['community_id']}/ledger", demo["tokens"][role]).status_code == 403


# --- Idempotency-Key (optional): a retry after a lost answer moves the balance once ------------------------

def distribute_keyed(client, token, community_id, allocation_id, quantity, key, text="1栋 101–110 户"):
    body = {"allocation_id": allocation_id, "quantity": quantity, "to": {"kind": "households", "text": text}}
    return post(client, f"/api/communities/{community_id}/ledger/distribute", body, token, idempotency_key=key)


def correct_keyed(client, token, community_id, line_id, delta, key, reason="盘点差异 stock-take difference"):
    return post(client, f"/api/communities/{community_id}/ledger/{line_id}/correct",
                {"quantity_delta": delta, "reason": reason}, token, idempotency_key=key)


def distributed_qty(demo, allocation_id) -> int:
    return int(Allocation.get(f"SUBDISTRICT#{demo['sub_district_id']}", f"ALLOC#{allocation_id}",
                              consistent_read=True).distributed_qty)


def kinds(community_id) -> list[str]:
    return sorted(line.line_kind for line in stored_lines(community_id))


def test_distribute__replay_same_key_same_body__200_the_same_line_and_the_balance_moved_once(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    first = distribute_keyed(client, liaison, cid, rice["allocation_id"], 30, "dist-key-0001")
    with writes() as written:
        replay = distribute_keyed(client, liaison, cid, rice["allocation_id"], 30, "dist-key-0001")
    assert (first.status_code, replay.status_code) == (201, 200), replay.body
    assert replay.json_body == first.json_body
    assert written == []
    assert balance(ledger(client, liaison, cid)) == 70 and distributed_qty(demo, rice["allocation_id"]) == 30
    assert kinds(cid) == ["distribute", "receive"]


def test_distribute__replay_of_the_line_that_used_the_allocation_up__200_not_refused(client, demo, rice):
    """The retry's own line took the last units: the replay is found before the checks that would refuse it."""
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    first = distribute_keyed(client, liaison, cid, rice["allocation_id"], 100, "dist-key-all1")
    replay = distribute_keyed(client, liaison, cid, rice["allocation_id"], 100, "dist-key-all1")
    assert (first.status_code, replay.status_code) == (201, 200), replay.body
    assert replay.json_body["line_id"] == first.json_body["line_id"]
    assert balance(ledger(client, liaison, cid)) == 0 and distributed_qty(demo, rice["allocation_id"]) == 100


def test_distribute__same_key_other_body__409_idempotency_key_reused_and_nothing_written(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    assert distribute_keyed(client, liaison, cid, rice["allocation_id"], 30, "dist-key-0002").status_code == 201
    with writes() as written:
        error_of(distribute_keyed(client, liaison, cid, rice["allocation_id"], 31, "dist-key-0002"), 409,
                 "idempotency_key_reused")
        error_of(distribute_keyed(client, liaison, cid, rice["allocation_id"], 30, "dist-key-0002", text="2栋"), 409,
                 "idempotency_key_reused")
    assert written == []
    assert balance(ledger(client, liaison, cid)) == 70 and distributed_qty(demo, rice["allocation_id"]) == 30


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 101, "汉字汉字汉字汉字", ""])
def test_distribute__malformed_key__400_naming_idempotency_key_and_nothing_written(client, demo, rice, key):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    with writes() as written:
        error = error_of(distribute_keyed(client, liaison, cid, rice["allocation_id"], 30, key), 400, "bad_input")
    assert set(error["fields"]) == {"Idempotency-Key"}
    assert written == []


def test_distribute__refused_under_a_key__does_not_use_the_key_up(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    error_of(distribute_keyed(client, liaison, cid, rice["allocation_id"], 101, "dist-key-0003"), 422,
             "over_allocation")
    assert distribute_keyed(client, liaison, cid, rice["allocation_id"], 10, "dist-key-0003").status_code == 201


def test_distribute__same_key_by_another_staff_member__is_their_own_line(client, demo, rice):
    """Keys are scoped to the staff member who sends them."""
    liaison, officer, cid = demo["tokens"]["liaison"], demo["tokens"]["info_officer"], demo["community_id"]
    first = distribute_keyed(client, liaison, cid, rice["allocation_id"], 10, "dist-key-0004")
    second = distribute_keyed(client, officer, cid, rice["allocation_id"], 10, "dist-key-0004")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json_body["line_id"] != second.json_body["line_id"]
    assert balance(ledger(client, liaison, cid)) == 80


def test_distribute__without_a_key__each_post_is_a_new_line_as_before(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    statuses = [distribute(client, liaison, cid, rice["allocation_id"], 10).status_code for _ in range(2)]
    assert statuses == [201, 201]
    assert balance(ledger(client, liaison, cid)) == 80 and kinds(cid) == ["distribute", "distribute", "receive"]


def _twin_lands_first(monkeypatch):
    """The same request, sent twice at once: its twin's transaction lands between this one's look for the key
    and its own transaction (the twin is the same write under the same key, with its own line id)."""
    real = stock_ledger.write_line
    twins = []

    def racing(community_id, line, delta, **kwargs):
        if not twins and kwargs.get("once") is not None:
            twin = stock_ledger.new_line(community_id, line.line_kind, line.category, line.unit, line.by,
                                         allocation_id=line.allocation_id, to=line.to, corrects=line.corrects,
                                         reason=line.reason, note=line.note)
            twins.append(real(community_id, twin, delta, **kwargs)[0])
        return real(community_id, line, delta, **kwargs)
    monkeypatch.setattr(stock_ledger, "write_line", racing)
    return twins


def test_distribute__a_concurrent_duplicate_that_loses__answers_the_winners_line(client, demo, rice, monkeypatch):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    twins = _twin_lands_first(monkeypatch)
    response = distribute_keyed(client, liaison, cid, rice["allocation_id"], 30, "dist-key-race")
    assert response.status_code == 200, response.body  # not 409, not 503: the winner's answer
    assert [response.json_body["line_id"]] == [t.line_id for t in twins]
    assert balance(ledger(client, liaison, cid)) == 70 and distributed_qty(demo, rice["allocation_id"]) == 30
    assert kinds(cid) == ["distribute", "receive"]


def test_distribute__a_concurrent_duplicate_of_the_last_units__answers_the_winners_line(client, demo, rice,
                                                                                        monkeypatch):
    """The twin took everything the allocation had left: the loser is still the twin's answer, not over_allocation."""
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    twins = _twin_lands_first(monkeypatch)
    response = distribute_keyed(client, liaison, cid, rice["allocation_id"], 100, "dist-key-rac2")
    assert response.status_code == 200, response.body
    assert response.json_body["line_id"] == twins[0].line_id
    assert balance(ledger(client, liaison, cid)) == 0 and distributed_qty(demo, rice["allocation_id"]) == 100


@pytest.mark.parametrize("kind", ["lost", "lost_after"])
def test_distribute__write_landed_but_its_answer_was_lost__the_retry_gets_the_same_line(client, demo, rice,
                                                                                       monkeypatch, kind):
    """"lost": botocore's own retry meets the landed write (the key's record answers it: the line, 201);
    "lost_after": the API answers 503, and the phone's retry with the same key gets the line (200)."""
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    with injected(monkeypatch) as injector:
        # "lost" on the first attempt only: botocore's second attempt meets the landed write.
        injector.inject("TransactWriteItems", kind, call=1, attempts=1 if kind == "lost" else None)
        lost = distribute_keyed(client, liaison, cid, rice["allocation_id"], 30, "dist-key-lost")
    assert lost.status_code == (201 if kind == "lost" else 503), lost.body
    [line] = [l for l in stored_lines(cid) if l.line_kind == "distribute"]  # it landed, once
    retried = distribute_keyed(client, liaison, cid, rice["allocation_id"], 30, "dist-key-lost")
    assert retried.status_code == 200, retried.body
    assert retried.json_body["line_id"] == line.line_id
    if kind == "lost":
        assert lost.json_body == retried.json_body
    assert balance(ledger(client, liaison, cid)) == 70 and distributed_qty(demo, rice["allocation_id"]) == 30
    assert kinds(cid) == ["distribute", "receive"]


def test_correct__replay_same_key_same_body__200_the_same_line_and_the_balance_moved_once(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    [received] = ledger(client, liaison, cid)["lines"]
    first = correct_keyed(client, liaison, cid, received["line_id"], -10, "corr-key-0001")
    with writes() as written:
        replay = correct_keyed(client, liaison, cid, received["line_id"], -10, "corr-key-0001")
    assert (first.status_code, replay.status_code) == (201, 200), replay.body
    assert replay.json_body == first.json_body
    assert written == []
    assert balance(ledger(client, liaison, cid)) == 90 and kinds(cid) == ["correction", "receive"]


def test_correct__same_key_other_body__409_and_nothing_written(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    [received] = ledger(client, liaison, cid)["lines"]
    assert correct_keyed(client, liaison, cid, received["line_id"], -10, "corr-key-0002").status_code == 201
    with writes() as written:
        error_of(correct_keyed(client, liaison, cid, received["line_id"], -11, "corr-key-0002"), 409,
                 "idempotency_key_reused")
        error_of(correct_keyed(client, liaison, cid, received["line_id"], -10, "corr-key-0002", reason="另一个原因"),
                 409, "idempotency_key_reused")
    assert written == []
    assert balance(ledger(client, liaison, cid)) == 90


def test_correct__same_key_for_another_line__409(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    [received] = ledger(client, liaison, cid)["lines"]
    first = correct_keyed(client, liaison, cid, received["line_id"], -10, "corr-key-0003")
    error_of(correct_keyed(client, liaison, cid, first.json_body["line_id"], -10, "corr-key-0003"), 409,
             "idempotency_key_reused")
    assert balance(ledger(client, liaison, cid)) == 90


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 101])
def test_correct__malformed_key__400_naming_idempotency_key_and_nothing_written(client, demo, rice, key):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    [received] = ledger(client, liaison, cid)["lines"]
    with writes() as written:
        error = error_of(correct_keyed(client, liaison, cid, received["line_id"], -10, key), 400, "bad_input")
    assert set(error["fields"]) == {"Idempotency-Key"}
    assert written == []


def test_correct__a_concurrent_duplicate_that_loses__answers_the_winners_line(client, demo, rice, monkeypatch):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    [received] = ledger(client, liaison, cid)["lines"]
    twins = _twin_lands_first(monkeypatch)
    response = correct_keyed(client, liaison, cid, received["line_id"], -10, "corr-key-race")
    assert response.status_code == 200, response.body
    assert response.json_body["line_id"] == twins[0].line_id
    assert balance(ledger(client, liaison, cid)) == 90 and kinds(cid) == ["correction", "receive"]


@pytest.mark.parametrize("kind", ["lost", "lost_after"])
def test_correct__write_landed_but_its_answer_was_lost__the_retry_gets_the_same_line(client, demo, rice,
                                                                                    monkeypatch, kind):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    [received] = ledger(client, liaison, cid)["lines"]
    with injected(monkeypatch) as injector:
        # "lost" on the first attempt only: botocore's second attempt meets the landed write.
        injector.inject("TransactWriteItems", kind, call=1, attempts=1 if kind == "lost" else None)
        lost = correct_keyed(client, liaison, cid, received["line_id"], -10, "corr-key-lost")
    assert lost.status_code == (201 if kind == "lost" else 503), lost.body
    retried = correct_keyed(client, liaison, cid, received["line_id"], -10, "corr-key-lost")
    assert retried.status_code == 200, retried.body
    [line] = [l for l in stored_lines(cid) if l.line_kind == "correction"]
    assert retried.json_body["line_id"] == line.line_id
    assert balance(ledger(client, liaison, cid)) == 90


def test_correct__without_a_key__each_post_is_a_new_line_as_before(client, demo, rice):
    liaison, cid = demo["tokens"]["liaison"], demo["community_id"]
    [received] = ledger(client, liaison, cid)["lines"]
    assert [correct(client, liaison, cid, received["line_id"], -10).status_code for _ in range(2)] == [201, 201]
    assert balance(ledger(client, liaison, cid)) == 80
