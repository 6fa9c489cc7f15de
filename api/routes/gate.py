"""The gate (plan 2): sites, vehicle pre-approval, the gate officer's steps, the supervisor's log."""
from chalice import Blueprint, Response

from api import auth, deliveries, exports, gate, gate_log, idempotency, schemas, sites
from api.auth import SITE_ROLES
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)

_MANAGERS = ("admin", "liaison")
_SITE = "/sites/{site_id}"
_DELIVERY = _SITE + "/deliveries/{delivery_id}"


def _caller(*roles):
    return auth.require(bp.current_request.headers, *roles)


def _query(schema):
    return schemas.load(schema, dict(bp.current_request.query_params or {}))


@bp.route("/sites", methods=["POST"])
@documented("开通门岗 Open a site (a community's gate, or a campus)", body=schemas.SiteSchema,
            response="SiteOutSchema", status=201, errors=(400, 404, 409))
def create_site():
    principal = _caller(*_MANAGERS)
    data = schemas.load(schemas.SiteSchema(), json_body(bp.current_request))
    return Response(sites.create(principal, data), status_code=201)


@bp.route("/sites", methods=["GET"])
@documented("门岗列表 The sites the caller may use", response="SitesOutSchema", errors=())
def list_sites():
    return sites.listed(_caller(*_MANAGERS, "supplier", *SITE_ROLES))


@bp.route(_SITE, methods=["GET"])
@documented("门岗设置 A site's settings, unloading points and hand-over area", response="SiteOutSchema",
            errors=(404,))
def read_site(site_id):
    principal = _caller(*_MANAGERS, "supplier", *SITE_ROLES)
    return sites.view(sites.for_caller(principal, site_id, supplier=True))


@bp.route(_SITE, methods=["PUT"])
@documented("修改门岗设置 Change a site's settings", body=schemas.SiteEditSchema, response="SiteOutSchema",
            errors=(400, 404))
def edit_site(site_id):
    principal = _caller(*_MANAGERS)
    data = schemas.load(schemas.SiteEditSchema(), json_body(bp.current_request))
    return sites.update(principal, site_id, data)


@bp.route(_SITE + "/documents", methods=["POST"])
@documented("上传审批材料 Presign one checklist file upload (S3 POST: PNG, JPEG or PDF, at most 5 MB)",
            response="DocumentUploadOutSchema", status=201, errors=(404,))
def presign_document(site_id):
    return Response(deliveries.presign(_caller("supplier"), site_id), status_code=201)


@bp.route(_SITE + "/deliveries", methods=["POST"])
@documented("车辆报备 Register a delivery vehicle for approval", body=schemas.DeliverySchema,
            response="DeliveryOutSchema", status=201, errors=(400, 404, 409, 422))
def register_delivery(site_id):
    request = bp.current_request
    principal = _caller("supplier")
    key = idempotency.key_from_headers(request.headers) if request.headers.get("idempotency-key") else None
    data = schemas.load(schemas.DeliverySchema(), json_body(request))
    delivery, created = deliveries.register(principal, site_id, data, key)
    return Response(delivery, status_code=201 if created else 200)


@bp.route(_SITE + "/deliveries", methods=["GET"])
@documented("当天车辆 The deliveries arriving on a day", query=schemas.DeliveriesQuerySchema,
            response="DeliveriesOutSchema", errors=(400, 404))
def deliveries_of_day(site_id):
    principal = _caller(*_MANAGERS, *SITE_ROLES)
    query = _query(schemas.DeliveriesQuerySchema())
    return deliveries.of_day(principal, site_id, query["day"], query["status"])


@bp.route("/suppliers/mine/deliveries", methods=["GET"])
@documented("我的车辆报备 The supplier's registrations", response="DeliveriesOutSchema", errors=())
def my_deliveries():
    return deliveries.of_supplier(_caller("supplier"))


@bp.route(_DELIVERY, methods=["GET"])
@documented("车辆报备详情 One delivery", response="DeliveryOutSchema", errors=(404,))
def read_delivery(site_id, delivery_id):
    return deliveries.one(_caller(*_MANAGERS, "supplier", *SITE_ROLES), site_id, delivery_id)


@bp.route(_DELIVERY + "/documents/{person}/{name}", methods=["GET"])
@documented("查看审批材料 A link to one checklist file (10 minutes)", response="LinkOutSchema", errors=(404,))
def document_link(site_id, delivery_id, person, name):
    principal = _caller(*_MANAGERS, "supplier", "reviewer", "supervisor")
    index = int(person) if person.isdigit() and len(person) < 3 else -1
    return deliveries.document_link(principal, site_id, delivery_id, index, name)


@bp.route(_DELIVERY + "/review", methods=["POST"])
@documented("审核车辆 Approve or reject a delivery", body=schemas.ReviewSchema, response="DeliveryOutSchema",
            errors=(400, 404, 409, 422))
def review_delivery(site_id, delivery_id):
    principal = _caller(*_MANAGERS, "reviewer")
    data = schemas.load(schemas.ReviewSchema(), json_body(bp.current_request))
    return deliveries.review(principal, site_id, delivery_id, data["decision"], data["reason"])


@bp.route(_DELIVERY + "/gate", methods=["POST"])
@documented("门岗操作 A step at the gate: arrive, disinfect, assign_point, release, unload, depart, set_down, leave",
            body=schemas.GateStepSchema, response="DeliveryOutSchema", errors=(400, 404, 409, 422))
def gate_step(site_id, delivery_id):
    principal = _caller(*_MANAGERS, "gate_officer")
    data = schemas.load(schemas.GateStepSchema(), json_body(bp.current_request))
    return gate.step(principal, site_id, delivery_id, data)


@bp.route(_SITE + "/gate/turn-away", methods=["POST"])
@documented("劝返 Turn away a vehicle without an approved delivery", body=schemas.TurnAwaySchema,
            response="GateEventOutSchema", status=201, errors=(400, 404))
def turn_away(site_id):
    principal = _caller(*_MANAGERS, "gate_officer")
    data = schemas.load(schemas.TurnAwaySchema(), json_body(bp.current_request))
    return Response(gate.turn_away(principal, site_id, data), status_code=201)


@bp.route(_SITE + "/log", methods=["GET"])
@documented("督查日志 A day's gate events and deviations", query=schemas.GateLogQuerySchema,
            response="GateLogOutSchema", errors=(400, 404))
def gate_log_day(site_id):
    principal = _caller(*_MANAGERS, "supervisor", "reviewer")
    query = _query(schemas.GateLogQuerySchema())
    sites.for_caller(principal, site_id, staff=("supervisor", "reviewer"))
    return gate_log.day(site_id, query["day"])


@bp.route(_SITE + "/log/export", methods=["GET"])
@documented("导出督查日志 The gate log as CSV or XLSX", query=schemas.GateLogExportQuerySchema, errors=(400, 404))
def gate_log_export(site_id):
    principal = _caller(*_MANAGERS, "supervisor", "reviewer")
    query = _query(schemas.GateLogExportQuerySchema())
    site = sites.for_caller(principal, site_id, staff=("supervisor", "reviewer"))
    filename, content_type, body = gate_log.export(site.site_id, site.name, query)
    return Response(body, status_code=200, headers={
        "Content-Type": content_type,
        "Content-Disposition": exports.attachment(filename, f"gate-log-{site.site_id}.{query['format']}")})
