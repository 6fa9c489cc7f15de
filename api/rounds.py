"""团购轮次 rounds and their 套餐 bundles.

A round is one supplier's offer to one or more communities, open from
`opens_at` to `closes_at`; residents pay by `payment_deadline`.
"""
from datetime import datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from api import clock, communities, config, households, idempotency, ids, order_state, payment_qr, suppliers
from api.auth import Principal
from api.errors import BadInput, Forbidden, NotFound, Refused, storage_errors
from api.models import (
    Bundle, BundleItem, Community, DeadlineMarker, IdempotencyRecord, Item, Order, Round, RoundListing,
    transaction_connection,
)
from api.schemas import ORDER_STATUSES

RECENT_ROUNDS = 10
LOOK_BACK = 50  # listings read to find older rounds still open
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
    return rnd, viewer_scope(principal, rnd, roles=roles)


def viewer_scope(principal: Principal, rnd: Round, *,
                 roles: tuple[str, ...] = ("liaison", "info_officer", "volunteer")) -> Community | None:
    """The one community of `rnd` the caller may see, None for its supplier (all); else 404."""
    if principal.role == "supplier" and principal.scope_id == rnd.supplier_id:
        return None
    if principal.role in roles and principal.scope_id in rnd.community_ids:
        try:
            return communities.for_staff(principal, principal.scope_id, roles=roles)
        except NotFound:
            pass
    raise no_such_round()


def for_community_staff(principal: Principal, community_id: str, round_id: str,
                        roles: tuple[str, ...]) -> tuple[Community, Round]:
    """The community (its staff of `roles` only) and a round that serves it; anything else is 404."""
    community = communities.for_staff(principal, community_id, roles=roles)
    rnd = get(round_id)
    if community_id not in rnd.community_ids:
        raise no_such_round()
    return community, rnd


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


def _may_use(principal: Principal, community, supplier) -> bool:
    """A supplier reaches every community of its sub-district; anyone else those they may see."""
    if principal.role == "supplier":
        return supplier is not None and community.sub_district_id == supplier.sub_district_id
    try:
        communities.ensure_visible(principal, community)
    except NotFound:
        return False
    return True


def create(principal: Principal, data: dict) -> dict:
    """Create a round. Suppliers offer their own; a liaison or admin names the supplier."""
    return create_once(principal, data, None)[0]


def create_once(principal: Principal, data: dict, key: str | None) -> tuple[dict, bool]:
    """Create a round: (the round, True); or, under an `Idempotency-Key` already used for this same
    round, (that round, False), so a tap repeated after a lost answer makes no second round."""
    digest = idempotency.payload_hash(data) if key else None
    if key:
        with storage_errors():
            done = idempotency.find(principal.subject, key, digest)
        if done is not None:
            rnd, bundles = load(done.result_pk.split("#", 1)[1])
            return view(rnd, bundles, clock.now()), False
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
    # A community or supplier the caller may not use is answered exactly as an id that names nothing,
    # so that nobody learns which ids exist outside their reach.
    try:
        supplier = suppliers.get(supplier_id)
    except NotFound:
        supplier = None
    found = {cid: community for cid, community in communities.get_many(community_ids).items()
             if _may_use(principal, community, supplier)}
    missing = {position: ["小区不存在 / No such community"]
               for position, community_id in enumerate(data["community_ids"]) if community_id not in found}
    if missing:
        raise BadInput("小区不存在", "No such community", fields={"community_ids": missing})
    if supplier is None or any(c.sub_district_id != supplier.sub_district_id for c in found.values()):
        # The sub-district vets its suppliers (保供单位); one from elsewhere must be added there first.
        raise BadInput("本街道的保供名单中没有这个供应商", "No such supplier in the community's sub-district",
                       fields={"supplier_id": ["供应商不存在 / No such supplier"]})
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
            closes_at=data["closes_at"],
        ))
    listings = [RoundListing(f"COMMUNITY#{c}", f"ROUND#{round_id}", round_id=round_id) for c in community_ids]
    # A round for 200 communities needs more items than one transaction takes. The
    # listings go first, in as many transactions as needed; the round and its bundles
    # go last, in one. Until that last one lands the listings point at nothing and
    # are skipped, so nobody ever sees half a round.
    connection = transaction_connection()
    record = idempotency.record(principal.subject, key, digest, rnd.pk, rnd.sk) if key else None
    with storage_errors():
        for start in range(0, len(listings), _TRANSACTION_ITEMS):
            _write_all(connection, listings[start:start + _TRANSACTION_ITEMS])
        try:
            _write_all(connection, [rnd, *bundles, deadline_marker(rnd)], record)
        except TransactWriteError:
            if record is None or idempotency.find(principal.subject, key, digest) is None:
                raise
            # The same request, sent twice at once, won the other time: answer with that round (this
            # attempt's listings point at nothing and are skipped, see recent_for_community).
            return create_once(principal, data, key)
    return view(rnd, bundles, clock.now()), True


