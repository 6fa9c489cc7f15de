"""小区 communities: their join keys, buildings, the one distribution point
(配送点) and the one information officer (信息员), and who may see them.

Plan 1 asks for exactly one distribution point and one information officer
per community. Each is set with a condition that none is active, in the same
write (or transaction) that makes it so; the old one is retired first.
"""
import re

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from api import clock, config, errors, households, ids, suppliers
from api.auth import Principal
from api.errors import BadInput, Conflict, NotFound, storage_errors
from api.models import (
    Building, Community, DistributionPoint, StaffMember, SubDistrict, SubDistrictListing, transaction_connection,
)

_LEADING_DIGITS = re.compile(r"^([0-9]*)(.*)$")


def flat_key(community: Community, building: str, unit: str, room: str) -> str:
    """Sort key of a flat: B<building position>#U<unit position>#R<room, number padded>.

    Positions follow the community's own list, so 2栋 sorts before 10栋 and
    the packing list walks the compound in the order people know it. Room
    0501 and 501 are the same flat.
    """
    names = [b.name for b in community.buildings]
    if building not in names:
        raise BadInput("楼栋不存在，请从列表中选择", "No such building; pick one from the list",
                       fields={"building": [f"可选 / Choose from: {', '.join(names)}"]})
    b = community.buildings[names.index(building)]
    if b.units:
        if unit not in b.units:
            raise BadInput("单元不存在，请从列表中选择", "No such unit; pick one from the list",
                           fields={"unit": [f"可选 / Choose from: {', '.join(b.units)}"]})
        unit_pos = b.units.index(unit) + 1
    elif unit:
        raise BadInput("该楼栋不分单元，请不要填写单元", "This building has no units; leave unit empty",
                       fields={"unit": ["该楼栋不分单元 / This building has no units"]})
    else:
        unit_pos = 0
    digits, rest = _LEADING_DIGITS.match(room.upper()).groups()
    # Rooms are at most 8 characters (HouseholdSchema), so 8 digits of padding order any of them.
    return f"B{names.index(building) + 1:03d}#U{unit_pos:02d}#R{digits.zfill(8)}{rest}"


def by_join_key(join_key: str) -> Community:
    with storage_errors():
        found = list(Community.by_owner.query(f"JOIN#{join_key}", Community.gsi1sk == "COMMUNITY", limit=1))
    if not found:
        raise NotFound("二维码无效或已过期，请向小区信息员索取新的二维码",
                       "This QR code is not valid; ask your community's information officer for a new one")
    return found[0]


def get(community_id: str) -> Community:
    with storage_errors():
        try:
            return Community.get(f"COMMUNITY#{community_id}", "COMMUNITY")
        except Community.DoesNotExist:
            raise NotFound("小区不存在", "No such community") from None


def get_many(community_ids: list[str]) -> dict[str, Community]:
    """Communities by id, in one BatchGetItem (a round may span 200); absent ids are left out."""
    with storage_errors():
        found = Community.batch_get([(f"COMMUNITY#{c}", "COMMUNITY") for c in set(community_ids)])
        return {c.community_id: c for c in found}


def public_info(join_key: str) -> dict:
    community = by_join_key(join_key)
    sub_district = SubDistrict.get(f"SUBDISTRICT#{community.sub_district_id}", "SUBDISTRICT")
    point = _point(community)
    return {
        "community_id": community.community_id,
        "name": community.name,
        "sub_district": {"sub_district_id": sub_district.sub_district_id, "name": sub_district.name},
        "buildings": [{"name": b.name, "units": list(b.units)} for b in community.buildings],
        "distribution_point": point,
        "pickup_points": [point] if point else [],
        "info_officer": {"name": community.info_officer.name} if community.info_officer else None,
    }


def register_household(join_key: str, data: dict) -> dict:
    """A phone registers its flat through the community's QR code (see api/households.py)."""
    community = by_join_key(join_key)
    return households.register(community, flat_key(community, data["building"], data["unit"], data["room"]), data)


