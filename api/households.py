"""户 households: one flat each, and the family phones (members) that may act for it.

The first phone to register a flat becomes its first member. Every later
phone is *pending* until a member, the liaison or the information officer
approves it: the join key is printed on the gate poster, and a phone number
is typed, not verified, so neither proves that somebody lives in the flat. A
pending phone sees the community and its rounds, and nothing of the flat.

Membership lives inside the household item (`members`), so where a request
reads the flat anyway (placing an order) the check costs nothing, and
elsewhere it is one strongly consistent GetItem: a removed phone's token is
refused from the next request on, not when it expires.

Every change to `members` is conditional on `members_rev` (optimistic
concurrency): two approvals, or an approval and a removal, at the same moment
never overwrite each other.
"""
import re
from datetime import datetime

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.operand import Path

from api import auth, clock, errors, ids
from api.auth import Principal
from api.errors import NotFound, Refused, StorageBusy, Unauthorized, storage_errors
from api.models import Community, Household

MAX_PHONES_PER_FLAT = 10
MEMBER, PENDING = "member", "pending"
_ATTEMPTS = 5
_FLAT_REF = re.compile(r"^B[0-9]{3}\.U[0-9]{2}\.R[0-9]{8}[0-9A-Z-]{0,8}\Z")


def mask_phone(phone: str) -> str:
    """138****1234: how a phone is shown everywhere except where the job needs it whole."""
    if not phone:
        return ""
    return f"{phone[:3]}****{phone[-4:]}"


def flat_ref(flat_key: str) -> str:
    """A flat key as it goes in a URL: B003.U02.R00000501 (a room never holds a dot)."""
    return flat_key.replace("#", ".")


def flat_key_of(ref: str) -> str:
    if not _FLAT_REF.match(ref or ""):
        raise NotFound("住户不存在", "No such household")
    return ref.replace(".", "#")


def flat_label(household: Household) -> str:
    return " ".join(p for p in (household.building, household.unit, household.room) if p)


def members_of(household: Household) -> dict[str, dict]:
    """member id → {phone, status, added_at}, as a plain dict."""
    return household.members.as_dict() if household.members else {}


def phones_of(household: Household) -> list[str]:
    """The members' phones, earliest first (pending requests left out)."""
    members = sorted(members_of(household).items(), key=lambda kv: kv[1]["added_at"])
    return [m["phone"] for _, m in members if m["status"] == MEMBER]


def contact_phone(household: Household) -> str:
    """Whom the supplier calls about the bag: the first member's phone, else what the liaison entered."""
    phones = phones_of(household)
    return phones[0] if phones else household.contact_phone


def _member(phone: str, status: str, at: datetime) -> dict:
    return {"phone": phone, "status": status, "added_at": clock.iso(at)}


def _busy() -> StorageBusy:
    return StorageBusy("有人同时在修改这户的手机，请稍后再试", "Someone else is changing this flat's phones; please retry",
                       headers={"Retry-After": "1"})


def _no_such_member() -> NotFound:
    return NotFound("这户没有这个手机", "This flat has no such phone")


def get(community_id: str, flat_key: str) -> Household:
    """The flat, read strongly consistently (membership decisions must see the latest removal)."""
    with storage_errors():
        try:
            return Household.get(f"COMMUNITY#{community_id}", f"HOUSEHOLD#{flat_key}", consistent_read=True)
        except Household.DoesNotExist:
            raise NotFound("住户不存在", "No such household") from None


def _change(household: Household, change) -> Household:
    """Apply `change(members) -> members` under the members_rev condition, re-reading on a race."""
    for _ in range(_ATTEMPTS):
        members = change(members_of(household))
        try:
            with storage_errors():
                household.update(actions=[Household.members.set(members), Household.members_rev.add(1)],
                                 condition=Household.members_rev == int(household.members_rev))
            return household
        except UpdateError as exc:
            if not errors.condition_failed(exc):
                raise
            household = get(household.community_id, household.flat_key)
    raise _busy()


# --- registering ------------------------------------------------------------

def _new(community: Community, key: str, data: dict, now: datetime, **attributes) -> Household:
    return Household(
        f"COMMUNITY#{community.community_id}", f"HOUSEHOLD#{key}",
        household_id=ids.new_id(), community_id=community.community_id, flat_key=key,
        building=data["building"], unit=data["unit"], room=data["room"].upper(),
        name=data.get("name", ""), created_at=now, members_rev=0, **attributes,
    )


def _created(household: Household) -> bool:
    """Save a new flat if nobody registered it first; False if it already exists."""
    with storage_errors():
        try:
            household.save(condition=Household.pk.does_not_exist())
            return True
        except PutError as exc:
            if not errors.condition_failed(exc):
                raise
            return False


def register(community: Community, key: str, data: dict) -> dict:
    """A phone registers through the QR code: first member of a new flat, or a pending request.

    A flat nobody is a member of (new, registered by the liaison for someone
    without a smartphone, or left by everyone) takes its first phone as member.
    """
    now = clock.now()
    member_id = ids.new_id()
    household = _new(community, key, data, now, members={member_id: _member(data["phone"], MEMBER, now)})
    if not _created(household):
        def add(members: dict) -> dict:
            if len(members) >= MAX_PHONES_PER_FLAT:
                raise Refused("这户登记的手机和请求已达上限，请联系小区信息员",
                              "This flat has as many phones and requests as it may; ask your information officer",
                              code="too_many_phones")
            has_member = any(m["status"] == MEMBER for m in members.values())
            members[member_id] = _member(data["phone"], PENDING if has_member else MEMBER, now)
            return members
        household = _change(get(community.community_id, key), add)
    status = members_of(household)[member_id]["status"]
    token = auth.issue(Principal(role="resident", scope_id=household.household_id, subject=member_id,
                                 community_id=community.community_id, flat_key=key))
    return {
        "household_id": household.household_id,
        "member_id": member_id,
        "membership": status,
        "token": token,
        "community_id": community.community_id,
        "flat": {"building": household.building, "unit": household.unit, "room": household.room},
        "phone_masked": mask_phone(data["phone"]),
    }


