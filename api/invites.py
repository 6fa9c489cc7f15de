"""One-time invites through which staff (liaison, volunteer, supplier, admin) join.

Who may invite whom:
- an admin (街道), anyone within their sub-district;
- a liaison (社区联络人), volunteers, fellow liaisons and the information
  officer (信息员) of their own community, and the staff of their community's
  gate (审核员, 门岗消杀员, 督查员: see api/sites.py).

A community has one active information officer: inviting a second is refused
while one is active, and accepting sets the post only if it is still free, in
the same transaction that uses up the invite.
"""
import hashlib
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api import auth, clock, communities, config, ids, monitoring, sites, suppliers
from api.auth import Principal
from api.errors import BadInput, Conflict, Forbidden, NotFound, Refused, storage_errors
from api.models import Community, InfoOfficer, Invite, StaffMember, SubDistrict, transaction_connection

VALID_FOR = timedelta(days=3)


def invite_url(code: str) -> str:
    return f"{config.PUBLIC_URL}/#/invite/{code}"


def _no_such_scope() -> BadInput:
    return BadInput("邀请的范围不存在", "The scope to invite into does not exist",
                    fields={"scope_id": ["不存在 / Does not exist"]})


def _sub_district_of(role: str, scope_id: str) -> str:
    """The sub-district a scope belongs to; 400 if the scope does not exist."""
    missing = _no_such_scope()
    if auth.SCOPE_OF_ROLE[role] == "community":
        try:
            return communities.get(scope_id).sub_district_id
        except NotFound:
            raise missing from None
    if role == "supplier":
        try:
            return suppliers.get(scope_id).sub_district_id
        except NotFound:
            raise missing from None
    if auth.SCOPE_OF_ROLE[role] == "site":
        try:
            return sites.get(scope_id).sub_district_id
        except NotFound:
            raise missing from None
    if role == "supply_point":
        try:
            return monitoring.get_point(scope_id).sub_district_id
        except NotFound:
            raise missing from None
    try:
        return SubDistrict.get(f"SUBDISTRICT#{scope_id}", "SUBDISTRICT").sub_district_id
    except SubDistrict.DoesNotExist:
        raise missing from None


def create(principal: Principal, role: str, scope_id: str, name: str = "") -> dict:
    with storage_errors():
        if principal.role == "liaison":
            if role not in ("volunteer", "liaison", "info_officer", *auth.SITE_ROLES) or scope_id != principal.scope_id:
                raise Forbidden("联络人只能邀请本小区的志愿者、联络人、信息员或门岗人员",
                                "A liaison may only invite volunteers, liaisons, the information officer or gate staff of their own community",
                                code="wrong_scope")
            _sub_district_of(role, scope_id)
        elif _sub_district_of(role, scope_id) != principal.scope_id:
            # Answered as a scope that does not exist: an admin must not learn which ids exist elsewhere.
            raise _no_such_scope()
        if role == "info_officer" and communities.get(scope_id).info_officer is not None:
            raise communities.info_officer_active()
        now = clock.now()
        code = ids.invite_code()
        invite = Invite(f"INVITE#{code}", "INVITE", role=role, scope_id=scope_id, name=name,
                        created_by=principal.subject, created_at=now, expires_at=now + VALID_FOR)
        invite.save(condition=Invite.pk.does_not_exist())
    return {"code": code, "url": invite_url(code), "role": role, "scope_id": scope_id,
            "expires_at": clock.iso(invite.expires_at)}


def accept(code: str, key: str | None = None) -> dict:
    """Turn an invite into a staff account and token, once only.

    With an Idempotency-Key, the device that accepted may accept again (its
    answer was lost on a weak line) and gets a token for the same account;
    anyone else gets 409.
    """
    now = clock.now()
    staff_id = ids.new_id()
    with storage_errors():
        try:
            invite = Invite.get(f"INVITE#{code}", "INVITE", consistent_read=True)
        except Invite.DoesNotExist:
            raise NotFound("邀请码无效", "No such invite") from None
        key_hash = hashlib.sha256(key.encode()).hexdigest() if key else None
        if invite.accepted_at is not None and key_hash is not None and invite.accepted_key_hash == key_hash:
            return _signed_in(invite.role, invite.scope_id, invite.accepted_by)
        if invite.expires_at <= now:
            raise Refused("邀请已过期，请联系邀请人重新发送", "This invite has expired; ask for a new one",
                          code="invite_expired")
        # The invite is used up and the account created together, or neither is.
        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                transaction.update(invite, actions=[Invite.accepted_at.set(now), Invite.accepted_by.set(staff_id),
                                                    Invite.accepted_key_hash.set(key_hash)],
                                   condition=Invite.accepted_at.does_not_exist())
                transaction.save(StaffMember(f"STAFF#{staff_id}", "STAFF", staff_id=staff_id, role=invite.role,
                                             scope_id=invite.scope_id, name=invite.name, created_at=now),
                                 condition=StaffMember.pk.does_not_exist())
                if invite.role == "info_officer":
                    transaction.update(
                        Community(f"COMMUNITY#{invite.scope_id}", "COMMUNITY"),
                        actions=[Community.info_officer.set(InfoOfficer(staff_id=staff_id, name=invite.name, since=now))],
                        condition=Community.info_officer.does_not_exist())
        except TransactWriteError as exc:
            # PynamoDB sends puts before updates: the invite's update follows the staff put,
            # and the community's (an information officer's post) comes last.
            reasons = [r.code if r is not None else None for r in exc.cancellation_reasons or []]
            if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed":
                raise communities.info_officer_active() from exc
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise Conflict("邀请已被使用", "This invite has already been used", code="invite_used") from exc
            raise
    return _signed_in(invite.role, invite.scope_id, staff_id)


def _signed_in(role: str, scope_id: str, staff_id: str) -> dict:
    token = auth.issue(Principal(role=role, scope_id=scope_id, subject=staff_id))
    return {"token": token, "role": role, "scope_id": scope_id}
