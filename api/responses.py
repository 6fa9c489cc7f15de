"""The shapes of the JSON answers, for the OpenAPI document only (GET /api/openapi.json and the tests).

No request path imports this module (api/openapi.py does, inside `_build`), so a cold Lambda does not build
these classes. A route names its answer as a string, `@documented(..., response="OrdersOutSchema")`, resolved
here when the document is built; the class name is the OpenAPI component's name (without "Schema").
A piece the request path also uses stays in api/schemas.py and is imported from there (BundleItemSchema);
a whole answer that it uses would be re-exported here under its own name.
"""
from marshmallow import Schema, fields

from api.schemas import BundleItemSchema


# --- exports ------------------------------------------------------------------

class ExportJobOutSchema(Schema):
    """A background export: GET /api/export-jobs/{job_id}."""

    job_id = fields.String()
    round_id = fields.String()
    kind = fields.String()
    format = fields.String()
    layout = fields.String(allow_none=True)
    status = fields.String()
    community_id = fields.String(allow_none=True)
    building = fields.String(allow_none=True)
    state = fields.String()
    done = fields.Integer()
    total = fields.Integer()
    filename = fields.String()
    url = fields.String(allow_none=True)
    url_expires_at = fields.String(allow_none=True)
    error = fields.Dict(allow_none=True)
    created_at = fields.String()
    finished_at = fields.String(allow_none=True)


# --- errors, households, rounds, orders, payments, health -----------------------

class ErrorBodySchema(Schema):
    code = fields.String()
    message = fields.String()
    message_en = fields.String()
    fields = fields.Dict()


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)


class BuildingOutSchema(Schema):
    name = fields.String()
    units = fields.List(fields.String())


class PickupPointOutSchema(Schema):
    name = fields.String()
    note = fields.String()
    since = fields.String(allow_none=True)


class CommunityPublicSchema(Schema):
    community_id = fields.String()
    name = fields.String()
    sub_district = fields.Dict()
    buildings = fields.List(fields.Nested(BuildingOutSchema))
    distribution_point = fields.Nested(PickupPointOutSchema, allow_none=True)
    pickup_points = fields.List(fields.Nested(PickupPointOutSchema))
    info_officer = fields.Dict(allow_none=True)


class CommunityOutSchema(Schema):
    community_id = fields.String()
    name = fields.String()
    sub_district_id = fields.String()
    buildings = fields.List(fields.Nested(BuildingOutSchema))
    join_url = fields.String()
    distribution_point = fields.Dict(allow_none=True)
    info_officer = fields.Dict(allow_none=True)
    settings = fields.Dict()


class HouseholdCreatedSchema(Schema):
    household_id = fields.String()
    member_id = fields.String()
    membership = fields.String()
    token = fields.String()
    community_id = fields.String()
    flat = fields.Dict()
    phone_masked = fields.String()


class MemberOutSchema(Schema):
    member_id = fields.String()
    phone_masked = fields.String()
    status = fields.String()
    added_at = fields.String()
    me = fields.Boolean()


class HouseholdMineSchema(Schema):
    household_id = fields.String()
    community_id = fields.String()
    flat = fields.Dict()
    flat_label = fields.String()
    me = fields.Dict()
    members = fields.List(fields.Nested(MemberOutSchema))
    # Only when the caller took their own phone off the flat: then the answer is {household_id, left: true}.
    left = fields.Boolean()


class RosterEntrySchema(Schema):
    flat_ref = fields.String()
    household_id = fields.String()
    building = fields.String()
    unit = fields.String()
    room = fields.String()
    flat_label = fields.String()
    name = fields.String()
    contact_phone_masked = fields.String()
    members = fields.List(fields.Nested(MemberOutSchema))
    member_count = fields.Integer()
    pending_count = fields.Integer()
    attention = fields.Boolean()
    special = fields.Dict(allow_none=True)
    order = fields.Dict(allow_none=True)


