"""团购轮次 rounds and their 套餐 bundles.

A round is one supplier's offer to one or more communities, open from
`opens_at` to `closes_at`; residents pay by `payment_deadline`.
"""
from datetime import datetime

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from api import clock, communities, households, ids, payment_qr, suppliers
from api.auth import Principal
from api.errors import BadInput, Forbidden, NotFound, storage_errors
from api.models import (
    Bundle, BundleItem, Community, DeadlineMarker, Item, Round, RoundListing, transaction_connection,
)

RECENT_ROUNDS = 10
_TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems


def no_such_round() -> NotFound:
    return NotFound("团购轮次不存在", "No such round")


def get(round_id: str) -> Round:
    """The round item alone (consistent), or 404."""
    with storage_errors():
        try:
            return Round.get(f"ROUND#{round_id}", "ROUND", consistent_read=True)
        except Round.DoesNotExist:
            raise no_such_round() from None


def for_supplier(principal: Principal, round_id: str) -> Round:
    """The round, if the caller is its supplier: another supplier's round does not exist for them."""
    rnd = get(round_id)
    if principal.role != "supplier" or principal.scope_id != rnd.supplier_id:
        raise no_such_round()
    return rnd


def for_viewer(principal: Principal, round_id: str, *,
               roles: tuple[str, ...] = ("liaison", "info_officer", "volunteer")) -> tuple[Round, Community | None]:
    """The round and the one community of it the caller may see (None: all of them, for its supplier).

    Staff of a community the round does not serve, and every other supplier, get 404.
    """
    rnd = get(round_id)
    if principal.role == "supplier" and principal.scope_id == rnd.supplier_id:
        return rnd, None
    if principal.role in roles and principal.scope_id in rnd.community_ids:
        try:
            return rnd, communities.for_staff(principal, principal.scope_id, roles=roles)
        except NotFound:
            pass
    raise no_such_round()


def status(rnd: Round, at: datetime) -> str:
    if rnd.state != "active" or at >= rnd.closes_at:
        return "closed"
    return "open" if at >= rnd.opens_at else "upcoming"


def load(round_id: str) -> tuple[Round, list[Bundle]]:
    """The round and its bundles in one strongly consistent Query (they share SK prefix ROUND)."""
    with storage_errors():
        items = list(Item.query(f"ROUND#{round_id}", Item.sk.startswith("ROUND"), consistent_read=True))
    rnd = next((i for i in items if isinstance(i, Round)), None)
    if rnd is None:
        raise NotFound("团购轮次不存在", "No such round")
    return rnd, sorted((i for i in items if isinstance(i, Bundle)), key=lambda b: b.position)


def create(principal: Principal, data: dict) -> dict:
    """Create a round. Suppliers offer their own; a liaison or admin names the supplier."""
    if principal.role == "supplier":
        if data["supplier_id"] not in (None, principal.scope_id):
            raise Forbidden("只能为本供应商创建团购", "You may only create rounds for your own supplier",
                            code="wrong_scope")
        supplier_id = principal.scope_id
    elif data["supplier_id"] is None:
        raise BadInput("请指定供应商", "Name the supplier", fields={"supplier_id": ["必填 / Required"]})
    else:
        supplier_id = data["supplier_id"]
    community_ids = list(dict.fromkeys(data["community_ids"]))
    try:
        supplier = suppliers.get(supplier_id)
    except NotFound:
        raise BadInput("供应商不存在", "No such supplier",
                       fields={"supplier_id": ["供应商不存在 / No such supplier"]}) from None
    found = communities.get_many(community_ids)
    missing = {position: ["小区不存在 / No such community"]
               for position, community_id in enumerate(data["community_ids"]) if community_id not in found}
    if missing:
        raise BadInput("小区不存在", "No such community", fields={"community_ids": missing})
    for community in found.values():
        if principal.role != "supplier":  # a supplier's reach is its sub-district, checked next
            communities.ensure_visible(principal, community)
        if community.sub_district_id != supplier.sub_district_id:
            # The sub-district vets its suppliers (保供单位); one from elsewhere must be added there first.
            raise Forbidden("该供应商不在此小区所属街道的保供名单中",
                            "This supplier is not registered with the community's sub-district",
                            code="supplier_outside_sub_district")
    if data.get("payment_qr_key"):
        payment_qr.check_upload(principal, data["payment_qr_key"], supplier_id)
    else:
        payment_qr.check_text(data["payment_qr"])

    round_id = ids.new_id()
    rnd = Round(
        f"ROUND#{round_id}", "ROUND", gsi1pk=f"SUPPLIER#{supplier_id}", gsi1sk=f"ROUND#{round_id}",
        round_id=round_id, name=data["name"], supplier_id=supplier_id, supplier_name=supplier.name,
        community_ids=community_ids, opens_at=data["opens_at"], closes_at=data["closes_at"],
        payment_deadline=data["payment_deadline"], payment_qr=data.get("payment_qr") or "",
        payment_qr_key=data.get("payment_qr_key"), created_by=principal.subject, created_at=clock.now(),
    )
    bundles = []
    for position, b in enumerate(data["bundles"], start=1):
        bundle_id = ids.new_id()
        bundles.append(Bundle(
            f"ROUND#{round_id}", f"ROUND#BUNDLE#{bundle_id}", bundle_id=bundle_id, position=position,
            name=b["name"], items=[BundleItem(**i) for i in b["items"]], price_fen=b["price_fen"],
            stock_total=b["stock"], stock_left=b["stock"], per_household_limit=b["per_household_limit"],
        ))
    listings = [RoundListing(f"COMMUNITY#{c}", f"ROUND#{round_id}", round_id=round_id) for c in community_ids]
    # A round for 200 communities needs more items than one transaction takes. The
    # listings go first, in as many transactions as needed; the round and its bundles
    # go last, in one. Until that last one lands the listings point at nothing and
    # are skipped, so nobody ever sees half a round.
    connection = transaction_connection()
    with storage_errors():
        for start in range(0, len(listings), _TRANSACTION_ITEMS):
            _write_all(connection, listings[start:start + _TRANSACTION_ITEMS])
        _write_all(connection, [rnd, *bundles, deadline_marker(rnd)])
    return view(rnd, bundles, clock.now())


