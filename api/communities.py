"""小区 communities, their join keys, and the 户 households that register through them.

A household is one flat. Several family phones may register the same flat;
they share its orders and its per-household limits.
"""
import re

from pynamodb.exceptions import PutError

from api import auth, clock, ids, suppliers
from api.auth import Principal
from api.errors import BadInput, Forbidden, NotFound, Refused, storage_errors
from api.models import Building, Community, Household, PickupPoint, SubDistrict

_LEADING_DIGITS = re.compile(r"^([0-9]*)(.*)$")
MAX_PHONES_PER_FLAT = 10


def mask_phone(phone: str) -> str:
    """138****1234: how a phone is shown everywhere except where the job needs it whole."""
    return f"{phone[:3]}****{phone[-4:]}"


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
    return {
        "community_id": community.community_id,
        "name": community.name,
        "sub_district": {"sub_district_id": sub_district.sub_district_id, "name": sub_district.name},
        "buildings": [{"name": b.name, "units": list(b.units)} for b in community.buildings],
        "pickup_points": [{"name": p.name, "note": p.note} for p in community.pickup_points],
    }


def register_household(join_key: str, data: dict) -> dict:
    """Register a flat, or add this phone to a flat already registered; returns a resident token."""
    community = by_join_key(join_key)
    key = flat_key(community, data["building"], data["unit"], data["room"])
    household = Household(
        f"COMMUNITY#{community.community_id}", f"HOUSEHOLD#{key}",
        household_id=ids.new_id(), community_id=community.community_id, flat_key=key,
        building=data["building"], unit=data["unit"], room=data["room"].upper(),
        phones=[data["phone"]], name=data["name"], created_at=clock.now(),
    )
    with storage_errors():
        try:
            household.save(condition=Household.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            household = Household.get(household.pk, household.sk, consistent_read=True)
            if data["phone"] not in household.phones:
                if len(household.phones) >= MAX_PHONES_PER_FLAT:
                    raise Refused("这户登记的手机号已达上限，请联系小区信息员",
                                  "This flat has as many phones as it may; ask your information officer",
                                  code="too_many_phones")
                household.update(actions=[Household.phones.set(Household.phones.append([data["phone"]]))])
    token = auth.issue(Principal(role="resident", scope_id=household.household_id, subject=household.household_id,
                                 community_id=community.community_id, flat_key=key))
    return {
        "household_id": household.household_id,
        "token": token,
        "community_id": community.community_id,
        "flat": {"building": household.building, "unit": household.unit, "room": household.room},
        "phone_masked": mask_phone(data["phone"]),
    }


def ensure_visible(principal: Principal, community: Community) -> None:
    """404 for a resident of another community; 403 for staff outside their scope."""
    if principal.role == "resident":
        if principal.community_id != community.community_id:
            raise NotFound("小区不存在", "No such community")
        return
    allowed = (
        (principal.role in ("liaison", "volunteer") and principal.scope_id == community.community_id)
        or (principal.role == "admin" and principal.scope_id == community.sub_district_id)
        or (principal.role == "supplier" and _supplier_serves(principal.scope_id, community))
    )
    if not allowed:
        raise Forbidden("该小区不在您的管辖范围内", "This community is outside your scope", code="wrong_scope")


def _supplier_serves(supplier_id: str, community: Community) -> bool:
    """A supplier reaches the communities of the sub-district that registered it."""
    try:
        return suppliers.get(supplier_id).sub_district_id == community.sub_district_id
    except NotFound:
        return False


def create(sub_district_id: str, name: str, buildings: list[dict], pickup_points: list[dict]) -> Community:
    """Set up a community (used by the bootstrap and demo seeding until communities get their own route)."""
    community_id = ids.new_id()
    join_key = ids.join_key()
    community = Community(
        f"COMMUNITY#{community_id}", "COMMUNITY",
        gsi1pk=f"JOIN#{join_key}", gsi1sk="COMMUNITY",
        community_id=community_id, sub_district_id=sub_district_id, name=name, join_key=join_key,
        buildings=[Building(name=b["name"], units=b.get("units", [])) for b in buildings],
        pickup_points=[PickupPoint(**p) for p in pickup_points],
    )
    community.save(condition=Community.pk.does_not_exist())
    return community
