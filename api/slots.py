"""分楼栋错峰取货 pickup slots: when each building (or unit, or floors of a unit) comes down to the
distribution point to collect a round's bags, 2 m apart.

One SlotPlan item per round and community holds every slot and the groups of flats in it. A
household's slot follows from its flat (`slot_of`), so nothing is written per order, and the
plan checks that every household with a live order is in exactly one slot whenever it is made
or edited. Generation walks the buildings in the order the liaison gives; a building with more
households than a slot holds is split by unit, then a unit by ranges of floors; small groups
share a slot while they fit.
"""
import re
from datetime import timedelta
from typing import NamedTuple

from pynamodb.exceptions import PutError

from api import clock, ids, roster, rounds
from api.auth import Principal
from api.errors import BadInput, Conflict, NotFound, storage_errors
from api.models import Community, Order, Slot, SlotGroup, SlotPlan

_LIVE = ("placed", "payment_claimed", "paid", "packed", "at_gate", "picked_up")
_DIGITS = re.compile(r"^[0-9]+")
_FLAT_ATTRIBUTES = ["PK", "SK", "kind", "status", "building", "unit", "room", "household_id"]


def floor_of(room: str) -> int:
    """The floor a room is on: its number without the last two digits (1502 → 15, 101 → 1, 2 → 0)."""
    digits = _DIGITS.match(room or "")
    return int(digits.group(0)) // 100 if digits else 0


class Flat(NamedTuple):
    """A household with a live order, where the plan needs it: building, unit, floor."""

    building: str
    unit: str
    room: str
    flat_key: str

    @property
    def floor(self) -> int:
        return floor_of(self.room)

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.building, self.unit, self.room) if p)


def matches(group, flat: Flat) -> bool:
    if group.building != flat.building:
        return False
    if group.unit is None:
        return True
    if group.unit != flat.unit:
        return False
    return group.floors is None or int(group.floors[0]) <= flat.floor <= int(group.floors[1])


def group_label(group) -> str:
    parts = [group.building]
    if group.unit:
        parts.append(group.unit)
    if group.floors is not None:
        low, high = int(group.floors[0]), int(group.floors[1])
        parts.append(f"{low}层" if low == high else f"{low}–{high}层")
    return " ".join(parts)


def slot_label(slot: Slot) -> str:
    return "、".join(group_label(g) for g in slot.groups)


def live_flats(round_id: str, community_id: str) -> list[Flat]:
    """The community's households with a live order in the round, in walking order (one projected Query)."""
    seen: dict[str, Flat] = {}
    with storage_errors():
        for order in Order.query(f"ROUND#{round_id}", Order.sk.startswith(f"ORDER#{community_id}#"),
                                 consistent_read=True, attributes_to_get=_FLAT_ATTRIBUTES):
            if order.status in _LIVE:
                key = "#".join(order.sk.split("#")[2:5])
                seen.setdefault(key, Flat(order.building, order.unit, order.room, key))
    return list(seen.values())


def _plan_key(community_id: str, round_id: str) -> tuple[str, str]:
    return f"COMMUNITY#{community_id}", f"SLOTPLAN#{round_id}"


def get(community_id: str, round_id: str) -> SlotPlan | None:
    with storage_errors():
        try:
            return SlotPlan.get(*_plan_key(community_id, round_id), consistent_read=True)
        except SlotPlan.DoesNotExist:
            return None


def _round_of(principal: Principal, community_id: str, round_id: str, *, roles=roster.CONSOLE_ROLES):
    return rounds.for_community_staff(principal, community_id, round_id, roles)


def _bad(field: str, zh: str, en: str) -> BadInput:
    return BadInput(f"{zh}", en, fields={field: [f"{zh} / {en}"]})


# --- generating ---------------------------------------------------------------------

def _groups(flats: list[Flat], building_order: list[str], capacity: int) -> list[tuple[SlotGroup, int]]:
    """(group, households) in walking order: whole buildings, else units, else floor ranges."""
    out = []
    for building in building_order:
        in_building = [f for f in flats if f.building == building]
        if not in_building:
            continue
        if len(in_building) <= capacity:
            out.append((SlotGroup(building=building, unit=None, floors=None), len(in_building)))
            continue
        for unit in dict.fromkeys(f.unit for f in in_building):
            in_unit = [f for f in in_building if f.unit == unit]
            if len(in_unit) <= capacity:
                out.append((SlotGroup(building=building, unit=unit, floors=None), len(in_unit)))
                continue
            floors: dict[int, int] = {}
            for f in in_unit:
                floors[f.floor] = floors.get(f.floor, 0) + 1
            run, count = [], 0
            for floor in sorted(floors):
                if run and count + floors[floor] > capacity:
                    out.append((SlotGroup(building=building, unit=unit, floors=[run[0], run[-1]]), count))
                    run, count = [], 0
                run.append(floor)
                count += floors[floor]
            # A single floor with more flats than a slot holds stays whole: floors are the smallest split.
            out.append((SlotGroup(building=building, unit=unit, floors=[run[0], run[-1]]), count))
    return out