class RosterOutSchema(Schema):
    community_id = fields.String()
    round = fields.Dict(allow_none=True)
    buildings = fields.List(fields.String())
    households = fields.List(fields.Nested(RosterEntrySchema))
    counts = fields.Dict()


class CheckInOutSchema(Schema):
    check_in_id = fields.String()
    at = fields.String()
    method = fields.String()
    outcome = fields.String()
    notes = fields.String()
    by_role = fields.String()


class HouseholdDetailSchema(RosterEntrySchema):
    check_ins = fields.List(fields.Nested(CheckInOutSchema))
    orders = fields.List(fields.Dict())


class SpecialHouseholdSchema(RosterEntrySchema):
    phones = fields.List(fields.String())
    contact_phone = fields.String()
    due_at = fields.String()
    overdue = fields.Boolean()
    overdue_hours = fields.Integer()
    no_order_yet = fields.Boolean()


class SpecialListSchema(Schema):
    interval_days = fields.Integer()
    households = fields.List(fields.Nested(SpecialHouseholdSchema))


class BundleOutSchema(Schema):
    bundle_id = fields.String()
    name = fields.String()
    items = fields.List(fields.Nested(BundleItemSchema))
    price_fen = fields.Integer()
    stock_total = fields.Integer()
    stock_left = fields.Integer()
    per_household_limit = fields.Integer()


class RoundOutSchema(Schema):
    round_id = fields.String()
    name = fields.String()
    status = fields.String()
    opens_at = fields.String()
    closes_at = fields.String()
    payment_deadline = fields.String()
    payment_qr = fields.String()
    payment_qr_url = fields.String()
    supplier = fields.Dict()
    community_ids = fields.List(fields.String())
    bundles = fields.List(fields.Nested(BundleOutSchema))


class RoundsOutSchema(Schema):
    rounds = fields.List(fields.Nested(RoundOutSchema))


class RoundDetailOutSchema(RoundOutSchema):
    """A round on its console: GET /api/rounds/{round_id}."""

    closed_early_at = fields.String(allow_none=True)
    totals = fields.Dict()
    by_status = fields.Dict()
    communities = fields.List(fields.Dict())


class PackedOutSchema(Schema):
    packed = fields.Integer()
    not_paid = fields.Integer()
    already_packed = fields.Integer()
    next_cursor = fields.String(allow_none=True)


class AnnouncementsOutSchema(Schema):
    announcements = fields.List(fields.Dict())


class SupplierCommunitiesOutSchema(Schema):
    communities = fields.List(fields.Dict())


class SuppliersOutSchema(Schema):
    suppliers = fields.List(fields.Dict())


class PaymentQrUploadOutSchema(Schema):
    """A presigned S3 POST: send `fields`, then `Content-Type` (image/png or image/jpeg), then `file`, to `url`."""

    url = fields.String()
    key = fields.String()
    max_bytes = fields.Integer()
    content_types = fields.List(fields.String())
    fields = fields.Dict()  # last: it shadows the `fields` module in this class body


class OrderLineOutSchema(Schema):
    bundle_id = fields.String()
    name = fields.String()
    qty = fields.Integer()
    price_fen = fields.Integer()


class ReasonOutSchema(Schema):
    message = fields.String()
    message_en = fields.String()


class PaymentOutSchema(Schema):
    """An order's payment (api/orders.payment_view)."""

    reference = fields.String(allow_none=True)
    claimed_at = fields.String(allow_none=True)
    confirmed_at = fields.String(allow_none=True)
    refund = fields.String(allow_none=True)
    reason = fields.Nested(ReasonOutSchema, allow_none=True)


class PickedUpOutSchema(Schema):
    at = fields.String()
    method = fields.String(allow_none=True)


