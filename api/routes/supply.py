"""The sub-district's supply chain: demand reports, allocation orders, ledgers and settlement (plans 3, 4)."""
from chalice import Blueprint, Response

from api import allocations, auth, demand, exports, idempotency, schemas, settlements, stock_ledger
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)

_CONSOLE = ("liaison", "info_officer")
_XLSX = exports.CONTENT_TYPES["xlsx"]


def _caller(*roles):
    return auth.require(bp.current_request.headers, *roles)


def _body(schema):
    return schemas.load(schema, json_body(bp.current_request))


def _query(schema):
    return schemas.load(schema, dict(bp.current_request.query_params or {}))


def _file(filename: str, content_type: str, body: bytes) -> Response:
    return Response(body, status_code=200, headers={
        "Content-Type": content_type, "Content-Disposition": exports.attachment(filename, filename.encode(
            "ascii", "replace").decode().replace("?", "_"))})


@bp.route("/communities/{community_id}/demand/prefill", methods=["GET"])
@documented("需求预填 Suggested demand from current orders and special households", errors=(404,),
            response="DemandPrefillOutSchema")
def demand_prefill(community_id):
    return demand.prefill(_caller(*_CONSOLE), community_id)


@bp.route("/communities/{community_id}/demand", methods=["POST"])
@documented("需求上报 Report a community's needs for a day", body=schemas.DemandReportSchema, status=201,
            errors=(400, 404, 409), response="DemandReportOutSchema")
def report_demand(community_id):
    principal = _caller(*_CONSOLE)
    return Response(demand.submit(principal, community_id, _body(schemas.DemandReportSchema())), status_code=201)


@bp.route("/communities/{community_id}/demand", methods=["GET"])
@documented("需求上报记录 A day's demand reports of a community, every version", query=schemas.DayQuerySchema,
            errors=(400, 404), response="DemandHistoryOutSchema")
def demand_history(community_id):
    principal = _caller(*_CONSOLE, "admin")
    return demand.history(principal, community_id, _query(schemas.DayQuerySchema())["day"])


@bp.route("/sub-districts/mine/demand", methods=["GET"])
@documented("需求汇总 The day's demand totalled by category and community, and who has not reported",
            query=schemas.DayQuerySchema, errors=(400,), response="DemandSummaryOutSchema")
def demand_summary():
    return demand.summary(_caller("admin"), _query(schemas.DayQuerySchema())["day"])


@bp.route("/sub-districts/mine/demand/export", methods=["GET"])
@documented("需求汇总表 The demand summary as XLSX", query=schemas.DayQuerySchema, errors=(400,))
def demand_export():
    filename, body = demand.export(_caller("admin"), _query(schemas.DayQuerySchema())["day"])
    return _file(filename, _XLSX, body)


@bp.route("/allocations", methods=["POST"])
@documented("调拨单 Place an allocation order (or a government reserve release; an optional Idempotency-Key makes "
            "a repeated tap safe)", body=schemas.AllocationSchema, status=201, errors=(400, 409),
            response="AllocationOutSchema")
def create_allocation():
    principal = _caller("admin")
    headers = bp.current_request.headers
    key = idempotency.key_from_headers(headers) if "idempotency-key" in headers else None
    created, new = allocations.create(principal, _body(schemas.AllocationSchema()), key)
    return Response(created, status_code=201 if new else 200)


@bp.route("/allocations", methods=["GET"])
@documented("调拨单列表 The sub-district's allocation orders", query=schemas.AllocationsQuerySchema, errors=(400,),
            response="AllocationsOutSchema")
def list_allocations():
    principal = _caller("admin")
    query = _query(schemas.AllocationsQuerySchema())
    return allocations.listed(principal, query["status"], query["community_id"])


@bp.route("/communities/{community_id}/allocations", methods=["GET"])
@documented("本小区的调拨单 The allocations bound for a community", errors=(404,), response="AllocationsOutSchema")
def community_allocations(community_id):
    return allocations.of_community(_caller(*_CONSOLE, "admin"), community_id)