def generate(principal: Principal, community_id: str, round_id: str, data: dict) -> dict:
    community, rnd = _round_of(principal, community_id, round_id)
    now = clock.now()
    # Whole seconds, as every time is returned: a plan sent back as it came must not look moved.
    data = {**data, "start_at": data["start_at"].replace(microsecond=0)}
    if data["start_at"] < now:
        raise _bad("start_at", "开始时间已经过去，请选以后的时间", "start_at is in the past; choose a later time")
    order = data["building_order"]
    names = [b.name for b in community.buildings]
    unknown = [b for b in order if b not in names]
    if unknown:
        raise _bad("building_order", f"小区没有这些楼栋：{'、'.join(unknown)}",
                   f"The community has no building {', '.join(unknown)}")
    if len(set(order)) != len(order):
        raise _bad("building_order", "同一楼栋只能排一次", "List each building once")
    flats = live_flats(round_id, community_id)
    left_out = [b for b in dict.fromkeys(f.building for f in flats) if b not in order]
    if left_out:
        raise _bad("building_order", f"这些楼栋有订单，请排进顺序：{'、'.join(left_out)}",
                   f"These buildings have orders; put them in the order: {', '.join(left_out)}")
    capacity, minutes = data["households_per_slot"], data["minutes_per_slot"]
    slots: list[Slot] = []
    for group, count in _groups(flats, order, capacity):
        if slots and int(slots[-1].households) + count <= capacity:
            slots[-1].groups.append(group)
            slots[-1].households = int(slots[-1].households) + count
            continue
        starts = data["start_at"] + timedelta(minutes=minutes * len(slots))
        slots.append(Slot(slot_id=ids.new_id(), starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
                          groups=[group], households=count, announced_at=None))
    previous = get(community_id, round_id)
    plan = SlotPlan(*_plan_key(community_id, round_id), round_id=round_id, community_id=community_id,
                    version=(int(previous.version) + 1) if previous else 1, minutes_per_slot=minutes,
                    households_per_slot=capacity, slots=slots, updated_at=now, updated_by=principal.subject)
    _save(plan, previous)
    return view(plan, community, rnd)


def _save(plan: SlotPlan, previous: SlotPlan | None) -> None:
    """Put the plan if nobody changed it since it was read (version), else 409."""
    condition = (SlotPlan.pk.does_not_exist() if previous is None
                 else SlotPlan.version == int(previous.version))
    try:
        with storage_errors():
            plan.save(condition=condition)
    except PutError as exc:
        if "ConditionalCheckFailed" not in str(exc):
            raise
        raise Conflict("取货时段刚被别人改过，请刷新后再改", "Someone else changed the slots; reload and edit again",
                       code="plan_changed") from None


# --- reading and editing ------------------------------------------------------------------

def view(plan: SlotPlan, community: Community, rnd) -> dict:
    point = community.distribution_point
    return {
        "round_id": plan.round_id, "round_name": rnd.name, "community_id": plan.community_id,
        "version": int(plan.version), "minutes_per_slot": int(plan.minutes_per_slot),
        "households_per_slot": int(plan.households_per_slot),
        "point": {"name": point.name, "note": point.note} if point else None,
        "slots": [{**slot_view(s), "texts": slot_texts(community, s)} for s in plan.slots],
    }


def slot_texts(community: Community, slot: Slot) -> list[dict]:
    """「复制到群」 for each building of the slot: 【取货通知】3栋 14:00–14:20 北门配送点 … (never phones)."""
    point = community.distribution_point.name if community.distribution_point else "配送点"
    window = f"{slot.starts_at.astimezone(clock.SHANGHAI):%H:%M}–{slot.ends_at.astimezone(clock.SHANGHAI):%H:%M}"
    out = []
    for building in dict.fromkeys(g.building for g in slot.groups):
        who = "、".join(group_label(g) for g in slot.groups if g.building == building)
        out.append({"building": building, "text": f"【取货通知】{who} {window} {point} 请凭取货码取货，保持2米间距"})
    return out