class OrderOutSchema(Schema):
    order_id = fields.String()
    round_id = fields.String()
    round_name = fields.String()
    status = fields.String()
    total_fen = fields.Integer()
    pickup_code = fields.String()
    lines = fields.List(fields.Nested(OrderLineOutSchema))
    created_at = fields.String()
    payment_deadline = fields.String()
    payment_qr = fields.String(allow_none=True)
    payment_qr_url = fields.String()
    payment_note = fields.String()
    payment = fields.Nested(PaymentOutSchema)
    assisted_by = fields.String(allow_none=True)
    pickup_slot = fields.Dict(allow_none=True)
    arrived_at = fields.String(allow_none=True)
    picked_up = fields.Nested(PickedUpOutSchema, allow_none=True)
    notices = fields.List(fields.Dict())


class OrdersOutSchema(Schema):
    orders = fields.List(fields.Nested(OrderOutSchema))


class InviteOutSchema(Schema):
    code = fields.String()
    url = fields.String()
    role = fields.String()
    scope_id = fields.String()
    expires_at = fields.String()


class TokenOutSchema(Schema):
    token = fields.String()
    role = fields.String()
    scope_id = fields.String()


class HealthSchema(Schema):
    ok = fields.Boolean()


class OpenApiOutSchema(Schema):
    """GET /api/openapi.json: this document (OpenAPI 3.0)."""

    openapi = fields.String()
    info = fields.Dict()
    paths = fields.Dict()
    components = fields.Dict()


class CheckOutSchema(Schema):
    ok = fields.Boolean()
    ms = fields.Float()
    error = fields.String()


class HealthChecksOutSchema(Schema):
    table = fields.Nested(CheckOutSchema)


class DeepHealthSchema(Schema):
    """GET /api/health/deep: 200 when every check passed; 503 with the same checks and an `error`."""

    ok = fields.Boolean()
    checks = fields.Nested(HealthChecksOutSchema)
    error = fields.Nested(ErrorBodySchema)


class BoardOrderSchema(Schema):
    order_id = fields.String()
    community_id = fields.String()
    community_name = fields.String()
    flat_label = fields.String()
    building = fields.String()
    unit = fields.String()
    room = fields.String()
    phone_masked = fields.String()
    total_fen = fields.Integer()
    status = fields.String()
    payment_note = fields.String()
    payment = fields.Dict()
    created_at = fields.String()
    assisted = fields.Boolean()


class BoardOutSchema(Schema):
    orders = fields.List(fields.Nested(BoardOrderSchema))
    totals = fields.Dict()
    next_cursor = fields.String(allow_none=True)


class ConfirmOutSchema(Schema):
    confirmed = fields.List(fields.Nested(BoardOrderSchema))
    refused = fields.List(fields.Dict())


class StatementPreviewSchema(Schema):
    format = fields.String()
    rows = fields.Integer()
    matched = fields.List(fields.Dict())
    ambiguous = fields.List(fields.Dict())
    unmatched = fields.List(fields.Dict())
    already_used = fields.List(fields.Dict())
    orders_without_payment = fields.List(fields.Nested(BoardOrderSchema))


class LedgerOutSchema(Schema):
    entries = fields.List(fields.Dict())


class UnpaidRoundOutSchema(Schema):
    round_id = fields.String()
    name = fields.String()
    status = fields.String()


class UnpaidOutSchema(Schema):
    round = fields.Dict(allow_none=True)
    rounds = fields.List(fields.Nested(UnpaidRoundOutSchema))
    community_name = fields.String()
    deadline = fields.String(allow_none=True)
    buildings = fields.List(fields.Dict())
    reminder = fields.String()


class SupplierRoundsOutSchema(Schema):
    rounds = fields.List(fields.Dict())


# --- pickup day ---------------------------------------------------------------------------

class PlanOutSchema(Schema):
    round_id = fields.String()
    round_name = fields.String()
    community_id = fields.String()
    version = fields.Integer()
    minutes_per_slot = fields.Integer()
    households_per_slot = fields.Integer()
    point = fields.Dict(allow_none=True)
    slots = fields.List(fields.Dict())


