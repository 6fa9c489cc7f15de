"""门岗 sites: a community's gate, or a campus run the same way (plan 2), with its rules and places.

A site's settings are the plan's numbers (approve a day ahead, a 48-hour test, a 30-minute rest,
84 消毒液 at 1:100), its designated unloading points (卸货点) with their routes, and its hand-over
area (接驳区). Who may do what:

- managers: the admin of the site's sub-district, and for a community's site that community's liaison;
- site staff (`reviewer`, `gate_officer`, `supervisor`): tokens scoped to the site;
- suppliers of the sub-district: they read a site to register a delivery to it.

Anyone else gets 404 for the site (a stranger learns nothing), or 403 for a role that never may.
"""
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api import clock, communities, ids, suppliers
from api.auth import SITE_ROLES, Principal
from api.errors import BadInput, Conflict, Forbidden, NotFound, storage_errors
from api.models import Site, SubDistrictListing, UnloadingPoint, transaction_connection

SETTINGS = ("lead_hours", "test_valid_hours", "rest_minutes", "disinfectant", "ratio", "handover_area")


def no_such_site() -> NotFound:
    return NotFound("没有这个门岗", "No such site", code="no_such_site")


def get(site_id: str) -> Site:
    with storage_errors():
        try:
            return Site.get(f"SITE#{site_id}", "SITE", consistent_read=True)
        except Site.DoesNotExist:
            raise no_such_site() from None


def is_manager(principal: Principal, site: Site) -> bool:
    return ((principal.role == "admin" and principal.scope_id == site.sub_district_id)
            or (principal.role == "liaison" and site.community_id is not None
                and principal.scope_id == site.community_id))


def is_staff(principal: Principal, site: Site, roles: tuple[str, ...] = SITE_ROLES) -> bool:
    return principal.role in roles and principal.scope_id == site.site_id


def for_caller(principal: Principal, site_id: str, *, staff: tuple[str, ...] = SITE_ROLES,
               supplier: bool = False) -> Site:
    """The site if the caller is its manager, one of `staff` of it, or (with `supplier`) a supplier of its
    sub-district; else 404."""
    site = get(site_id)
    if is_manager(principal, site) or is_staff(principal, site, staff):
        return site
    if supplier and supplier_of_site(principal, site) is not None:
        return site
    raise no_such_site()


def _supplier_sub_district(principal: Principal) -> str | None:
    if principal.role != "supplier":
        return None
    try:
        return suppliers.get(principal.scope_id).sub_district_id
    except NotFound:
        return None


def supplier_of_site(principal: Principal, site: Site):
    """The calling supplier, if it is one of the site's sub-district; else None."""
    if principal.role != "supplier":
        return None
    try:
        found = suppliers.get(principal.scope_id)
    except NotFound:
        return None
    return found if found.sub_district_id == site.sub_district_id else None


def view(site: Site) -> dict:
    return {"site_id": site.site_id, "name": site.name, "community_id": site.community_id,
            "sub_district_id": site.sub_district_id, "lead_hours": int(site.lead_hours),
            "test_valid_hours": int(site.test_valid_hours), "rest_minutes": int(site.rest_minutes),
            "disinfectant": site.disinfectant, "ratio": site.ratio,
            "unloading_points": [{"point_id": p.point_id, "name": p.name, "route": p.route}
                                 for p in site.unloading_points],
            "handover_area": site.handover_area}


def _points(sent: list[dict], kept: list[UnloadingPoint]) -> list[UnloadingPoint]:
    known = {p.point_id for p in kept}
    points = []
    for position, point in enumerate(sent):
        point_id = point.get("point_id")
        if point_id is not None and point_id not in known:
            raise BadInput("卸货点不存在，请刷新后再改", "No such unloading point; reload and edit again",
                           fields={"unloading_points": {position: {"point_id": ["不存在 / No such point"]}}})
        points.append(UnloadingPoint(point_id=point_id or ids.new_id(), name=point["name"],
                                     route=point.get("route", "")))
    if len({p.name for p in points}) != len(points):
        raise BadInput("卸货点名称重复", "Two unloading points have the same name",
                       fields={"unloading_points": ["名称重复 / Names repeat"]})
    return points


def create(principal: Principal, data: dict) -> dict:
    """A community's site (its id is the community's) or a campus of the admin's sub-district."""
    community_id = data.get("community_id")
    if community_id:
        if principal.role == "liaison" and principal.scope_id != community_id:
            raise Forbidden("只能为本小区开通门岗", "You may only open the gate of your own community",
                            code="wrong_scope")
        community = communities.get(community_id)
        if principal.role == "admin" and community.sub_district_id != principal.scope_id:
            raise NotFound("小区不存在", "No such community")
        site_id, name, sub_district_id = community_id, data.get("name") or community.name, community.sub_district_id
    else:
        if principal.role != "admin":
            raise Forbidden("只有街道管理员可以开通校区等门岗", "Only the sub-district's admin may open a campus site",
                            code="wrong_role")
        if not data.get("name"):
            raise BadInput("请填写门岗名称", "Name the site", fields={"name": ["必填 / Required"]})
        site_id, name, sub_district_id = ids.new_id(), data["name"], principal.scope_id
    now = clock.now()
    site = Site(f"SITE#{site_id}", "SITE", site_id=site_id, name=name, community_id=community_id or None,
                sub_district_id=sub_district_id, created_by=principal.subject, created_at=now,
                unloading_points=_points(data.get("unloading_points") or [], []),
                **{k: data[k] for k in SETTINGS if data.get(k) is not None})
    listing = SubDistrictListing(f"SUBDISTRICT#{sub_district_id}", f"SITE#{site_id}", listed_id=site_id, name=name)
    try:
        with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
            transaction.save(site, condition=Site.pk.does_not_exist())
            transaction.save(listing)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            raise Conflict("这个小区已经开通门岗", "This community already has a site", code="site_exists") from None
        raise
    return view(site)


def update(principal: Principal, site_id: str, data: dict) -> dict:
    site = for_caller(principal, site_id, staff=())
    actions = [getattr(Site, k).set(data[k]) for k in SETTINGS if data.get(k) is not None]
    if data.get("name"):
        actions.append(Site.name.set(data["name"]))
    if data.get("unloading_points") is not None:
        actions.append(Site.unloading_points.set(_points(data["unloading_points"], site.unloading_points)))
    if actions:
        with storage_errors():
            site.update(actions=actions)
    return view(site)


def listed(principal: Principal) -> dict:
    """The sites the caller may use."""
    if principal.role in SITE_ROLES or principal.role == "liaison":
        try:
            site = get(principal.scope_id)
        except NotFound:
            return {"sites": []}
        return {"sites": [view(site)] if is_manager(principal, site) or is_staff(principal, site) else []}
    sub_district_id = principal.scope_id if principal.role == "admin" else _supplier_sub_district(principal)
    if sub_district_id is None:
        raise Forbidden("您的账号无权进行此操作", "Your account may not do this", code="wrong_role")
    with storage_errors():
        found = list(SubDistrictListing.query(f"SUBDISTRICT#{sub_district_id}",
                                              SubDistrictListing.sk.startswith("SITE#")))
        keys = [(f"SITE#{item.listed_id}", "SITE") for item in found]
        sites = list(Site.batch_get(keys)) if keys else []
    return {"sites": sorted((view(s) for s in sites), key=lambda s: s["name"])}