def slot_view(slot: Slot) -> dict:
    return {"slot_id": slot.slot_id, "starts_at": clock.iso(slot.starts_at), "ends_at": clock.iso(slot.ends_at),
            "label": slot_label(slot), "households": int(slot.households),
            "announced_at": clock.iso(slot.announced_at),
            "groups": [{"building": g.building, "unit": g.unit,
                        "floors": [int(x) for x in g.floors] if g.floors is not None else None} for g in slot.groups]}


def read(principal: Principal, community_id: str, round_id: str) -> dict:
    community, rnd = _round_of(principal, community_id, round_id, roles=(*roster.CONSOLE_ROLES, "volunteer"))
    plan = get(community_id, round_id)
    if plan is None:
        raise NotFound("这期团购还没有排取货时段", "No pickup slots yet for this round", code="no_slot_plan")
    return view(plan, community, rnd)


def edit(principal: Principal, community_id: str, round_id: str, data: dict) -> dict:
    """Edit, move or swap slots: the whole list, checked as a whole, saved if `version` still holds."""
    community, rnd = _round_of(principal, community_id, round_id)
    previous = get(community_id, round_id)
    if previous is None:
        raise NotFound("这期团购还没有排取货时段", "No pickup slots yet for this round", code="no_slot_plan")
    if data["version"] != int(previous.version):
        raise Conflict("取货时段刚被别人改过，请刷新后再改", "Someone else changed the slots; reload and edit again",
                       code="plan_changed")
    before = {s.slot_id: s for s in previous.slots}
    now = clock.now()
    slots = []
    for n, given in enumerate(data["slots"]):
        given = {**given, "starts_at": given["starts_at"].replace(microsecond=0),
                 "ends_at": given["ends_at"].replace(microsecond=0)}
        old = before.get(given.get("slot_id") or "")
        if given["ends_at"] <= given["starts_at"]:
            raise BadInput("时段的结束须晚于开始", "A slot must end after it starts",
                           fields={"slots": {str(n): {"ends_at": ["须晚于开始 / Must be after starts_at"]}}})
        moved = old is None or (old.starts_at, old.ends_at) != (given["starts_at"], given["ends_at"])
        if moved and given["starts_at"] < now:
            raise BadInput("时段不能排在已经过去的时间", "A slot cannot be in the past",
                           fields={"slots": {str(n): {"starts_at": ["已经过去 / In the past"]}}})
        groups = [SlotGroup(building=g["building"], unit=g.get("unit"), floors=g.get("floors")) for g in given["groups"]]
        slots.append(Slot(slot_id=old.slot_id if old else ids.new_id(), starts_at=given["starts_at"],
                          ends_at=given["ends_at"], groups=groups, households=0,
                          announced_at=old.announced_at if old and not moved else None))
    ordered = sorted(range(len(slots)), key=lambda i: slots[i].starts_at)
    for a, b in zip(ordered, ordered[1:]):
        if slots[b].starts_at < slots[a].ends_at:
            raise BadInput("两个时段时间重叠（只有一个配送点）", "Two slots overlap (there is one distribution point)",
                           fields={"slots": {str(b): {"starts_at": [
                               f"与第 {a + 1} 个时段重叠 / Overlaps slot {a + 1}"]}}})
    _check_cover(slots, live_flats(round_id, community_id))
    plan = SlotPlan(*_plan_key(community_id, round_id), round_id=round_id, community_id=community_id,
                    version=int(previous.version) + 1, minutes_per_slot=previous.minutes_per_slot,
                    households_per_slot=previous.households_per_slot, slots=[slots[i] for i in ordered],
                    updated_at=now, updated_by=principal.subject)
    _save(plan, previous)
    return view(plan, community, rnd)


def _check_cover(slots: list[Slot], flats: list[Flat]) -> None:
    """Every household with a live order in exactly one slot; counts each slot's households."""
    left_out, doubled = [], []
    for flat in flats:
        holding = [s for s in slots if any(matches(g, flat) for g in s.groups)]
        if not holding:
            left_out.append(flat.label)
        elif len(holding) > 1:
            doubled.append(flat.label)
        else:
            holding[0].households = int(holding[0].households) + 1
    if left_out:
        raise _bad("slots", f"这些住户不在任何时段里：{'、'.join(left_out[:10])}",
                   f"These flats are in no slot: {', '.join(left_out[:10])}")
    if doubled:
        raise _bad("slots", f"这些住户排进了两个时段：{'、'.join(doubled[:10])}",
                   f"These flats are in two slots: {', '.join(doubled[:10])}")


def slot_of(plan: SlotPlan | None, flat: Flat) -> Slot | None:
    if plan is None:
        return None
    return next((s for s in plan.slots if any(matches(g, flat) for g in s.groups)), None)