class NoticesOutSchema(Schema):
    notices = fields.List(fields.Dict())
    cursor = fields.String(allow_none=True)


class ArrivalOutSchema(Schema):
    arrived_at = fields.String()
    notices = fields.List(fields.Dict())


class PickupEntryOutSchema(Schema):
    order_id = fields.String()
    round_id = fields.String()
    community_id = fields.String()
    flat_label = fields.String()
    building = fields.String()
    unit = fields.String()
    room = fields.String()
    phone_masked = fields.String()
    lines = fields.List(fields.Dict())
    status = fields.String()
    paid = fields.Boolean()
    collected = fields.Boolean()
    picked_up = fields.Dict(allow_none=True)
    special = fields.Boolean()


class PickupListOutSchema(Schema):
    round = fields.Dict()
    building = fields.String()
    slot = fields.Dict(allow_none=True)
    households = fields.List(fields.Dict())


class DoorOutSchema(Schema):
    households = fields.List(fields.Dict())


class ProgressOutSchema(Schema):
    buildings = fields.List(fields.Dict())
    totals = fields.Dict()
    waiting = fields.List(fields.Dict())
    reminder = fields.String()
    arrived_at = fields.String(allow_none=True)


class PushKeyOutSchema(Schema):
    public_key = fields.String()


class PushStateOutSchema(Schema):
    subscribed = fields.Boolean()


# --- the gate's answers (api/sites.py, api/deliveries.py, api/gate.py) ----------------------------------

class SiteOutSchema(Schema):
    site_id = fields.String()
    name = fields.String()
    community_id = fields.String(allow_none=True)
    sub_district_id = fields.String()
    lead_hours = fields.Integer()
    test_valid_hours = fields.Integer()
    rest_minutes = fields.Integer()
    disinfectant = fields.String()
    ratio = fields.String()
    unloading_points = fields.List(fields.Dict())
    handover_area = fields.String()


class SitesOutSchema(Schema):
    sites = fields.List(fields.Nested(SiteOutSchema))


class DeliveryOutSchema(Schema):
    delivery_id = fields.String()
    site_id = fields.String()
    supplier_id = fields.String()
    supplier_name = fields.String()
    plate = fields.String()
    vehicle_type = fields.String()
    mode = fields.String()
    arrive_from = fields.String()
    arrive_until = fields.String()
    cargo = fields.List(fields.String())
    round_ids = fields.List(fields.String())
    note = fields.String()
    status = fields.String()
    people = fields.List(fields.Dict())
    review = fields.Dict(allow_none=True)
    gate = fields.Dict()
    server_now = fields.String()


class DeliveriesOutSchema(Schema):
    day = fields.String()
    deliveries = fields.List(fields.Nested(DeliveryOutSchema))


class DocumentUploadOutSchema(Schema):
    url = fields.String()
    fields_ = fields.Dict(data_key="fields")
    key = fields.String()
    max_bytes = fields.Integer()
    content_types = fields.List(fields.String())


class LinkOutSchema(Schema):
    url = fields.String()


class GateEventOutSchema(Schema):
    event_id = fields.String()
    at = fields.String()
    type = fields.String()
    delivery_id = fields.String(allow_none=True)
    plate = fields.String()
    by = fields.String()
    by_role = fields.String()
    details = fields.Dict()
    deviation = fields.String(allow_none=True)


class GateLogOutSchema(Schema):
    day = fields.String()
    events = fields.List(fields.Nested(GateEventOutSchema))
    deviations = fields.List(fields.Nested(GateEventOutSchema))


# --- the supply chain's answers (api/demand.py, allocations.py, stock_ledger.py, settlements.py, monitoring.py) ---

class DemandLineOutSchema(Schema):
    category = fields.String()
    quantity = fields.Integer()
    unit = fields.String()
    note = fields.String()