def deadline_marker(rnd: Round) -> DeadlineMarker:
    """Written with the round, so the expiry job finds it by key once its payment deadline passes."""
    deadline = rnd.payment_deadline
    return DeadlineMarker(f"DEADLINE#{deadline.date().isoformat()}", f"{clock.iso(deadline)}#{rnd.round_id}",
                          round_id=rnd.round_id)


def _write_all(connection: Connection, items: list[Item], record: IdempotencyRecord | None = None) -> None:
    with TransactWrite(connection=connection) as transaction:
        for item in items:
            transaction.save(item, condition=Item.pk.does_not_exist())
        if record is not None:
            transaction.save(record, condition=idempotency.put_condition())


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


def recent_for_community(community_id: str, supplier_id: str | None = None) -> list[Round]:
    """The community's recent rounds, newest first, without their bundles: the RECENT_ROUNDS newest,
    and any older one still open or upcoming (many suppliers may open rounds; none may hide another).
    With `supplier_id`, that supplier's only, chosen before the newest are counted: other suppliers'
    rounds never push a supplier's own off its list.

    One Query of the last LOOK_BACK listings and one BatchGetItem of the round items; a listing
    whose round is still being written (see create) is skipped.
    """
    with storage_errors():
        listings = RoundListing.query(f"COMMUNITY#{community_id}", RoundListing.sk.startswith("ROUND#"),
                                      scan_index_forward=False, limit=LOOK_BACK)
        keys = [(f"ROUND#{listing.round_id}", "ROUND") for listing in listings]
        found = {r.round_id: r for r in Round.batch_get(keys)} if keys else {}
    now = clock.now()
    newest = [found[pk.split("#", 1)[1]] for pk, _ in keys if pk.split("#", 1)[1] in found]
    newest = [r for r in newest if supplier_id in (None, r.supplier_id)]
    return [r for n, r in enumerate(newest) if n < RECENT_ROUNDS or status(r, now) != "closed"]


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
    now = clock.now()
    out = []
    for rnd in recent_for_community(community_id, principal.scope_id if principal.role == "supplier" else None):
        _, bundles = load(rnd.round_id)
        out.append(view(rnd, bundles, now))
    return {"rounds": out}


# --- the supplier's console: one round ------------------------------------------

_TALLY_ATTRIBUTES = ["PK", "SK", "kind", "status", "refund", "total_fen", "building", "community_id"]
_UNPAID = ("placed", "payment_claimed")
_PACKED = ("packed", "at_gate", "picked_up")


def tally(round_id: str, community_id: str | None = None) -> dict:
    """A round's (or one community's) orders counted in one projected Query.

    `totals`: count and money per money state (order_state.BUCKETS, plus `ordered`); `by_status`: a
    count per order status; `buildings`: per community, per building in walking order, the live
    orders split into unpaid, paid (to pack) and packed.
    """
    totals = {name: {"count": 0, "fen": 0} for name in ("ordered", *order_state.BUCKETS)}
    by_status = {name: 0 for name in ORDER_STATUSES}
    buildings: dict[str, dict[str, dict]] = {}
    prefix = f"ORDER#{community_id}#" if community_id else "ORDER#"
    with storage_errors():
        for order in Order.query(f"ROUND#{round_id}", Order.sk.startswith(prefix), consistent_read=True,
                                 attributes_to_get=_TALLY_ATTRIBUTES):
            for name in ("ordered", order_state.bucket(order.status, order.refund)):
                totals[name]["count"] += 1
                totals[name]["fen"] += int(order.total_fen)
            by_status[order.status] = by_status.get(order.status, 0) + 1
            if order.status in order_state.DEAD:
                continue
            row = buildings.setdefault(order.community_id, {}).setdefault(
                order.building, {"building": order.building, "live": 0, "unpaid": 0, "paid": 0, "packed": 0})
            row["live"] += 1
            row["unpaid" if order.status in _UNPAID else "packed" if order.status in _PACKED else "paid"] += 1
    return {"totals": totals, "by_status": by_status, "buildings": buildings}


