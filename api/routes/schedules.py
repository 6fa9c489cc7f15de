"""Scheduled functions (EventBridge rules in AWS; `make dev` runs them on a timer)."""
from chalice import Blueprint, Cron, Rate

from api import clock, monitoring, payments

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def expire_unpaid_orders(event):
    """Orders still unpaid after their round's payment deadline expire, releasing their stock."""
    return {"expired": payments.expire_due()}


@bp.schedule(Cron(0, 1, "*", "*", "?", "*"))
def daily_market_report(event):
    """09:00 Beijing (01:00 UTC): each sub-district's daily market report, and on the 10th, 20th and 30th the
    periodic one, each listing the supply points that have not reported."""
    return monitoring.run_daily(clock.now())
