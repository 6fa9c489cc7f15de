"""The liaison's roster (住户名册): who lives where, which phones act for each flat,
who needs help, and whether each flat has ordered in this round.

Read by the community's liaison (社区联络人) and its active information officer
(信息员); anyone else is told the community does not exist. Phones are masked
here; only the special households' call list (api/special.py) shows them whole.

A community's flats are one Query (`PK=COMMUNITY#<cid>`, `SK begins_with
HOUSEHOLD#`), narrowed to one building by the flat-key prefix; their orders in
the chosen round are one more Query on the round's partition with the same prefix.
"""
from api import clock, communities, households, orders, rounds
from api.auth import Principal
from api.errors import BadInput, NotFound, storage_errors
from api.households import MEMBER
from api.models import CheckIn, Community, Household, Order

CONSOLE_ROLES = ("liaison", "info_officer")
_RECENT_CHECK_INS = 20


def community_of(principal: Principal, community_id: str) -> Community:
    """The community whose console the caller may use (404 otherwise)."""
    return communities.for_staff(principal, community_id, roles=CONSOLE_ROLES)


def household_of(principal: Principal, community_id: str, flat_ref: str) -> tuple[Community, Household]:
    """A flat of the caller's community; a flat of another community is simply not found."""
    community = community_of(principal, community_id)
    return community, households.get(community.community_id, households.flat_key_of(flat_ref))


def _special_dict(household: Household) -> dict:
    special = household.special
    return special.as_dict() if hasattr(special, "as_dict") else dict(special or {})


def special_view(household: Household, *, full_phones: bool = False) -> dict | None:
    if household.special is None:
        return None
    special = _special_dict(household)
    out = {k: special.get(k, "") for k in ("category", "note", "contact_name", "needs", "flagged_at")}
    out["contact_phone_masked"] = households.mask_phone(special.get("contact_phone", ""))
    if full_phones:
        out["contact_phone"] = special.get("contact_phone", "")
    out["last_check_in_at"] = clock.iso(household.last_check_in_at)
    return out


def entry(household: Household, order: Order | None = None) -> dict:
    """One flat as the roster shows it."""
    members = households.members_of(household)
    member_count = sum(1 for m in members.values() if m["status"] == MEMBER)
    pending_count = len(members) - member_count
    return {
        "flat_ref": households.flat_ref(household.flat_key),
        "household_id": household.household_id,
        "building": household.building, "unit": household.unit, "room": household.room,
        "flat_label": households.flat_label(household),
        "name": household.name,
        "contact_phone_masked": households.mask_phone(households.contact_phone(household)),
        "members": households.member_list(household),
        "member_count": member_count,
        "pending_count": pending_count,
        # Squatting shows as requests piling up or more phones than a family has.
        "attention": pending_count > 0 or member_count >= 3,
        "special": special_view(household),
        "order": ({"order_id": order.order_id, "status": order.status, "total_fen": int(order.total_fen),
                   "assisted": order.assisted_by is not None} if order else None),
    }


def building_prefix(community: Community, building: str | None) -> str:
    if not building:
        return ""
    names = [b.name for b in community.buildings]
    if building not in names:
        raise BadInput("楼栋不存在，请从列表中选择", "No such building; pick one from the list",
                       fields={"building": [f"可选 / Choose from: {', '.join(names)}"]})
    return f"B{names.index(building) + 1:03d}#"


def _round_for(community: Community, round_id: str | None):
    """The round whose orders the roster shows: the one asked for, else the newest open, else the newest."""
    recent = rounds.recent_for_community(community.community_id)
    if round_id:
        chosen = next((r for r in recent if r.round_id == round_id), None)
        if chosen is None:
            rnd, _ = rounds.load(round_id)
            if community.community_id not in rnd.community_ids:
                raise NotFound("团购轮次不存在", "No such round")
            chosen = rnd
        return chosen
    now = clock.now()
    return next((r for r in recent if rounds.status(r, now) == "open"), recent[0] if recent else None)