def ensure_visible(principal: Principal, community: Community) -> None:
    """404 for anyone outside the community: a stranger never learns that a community id exists."""
    if principal.role == "resident":
        if principal.community_id != community.community_id:
            raise NotFound("小区不存在", "No such community")
        return
    allowed = (
        (principal.role in ("liaison", "volunteer") and principal.scope_id == community.community_id)
        or (principal.role == "info_officer" and is_info_officer(principal, community))
        or (principal.role == "admin" and principal.scope_id == community.sub_district_id)
        or (principal.role == "supplier" and _supplier_serves(principal.scope_id, community))
    )
    if not allowed:
        raise _no_such_community()


def is_info_officer(principal: Principal, community: Community) -> bool:
    """The community's active information officer: a retired one's token no longer counts."""
    return (principal.scope_id == community.community_id and community.info_officer is not None
            and community.info_officer.staff_id == principal.subject)


def _no_such_community() -> NotFound:
    return NotFound("小区不存在", "No such community")


def for_staff(principal: Principal, community_id: str, *, roles: tuple[str, ...]) -> Community:
    """The community, if the caller (of one of `roles`) looks after it; otherwise 404, never 403.

    liaison, volunteer: their own community; info_officer: only while active;
    admin: the communities of their sub-district.
    """
    community = get(community_id)
    allowed = principal.role in roles and (
        (principal.role in ("liaison", "volunteer") and principal.scope_id == community_id)
        or (principal.role == "info_officer" and is_info_officer(principal, community))
        or (principal.role == "admin" and principal.scope_id == community.sub_district_id))
    if not allowed:
        raise _no_such_community()
    return community


def _supplier_serves(supplier_id: str, community: Community) -> bool:
    """A supplier reaches the communities of the sub-district that registered it."""
    try:
        return suppliers.get(supplier_id).sub_district_id == community.sub_district_id
    except NotFound:
        return False


def _point(community: Community) -> dict | None:
    p = community.distribution_point
    return {"name": p.name, "note": p.note, "since": clock.iso(p.since)} if p else None


def view(community: Community) -> dict:
    """The community as its staff see it."""
    officer = community.info_officer
    return {
        "community_id": community.community_id,
        "name": community.name,
        "sub_district_id": community.sub_district_id,
        "buildings": [{"name": b.name, "units": list(b.units)} for b in community.buildings],
        "join_url": f"{config.PUBLIC_URL}/#/join/{community.join_key}",
        "distribution_point": _point(community),
        "info_officer": {"name": officer.name, "since": clock.iso(officer.since)} if officer else None,
        "settings": {"check_in_interval_days": int(community.check_in_interval_days),
                     "fair_share_days": int(community.fair_share_days)},
    }


def _conditional_update(community: Community, actions: list, condition, refusal: Conflict) -> Community:
    with storage_errors():
        try:
            community.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if errors.condition_failed(exc):
                raise refusal from exc
            raise
    return community


def info_officer_active() -> Conflict:
    return Conflict("本小区已有一名信息员，请先让其卸任", "This community already has an information officer; retire them first",
                    code="info_officer_active")


def set_distribution_point(community: Community, name: str, note: str) -> dict:
    point = DistributionPoint(name=name, note=note, since=clock.now())
    refusal = Conflict("本小区已有一个配送点，请先撤销它", "This community already has a distribution point; retire it first",
                       code="distribution_point_active")
    return view(_conditional_update(community, [Community.distribution_point.set(point)],
                                    Community.distribution_point.does_not_exist(), refusal))


def retire_distribution_point(community: Community) -> dict:
    with storage_errors():
        community.update(actions=[Community.distribution_point.remove()])
    return view(community)


