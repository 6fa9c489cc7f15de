"""The single DynamoDB table and every item type stored in it.

One table, single-table design. Each model's docstring gives its key pattern;
docs/data-model.md lists every access pattern and the Query that serves it.
Items share `PK`/`SK` and one overloaded index `GSI1` (`GSI1PK`/`GSI1SK`);
the `kind` attribute tells PynamoDB which model an item is.

A flat's sort key (`flat_key`, e.g. `B003#U01#R00501`) orders households by
building, unit and room, so "this round, this community, by building" is a
single Query on the orders of a round.
"""
from pynamodb.attributes import (
    BooleanAttribute, DiscriminatorAttribute, ListAttribute, MapAttribute, NumberAttribute,
    TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from api import config


class _TableMeta:
    table_name = config.TABLE_NAME
    region = config.REGION
    host = config.AWS_ENDPOINT
    billing_mode = "PAY_PER_REQUEST"
    read_timeout_seconds = config.DYNAMODB_READ_TIMEOUT
    connect_timeout_seconds = config.DYNAMODB_CONNECT_TIMEOUT


class OwnerIndex(GlobalSecondaryIndex):
    """GSI1, overloaded: "the things that belong to X, in order".

    GSI1PK=HOUSEHOLD#<hid>  GSI1SK=ORDER#<order_id>  a household's orders, newest last
    GSI1PK=JOIN#<join_key>  GSI1SK=COMMUNITY         a community by its QR join key
    GSI1PK=SUPPLIER#<sid>   GSI1SK=ROUND#<round_id>  a supplier's rounds
    GSI1PK=SUPPLIER#<sid>   GSI1SK=DELIVERY#<ulid of the registration>
                            a supplier's vehicle registrations, in the order they were made
    GSI1PK=DEMAND#<sd>#<day>  GSI1SK=COMMUNITY#<cid>#v<nn>   a day's demand reports in a sub-district
    GSI1PK=ALLOCTO#<cid>    GSI1SK=ALLOC#<aid>       the allocations bound for a community
    GSI1PK=MARKET#<sd>#<day>  GSI1SK=POINT#<pid>#v<nn>      a day's market reports in a sub-district
    GSI1PK=SPECIAL#<cid>    GSI1SK=CHECKIN#<since>#<flat_key>
                            a community's special households, longest unchecked first (sparse:
                            only flagged households carry it); <since> is the last check-in, or
                            the flagging if there was none
    """

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class Item(Model):
    """Base of every item in the table."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    kind = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    by_owner = OwnerIndex()


class SubDistrict(Item, discriminator="SubDistrict"):
    """街道 sub-district.  PK=SUBDISTRICT#<id>  SK=SUBDISTRICT"""

    sub_district_id = UnicodeAttribute()
    name = UnicodeAttribute()


class Building(MapAttribute):
    """楼栋 building, with its 单元 units in display order (may be empty)."""

    name = UnicodeAttribute()
    units = ListAttribute(of=UnicodeAttribute, default=list)


class DistributionPoint(MapAttribute):
    """The community's one active distribution point (配送点)."""

    name = UnicodeAttribute()
    note = UnicodeAttribute(default="")
    since = UTCDateTimeAttribute()


class InfoOfficer(MapAttribute):
    """The community's one active information officer (信息员), a staff account."""

    staff_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    since = UTCDateTimeAttribute()


class Community(Item, discriminator="Community"):
    """小区 community.  PK=COMMUNITY#<id>  SK=COMMUNITY;  GSI1PK=JOIN#<join_key>  GSI1SK=COMMUNITY

    At most one active distribution point and one active information officer
    (plan 1: 每个小区建立一个配送点，确定一名信息员): each is set only if absent,
    and retired before another is set.
    """

    community_id = UnicodeAttribute()
    sub_district_id = UnicodeAttribute()
    name = UnicodeAttribute()
    join_key = UnicodeAttribute()
    buildings = ListAttribute(of=Building)
    distribution_point = DistributionPoint(null=True)
    info_officer = InfoOfficer(null=True)
    check_in_interval_days = NumberAttribute(default=3)
    fair_share_days = NumberAttribute(default=3)  # one live order per household per N days; 0: off


class Household(Item, discriminator="Household"):
    """户 household: one flat, and the family phones that may act for it.

    PK=COMMUNITY#<cid>  SK=HOUSEHOLD#<flat_key>
    special ones also GSI1PK=SPECIAL#<cid>  GSI1SK=CHECKIN#<since>#<flat_key>

    `members` maps a member id (the `sub` of that phone's token) to
    {phone, status: "member"|"pending", added_at}. It lives in this item so the
    order path's read of the flat proves membership for free. Every change to
    it is conditional on `members_rev`, so two approvals or removals at once
    never overwrite each other.
    """

    household_id = UnicodeAttribute()
    community_id = UnicodeAttribute()
    flat_key = UnicodeAttribute()
    building = UnicodeAttribute()
    unit = UnicodeAttribute(default="")
    room = UnicodeAttribute()
    members = MapAttribute(default=dict)
    members_rev = NumberAttribute(default=0)
    # Whom the supplier calls about the bag: the first phone, or a landline the liaison entered.
    contact_phone = UnicodeAttribute(default="")
    name = UnicodeAttribute(default="")
    registered_by = UnicodeAttribute(null=True)  # a staff id when the liaison registered the flat
    created_at = UTCDateTimeAttribute()
    # 特殊人群: {category, note, contact_name, contact_phone, needs, flagged_at, flagged_by}
    special = MapAttribute(null=True)
    last_check_in_at = UTCDateTimeAttribute(null=True)


class CheckIn(Item, discriminator="CheckIn"):
    """A phone call or visit to a special household (每3天电话了解).

    PK=HOUSEHOLD#<hid>  SK=CHECKIN#<at>#<check_in_id>
    """

    check_in_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    method = UnicodeAttribute()
    outcome = UnicodeAttribute()
    notes = UnicodeAttribute(default="")
    by = UnicodeAttribute()
    by_role = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class Supplier(Item, discriminator="Supplier"):
    """供应商 supplier (shop, platform or supermarket).  PK=SUPPLIER#<id>  SK=SUPPLIER"""

    supplier_id = UnicodeAttribute()
    sub_district_id = UnicodeAttribute()
    name = UnicodeAttribute()
    phone = UnicodeAttribute(default="")


class SubDistrictListing(Item, discriminator="SubDistrictListing"):
    """A community or a supplier, listed under its sub-district (a round may serve only these).

    PK=SUBDISTRICT#<sid>  SK=COMMUNITY#<cid> | SUPPLIER#<sid> | SITE#<site_id>; written with the community,
    supplier or site.
    """

    listed_id = UnicodeAttribute()
    name = UnicodeAttribute()


class Round(Item, discriminator="Round"):
    """团购轮次 round: one supplier's offer to one or more communities.

    PK=ROUND#<rid>  SK=ROUND;  GSI1PK=SUPPLIER#<sid>  GSI1SK=ROUND#<rid>
    Written last when a round is created: a round without this item does not exist.
    """

    round_id = UnicodeAttribute()
    name = UnicodeAttribute()
    supplier_id = UnicodeAttribute()
    supplier_name = UnicodeAttribute()
    community_ids = ListAttribute(of=UnicodeAttribute)
    opens_at = UTCDateTimeAttribute()
    closes_at = UTCDateTimeAttribute()
    payment_deadline = UTCDateTimeAttribute()
    payment_qr = UnicodeAttribute()  # the QR's text; "" when the round has an uploaded image instead
    payment_qr_key = UnicodeAttribute(null=True)  # S3 key of the uploaded QR image (api/payment_qr.py)
    state = UnicodeAttribute(default="active")
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    closed_early_at = UTCDateTimeAttribute(null=True)  # the supplier closed it before closes_at (提前截单)
    closed_early_by = UnicodeAttribute(null=True)


class RoundListing(Item, discriminator="RoundListing"):
    """A round as listed in one community.  PK=COMMUNITY#<cid>  SK=ROUND#<rid>"""

    round_id = UnicodeAttribute()


class BundleItem(MapAttribute):
    """One line inside a bundle: 大米 5 kg."""

    name = UnicodeAttribute()
    qty = UnicodeAttribute()
    unit = UnicodeAttribute(default="")


class Bundle(Item, discriminator="Bundle"):
    """套餐 bundle of a round.  PK=ROUND#<rid>  SK=ROUND#BUNDLE#<bid>

    Shares the SK prefix `ROUND` with its round so one Query loads both, and is
    keyed by id so an order fetches exactly its bundles by key. `position` is
    the order the supplier listed them in.
    """

    bundle_id = UnicodeAttribute()
    position = NumberAttribute()
    name = UnicodeAttribute()
    items = ListAttribute(of=BundleItem)
    price_fen = NumberAttribute()
    stock_total = NumberAttribute()
    stock_left = NumberAttribute()
    per_household_limit = NumberAttribute()
    # The round's closes_at, kept equal to it (written with the round; 提前截单 updates both in one
    # transaction): an order's transaction checks the bundle it takes stock from, so it never touches the
    # round item, which grows to ~6 KB with 200 communities and would be every order's hottest item
    # (docs/capacity.md).
    closes_at = UTCDateTimeAttribute()


class OrderLine(MapAttribute):
    bundle_id = UnicodeAttribute()
    name = UnicodeAttribute()
    qty = NumberAttribute()
    price_fen = NumberAttribute()


class Order(Item, discriminator="Order"):
    """订单 order: one bag for one household.

    PK=ROUND#<rid>  SK=ORDER#<cid>#<flat_key>#<order_id>
    GSI1PK=HOUSEHOLD#<hid>  GSI1SK=ORDER#<order_id>
    """

    order_id = UnicodeAttribute()
    round_id = UnicodeAttribute()
    round_name = UnicodeAttribute()
    payment_deadline = UTCDateTimeAttribute()
    payment_qr = UnicodeAttribute(default="")
    community_id = UnicodeAttribute()
    household_id = UnicodeAttribute()
    building = UnicodeAttribute()
    unit = UnicodeAttribute(default="")
    room = UnicodeAttribute()
    phone = UnicodeAttribute(default="")
    lines = ListAttribute(of=OrderLine)
    total_fen = NumberAttribute()
    status = UnicodeAttribute()
    pickup_code = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    assisted_by = UnicodeAttribute(null=True)  # the staff id of a liaison who ordered for the flat (代下单)
    # Payment (see api/order_state.py): what the resident claimed, when the supplier confirmed,
    # and why an order was expired, rejected, cancelled or taken back.
    payment_reference = UnicodeAttribute(null=True)
    claimed_at = UTCDateTimeAttribute(null=True)
    confirmed_at = UTCDateTimeAttribute(null=True)
    transaction_id = UnicodeAttribute(null=True)  # the statement row that confirmed it
    refund = UnicodeAttribute(null=True)          # "due" or "refunded", on a paid order the supplier cancelled
    reason = UnicodeAttribute(null=True)
    reason_en = UnicodeAttribute(null=True)
    holds_fair_share = BooleanAttribute(default=False)  # this order took the household's fair-share slot
    packed_at = UTCDateTimeAttribute(null=True)
    packed_by = UnicodeAttribute(null=True)
    picked_up_at = UTCDateTimeAttribute(null=True)   # 取货: one record, the first mark's
    picked_up_by = UnicodeAttribute(null=True)
    pickup_method = UnicodeAttribute(null=True)       # self | door
    status_before_pickup = UnicodeAttribute(null=True)  # what an undo goes back to


class SlotGroup(MapAttribute):
    """Flats called down together: a building, one unit of it (`unit`), or floors of one (`floors`: [from, to])."""

    building = UnicodeAttribute()
    unit = UnicodeAttribute(null=True)      # None: the whole building; "" a building without units
    floors = ListAttribute(of=NumberAttribute, null=True)


class Slot(MapAttribute):
    slot_id = UnicodeAttribute()
    starts_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute()
    groups = ListAttribute(of=SlotGroup)
    households = NumberAttribute(default=0)
    announced_at = UTCDateTimeAttribute(null=True)


class SlotPlan(Item, discriminator="SlotPlan"):
    """分楼栋错峰取货: a round's pickup slots in one community, at its distribution point.

    PK=COMMUNITY#<cid>  SK=SLOTPLAN#<rid>. Each household's slot follows from its flat (nothing
    is written per order); every edit is conditional on `version`.
    """

    round_id = UnicodeAttribute()
    community_id = UnicodeAttribute()
    version = NumberAttribute()
    minutes_per_slot = NumberAttribute()
    households_per_slot = NumberAttribute()
    slots = ListAttribute(of=Slot)
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()


class Arrival(Item, discriminator="Arrival"):
    """货已到: a round's goods arrived in a community.  PK=COMMUNITY#<cid>  SK=ARRIVAL#<rid>"""

    round_id = UnicodeAttribute()
    arrived_at = UTCDateTimeAttribute()
    by = UnicodeAttribute()
    note = UnicodeAttribute(default="")


class Notice(Item, discriminator="Notice"):
    """通知 to the residents of one building.

    PK=NOTICE#<cid>#B<building position:03>  SK=NOTICE#<created ISO>#<notice_id>; `expires_at` (TTL, 30 days).
    A resident's poll is one Query of their building's partition after a cursor.
    """

    notice_id = UnicodeAttribute()
    notice_kind = UnicodeAttribute(attr_name="notice_kind")
    round_id = UnicodeAttribute()
    round_name = UnicodeAttribute()
    building = UnicodeAttribute()
    starts_at = UTCDateTimeAttribute(null=True)
    ends_at = UTCDateTimeAttribute(null=True)
    point = UnicodeAttribute(default="")
    text = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class PushSubscription(Item, discriminator="PushSubscription"):
    """One phone's Web Push subscription, in its building.

    PK=PUSH#<cid>#B<building position:03>  SK=MEMBER#<member_id>#<sha256(endpoint)[:32]>; TTL 90 days.
    """

    endpoint = UnicodeAttribute()
    p256dh = UnicodeAttribute()
    auth = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class OrderKey(Item, discriminator="OrderKey"):
    """Finds an order by its id alone (a supplier confirming, a volunteer at the gate).

    PK=ORDERID#<order_id>  SK=ORDERID; written in the order's own transaction.
    """

    round_id = UnicodeAttribute()
    order_sk = UnicodeAttribute()


class LedgerEntry(Item, discriminator="LedgerEntry"):
    """One change of an order's money state (下单, 申报付款, 确认, 过期, 取消, 退款), never changed.

    PK=ROUND#<rid>  SK=LEDGER#<entry_id>   (ULIDs: oldest first)
    `from_state` / `to_state` are money states: "" (none yet), open, claimed, paid,
    expired, cancelled, refund_due, refunded.
    """

    order_id = UnicodeAttribute()
    community_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    by = UnicodeAttribute()
    by_role = UnicodeAttribute()
    from_state = UnicodeAttribute()
    to_state = UnicodeAttribute()
    amount_fen = NumberAttribute()
    reason = UnicodeAttribute(default="")


class FairShare(Item, discriminator="FairShare"):
    """A household's fair-share slot (每户每3天报送1次): taken by a live order until `live_until`.

    PK=COMMUNITY#<cid>  SK=FAIRSHARE#<flat_key>
    Keyed by flat, not household id, so the order path's BatchGetItem can read it by key.
    """

    live_until = UTCDateTimeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)


