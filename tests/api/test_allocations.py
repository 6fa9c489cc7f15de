"""调拨单 allocation orders: the admin orders goods from a supply company (or releases them from the
government reserve) for a community; `requested → allocated → dispatched → received → distributed`,
one step at a time, each step in the history with who and when. Receiving writes the community's
receive line; `distributed` needs every unit handed out first.

Another sub-district's allocation is 404; a wrong role is 403. The clock stands at Friday
2026-11-20 10:00 in Beijing and moves on between steps.
"""
from datetime import timedelta

import pytest

from api import allocations
from api.models import Allocation
from tests.api.faults import injected
from tests.api.helpers import error_of, get, post, writes
from tests.api.supply_helpers import (  # noqa: F401 (fixtures)
    NOW, STEPS, TODAY, advance, advance_to, allocation_body, balance, community_with_liaison, create_allocation,
    distribute, frozen, invited, ledger, not_found, other_sub_district, received_allocation,
)


def stored(demo, allocation_id) -> Allocation:
    return Allocation.get(f"SUBDISTRICT#{demo['sub_district_id']}", f"ALLOC#{allocation_id}", consistent_read=True)


def listed(client, token, query="") -> list[dict]:
    response = get(client, f"/api/allocations{query}", token)
    assert response.status_code == 200, response.body
    return response.json_body["allocations"]


# --- creating ------------------------------------------------------------------------------

def test_create__201_requested_with_the_order_as_given_prices_in_fen_and_the_phone_masked(client, demo):
    allocation = create_allocation(client, demo, unit_price="12.50")
    assert allocation["status"] == "requested"
    assert (allocation["category"], allocation["quantity"], allocation["unit"], allocation["spec"]) == \
        ("rice", 100, "kg", "5kg/袋 东北大米")
    assert allocation["unit_price_fen"] == 1250
    assert (allocation["source"], allocation["supplier_id"], allocation["supplier_name"]) == \
        ("supplier", demo["supplier_id"], "邻家便利超市")
    assert (allocation["community_id"], allocation["community_name"]) == (demo["community_id"], "幸福家园小区")
    assert "北门配送点" in allocation["destination"]  # the community's distribution point
    assert allocation["deliver_at"] == "2026-11-21T01:00:00Z"
    assert allocation["contact_name"] == "李经理" and allocation["contact_phone_masked"] == "139****5678"
    assert "13912345678" not in str(allocation)
    assert allocation["distributed_at"] is None and allocation["settlement"] is None


def test_create__from_the_reserve__201_with_its_name_and_no_supplier(client, demo):
    allocation = create_allocation(client, demo, source="reserve")
    assert (allocation["source"], allocation["reserve_name"], allocation["supplier_id"]) == \
        ("reserve", "区粮食储备库", None)


@pytest.mark.parametrize("price", ["12.505", "0", "0.00", "-1.00", "100000.01", "abc", ""])
def test_create__a_bad_unit_price__400_and_nothing_written(client, demo, price):
    body = allocation_body(demo["community_id"], demo["supplier_id"], unit_price=price)
    with writes() as written:
        error_of(post(client, "/api/allocations", body, demo["tokens"]["admin"]), 400, "bad_input")
    assert written == [] and listed(client, demo["tokens"]["admin"]) == []


@pytest.mark.parametrize("price, fen", [("0.01", 1), ("4.3", 430), ("100000", 10_000_000), ("100000.00", 10_000_000)])
def test_create__unit_price_in_yuan_text__stored_in_fen(client, demo, price, fen):
    assert create_allocation(client, demo, unit_price=price)["unit_price_fen"] == fen


@pytest.mark.parametrize("overrides", [
    {"category": "sugar"}, {"quantity": 0}, {"quantity": -3}, {"unit": "kilograms"}, {"source": "gift"},
    {"supplier_id": None}, {"source": "reserve", "reserve_name": None}, {"contact_phone": "12345"},
    {"deliver_at": "tomorrow"}, {"community_id": None},
], ids=["category", "zero", "negative", "unit", "source", "supplier_missing", "reserve_name_missing", "phone",
        "deliver_at", "community_missing"])
def test_create__bad_input__400_and_nothing_written(client, demo, overrides):
    body = allocation_body(demo["community_id"], demo["supplier_id"], **overrides)
    with writes() as written:
        error_of(post(client, "/api/allocations", body, demo["tokens"]["admin"]), 400, "bad_input")
    assert written == []