class DemandReportOutSchema(Schema):
    """One version of a community's demand report (api/demand.view)."""

    community_id = fields.String()
    community_name = fields.String()
    day = fields.String()
    version = fields.Integer()
    current = fields.Boolean()
    replaced = fields.Boolean()
    lines = fields.List(fields.Nested(DemandLineOutSchema))
    reported_by = fields.String()
    reported_at = fields.String()


class DemandHistoryOutSchema(Schema):
    day = fields.String()
    reports = fields.List(fields.Nested(DemandReportOutSchema))


class DemandPrefillLineSchema(Schema):
    category = fields.String()
    quantity = fields.Integer()
    unit = fields.String()
    basis = fields.String()


class DemandPrefillOutSchema(Schema):
    community_id = fields.String()
    lines = fields.List(fields.Nested(DemandPrefillLineSchema))


class CategoryTotalOutSchema(Schema):
    category = fields.String()
    category_text = fields.String()
    unit = fields.String()
    quantity = fields.Integer()


class CommunityDemandOutSchema(Schema):
    community_id = fields.String()
    name = fields.String()
    lines = fields.List(fields.Nested(DemandLineOutSchema))
    reported_at = fields.String()


class CommunityRefOutSchema(Schema):
    community_id = fields.String()
    name = fields.String()


class DemandSummaryOutSchema(Schema):
    day = fields.String()
    by_category = fields.List(fields.Nested(CategoryTotalOutSchema))
    by_community = fields.List(fields.Nested(CommunityDemandOutSchema))
    missing = fields.List(fields.Nested(CommunityRefOutSchema))


class AllocationStepOutSchema(Schema):
    status = fields.String()
    by = fields.String()
    by_role = fields.String()
    at = fields.String()
    note = fields.String(allow_none=True)


class SettlementOutSchema(Schema):
    unit_price_fen = fields.Integer()
    price_source = fields.String()
    reason = fields.String(allow_none=True)
    amount_fen = fields.Integer()
    due_on = fields.String(allow_none=True)
    settled_at = fields.String(allow_none=True)
    paid_at = fields.String(allow_none=True)


class AllocationOutSchema(Schema):
    """调拨单 (api/allocations.view): money in fen, the contact's phone masked."""

    allocation_id = fields.String()
    category = fields.String()
    quantity = fields.Integer()
    unit = fields.String()
    spec = fields.String()
    unit_price_fen = fields.Integer()
    source = fields.String()
    supplier_id = fields.String(allow_none=True)
    supplier_name = fields.String()
    reserve_name = fields.String()
    community_id = fields.String()
    community_name = fields.String()
    destination = fields.String()
    deliver_at = fields.String()
    contact_name = fields.String()
    contact_phone_masked = fields.String()
    status = fields.String()
    history = fields.List(fields.Nested(AllocationStepOutSchema))
    allocated_on = fields.String(allow_none=True)
    distributed_qty = fields.Integer()
    left_to_distribute = fields.Integer()
    distributed_at = fields.String(allow_none=True)
    due_on = fields.String(allow_none=True)
    due_on_is_estimate = fields.Boolean()
    settlement = fields.Nested(SettlementOutSchema, allow_none=True)


class AllocationsOutSchema(Schema):
    allocations = fields.List(fields.Nested(AllocationOutSchema))


class OverdueOutSchema(Schema):
    today = fields.String()
    allocations = fields.List(fields.Nested(AllocationOutSchema))


class LedgerLineOutSchema(Schema):
    """A line of a community's receive and distribute ledger (api/stock_ledger.view)."""

    line_id = fields.String()
    kind = fields.String()
    category = fields.String()
    unit = fields.String()
    quantity = fields.Integer()
    balance_after = fields.Integer()
    allocation_id = fields.String(allow_none=True)
    to = fields.Dict(allow_none=True)
    corrects = fields.String(allow_none=True)
    reason = fields.String()
    note = fields.String()
    by = fields.String()
    at = fields.String()


