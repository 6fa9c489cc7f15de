"""At the gate: an approved vehicle's steps, from arrival to departure, as plan 2 orders them.

- A vehicle that enters (进校车辆): arrive (the plate read at the gate must be the registered one) →
  disinfect (84 消毒液 1:100; the goods then rest 30 minutes) → an unloading point assigned (the driver
  stays in the cab, on the set route) → released once the rest is over → unloaded, with a second
  disinfection of the packaging → departed.
- A vehicle that may not enter (非进校车辆): arrive → goods set down at the hand-over area → the vehicle
  leaves → disinfect, rest → released: the internal team carries the goods in.

Each step is one transaction: the delivery's update, conditional on the status it was read in, and
its log event. The rest is enforced here, not on the screen: a release before `rest_ends_at` is refused
(and logged for the supervisor). When goods are released, the rounds the vehicle carries reach the
site's community: their paid and packed orders move to `at_gate`, and 货已到 is recorded and told to
every building, as the liaison's button does.
"""
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api import clock, communities, deliveries, gate_log, notices, packing, plates, rounds, sites
from api.auth import Principal
from api.errors import BadInput, Conflict, NotFound, Refused, storage_errors
from api.models import Delivery, Disinfection, Order, Site, transaction_connection

# action: (status it needs, status it leaves), per mode.
FLOWS = {
    "enter": {"arrive": ("approved", "arrived"), "disinfect": ("arrived", "disinfected"),
              "assign_point": ("disinfected", "routed"), "release": ("routed", "released"),
              "unload": ("released", "unloaded"), "depart": ("unloaded", "departed")},
    "handover": {"arrive": ("approved", "arrived"), "set_down": ("arrived", "set_down"),
                 "leave": ("set_down", "left"), "disinfect": ("left", "disinfected"),
                 "release": ("disinfected", "released")},
}
EVENT_OF = {"arrive": "arrived", "disinfect": "disinfected", "assign_point": "routed", "release": "released",
            "unload": "unloaded", "depart": "departed", "set_down": "set_down", "leave": "left"}
_STATUS_TEXT = {"submitted": "待审核", "approved": "已批准", "rejected": "未通过", "arrived": "已到达",
                "disinfected": "已消杀", "routed": "前往卸货点", "released": "已放行", "unloaded": "已卸货",
                "departed": "已驶离", "set_down": "已卸至接驳区", "left": "车辆已离开"}


def _order_of(mode: str) -> list[str]:
    return ["approved"] + [to for _, to in FLOWS[mode].values()]


def step(principal: Principal, site_id: str, delivery_id: str, data: dict) -> dict:
    site, delivery = deliveries.for_caller(principal, site_id, delivery_id, staff=("gate_officer",), supplier=False)
    action = data["action"]
    flow = FLOWS[delivery.mode]
    if action not in flow:
        raise Conflict(f"这辆车{'进入卸货' if delivery.mode == 'enter' else '在门口交接'}，没有这一步",
                       f"This step is not part of the {delivery.mode} flow", code="wrong_step")
    needs, leaves = flow[action]
    order = _order_of(delivery.mode)
    if delivery.status not in order:
        raise Conflict(f"这辆车{_STATUS_TEXT.get(delivery.status, delivery.status)}，未获批准，不能入场",
                       "This vehicle is not approved", code="not_approved")
    if order.index(delivery.status) >= order.index(leaves):
        if action == "release":
            _goods_at_gate(site, delivery, principal)  # a retry finishes what a failed one began
        return deliveries.view(delivery, principal)  # done already: a repeat changes nothing
    if delivery.status != needs:
        raise Conflict(f"请先完成上一步（现在：{_STATUS_TEXT.get(delivery.status, delivery.status)}）",
                       f"Do the earlier step first (now: {delivery.status})", code="wrong_step",
                       fields={"status": [delivery.status]})
    now = clock.now()
    changes, details, deviation = _effects(site, delivery, principal, action, data, now)
    changes["status"] = leaves
    # Whole new values (the status condition guards them), so the answer needs no read back.
    actions = [getattr(Delivery, name).set(value) for name, value in changes.items()]
    record = gate_log.event(site.site_id, EVENT_OF[action], principal, delivery, details=details, deviation=deviation)
    try:
        with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
            transaction.save(record)
            transaction.update(delivery, actions=actions, condition=Delivery.status == needs)
    except TransactWriteError:
        # Another phone did a step meanwhile: answer with what is there now.
        current = deliveries.get(site_id, delivery_id)
        if order.index(current.status) >= order.index(leaves):
            return deliveries.view(current, principal)
        raise Conflict("刚被别人操作过，请刷新", "Someone else just changed this vehicle; reload", code="changed") from None
    for name, value in changes.items():
        setattr(delivery, name, value)
    if action == "release":
        _goods_at_gate(site, delivery, principal)
    return deliveries.view(delivery, principal)