class FairShareExemption(Item, discriminator="FairShareExemption"):
    """The liaison lets one household order in one round despite the fair-share rule.

    PK=COMMUNITY#<cid>  SK=EXEMPT#<flat_key>#<rid>
    """

    round_id = UnicodeAttribute()
    by = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class TransactionUse(Item, discriminator="TransactionUse"):
    """A wallet statement's transaction number, once it has confirmed an order: never twice.

    PK=SUPPLIER#<sid>  SK=TXN#<transaction_id>
    """

    order_id = UnicodeAttribute()
    round_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class DeadlineMarker(Item, discriminator="DeadlineMarker"):
    """A round's payment deadline, so the expiry job finds due rounds by key (no Scan).

    PK=DEADLINE#<yyyy-mm-dd, UTC>  SK=<deadline ISO>#<rid>; `swept` once its unpaid orders expired.
    """

    round_id = UnicodeAttribute()
    swept = BooleanAttribute(default=False)


class PickupCodeClaim(Item, discriminator="PickupCodeClaim"):
    """Reserves a 取货码 within a round so no two bags share one, and finds the bag at the gate.

    PK=PICKUP#<rid>#<code>  SK=PICKUP
    """

    order_id = UnicodeAttribute()
    order_sk = UnicodeAttribute()