def _join_url(community: Community) -> str:
    return f"{config.PUBLIC_URL}/#/join/{community.join_key}"


def detail(principal: Principal, round_id: str) -> dict:
    """One round for its console: bundles with live stock, counts, money, and packing per building."""
    rnd, bundles = load(round_id)
    own = viewer_scope(principal, rnd)
    served = [own.community_id] if own else list(rnd.community_ids)
    counted = tally(rnd.round_id, own.community_id if own else None)
    found = {own.community_id: own} if own else communities.get_many(served)
    out = view(rnd, bundles, clock.now())
    out.update({
        "closed_early_at": clock.iso(rnd.closed_early_at),
        "totals": counted["totals"], "by_status": counted["by_status"],
        "communities": [{
            "community_id": cid, "name": found[cid].name, "join_url": _join_url(found[cid]),
            "buildings": list(counted["buildings"].get(cid, {}).values()),
        } for cid in served if cid in found],
    })
    return out


def add_stock(principal: Principal, round_id: str, bundle_id: str, add: int) -> dict:
    """More of a bundle while the round takes orders (加库存): stock_total and stock_left grow together."""
    rnd = for_supplier(principal, round_id)
    if status(rnd, clock.now()) == "closed":
        raise Refused("本轮团购已截单，不能再加库存", "This round has closed; stock can no longer be added",
                      code="round_closed")
    with storage_errors():
        try:
            Bundle(rnd.pk, f"ROUND#BUNDLE#{bundle_id}").update(
                actions=[Bundle.stock_total.add(add), Bundle.stock_left.add(add)],
                condition=Bundle.pk.exists())
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise
            raise NotFound("套餐不存在", "No such bundle") from None
    return detail(principal, round_id)


def close_early(principal: Principal, round_id: str) -> dict:
    """提前截单: the round stops taking orders now. Orders already placed stay as they are.

    One transaction: the round, conditional on being still open (so two taps cannot both close it), and
    each of its bundles' copy of closes_at, which every order's transaction checks (closes_at > now).
    """
    rnd = for_supplier(principal, round_id)
    _, bundles = load(round_id)
    now = clock.now()
    try:
        with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
            transaction.update(rnd, actions=[Round.closes_at.set(now), Round.closed_early_at.set(now),
                                             Round.closed_early_by.set(principal.subject)],
                               condition=(Round.closes_at > now) & (Round.state == "active"))
            for bundle in bundles:
                transaction.update(Bundle(bundle.pk, bundle.sk), actions=[Bundle.closes_at.set(now)],
                                   condition=Bundle.pk.exists())
    except TransactWriteError as exc:
        if not any(r is not None and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons or []):
            raise
        raise Refused("本轮团购已经截单", "This round has already closed", code="round_closed") from None
    return detail(principal, round_id)


def _condition_failed(exc: UpdateError) -> bool:
    return getattr(exc.cause, "response", {}).get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _bundle_line(bundle: Bundle) -> str:
    contents = "、".join(f"{i.name}{i.qty}{i.unit}" for i in bundle.items)
    price = f"¥{int(bundle.price_fen) // 100}.{int(bundle.price_fen) % 100:02d}"
    return f"{bundle.name} {price}（{contents}），每户限{int(bundle.per_household_limit)}份"


def _beijing(moment: datetime) -> str:
    local = moment.astimezone(clock.SHANGHAI)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def announcement(principal: Principal, round_id: str) -> dict:
    """「团购通知」 for each community's group chat: bundles, prices, deadlines, the join link.

    One text per community because each has its own join link (the QR on its gate poster).
    """
    rnd, bundles = load(round_id)
    own = viewer_scope(principal, rnd, roles=("liaison", "info_officer"))
    found = {own.community_id: own} if own else communities.get_many(list(rnd.community_ids))
    lines = [f"{n}. {_bundle_line(b)}" for n, b in enumerate(bundles, start=1)]
    out = []
    for cid in rnd.community_ids:
        if cid not in found:
            continue
        community = found[cid]
        text = "\n".join([
            f"【团购通知】{rnd.name}",
            f"供应商：{rnd.supplier_name}",
            *lines,
            f"下单截止：{_beijing(rnd.closes_at)}（北京时间）",
            f"付款截止：{_beijing(rnd.payment_deadline)}，逾期未付款订单不予配送",
            f"{community.name}居民请点链接登记房号后下单：{_join_url(community)}",
        ])
        out.append({"community_id": cid, "community_name": community.name, "join_url": _join_url(community),
                    "text": text})
    return {"announcements": out}