def deadline_marker(rnd: Round) -> DeadlineMarker:
    """Written with the round, so the expiry job finds it by key once its payment deadline passes."""
    deadline = rnd.payment_deadline
    return DeadlineMarker(f"DEADLINE#{deadline.date().isoformat()}", f"{clock.iso(deadline)}#{rnd.round_id}",
                          round_id=rnd.round_id)


def _write_all(connection: Connection, items: list[Item]) -> None:
    with TransactWrite(connection=connection) as transaction:
        for item in items:
            transaction.save(item, condition=Item.pk.does_not_exist())


def view(rnd: Round, bundles: list[Bundle], at: datetime) -> dict:
    return {
        "round_id": rnd.round_id,
        "name": rnd.name,
        "status": status(rnd, at),
        "opens_at": clock.iso(rnd.opens_at),
        "closes_at": clock.iso(rnd.closes_at),
        "payment_deadline": clock.iso(rnd.payment_deadline),
        "payment_qr": rnd.payment_qr,
        "payment_qr_url": payment_qr.signed_url(rnd.round_id),
        "supplier": {"supplier_id": rnd.supplier_id, "name": rnd.supplier_name},
        "community_ids": list(rnd.community_ids),
        "bundles": [{
            "bundle_id": b.bundle_id, "name": b.name,
            "items": [{"name": i.name, "qty": i.qty, "unit": i.unit} for i in b.items],
            "price_fen": int(b.price_fen), "stock_total": int(b.stock_total),
            "stock_left": int(b.stock_left), "per_household_limit": int(b.per_household_limit),
        } for b in bundles],
    }


def recent_for_community(community_id: str) -> list[Round]:
    """The community's recent rounds, newest first, without their bundles.

    One Query of the listings and one BatchGetItem of the round items; a
    listing whose round is still being written (see create) is skipped.
    """
    with storage_errors():
        listings = RoundListing.query(f"COMMUNITY#{community_id}", RoundListing.sk.startswith("ROUND#"),
                                      scan_index_forward=False, limit=RECENT_ROUNDS)
        keys = [(f"ROUND#{listing.round_id}", "ROUND") for listing in listings]
        found = {r.round_id: r for r in Round.batch_get(keys)} if keys else {}
    return [found[pk.split("#", 1)[1]] for pk, _ in keys if pk.split("#", 1)[1] in found]


def open_for_community(community_id: str, at: datetime) -> list[Round]:
    return [r for r in recent_for_community(community_id) if status(r, at) == "open"]


def list_for_community(principal: Principal, community_id: str) -> dict:
    """The community's open and recent rounds, newest first, each with its bundles.

    A resident's phone must still be on its flat (a pending phone may look; a
    removed one may not).
    """
    if principal.role == "resident":
        households.of_caller(principal)
    community = communities.get(community_id)
    communities.ensure_visible(principal, community)
    with storage_errors():
        listings = RoundListing.query(f"COMMUNITY#{community_id}", RoundListing.sk.startswith("ROUND#"),
                                      scan_index_forward=False, limit=RECENT_ROUNDS)
        now = clock.now()
        rounds = []
        for listing in listings:
            try:
                rnd, bundles = load(listing.round_id)
            except NotFound:
                continue  # a round still being written (see create)
            if principal.role == "supplier" and rnd.supplier_id != principal.scope_id:
                continue
            rounds.append(view(rnd, bundles, now))
    return {"rounds": rounds}