class HouseholdQuota(Item, discriminator="HouseholdQuota"):
    """How many of a bundle a household has ordered in a round (每户限购).

    PK=HOUSEHOLD#<hid>  SK=QUOTA#<rid>#<bid>
    """

    qty = NumberAttribute(null=True)


class IdempotencyRecord(Item, discriminator="IdempotencyRecord"):
    """A write already done under an Idempotency-Key (Powertools-style).

    PK=IDEMPOTENCY#<caller>#<key>  SK=IDEMPOTENCY; `expires_at` is the table's TTL.
    """

    payload_hash = UnicodeAttribute()
    result_pk = UnicodeAttribute()
    result_sk = UnicodeAttribute()
    expires_at = TTLAttribute()


class RateCounter(Item, discriminator="RateCounter"):
    """A fixed-window request counter of api/limits.py: one item per limit, caller and window.

    PK=LIMIT#<limit>#<caller>#<window start, epoch seconds>  SK=LIMIT
    <limit> is ip_writes, household_writes, staff_writes or join; <caller> an IP address, a household
    id or a staff id. `n` counts the requests let through, `miss` (join only) the unknown join keys.
    Written by one conditional UpdateItem (ADD n :1 if n < limit); `expires_at` is the table's TTL.
    """

    n = NumberAttribute(default=0)
    miss = NumberAttribute(null=True)
    expires_at = TTLAttribute()