def register_by_staff(principal: Principal, community: Community, key: str, data: dict) -> tuple[Household, bool]:
    """The liaison registers a flat with no smartphone (a landline or no phone): no members yet.

    Returns (household, created); an already registered flat is returned unchanged.
    """
    household = _new(community, key, data, clock.now(), members={}, contact_phone=data.get("phone", ""),
                     registered_by=principal.subject)
    if _created(household):
        return household, True
    return get(community.community_id, key), False


# --- who may act for the flat -----------------------------------------------

def membership_ended() -> Unauthorized:
    return Unauthorized("这部手机已不是这户的成员，请重新扫码登记并请家人批准",
                        "This phone is no longer on the household; scan the QR code again and ask your family to approve",
                        code="membership_ended")


def _not_member() -> NotFound:
    return NotFound("这部手机还在等待这户家人批准，批准后才能看到订单",
                    "This phone is waiting for the household's approval; orders show once approved",
                    code="not_a_member")


def live_member(principal: Principal, household: Household | None) -> dict:
    """The caller's member record in `household` (member or pending), or 401 membership_ended."""
    if household is None or household.household_id != principal.household_id:
        raise membership_ended()
    member = members_of(household).get(principal.subject)
    if member is None:
        raise membership_ended()
    return member


def ensure_member(principal: Principal, household: Household | None) -> None:
    """A full member: a pending phone gets what a stranger gets (404); a removed one, 401."""
    if live_member(principal, household)["status"] != MEMBER:
        raise _not_member()


def member_condition(member_id: str):
    """The transaction condition that keeps a phone removed mid-request from ordering."""
    return Path(["members", member_id, "status"]) == MEMBER


def of_caller(principal: Principal) -> Household:
    """The resident's household, after checking the caller is still on it (member or pending)."""
    try:
        household = get(principal.community_id, principal.flat_key)
    except NotFound:
        household = None
    live_member(principal, household)
    return household


def require_member(principal: Principal) -> Household:
    household = of_caller(principal)
    ensure_member(principal, household)
    return household


# --- members' own view and actions ------------------------------------------

def member_list(household: Household, me: str | None = None, full_phones: bool = False) -> list[dict]:
    members = sorted(members_of(household).items(), key=lambda kv: (kv[1]["status"] != MEMBER, kv[1]["added_at"]))
    out = []
    for member_id, m in members:
        entry = {"member_id": member_id, "phone_masked": mask_phone(m["phone"]), "status": m["status"],
                 "added_at": m["added_at"]}
        if me is not None:
            entry["me"] = member_id == me
        if full_phones:
            entry["phone"] = m["phone"]
        out.append(entry)
    return out


def resident_view(principal: Principal, household: Household) -> dict:
    """What a phone sees of its flat: everything if a member, only itself if pending."""
    me = members_of(household)[principal.subject]
    return {
        "household_id": household.household_id,
        "community_id": household.community_id,
        "flat": {"building": household.building, "unit": household.unit, "room": household.room},
        "flat_label": flat_label(household),
        "me": {"member_id": principal.subject, "status": me["status"], "phone_masked": mask_phone(me["phone"])},
        "members": member_list(household, me=principal.subject) if me["status"] == MEMBER else [],
    }


def mine(principal: Principal) -> dict:
    return resident_view(principal, of_caller(principal))


def approve(household: Household, member_id: str) -> Household:
    """A pending phone becomes a member; approving a member again changes nothing."""
    def change(members: dict) -> dict:
        if member_id not in members:
            raise _no_such_member()
        members[member_id]["status"] = MEMBER
        return members
    if members_of(household).get(member_id, {}).get("status") == MEMBER:
        return household
    return _change(household, change)


def remove(household: Household, member_id: str) -> Household:
    """Refuse a request, or take a phone off the flat (a lost phone, a squatter): its token stops working."""
    def change(members: dict) -> dict:
        if members.pop(member_id, None) is None:
            raise _no_such_member()
        return members
    return _change(household, change)


def handover(household: Household, member_id: str) -> Household:
    """Hand the flat to one phone (squatting): it becomes the only member; every other phone goes."""
    def change(members: dict) -> dict:
        if member_id not in members:
            raise _no_such_member()
        kept = members[member_id]
        kept["status"] = MEMBER
        return {member_id: kept}
    return _change(household, change)


def approve_as_member(principal: Principal, member_id: str) -> dict:
    household = require_member(principal)
    return resident_view(principal, approve(household, member_id))


def remove_as_member(principal: Principal, member_id: str) -> dict:
    """A member removes a phone of their flat. Anyone on the flat may take themselves off:
    a member leaving, or a pending phone withdrawing a request made for the wrong flat."""
    if member_id == principal.subject:
        household = remove(of_caller(principal), member_id)
        return {"household_id": household.household_id, "left": True}
    household = require_member(principal)
    return resident_view(principal, remove(household, member_id))
