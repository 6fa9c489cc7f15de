"""通知 notices to the residents of a building: a slot announced (取货通知), or the goods arrived (货已到).

A notice is written into its building's own partition, so a resident's poll is one Query of
that partition after a cursor, whatever the size of the community. 「货已到」 also records the
round's arrival in the community (one item): residents' orders read it; no order is written.
Texts for the group chat name buildings and flats, never phones.
"""
import re
from datetime import datetime, timedelta, timezone

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api import clock, households, ids, push, senders, slots
from api.auth import Principal
from api.errors import BadInput, Conflict, NotFound, storage_errors
from api.models import Arrival, Community, Notice, SlotPlan, transaction_connection

KEEP = timedelta(days=30)
_TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
RECENT = timedelta(days=7)
_CURSOR = re.compile(r"^NOTICE#[0-9T:.Z-]{20,32}(#[0-9A-Z]{26})?\Z")


def _partition(community: Community, building: str) -> str:
    names = [b.name for b in community.buildings]
    return f"NOTICE#{community.community_id}#B{names.index(building) + 1:03d}"


def _point(community: Community) -> str:
    return community.distribution_point.name if community.distribution_point else "配送点"


def _notice(community: Community, rnd, building: str, kind: str, text: str, now: datetime,
            starts_at: datetime | None = None, ends_at: datetime | None = None) -> Notice:
    notice_id = ids.new_id()
    # Microseconds in the key: a poll's cursor never skips a notice made in the same second.
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return Notice(_partition(community, building), f"NOTICE#{stamp}#{notice_id}", notice_id=notice_id,
                  notice_kind=kind, round_id=rnd.round_id, round_name=rnd.name, building=building,
                  starts_at=starts_at, ends_at=ends_at, point=_point(community), text=text, created_at=now,
                  expires_at=now + KEEP)


def view(notice: Notice) -> dict:
    return {"notice_id": notice.notice_id, "kind": notice.notice_kind, "round_id": notice.round_id,
            "round_name": notice.round_name, "building": notice.building, "starts_at": clock.iso(notice.starts_at),
            "ends_at": clock.iso(notice.ends_at), "point": notice.point, "text": notice.text,
            "created_at": clock.iso(notice.created_at)}


def announce(principal: Principal, community_id: str, round_id: str, slot_id: str) -> dict:
    """One notice per building of the slot; the slot is marked announced, in the same transaction."""
    community, rnd = slots._round_of(principal, community_id, round_id)
    plan = slots.get(community_id, round_id)
    slot = next((s for s in plan.slots if s.slot_id == slot_id), None) if plan else None
    if slot is None:
        raise NotFound("没有这个取货时段", "No such pickup slot")
    now = clock.now()
    made = [_notice(community, rnd, t["building"], "slot", t["text"], now, slot.starts_at, slot.ends_at)
            for t in slots.slot_texts(community, slot)]
    slot.announced_at = now
    # The plan as it was read goes in the first transaction: a plan edited meanwhile is a 409, and
    # nothing is written. A slot of more than 99 buildings needs more transactions (100 items each);
    # their notices have fresh keys, so they cannot clash.
    first, rest = made[:_TRANSACTION_ITEMS - 1], made[_TRANSACTION_ITEMS - 1:]
    try:
        with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
            transaction.update(plan, actions=[SlotPlan.slots.set(plan.slots)],
                               condition=SlotPlan.version == int(plan.version))
            for notice in first:
                transaction.save(notice, condition=Notice.pk.does_not_exist())
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        # PynamoDB sends the puts before the updates: the plan's condition is the last reason.
        if reasons and reasons[-1] is not None and reasons[-1].code == "ConditionalCheckFailed":
            raise Conflict("取货时段刚被别人改过，请刷新后再发通知", "Someone else changed the slots; reload and announce again",
                           code="plan_changed") from None
        raise
    _save_all(rest)
    _text_members(community, rnd.round_id, made)
    push.notify(made)
    return {"notices": [view(n) for n in made]}