def retire_info_officer(community: Community) -> dict:
    """The active information officer steps down: the post is free and their account retired, together."""
    officer = community.info_officer
    if officer is None:
        return view(community)
    with storage_errors():
        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                transaction.update(community, actions=[Community.info_officer.remove()],
                                   condition=Community.info_officer.staff_id == officer.staff_id)
                transaction.update(StaffMember(f"STAFF#{officer.staff_id}", "STAFF"),
                                   actions=[StaffMember.retired_at.set(clock.now())])
        except TransactWriteError as exc:
            raise Conflict("信息员刚刚有变动，请刷新后再试", "The information officer just changed; reload and retry",
                           code="info_officer_changed") from exc
    community.info_officer = None
    return view(community)


_SETTINGS = {"check_in_interval_days": Community.check_in_interval_days, "fair_share_days": Community.fair_share_days}


def settings(community: Community, data: dict) -> dict:
    """Change the settings given; the others stay."""
    actions = [_SETTINGS[name].set(value) for name, value in data.items() if value is not None]
    if actions:
        with storage_errors():
            community.update(actions=actions)
    return view(community)


def create(sub_district_id: str, name: str, buildings: list[dict],
           distribution_point: dict | None = None) -> Community:
    """Set up a community (used by the bootstrap and demo seeding until communities get their own route)."""
    community_id = ids.new_id()
    join_key = ids.join_key()
    community = Community(
        f"COMMUNITY#{community_id}", "COMMUNITY",
        gsi1pk=f"JOIN#{join_key}", gsi1sk="COMMUNITY",
        community_id=community_id, sub_district_id=sub_district_id, name=name, join_key=join_key,
        buildings=[Building(name=b["name"], units=b.get("units", [])) for b in buildings],
        distribution_point=(DistributionPoint(since=clock.now(), **distribution_point)
                            if distribution_point else None),
    )
    listing = SubDistrictListing(f"SUBDISTRICT#{sub_district_id}", f"COMMUNITY#{community_id}",
                                 listed_id=community_id, name=name)
    with TransactWrite(connection=transaction_connection()) as transaction:
        transaction.save(community, condition=Community.pk.does_not_exist())
        transaction.save(listing, condition=SubDistrictListing.pk.does_not_exist())
    return community


def of_sub_district(sub_district_id: str) -> list[Community]:
    """The sub-district's communities by name: one Query of its listings, one BatchGetItem."""
    with storage_errors():
        listed = list(SubDistrictListing.query(f"SUBDISTRICT#{sub_district_id}",
                                               SubDistrictListing.sk.startswith("COMMUNITY#")))
    return sorted(get_many([item.listed_id for item in listed]).values(), key=lambda c: c.name)


def _listed(sub_district_id: str) -> dict:
    return {"communities": [{"community_id": c.community_id, "name": c.name,
                             "buildings": [{"name": b.name, "units": list(b.units)} for b in c.buildings]}
                            for c in of_sub_district(sub_district_id)]}


def for_supplier(principal: Principal) -> dict:
    """The communities a supplier's rounds may serve: those of its own sub-district."""
    return _listed(suppliers.get(principal.scope_id).sub_district_id)


def for_admin(principal: Principal) -> dict:
    """The communities of the admin's sub-district (its pickers: sites, allocations, ledgers)."""
    return _listed(principal.scope_id)


def suppliers_of(sub_district_id: str) -> dict:
    with storage_errors():
        listed = SubDistrictListing.query(f"SUBDISTRICT#{sub_district_id}", SubDistrictListing.sk.startswith("SUPPLIER#"))
        return {"suppliers": sorted(({"supplier_id": item.listed_id, "name": item.name} for item in listed),
                                    key=lambda s: s["name"])}


def suppliers_for(principal: Principal, community_id: str) -> dict:
    """The suppliers a liaison may open a round for: those vetted by the community's sub-district."""
    return suppliers_of(for_staff(principal, community_id, roles=("liaison", "admin")).sub_district_id)