class ExportJob(Item, discriminator="ExportJob"):
    """An export built in the background (api/export_jobs.py).

    PK=EXPORTJOB#<job_id>  SK=EXPORTJOB; `expires_at` (TTL) removes it with its file, after 7 days.
    `owner_role`/`owner_scope` are the creator's: only the same supplier (or community) may read it.
    """

    job_id = UnicodeAttribute()
    round_id = UnicodeAttribute()
    kind_of_export = UnicodeAttribute(attr_name="export_kind")
    format = UnicodeAttribute()
    layout = UnicodeAttribute(default="")
    status_filter = UnicodeAttribute()
    community_id = UnicodeAttribute(null=True)
    building = UnicodeAttribute(null=True)
    owner_role = UnicodeAttribute()
    owner_scope = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    state = UnicodeAttribute(default="queued")
    done = NumberAttribute(default=0)
    total = NumberAttribute(default=0)
    s3_key = UnicodeAttribute(null=True)
    filename = UnicodeAttribute(default="")
    content_type = UnicodeAttribute(default="")
    error_code = UnicodeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)  # the last progress; a running job silent for long has died
    expires_at = TTLAttribute()


class Invite(Item, discriminator="Invite"):
    """One-time staff invite.  PK=INVITE#<code>  SK=INVITE"""

    role = UnicodeAttribute()
    scope_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")  # shown to residents for an information officer
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    accepted_at = UTCDateTimeAttribute(null=True)
    accepted_by = UnicodeAttribute(null=True)
    # sha256 of the accepting device's Idempotency-Key: that device may ask again if the answer was lost.
    accepted_key_hash = UnicodeAttribute(null=True)


