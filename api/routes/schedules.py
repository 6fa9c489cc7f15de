"""Scheduled functions (EventBridge rules in AWS; `make dev` runs them on a timer)."""
from chalice import Blueprint, Rate

from api import payments

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def expire_unpaid_orders(event):
    """Orders still unpaid after their round's payment deadline expire, releasing their stock."""
    return {"expired": payments.expire_due()}