def _disinfection(site: Site, principal: Principal, data: dict, stage: str, now) -> Disinfection:
    if not (data.get("operator") or "").strip():
        raise BadInput("请填写消杀人员姓名", "Name who disinfected", fields={"operator": ["必填 / Required"]})
    return Disinfection(stage=stage, operator=data["operator"].strip(), at=now, by=principal.subject,
                        disinfectant=data.get("disinfectant") or site.disinfectant, ratio=data.get("ratio") or site.ratio)


def _effects(site: Site, delivery: Delivery, principal: Principal, action: str, data: dict, now):
    """({attribute: new value}, log details, deviation) of one step, or a refusal."""
    if action == "arrive":
        if plates.normalise(data.get("plate") or "") != delivery.plate:
            raise Refused(f"车牌与报备不符（报备：{delivery.plate}），不得入场", f"The plate does not match the registration ({delivery.plate})",
                          code="plate_mismatch", fields={"plate": ["车牌不符 / Plate does not match"]})
        outside = not delivery.arrive_from <= now <= delivery.arrive_until
        return ({"arrived_at": now, "outside_window": outside},
                {"window": f"{clock.shanghai(delivery.arrive_from)}–{clock.shanghai(delivery.arrive_until)}"},
                "outside_window" if outside else None)
    if action in ("disinfect", "unload"):
        done = _disinfection(site, principal, data, "gate" if action == "disinfect" else "packaging", now)
        details = {"operator": done.operator, "disinfectant": done.disinfectant, "ratio": done.ratio, "stage": done.stage}
        disinfections = list(delivery.disinfections or []) + [done]
        if action == "unload":
            return {"disinfections": disinfections, "unloaded_at": now}, details, None
        rest_ends = now + timedelta(minutes=int(site.rest_minutes))
        details["rest_ends_at"] = clock.iso(rest_ends)
        return {"disinfections": disinfections, "rest_ends_at": rest_ends}, details, None
    if action == "assign_point":
        point = next((p for p in site.unloading_points if p.point_id == data.get("point_id")), None)
        if point is None:
            raise BadInput("请选择本门岗的卸货点", "Choose one of this site's unloading points",
                           fields={"point_id": ["不是本门岗的卸货点 / Not an unloading point of this site"]})
        return {"point": point}, {"point": point.name, "route": point.route}, None
    if action == "release":
        if delivery.rest_ends_at is None or now < delivery.rest_ends_at:
            _refuse_early_release(site, delivery, principal, now)
        return {"released_at": now}, {}, None
    field = {"depart": "departed_at", "set_down": "set_down_at", "leave": "left_at"}[action]
    details = {"area": site.handover_area} if action == "set_down" else {}
    return {field: now}, details, None


def _refuse_early_release(site: Site, delivery: Delivery, principal: Principal, now) -> None:
    """The rest is not over: log the attempt for the supervisor, and refuse with the time left."""
    ends = delivery.rest_ends_at
    left = int((ends - now).total_seconds()) if ends else None
    gate_log.append(gate_log.event(site.site_id, "release_refused", principal, delivery,
                                   details={"rest_ends_at": clock.iso(ends), "seconds_left": left},
                                   deviation="release_before_rest"))
    minutes = -(-left // 60) if left is not None else int(site.rest_minutes)
    raise Refused(f"货物还需静置 {minutes} 分钟，静置结束后才能放行", f"The goods must rest {minutes} more minutes before release",
                  code="resting", fields={"rest_ends_at": [clock.iso(ends)]})


def _goods_at_gate(site: Site, delivery: Delivery, principal: Principal) -> None:
    """The rounds this vehicle carries have reached the site's community: paid and packed orders move to
    at_gate, and 货已到 is recorded once and told to every building."""
    if not site.community_id or not delivery.round_ids:
        return
    community = communities.get(site.community_id)
    for round_id in delivery.round_ids:
        try:
            rnd = rounds.get(round_id)
        except NotFound:
            continue
        if site.community_id not in rnd.community_ids:
            continue
        with storage_errors():
            waiting = [o for o in Order.query(rnd.pk, Order.sk.startswith(f"ORDER#{site.community_id}#"),
                                              consistent_read=True,
                                              attributes_to_get=["PK", "SK", "kind", "status"])
                       if o.status in ("paid", "packed")]
        packing.transition(waiting, [Order.status.set("at_gate")], ("paid", "packed"))
        notices.record_arrival(community, rnd, principal.subject, f"车辆 {delivery.plate} 已放行")


def turn_away(principal: Principal, site_id: str, data: dict) -> dict:
    """劝返: a vehicle with no approved delivery is sent away; the supervisor sees it as a deviation."""
    site = sites.for_caller(principal, site_id, staff=("gate_officer",))
    plate = plates.normalise(data["plate"])
    record = gate_log.event(site.site_id, "turned_away", principal, plate=plate,
                            details={"reason": data["reason"]}, deviation="turned_away")
    gate_log.append(record)
    return gate_log.view(record)