class StaffMember(Item, discriminator="StaffMember"):
    """A liaison, information officer, volunteer, supplier or admin account.  PK=STAFF#<uid>  SK=STAFF"""

    staff_id = UnicodeAttribute()
    role = UnicodeAttribute()
    scope_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute()
    retired_at = UTCDateTimeAttribute(null=True)


class UnloadingPoint(MapAttribute):
    """卸货点 a designated unloading point of a site, and the route a vehicle drives to it."""

    point_id = UnicodeAttribute()
    name = UnicodeAttribute()
    route = UnicodeAttribute(default="")


class Site(Item, discriminator="Site"):
    """门岗 site: a community's gate (site_id = the community's id) or a campus run the same way (plan 2).

    PK=SITE#<site_id>  SK=SITE.  Its deliveries and its log share the partition (SK=DELIVERY#…, EVENT#…).
    """

    site_id = UnicodeAttribute()
    name = UnicodeAttribute()
    community_id = UnicodeAttribute(null=True)
    sub_district_id = UnicodeAttribute()
    lead_hours = NumberAttribute(default=24)          # 提前一天报备
    test_valid_hours = NumberAttribute(default=48)    # 48小时内核酸检测阴性证明
    rest_minutes = NumberAttribute(default=30)        # 消杀后静置30分钟
    disinfectant = UnicodeAttribute(default="84消毒液")
    ratio = UnicodeAttribute(default="1:100")
    unloading_points = ListAttribute(of=UnloadingPoint, default=list)
    handover_area = UnicodeAttribute(default="大门货物接驳区")
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class Person(MapAttribute):
    """A driver or passenger (司乘人员) and the upload keys of their checklist."""

    role = UnicodeAttribute()
    name = UnicodeAttribute()
    id_number = UnicodeAttribute()
    phone = UnicodeAttribute()
    test_at = UTCDateTimeAttribute()
    documents = MapAttribute(default=dict)  # checklist name → S3 key