def _text_members(community: Community, round_id: str, made: list[Notice]) -> int:
    """With SMS on, each notice also goes by SMS to the members of the building's households that have a
    live order in the round (one Query of the round's orders, one of each building's flats). Returns how many."""
    sender = senders.sms()
    if isinstance(sender, senders.NoSender) or not made:
        return 0
    from api.models import Household, Order
    sent = 0
    with storage_errors():
        live = {"#".join(o.sk.split("#")[2:5]) for o in Order.query(
            f"ROUND#{round_id}", Order.sk.startswith(f"ORDER#{community.community_id}#"),
            attributes_to_get=["PK", "SK", "kind", "status"]) if o.status not in ("cancelled", "expired")}
        for notice in made:
            prefix = notice.pk.rsplit("#", 1)[1]  # B003
            for household in Household.query(f"COMMUNITY#{community.community_id}",
                                             Household.sk.startswith(f"HOUSEHOLD#{prefix}#")):
                if household.flat_key not in live:
                    continue
                for member in households.members_of(household).values():
                    if member["status"] == households.MEMBER and sender.send(member["phone"], notice.text):
                        sent += 1
    return sent


def arrival(principal: Principal, community_id: str, round_id: str, note: str) -> dict:
    """货已到: the round's goods are at the community. Recorded once; every building is told once."""
    community, rnd = slots._round_of(principal, community_id, round_id)
    return record_arrival(community, rnd, principal.subject, note)


def record_arrival(community: Community, rnd, by: str, note: str) -> dict:
    """货已到, from the liaison's button or from the gate releasing a vehicle that carries the round."""
    community_id, round_id = community.community_id, rnd.round_id
    now = clock.now()
    record = Arrival(f"COMMUNITY#{community_id}", f"ARRIVAL#{round_id}", round_id=round_id, arrived_at=now,
                     by=by, note=note)
    text_for = lambda b: f"【货已到】{rnd.name} 的货已到{_point(community)}，{b}请按取货通知的时间凭取货码取货，保持2米间距"  # noqa: E731
    made = [_notice(community, rnd, b.name, "arrival", text_for(b.name), now) for b in community.buildings]
    # The arrival and the first 99 notices in one transaction; a community of more buildings gets the
    # rest in more (fresh keys: they cannot clash).
    first, rest = made[:_TRANSACTION_ITEMS - 1], made[_TRANSACTION_ITEMS - 1:]
    try:
        with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
            transaction.save(record, condition=Arrival.pk.does_not_exist())
            for notice in first:
                transaction.save(notice, condition=Notice.pk.does_not_exist())
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if not reasons or reasons[0] is None or reasons[0].code != "ConditionalCheckFailed":
            raise
        earlier = Arrival.get(record.pk, record.sk, consistent_read=True)
        return {"arrived_at": clock.iso(earlier.arrived_at), "notices": []}
    _save_all(rest)
    _text_members(community, round_id, made)
    push.notify(made)
    return {"arrived_at": clock.iso(now), "notices": [view(n) for n in made]}


def _save_all(notices: list[Notice]) -> None:
    for start in range(0, len(notices), _TRANSACTION_ITEMS):
        with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
            for notice in notices[start:start + _TRANSACTION_ITEMS]:
                transaction.save(notice, condition=Notice.pk.does_not_exist())


def mine(principal: Principal, since: str | None) -> dict:
    """The caller's building's notices after `since` (the last 7 days without it): one Query."""
    household = households.require_member(principal)
    building_key = household.flat_key.split("#", 1)[0]  # B003
    if since is not None and not _CURSOR.match(since):
        raise BadInput("cursor 无效，请不带 since 重新获取", "The cursor is not valid; poll again without since",
                       fields={"since": ["无效 / Invalid"]})
    after = since or f"NOTICE#{clock.iso(clock.now() - RECENT)}"
    with storage_errors():
        found = list(Notice.query(f"NOTICE#{principal.community_id}#{building_key}", Notice.sk > after,
                                  consistent_read=True, limit=50))
    return {"notices": [view(n) for n in found], "cursor": found[-1].sk if found else (since or after)}


def arrivals_and_plans(community_id: str, round_ids: list[str], *,
                       with_community: bool = False) -> tuple[dict, dict, Community | None]:
    """For a household's orders: ({round_id: arrived_at}, {round_id: SlotPlan}, and the community if
    asked: its distribution point), in one BatchGetItem."""
    if not round_ids:
        return {}, {}, None
    keys = [(f"COMMUNITY#{community_id}", f"{prefix}#{rid}") for rid in set(round_ids) for prefix in
            ("ARRIVAL", "SLOTPLAN")]
    if with_community:
        keys.append((f"COMMUNITY#{community_id}", "COMMUNITY"))
    from api.models import Item
    arrived, plans, community = {}, {}, None
    with storage_errors():
        for item in Item.batch_get(keys, consistent_read=True):
            if isinstance(item, Arrival):
                arrived[item.round_id] = item.arrived_at
            elif isinstance(item, SlotPlan):
                plans[item.round_id] = item
            elif isinstance(item, Community):
                community = item
    return arrived, plans, community