def test_create__another_sub_districts_community_or_supplier__refused_and_nothing_written(client, demo,
                                                                                         other_sub_district):
    bodies = [allocation_body(other_sub_district["community_id"], demo["supplier_id"]),
              allocation_body(demo["community_id"], other_sub_district["supplier_id"])]
    with writes() as written:
        answers = [post(client, "/api/allocations", body, demo["tokens"]["admin"]) for body in bodies]
    assert [a.status_code for a in answers] in ([400, 400], [404, 404]), [a.body for a in answers]
    assert written == []


@pytest.mark.parametrize("role", ["liaison", "info_officer", "supplier", "volunteer"])
def test_create__not_the_sub_districts_staff__403_and_nothing_written(client, demo, role):
    body = allocation_body(demo["community_id"], demo["supplier_id"])
    with writes() as written:
        assert post(client, "/api/allocations", body, demo["tokens"][role]).status_code == 403
    assert written == []

# --- Idempotency-Key (optional): a repeated tap makes one allocation -------------------------------------

def create_keyed(client, demo, key, **overrides):
    body = allocation_body(demo["community_id"], demo["supplier_id"], **overrides)
    return post(client, "/api/allocations", body, demo["tokens"]["admin"], idempotency_key=key)


def stored_all(demo) -> list[Allocation]:
    return list(Allocation.query(f"SUBDISTRICT#{demo['sub_district_id']}", Allocation.sk.startswith("ALLOC#"),
                                 consistent_read=True))


def test_create__replay_same_key_same_body__200_the_same_allocation_and_one_in_the_table(client, demo):
    first = create_keyed(client, demo, "alloc-key-0001")
    with writes() as written:
        replay = create_keyed(client, demo, "alloc-key-0001")
    assert (first.status_code, replay.status_code) == (201, 200), replay.body
    assert replay.json_body == first.json_body
    assert written == []
    assert [a.allocation_id for a in stored_all(demo)] == [first.json_body["allocation_id"]]


def test_create__replay_after_the_allocation_moved_on__200_it_as_it_is_now(client, demo):
    """The first result, read back: the same allocation, in its current state (never a second one)."""
    admin = demo["tokens"]["admin"]
    first = create_keyed(client, demo, "alloc-key-0002").json_body
    assert advance(client, admin, first["allocation_id"], "allocated").status_code == 200
    replay = create_keyed(client, demo, "alloc-key-0002")
    assert replay.status_code == 200, replay.body
    assert (replay.json_body["allocation_id"], replay.json_body["status"]) == (first["allocation_id"], "allocated")
    assert len(stored_all(demo)) == 1


def test_create__same_key_other_body__409_idempotency_key_reused_and_nothing_written(client, demo):
    assert create_keyed(client, demo, "alloc-key-0003").status_code == 201
    with writes() as written:
        error_of(create_keyed(client, demo, "alloc-key-0003", quantity=101), 409, "idempotency_key_reused")
        error_of(create_keyed(client, demo, "alloc-key-0003", source="reserve"), 409, "idempotency_key_reused")
    assert written == []
    assert len(stored_all(demo)) == 1


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 101, "汉字汉字汉字汉字", ""])
def test_create__malformed_key__400_naming_idempotency_key_and_nothing_written(client, demo, key):
    with writes() as written:
        error = error_of(create_keyed(client, demo, key), 400, "bad_input")
    assert set(error["fields"]) == {"Idempotency-Key"}
    assert written == [] and stored_all(demo) == []


def test_create__refused_under_a_key__does_not_use_the_key_up(client, demo):
    error_of(create_keyed(client, demo, "alloc-key-0004", supplier_id="01JNOSUCHSUPPLIER000000000"), 400, "bad_input")
    assert create_keyed(client, demo, "alloc-key-0004").status_code == 201
    assert len(stored_all(demo)) == 1


def test_create__without_a_key__each_post_is_a_new_allocation_as_before(client, demo):
    body = allocation_body(demo["community_id"], demo["supplier_id"])
    statuses = [post(client, "/api/allocations", body, demo["tokens"]["admin"]).status_code for _ in range(2)]
    assert statuses == [201, 201] and len(stored_all(demo)) == 2