class Disinfection(MapAttribute):
    """消杀: at the gate, or of the packaging after unloading (the second)."""

    stage = UnicodeAttribute()
    operator = UnicodeAttribute()
    disinfectant = UnicodeAttribute()
    ratio = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    by = UnicodeAttribute()


class Delivery(Item, discriminator="Delivery"):
    """车辆入场 a vehicle's registered delivery to a site, its review and its steps at the gate.

    PK=SITE#<site_id>  SK=DELIVERY#<delivery_id>;  GSI1PK=SUPPLIER#<sid>  GSI1SK=DELIVERY#<ulid>
    `delivery_id` is `<arrival day, Beijing, YYYYMMDD>-<ULID>`, so "the vehicles of a day at a site"
    is one Query on the prefix. Every change is conditional on `status` (api/gate.py).
    """

    delivery_id = UnicodeAttribute()
    site_id = UnicodeAttribute()
    supplier_id = UnicodeAttribute()
    supplier_name = UnicodeAttribute()
    plate = UnicodeAttribute()
    vehicle_type = UnicodeAttribute()
    mode = UnicodeAttribute()  # enter | handover
    arrive_from = UTCDateTimeAttribute()
    arrive_until = UTCDateTimeAttribute()
    cargo = ListAttribute(of=UnicodeAttribute)
    round_ids = ListAttribute(of=UnicodeAttribute, default=list)
    note = UnicodeAttribute(default="")
    people = ListAttribute(of=Person)
    status = UnicodeAttribute()
    registered_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    review_decision = UnicodeAttribute(null=True)
    review_reason = UnicodeAttribute(null=True)
    reviewed_by = UnicodeAttribute(null=True)
    reviewed_at = UTCDateTimeAttribute(null=True)
    arrived_at = UTCDateTimeAttribute(null=True)
    outside_window = BooleanAttribute(default=False)
    disinfections = ListAttribute(of=Disinfection, default=list)
    rest_ends_at = UTCDateTimeAttribute(null=True)
    point = UnloadingPoint(null=True)
    released_at = UTCDateTimeAttribute(null=True)
    unloaded_at = UTCDateTimeAttribute(null=True)
    departed_at = UTCDateTimeAttribute(null=True)
    set_down_at = UTCDateTimeAttribute(null=True)
    left_at = UTCDateTimeAttribute(null=True)


class GateEvent(Item, discriminator="GateEvent"):
    """督查 one event of a site's supervision log; append-only (put only if absent, never updated).

    PK=SITE#<site_id>  SK=EVENT#<UTC time, microseconds>#<event_id>: a day's log is one Query.
    """

    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    delivery_id = UnicodeAttribute(null=True)
    plate = UnicodeAttribute(default="")
    by = UnicodeAttribute()
    by_role = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    details = MapAttribute(default=dict)
    deviation = UnicodeAttribute(null=True)