class BalanceOutSchema(Schema):
    category = fields.String()
    unit = fields.String()
    balance = fields.Integer()


class StockLedgerOutSchema(Schema):
    balances = fields.List(fields.Nested(BalanceOutSchema))
    lines = fields.List(fields.Nested(LedgerLineOutSchema))
    next_cursor = fields.String(allow_none=True)


class ExemptionOutSchema(Schema):
    round_id = fields.String()
    household_id = fields.String()


class CommodityOutSchema(Schema):
    commodity_id = fields.String()
    name = fields.String()
    category = fields.String()
    unit = fields.String()


class SupplyPointOutSchema(Schema):
    point_id = fields.String()
    name = fields.String()
    kind = fields.String()
    address = fields.String()
    usual_markup_pct = fields.Integer()
    sub_district_id = fields.String()
    commodities = fields.List(fields.Nested(CommodityOutSchema))


class SupplyPointsOutSchema(Schema):
    points = fields.List(fields.Nested(SupplyPointOutSchema))


class PriceLineOutSchema(Schema):
    """A line of a supply point's daily report (api/monitoring.line_view); in the form, null until reported."""

    commodity_id = fields.String()
    name = fields.String()
    category = fields.String()
    unit = fields.String()
    price_fen = fields.Integer(allow_none=True)
    cost_fen = fields.Integer(allow_none=True)
    stock = fields.Integer(allow_none=True)
    sales = fields.Integer(allow_none=True)


class MarketAlertOutSchema(Schema):
    alert_id = fields.String()
    kind = fields.String()
    point_id = fields.String()
    point_name = fields.String()
    commodity = fields.String()
    day = fields.String()
    value = fields.Float()
    threshold = fields.Float()
    text = fields.String()


class PointReportOutSchema(Schema):
    """POST /api/supply-points/{point_id}/reports: the report kept, and the alerts it raised."""

    point_id = fields.String()
    day = fields.String()
    version = fields.Integer()
    current = fields.Boolean()
    lines = fields.List(fields.Nested(PriceLineOutSchema))
    alerts = fields.List(fields.Nested(MarketAlertOutSchema))


class PointReportVersionOutSchema(Schema):
    version = fields.Integer()
    current = fields.Boolean()
    reported_at = fields.String()
    lines = fields.List(fields.Nested(PriceLineOutSchema))


class PointReportHistoryOutSchema(Schema):
    day = fields.String()
    reports = fields.List(fields.Nested(PointReportVersionOutSchema))


class PointReportFormOutSchema(Schema):
    day = fields.String()
    point = fields.Nested(SupplyPointOutSchema)
    lines = fields.List(fields.Nested(PriceLineOutSchema))
    prefilled_from = fields.String(allow_none=True)
    reported = fields.Boolean()


class MarketAlertsOutSchema(Schema):
    day = fields.String()
    alerts = fields.List(fields.Nested(MarketAlertOutSchema))


class PointSeriesOutSchema(Schema):
    """One supply point's figures, one per day of `days` (null: no report that day)."""

    point_id = fields.String()
    name = fields.String()
    price_fen = fields.List(fields.Integer(allow_none=True))
    stock = fields.List(fields.Integer(allow_none=True))
    sales = fields.List(fields.Integer(allow_none=True))


class MarketSeriesOutSchema(Schema):
    commodity = fields.String()
    days = fields.List(fields.String())
    series = fields.List(fields.Nested(PointSeriesOutSchema))


class MarketSummaryOutSchema(Schema):
    kind = fields.String()
    day = fields.String()
    period_from = fields.String()
    period_to = fields.String()
    commodities = fields.List(fields.Dict())
    missing = fields.List(fields.Dict())
    alerts = fields.Integer()
    created_at = fields.String()


class MarketReportsOutSchema(Schema):
    reports = fields.List(fields.Nested(MarketSummaryOutSchema))