@bp.route("/allocations/{allocation_id}", methods=["GET"])
@documented("调拨单详情 One allocation", errors=(404,), response="AllocationOutSchema")
def read_allocation(allocation_id):
    return allocations.view(allocations.for_caller(_caller("admin", *_CONSOLE), allocation_id))


@bp.route("/allocations/{allocation_id}/advance", methods=["POST"])
@documented("调拨单下一步 Move an allocation one step on", body=schemas.AdvanceSchema, errors=(400, 404, 409, 422),
            response="AllocationOutSchema")
def advance_allocation(allocation_id):
    principal = _caller("admin", *_CONSOLE)
    data = _body(schemas.AdvanceSchema())
    return allocations.advance(principal, allocation_id, data["to"], data["note"])


@bp.route("/communities/{community_id}/ledger", methods=["GET"])
@documented("收发台账 A community's balances and ledger lines", query=schemas.LedgerQuerySchema, errors=(400, 404),
            response="StockLedgerOutSchema")
def read_ledger(community_id):
    principal = _caller(*_CONSOLE, "admin")
    return stock_ledger.ledger(principal, community_id, _query(schemas.LedgerQuerySchema()))


@bp.route("/communities/{community_id}/ledger/distribute", methods=["POST"])
@documented("发放登记 Goods out, against a received allocation (an optional Idempotency-Key makes a retry safe)",
            body=schemas.DistributeSchema, status=201, errors=(400, 404, 409, 422), response="LedgerLineOutSchema")
def distribute(community_id):
    principal = _caller(*_CONSOLE)
    headers = bp.current_request.headers
    key = idempotency.key_from_headers(headers) if "idempotency-key" in headers else None
    line, new = allocations.distribute(principal, community_id, _body(schemas.DistributeSchema()), key)
    return Response(line, status_code=201 if new else 200)


@bp.route("/communities/{community_id}/ledger/{line_id}/correct", methods=["POST"])
@documented("台账更正 Correct a ledger line with a new line that references it (an optional Idempotency-Key makes "
            "a retry safe)", body=schemas.CorrectionSchema, status=201, errors=(400, 404, 409, 422),
            response="LedgerLineOutSchema")
def correct_line(community_id, line_id):
    principal = _caller(*_CONSOLE)
    headers = bp.current_request.headers
    key = idempotency.key_from_headers(headers) if "idempotency-key" in headers else None
    data = _body(schemas.CorrectionSchema())
    line, new = stock_ledger.correct(principal, community_id, line_id, data["quantity_delta"], data["reason"], key)
    return Response(line, status_code=201 if new else 200)


@bp.route("/allocations/{allocation_id}/settle", methods=["POST"])
@documented("结算 Settle a distributed allocation at the market price of its allocation day, or an entered one",
            body=schemas.SettleSchema, errors=(400, 404, 409, 422), response="AllocationOutSchema")
def settle_allocation(allocation_id):
    principal = _caller("admin")
    return settlements.settle(principal, allocation_id, _body(schemas.SettleSchema()))


@bp.route("/allocations/{allocation_id}/paid", methods=["POST"])
@documented("登记付款 Record that a settlement was paid", errors=(404, 422), response="AllocationOutSchema")
def settlement_paid(allocation_id):
    return settlements.paid(_caller("admin"), allocation_id)


@bp.route("/settlements/overdue", methods=["GET"])
@documented("逾期未结 Unpaid past their due day", errors=(), response="OverdueOutSchema")
def overdue_settlements():
    return settlements.overdue(_caller("admin"))


@bp.route("/settlements/statement", methods=["GET"])
@documented("结算单 A statement per supplier or per using unit, XLSX or PDF", query=schemas.StatementQuerySchema,
            errors=(400, 404))
def settlement_statement():
    principal = _caller("admin")
    filename, content_type, body = settlements.statement(principal, _query(schemas.StatementQuerySchema()))
    return _file(filename, content_type, body)