class DemandLine(MapAttribute):
    category = UnicodeAttribute()
    quantity = NumberAttribute()
    unit = UnicodeAttribute()
    note = UnicodeAttribute(default="")


class DemandReport(Item, discriminator="DemandReport"):
    """需求上报 a community's needs for a day; a replaced report stays, with `current` False.

    PK=COMMUNITY#<cid>  SK=DEMAND#<day>#v<nn>;  GSI1PK=DEMAND#<sd>#<day>  GSI1SK=COMMUNITY#<cid>#v<nn>
    """

    community_id = UnicodeAttribute()
    community_name = UnicodeAttribute()
    sub_district_id = UnicodeAttribute()
    day = UnicodeAttribute()
    version = NumberAttribute()
    lines = ListAttribute(of=DemandLine)
    current = BooleanAttribute(default=True)
    reported_by = UnicodeAttribute()
    reported_at = UTCDateTimeAttribute()


class StepRecord(MapAttribute):
    status = UnicodeAttribute()
    by = UnicodeAttribute()
    by_role = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    note = UnicodeAttribute(default="")


class Settlement(MapAttribute):
    unit_price_fen = NumberAttribute()
    price_source = UnicodeAttribute()  # market | entered
    reason = UnicodeAttribute(default="")
    amount_fen = NumberAttribute()
    settled_at = UTCDateTimeAttribute()
    settled_by = UnicodeAttribute()
    paid_at = UTCDateTimeAttribute(null=True)


class Allocation(Item, discriminator="Allocation"):
    """调拨单 an allocation order (or a government reserve release, 政府储备投放) to a community.

    PK=SUBDISTRICT#<sd>  SK=ALLOC#<aid>;  GSI1PK=ALLOCTO#<cid>  GSI1SK=ALLOC#<aid>
    Every step is conditional on the status read; `distributed_qty` grows with the community's
    distribute lines, in the same transaction, never past `quantity`.
    """

    allocation_id = UnicodeAttribute()
    sub_district_id = UnicodeAttribute()
    category = UnicodeAttribute()
    quantity = NumberAttribute()
    unit = UnicodeAttribute()
    spec = UnicodeAttribute(default="")
    unit_price_fen = NumberAttribute()
    source = UnicodeAttribute()  # supplier | reserve
    supplier_id = UnicodeAttribute(null=True)
    supplier_name = UnicodeAttribute(default="")
    reserve_name = UnicodeAttribute(default="")
    community_id = UnicodeAttribute()
    community_name = UnicodeAttribute()
    destination = UnicodeAttribute(default="")
    deliver_at = UTCDateTimeAttribute()
    contact_name = UnicodeAttribute()
    contact_phone = UnicodeAttribute()
    status = UnicodeAttribute()
    history = ListAttribute(of=StepRecord, default=list)
    allocated_on = UnicodeAttribute(null=True)  # YYYY-MM-DD, Beijing: the day of the market price
    distributed_qty = NumberAttribute(default=0)
    distributed_at = UTCDateTimeAttribute(null=True)  # the end of supply: settlement falls due from here
    settlement = Settlement(null=True)
    created_at = UTCDateTimeAttribute()


class StockBalance(Item, discriminator="StockBalance"):
    """A community's balance of one category and unit.  PK=COMMUNITY#<cid>  SK=STOCK#<category>#<unit>

    Changed only with a ledger line, in one transaction conditional on `seq` (the number of lines so
    far), so each line's `balance_after` is exact and the balance is never below zero.
    """

    category = UnicodeAttribute()
    unit = UnicodeAttribute()
    balance = NumberAttribute(default=0)
    seq = NumberAttribute(default=0)


class StockLine(Item, discriminator="StockLine"):
    """收发台账 one line of a community's receive or distribute ledger; append-only.

    PK=COMMUNITY#<cid>  SK=STOCKLINE#<line_id>; a correction is a new line with `corrects`.
    """

    line_id = UnicodeAttribute()
    line_kind = UnicodeAttribute()  # receive | distribute | correction
    category = UnicodeAttribute()
    unit = UnicodeAttribute()
    quantity = NumberAttribute()  # signed: receive +, distribute −
    balance_after = NumberAttribute()
    allocation_id = UnicodeAttribute(null=True)
    to = MapAttribute(null=True)
    corrects = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(default="")
    note = UnicodeAttribute(default="")
    by = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class Commodity(MapAttribute):
    commodity_id = UnicodeAttribute()
    name = UnicodeAttribute()
    category = UnicodeAttribute()
    unit = UnicodeAttribute()