def test_create__a_concurrent_duplicate_that_loses__answers_the_winners_allocation(client, demo, monkeypatch):
    """The same tap sent twice at once: the twin lands between this request's look for the key and its write."""
    real_create, real_replayed = allocations.create, allocations._replayed
    seen, twins = [], []

    def create(principal, data, key=None):
        seen.append((principal, data, key))
        return real_create(principal, data, key)

    def replayed(once):
        found = real_replayed(once)
        if not twins:
            twins.append(None)
            twins[0] = real_create(*seen[0])[0]  # the twin, all of it, lands now
        return found
    monkeypatch.setattr(allocations, "create", create)
    monkeypatch.setattr(allocations, "_replayed", replayed)
    response = create_keyed(client, demo, "alloc-key-race")
    assert response.status_code == 200, response.body  # not 409, not 503: the winner's answer
    assert response.json_body == twins[0]
    assert [a.allocation_id for a in stored_all(demo)] == [twins[0]["allocation_id"]]


@pytest.mark.parametrize("kind", ["lost", "lost_after"])
def test_create__write_landed_but_its_answer_was_lost__the_retry_gets_the_same_allocation(client, demo,
                                                                                         monkeypatch, kind):
    """"lost": botocore's second attempt meets the landed write, which the key's record shows to be this
    request's own (201); "lost_after": the API answers 503 and the retry with the same key gets it (200)."""
    with injected(monkeypatch) as injector:
        injector.inject("TransactWriteItems", kind, call=1, attempts=1 if kind == "lost" else None)
        lost = create_keyed(client, demo, "alloc-key-lost")
    assert lost.status_code == (201 if kind == "lost" else 503), lost.body
    [stored_one] = stored_all(demo)  # it landed, once
    retried = create_keyed(client, demo, "alloc-key-lost")
    assert retried.status_code == 200, retried.body
    assert retried.json_body["allocation_id"] == stored_one.allocation_id
    if kind == "lost":
        assert lost.json_body == retried.json_body
    assert len(stored_all(demo)) == 1


# --- the status chain ----------------------------------------------------------------------

def test_chain__one_step_at_a_time_with_who_and_when_in_the_history(client, demo, frozen):
    admin, liaison = demo["tokens"]["admin"], demo["tokens"]["liaison"]
    allocation = create_allocation(client, demo)
    assert [h["status"] for h in allocation["history"]] == ["requested"]
    steps = [("allocated", admin, "admin", "已派单"), ("dispatched", admin, "admin", "车牌 苏N12345"),
             ("received", liaison, "liaison", "北门点收"), ("distributed", liaison, "liaison", None)]
    at = NOW
    for n, (to, token, role, note) in enumerate(steps, start=1):
        if to == "distributed":
            out = distribute(client, liaison, demo["community_id"], allocation["allocation_id"], 100)
            assert out.status_code == 201, out.body
        at += timedelta(hours=n)
        frozen.move_to(at)
        response = advance(client, token, allocation["allocation_id"], to, note)
        assert response.status_code == 200, response.body
        allocation = response.json_body
        assert allocation["status"] == to
        last = allocation["history"][-1]
        assert (last["status"], last["by_role"], last["at"]) == (to, role, at.isoformat().replace("+00:00", "Z"))
        assert last["by"] and last["note"] == (note or "")
    assert [h["status"] for h in allocation["history"]] == list(STEPS)
    assert len({h["by"] for h in allocation["history"]}) == 2  # the admin, then the liaison
    assert allocation["distributed_at"] == allocation["history"][-1]["at"]
    assert allocation["allocated_on"] == TODAY
    assert stored(demo, allocation["allocation_id"]).status == "distributed"


@pytest.mark.parametrize("at, to", [
    ("requested", "dispatched"), ("requested", "received"), ("allocated", "allocated"),
    ("dispatched", "distributed"), ("dispatched", "allocated"),
    ("received", "dispatched"), ("received", "received"),
])
def test_chain__a_wrong_step__409_wrong_step_and_nothing_written(client, demo, at, to):
    allocation = advance_to(client, demo["tokens"]["admin"], create_allocation(client, demo), at)
    with writes() as written:
        error_of(advance(client, demo["tokens"]["admin"], allocation["allocation_id"], to), 409, "wrong_step")
    assert written == []
    assert stored(demo, allocation["allocation_id"]).status == at
    assert len(stored(demo, allocation["allocation_id"]).history) == STEPS.index(at) + 1