def _rank(item: dict) -> tuple:
    if item["attention"]:
        return (0, -(item["pending_count"] + item["member_count"]), item["_key"])
    return (1, 0, item["_key"])


def roster(principal: Principal, community_id: str, query: dict) -> dict:
    community = community_of(principal, community_id)
    prefix = building_prefix(community, query.get("building"))
    with storage_errors():
        flats = list(Household.query(f"COMMUNITY#{community_id}", Household.sk.startswith(f"HOUSEHOLD#{prefix}"),
                                     consistent_read=True))
    room = (query.get("room") or "").strip().upper()
    if room:
        flats = [h for h in flats if room in h.room]
    rnd = _round_for(community, query.get("round_id"))
    live = orders.live_by_household(rnd.round_id, community_id, prefix) if rnd else {}
    entries = []
    for household in flats:
        item = entry(household, live.get(household.household_id))
        item["_key"] = household.flat_key
        entries.append(item)
    entries.sort(key=_rank)
    for item in entries:
        del item["_key"]
    return {
        "community_id": community_id,
        "round": ({"round_id": rnd.round_id, "name": rnd.name, "status": rounds.status(rnd, clock.now())}
                  if rnd else None),
        "buildings": [b.name for b in community.buildings],
        "households": entries,
        "counts": {
            "households": len(entries),
            "members": sum(e["member_count"] for e in entries),
            "pending": sum(e["pending_count"] for e in entries),
            "special": sum(1 for e in entries if e["special"]),
            "ordered": sum(1 for e in entries if e["order"]),
        },
    }


def check_in_view(check_in: CheckIn) -> dict:
    return {"check_in_id": check_in.check_in_id, "at": clock.iso(check_in.at), "method": check_in.method,
            "outcome": check_in.outcome, "notes": check_in.notes, "by_role": check_in.by_role}


def detail(principal: Principal, community_id: str, flat_ref: str) -> dict:
    """One flat: the roster entry, its check-ins (newest first) and its orders."""
    _, household = household_of(principal, community_id, flat_ref)
    with storage_errors():
        check_ins = CheckIn.query(f"HOUSEHOLD#{household.household_id}", CheckIn.sk.startswith("CHECKIN#"),
                                  scan_index_forward=False, limit=_RECENT_CHECK_INS)
        recent = [check_in_view(c) for c in check_ins]
    return {**entry(household), "check_ins": recent, "orders": orders.of_household(household.household_id)}


# --- the console's changes to a flat ------------------------------------------------------

def register_flat(principal: Principal, community_id: str, data: dict) -> tuple[dict, bool]:
    """A flat without a smartphone, registered by the liaison: (roster entry, created)."""
    community = community_of(principal, community_id)
    key = communities.flat_key(community, data["building"], data["unit"], data["room"])
    household, created = households.register_by_staff(principal, community, key, data)
    return entry(household), created


def approve(principal: Principal, community_id: str, flat_ref: str, member_id: str) -> dict:
    _, household = household_of(principal, community_id, flat_ref)
    return entry(households.approve(household, member_id))


def remove(principal: Principal, community_id: str, flat_ref: str, member_id: str) -> dict:
    _, household = household_of(principal, community_id, flat_ref)
    return entry(households.remove(household, member_id))


def handover(principal: Principal, community_id: str, flat_ref: str, member_id: str) -> dict:
    _, household = household_of(principal, community_id, flat_ref)
    return entry(households.handover(household, member_id))


def place_assisted(principal: Principal, community_id: str, flat_ref: str, key: str, data: dict) -> tuple[dict, bool]:
    """代下单: an order for a flat of the caller's community, through the residents' own order path."""
    community = community_of(principal, community_id)
    return orders.place(orders.for_staff(principal, community.community_id, households.flat_key_of(flat_ref)),
                        key, data)
