"""特殊人群 special households (elderly living alone, disabled, pregnant, seriously
ill, other) and the check-ins plans 1 and 3 ask for: a phone call or visit
every few days (每3天电话了解), with door delivery.

A flagged household carries the sparse index key `GSI1PK=SPECIAL#<cid>`,
`GSI1SK=CHECKIN#<since>#<flat_key>`, where <since> is its last check-in (or
when it was flagged, if nobody has checked yet). So the whole list, longest
unchecked first, is one Query, and the overdue ones are the same Query with
`GSI1SK < CHECKIN#<now - interval>`. The interval is the community's setting
(3 days unless changed). This is the liaison's call list: phones are whole.
"""
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from api import clock, errors, households, ids, orders, rounds
from api.auth import Principal
from api.errors import BadInput, Conflict, NotFound, Refused, storage_errors
from api.models import CheckIn, Household, transaction_connection
from api.roster import check_in_view, community_of, entry, household_of, special_view

# A phone's clock may run a little ahead of ours; more than this is a typing mistake.
_CLOCK_SKEW = timedelta(minutes=2)


def _index_key(household: Household, since: datetime) -> str:
    return f"CHECKIN#{clock.iso(since)}#{household.flat_key}"


def _since(household: Household) -> datetime:
    if household.last_check_in_at is not None:
        return household.last_check_in_at
    return datetime.fromisoformat(household.special["flagged_at"].replace("Z", "+00:00"))


def flag(principal: Principal, community_id: str, flat_ref: str, data: dict) -> dict:
    """Flag a household as special, or change its details (re-flagging keeps when it was first flagged)."""
    community, household = household_of(principal, community_id, flat_ref)
    now = clock.now().replace(microsecond=0)
    flagged_at = household.special["flagged_at"] if household.special is not None else clock.iso(now)
    special = {**data, "flagged_at": flagged_at, "flagged_by": principal.subject}
    household.special = special
    since = _since(household)
    with storage_errors():
        try:
            household.update(actions=[Household.special.set(special),
                                      Household.gsi1pk.set(f"SPECIAL#{community.community_id}"),
                                      Household.gsi1sk.set(_index_key(household, since))],
                             condition=Household.pk.exists())
        except UpdateError as exc:
            if errors.condition_failed(exc):
                raise NotFound("住户不存在", "No such household") from exc
            raise
    return entry(household)


def unflag(principal: Principal, community_id: str, flat_ref: str) -> dict:
    """No longer special: off the call list. Its check-in history stays."""
    _, household = household_of(principal, community_id, flat_ref)
    with storage_errors():
        household.update(actions=[Household.special.remove(), Household.gsi1pk.remove(), Household.gsi1sk.remove()])
    return entry(household)


def check_in(principal: Principal, community_id: str, flat_ref: str, data: dict) -> dict:
    """Record a call or visit. One transaction: the record, and the household's last check-in moved on.

    A check-in entered late (dated before the last one) is kept in the history
    without moving the household's last check-in back.
    """
    _, household = household_of(principal, community_id, flat_ref)
    now = clock.now()
    at = (data.get("at") or now).replace(microsecond=0)
    if at > now + _CLOCK_SKEW:
        raise BadInput("回访时间不能晚于现在", "A check-in cannot be dated in the future",
                       fields={"at": [f"应早于 {clock.shanghai(now)}（北京时间） / Must be before now"]})
    if household.special is None:
        raise Refused("这户还没有标记为特殊人群，请先标记", "Flag this household as special first", code="not_special")
    check_in_id = ids.new_id()
    record = CheckIn(f"HOUSEHOLD#{household.household_id}", f"CHECKIN#{clock.iso(at)}#{check_in_id}",
                     check_in_id=check_in_id, at=at, method=data["method"], outcome=data["outcome"],
                     notes=data.get("notes", ""), by=principal.subject, by_role=principal.role, created_at=now)
    previous = household.last_check_in_at
    with storage_errors():
        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                transaction.save(record, condition=CheckIn.pk.does_not_exist())
                unchanged = (Household.last_check_in_at.does_not_exist() if previous is None
                             else Household.last_check_in_at == previous)
                still_special = Household.special.exists() & unchanged
                if previous is None or at > previous:
                    transaction.update(household, actions=[Household.last_check_in_at.set(at),
                                                           Household.gsi1sk.set(_index_key(household, at))],
                                       condition=still_special)
                else:
                    transaction.condition_check(Household, household.pk, household.sk, condition=still_special)
        except TransactWriteError as exc:
            raise Conflict("这户的回访记录刚刚有变动，请刷新后再试",
                           "This household's check-ins just changed; reload and retry", code="check_in_changed") from exc
    return check_in_view(record)


def call_list(principal: Principal, community_id: str, overdue_only: bool) -> dict:
    """The community's special households, longest unchecked first, with how overdue each is."""
    community = community_of(principal, community_id)
    interval = timedelta(days=int(community.check_in_interval_days))
    # Whole seconds on both sides, so the Query's boundary and `overdue` agree.
    now = clock.now().replace(microsecond=0)
    cutoff = f"CHECKIN#{clock.iso(now - interval)}"
    condition = Household.gsi1sk < cutoff if overdue_only else Household.gsi1sk.startswith("CHECKIN#")
    with storage_errors():
        flagged = list(Household.by_owner.query(f"SPECIAL#{community_id}", condition))
    open_rounds = rounds.open_for_community(community_id, now)
    ordered: set[str] = set()
    for rnd in open_rounds:
        ordered |= set(orders.live_by_household(rnd.round_id, community_id))
    out = []
    for household in flagged:
        due_at = _since(household) + interval
        item = entry(household)
        item.update({
            "special": special_view(household, full_phones=True),
            "phones": households.phones_of(household),
            "contact_phone": households.contact_phone(household),
            "due_at": clock.iso(due_at),
            "overdue": now > due_at,
            "overdue_hours": int((now - due_at).total_seconds() // 3600),
            "no_order_yet": bool(open_rounds) and household.household_id not in ordered,
        })
        out.append(item)
    return {"interval_days": int(community.check_in_interval_days), "households": out}