@pytest.mark.parametrize("to", ["lost", "requested", "settled"])
def test_chain__a_status_no_step_leads_to__400_and_nothing_written(client, demo, to):
    allocation = advance_to(client, demo["tokens"]["admin"], create_allocation(client, demo), "allocated")
    with writes() as written:
        error_of(advance(client, demo["tokens"]["admin"], allocation["allocation_id"], to), 400, "bad_input")
    assert written == []


def test_chain__received_writes_the_receive_line_of_the_allocations_quantity(client, demo):
    allocation = advance_to(client, demo["tokens"]["admin"], create_allocation(client, demo, quantity=80),
                            "dispatched")
    assert balance(ledger(client, demo["tokens"]["liaison"], demo["community_id"])) == 0
    response = advance(client, demo["tokens"]["info_officer"], allocation["allocation_id"], "received")
    assert response.status_code == 200, response.body
    body = ledger(client, demo["tokens"]["liaison"], demo["community_id"])
    assert balance(body) == 80
    [line] = body["lines"]
    assert (line["kind"], line["category"], line["unit"], line["quantity"], line["balance_after"]) == \
        ("receive", "rice", "kg", 80, 80)
    assert line["allocation_id"] == allocation["allocation_id"]


def test_chain__distributed_before_everything_is_handed_out__422_naming_what_is_left(client, demo):
    liaison = demo["tokens"]["liaison"]
    allocation = received_allocation(client, demo)
    assert distribute(client, liaison, demo["community_id"], allocation["allocation_id"], 60).status_code == 201
    with writes() as written:
        error = error_of(advance(client, liaison, allocation["allocation_id"], "distributed"), 422,
                         "not_all_distributed")
    assert written == []
    assert "40" in error["message"] and "40" in error["message_en"]
    assert stored(demo, allocation["allocation_id"]).status == "received"
    assert distribute(client, liaison, demo["community_id"], allocation["allocation_id"], 40).status_code == 201
    done = advance(client, liaison, allocation["allocation_id"], "distributed")
    assert done.status_code == 200, done.body
    assert done.json_body["status"] == "distributed" and done.json_body["distributed_at"]


def test_chain__nothing_handed_out__422_not_all_distributed(client, demo):
    allocation = received_allocation(client, demo)
    error_of(advance(client, demo["tokens"]["admin"], allocation["allocation_id"], "distributed"), 422,
             "not_all_distributed")


def test_reserve_release__goes_the_whole_chain_and_writes_its_receive_line(client, demo):
    """政府储备投放: a release from the reserve is an allocation like any other."""
    allocation = create_allocation(client, demo, source="reserve", category="oil", quantity=30, unit="桶",
                                   unit_price="68.00")
    allocation = advance_to(client, demo["tokens"]["admin"], allocation, "received")
    body = ledger(client, demo["tokens"]["liaison"], demo["community_id"], category="oil")
    assert balance(body, "oil", "桶") == 30 and body["lines"][0]["allocation_id"] == allocation["allocation_id"]
    assert distribute(client, demo["tokens"]["liaison"], demo["community_id"], allocation["allocation_id"], 30,
                      kind="special", text="独居老人 12 户").status_code == 201
    done = advance(client, demo["tokens"]["liaison"], allocation["allocation_id"], "distributed")
    assert done.status_code == 200, done.body
    assert (done.json_body["status"], done.json_body["reserve_name"]) == ("distributed", "区粮食储备库")
    assert balance(ledger(client, demo["tokens"]["liaison"], demo["community_id"]), "oil", "桶") == 0


@pytest.mark.parametrize("to", ["allocated", "dispatched"])
def test_chain__the_community_may_not_allocate_or_dispatch__403_and_nothing_written(client, demo, to):
    allocation = advance_to(client, demo["tokens"]["admin"], create_allocation(client, demo),
                            STEPS[STEPS.index(to) - 1])
    with writes() as written:
        response = advance(client, demo["tokens"]["liaison"], allocation["allocation_id"], to)
    assert response.status_code == 403, response.body
    assert written == []


@pytest.mark.parametrize("role", ["volunteer", "supplier"])
def test_chain__other_roles__403(client, demo, role):
    allocation = advance_to(client, demo["tokens"]["admin"], create_allocation(client, demo), "dispatched")
    assert advance(client, demo["tokens"][role], allocation["allocation_id"], "received").status_code == 403
    assert stored(demo, allocation["allocation_id"]).status == "dispatched"


