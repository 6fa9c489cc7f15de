"""Market monitoring: supply points, their daily reports, alerts, chart series and the scheduled reports."""
from chalice import Blueprint, Response

from api import auth, monitoring, schemas
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)


def _caller(*roles):
    return auth.require(bp.current_request.headers, *roles)


def _query(schema):
    return schemas.load(schema, dict(bp.current_request.query_params or {}))


@bp.route("/supply-points", methods=["POST"])
@documented("保供网点 Register a supply point and its commodities", body=schemas.SupplyPointSchema, status=201,
            errors=(400,), response="SupplyPointOutSchema")
def create_point():
    principal = _caller("admin")
    data = schemas.load(schemas.SupplyPointSchema(), json_body(bp.current_request))
    return Response(monitoring.create_point(principal, data), status_code=201)


@bp.route("/supply-points", methods=["GET"])
@documented("保供网点列表 The sub-district's supply points", errors=(), response="SupplyPointsOutSchema")
def list_points():
    return monitoring.listed(_caller("admin"))


@bp.route("/supply-points/{point_id}", methods=["PUT"])
@documented("修改保供网点 Change a supply point", body=schemas.SupplyPointSchema, errors=(400, 404),
            response="SupplyPointOutSchema")
def edit_point(point_id):
    principal = _caller("admin")
    data = schemas.load(schemas.SupplyPointSchema(), json_body(bp.current_request))
    return monitoring.update_point(principal, point_id, data)


@bp.route("/supply-points/{point_id}/reports/form", methods=["GET"])
@documented("报送表 The day's report form, pre-filled from the last report", query=schemas.DayQuerySchema,
            errors=(400, 404), response="PointReportFormOutSchema")
def report_form(point_id):
    return monitoring.form(_caller("supply_point", "admin"), point_id, _query(schemas.DayQuerySchema())["day"])


@bp.route("/supply-points/{point_id}/reports", methods=["POST"])
@documented("每日报送 A day's price, cost, stock and sales", body=schemas.PointReportSchema, status=201,
            errors=(400, 404, 409), response="PointReportOutSchema")
def submit_report(point_id):
    principal = _caller("supply_point")
    data = schemas.load(schemas.PointReportSchema(), json_body(bp.current_request))
    return Response(monitoring.submit(principal, point_id, data), status_code=201)


@bp.route("/supply-points/{point_id}/reports", methods=["GET"])
@documented("报送记录 A day's reports of a point, every version", query=schemas.DayQuerySchema, errors=(400, 404),
            response="PointReportHistoryOutSchema")
def report_history(point_id):
    return monitoring.history(_caller("supply_point", "admin"), point_id, _query(schemas.DayQuerySchema())["day"])


@bp.route("/monitoring/alerts", methods=["GET"])
@documented("预警 The day's alerts", query=schemas.DayQuerySchema, errors=(400,), response="MarketAlertsOutSchema")
def market_alerts():
    return monitoring.alerts(_caller("admin"), _query(schemas.DayQuerySchema())["day"])


@bp.route("/monitoring/series", methods=["GET"])
@documented("价格与库存走势 Price, stock and sales per day, for the charts", query=schemas.SeriesQuerySchema,
            errors=(400,), response="MarketSeriesOutSchema")
def market_series():
    principal = _caller("admin")
    query = _query(schemas.SeriesQuerySchema())
    return monitoring.series(principal, query["commodity"], query["point_id"], query["days"])


@bp.route("/monitoring/reports", methods=["GET"])
@documented("日报与旬报 The scheduled daily and periodic market reports", query=schemas.MarketReportsQuerySchema,
            errors=(400,), response="MarketReportsOutSchema")
def market_reports():
    return monitoring.summaries(_caller("admin"), _query(schemas.MarketReportsQuerySchema())["kind"])