class SupplyPoint(Item, discriminator="SupplyPoint"):
    """保供网点 a supply point reporting price and stock daily (plan 4).  PK=POINT#<pid>  SK=POINT"""

    point_id = UnicodeAttribute()
    sub_district_id = UnicodeAttribute()
    name = UnicodeAttribute()
    point_kind = UnicodeAttribute()  # market | supermarket | shop | enterprise
    address = UnicodeAttribute(default="")
    usual_markup_pct = NumberAttribute(default=20)
    commodities = ListAttribute(of=Commodity, default=list)
    created_at = UTCDateTimeAttribute()


class PriceLine(MapAttribute):
    commodity_id = UnicodeAttribute()
    name = UnicodeAttribute()
    category = UnicodeAttribute()
    unit = UnicodeAttribute()
    price_fen = NumberAttribute()
    cost_fen = NumberAttribute()
    stock = NumberAttribute()
    sales = NumberAttribute()


class PointReport(Item, discriminator="PointReport"):
    """A supply point's figures for one day; a replaced one stays with `current` False.

    PK=POINT#<pid>  SK=REPORT#<day>#v<nn>;  GSI1PK=MARKET#<sd>#<day>  GSI1SK=POINT#<pid>#v<nn>
    """

    point_id = UnicodeAttribute()
    point_name = UnicodeAttribute()
    sub_district_id = UnicodeAttribute()
    day = UnicodeAttribute()
    version = NumberAttribute()
    lines = ListAttribute(of=PriceLine)
    current = BooleanAttribute(default=True)
    reported_by = UnicodeAttribute()
    reported_at = UTCDateTimeAttribute()


class MarketAlert(Item, discriminator="MarketAlert"):
    """An alert from a point's report (库销比 low or falling, a price jump, gouging).

    PK=MARKET#<sd>  SK=ALERT#<day>#<alert_id>
    """

    alert_id = UnicodeAttribute()
    alert_kind = UnicodeAttribute()
    point_id = UnicodeAttribute()
    point_name = UnicodeAttribute()
    commodity = UnicodeAttribute()
    day = UnicodeAttribute()
    value = NumberAttribute()
    threshold = NumberAttribute()
    text = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class MarketSummary(Item, discriminator="MarketSummary"):
    """The scheduled daily or periodic (10th, 20th, 30th) market report of a sub-district.

    PK=MARKET#<sd>  SK=SUMMARY#<daily|periodic>#<day>; the sub-districts to report on are listed at
    PK=MARKETS  SK=SUBDISTRICT#<sd> (written with their first supply point).
    """

    report_kind = UnicodeAttribute()
    day = UnicodeAttribute()
    period_from = UnicodeAttribute()
    period_to = UnicodeAttribute()
    commodities = ListAttribute(default=list)  # [{name, category, unit, avg_fen, min_fen, max_fen, stock, sales}]
    missing = ListAttribute(default=list)      # [{point_id, name}]
    alerts = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()


class MarketRegistry(Item, discriminator="MarketRegistry"):
    """A sub-district with supply points, for the scheduled report.  PK=MARKETS  SK=SUBDISTRICT#<sd>"""

    sub_district_id = UnicodeAttribute()


# Created here, on the base model, so every model class inherits this one
# TableConnection: one botocore client and connection pool for the whole app.
Item._get_connection()


def transaction_connection() -> Connection:
    """The connection TransactWrite uses: the same one the models use."""
    return Item._get_connection().connection


def dynamodb_client():
    """The botocore client every DynamoDB call goes through (for call-count hooks and metrics)."""
    return transaction_connection().client


def create_table() -> None:
    """Create the table and turn on TTL (local stack and tests; prod uses infra/table.yaml)."""
    if not Item.exists():
        Item.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
        Item._get_connection().connection.client.update_time_to_live(
            TableName=config.TABLE_NAME,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