def test_another_communitys_liaison__404_and_nothing_written(client, demo):
    other = community_with_liaison(client, demo, "和平里小区")
    allocation = advance_to(client, demo["tokens"]["admin"], create_allocation(client, demo), "dispatched")
    with writes() as written:
        not_found(advance(client, other["liaison"], allocation["allocation_id"], "received"))
        not_found(get(client, f"/api/communities/{demo['community_id']}/allocations", other["liaison"]))
    assert written == []


def test_another_sub_districts_admin__404_for_advance_and_the_lists_show_nothing(client, demo, other_sub_district):
    allocation = create_allocation(client, demo)
    with writes() as written:
        not_found(advance(client, other_sub_district["token"], allocation["allocation_id"], "allocated"))
        not_found(get(client, f"/api/communities/{demo['community_id']}/allocations", other_sub_district["token"]))
    assert written == []
    assert listed(client, other_sub_district["token"]) == []
    assert stored(demo, allocation["allocation_id"]).status == "requested"


def test_advance__no_such_allocation__404(client, demo):
    not_found(advance(client, demo["tokens"]["admin"], "01JNOSUCHALLOCATION000000", "allocated"))


# --- lists ---------------------------------------------------------------------------------

def test_list__filters_by_status_and_community(client, demo):
    admin = demo["tokens"]["admin"]
    other = community_with_liaison(client, demo, "和平里小区")
    first = create_allocation(client, demo)
    second = advance_to(client, admin, create_allocation(client, demo, category="oil", unit="桶"), "allocated")
    third = create_allocation(client, demo, community_id=other["community_id"])
    assert {a["allocation_id"] for a in listed(client, admin)} == {first["allocation_id"], second["allocation_id"],
                                                                  third["allocation_id"]}
    assert [a["allocation_id"] for a in listed(client, admin, "?status=allocated")] == [second["allocation_id"]]
    assert {a["allocation_id"] for a in listed(client, admin, f"?community_id={other['community_id']}")} == \
        {third["allocation_id"]}
    assert {a["allocation_id"] for a in listed(client, admin, f"?status=requested&community_id={demo['community_id']}")} \
        == {first["allocation_id"]}
    # The community sees its own.
    mine = get(client, f"/api/communities/{other['community_id']}/allocations", other["liaison"])
    assert mine.status_code == 200, mine.body
    assert [a["allocation_id"] for a in mine.json_body["allocations"]] == [third["allocation_id"]]


def test_list__the_community_list__for_liaison_and_information_officer_only(client, demo):
    create_allocation(client, demo)
    path = f"/api/communities/{demo['community_id']}/allocations"
    for role in ("liaison", "info_officer"):
        response = get(client, path, demo["tokens"][role])
        assert response.status_code == 200 and len(response.json_body["allocations"]) == 1, response.body
    assert get(client, path, demo["tokens"]["volunteer"]).status_code == 403
    assert get(client, "/api/allocations", demo["tokens"]["liaison"]).status_code == 403


def test_staff_joined_by_invite__the_invited_information_officer_confirms_receipt(client, demo):
    other = community_with_liaison(client, demo, "和平里小区")
    officer = invited(client, other["liaison"], "info_officer", other["community_id"], "张姐")
    allocation = advance_to(client, demo["tokens"]["admin"],
                            create_allocation(client, demo, community_id=other["community_id"]), "dispatched")
    response = advance(client, officer, allocation["allocation_id"], "received")
    assert response.status_code == 200, response.body
    assert response.json_body["history"][-1]["by_role"] == "info_officer"


def test_create__without_a_key__botocore_retry_meets_its_own_landed_write__201_not_500(client, demo, monkeypatch):
    """No key: the put's first answer is lost and botocore's retry is refused by the put's own condition (the new
    id's item is there): that is this write, done (it was a 500)."""
    with injected(monkeypatch) as injector:
        injector.inject("PutItem", "lost", call=1, attempts=1)
        lost = post(client, "/api/allocations", allocation_body(demo["community_id"], demo["supplier_id"]),
                    demo["tokens"]["admin"])
    assert lost.status_code == 201, lost.body
    assert [a.allocation_id for a in stored_all(demo)] == [lost.json_body["allocation_id"]]
