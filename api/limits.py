"""Rate limits and body size caps, as one Chalice http middleware (`install(app)`, from app.py).

Body caps, always on: a request whose body is larger than its route's cap is refused with 413
(`body_too_large`) before anything reads or parses it. JSON routes take 64 KiB, a few named routes
more (`ROUTE_CAPS`: the largest payload their schema allows), the statement upload its own cap.

Rate limits (on unless BAOGONG_RATE_LIMITS=off; numbers in api/config.py, each overridable with
BAOGONG_LIMIT_<NAME>=<requests>/<seconds>): fixed-window counters in the table (`RateCounter`,
PK=LIMIT#<limit>#<caller>#<window start>), one conditional UpdateItem per counter
(ADD n :1 if n < limit), so a refused request writes nothing and the count never passes the limit.

- a write (POST, PUT, PATCH, DELETE) counts against the caller's IP (`ip_writes`) and, with a token
  the app accepts, against the household (`household_writes`: every phone of the flat shares it) or
  the staff member (`staff_writes`); the tighter, per-caller counter is asked first;
- GET /api/join/{join_key} and POST /api/join/{join_key}/households count against the IP's `join`
  counter, which also counts the unknown keys (an answer of 404) in `miss`: past JOIN_MISSES in a
  window, that IP's join attempts are refused until the window ends, right key or not.

Over a limit: 429 `too_many_requests` with Retry-After, the seconds to the window's end. The IP is
API Gateway's `requestContext.identity.sourceIp`, except behind CloudFront (`client_ip`: the viewer's
address from CloudFront-Viewer-Address, else no per-IP count); X-Forwarded-For is anyone's to write,
never read.

A counter write that fails (DynamoDB throttling, a timeout, a dropped connection) lets the request
through (fail open) and logs a warning: the counters guard against abuse, and in a surge the request
itself, an order, matters more than its count; if the table is really throttled, the request's own
write answers 503 with Retry-After through the app's error middleware.
"""
import logging
import math
from datetime import datetime, timezone

from botocore.exceptions import BotoCoreError, ClientError
from chalice import Response
from pynamodb.exceptions import PynamoDBException

from api import clock, config
from api.errors import DomainError, TooLarge, TooManyRequests, condition_failed
from api.models import RateCounter

log = logging.getLogger(__name__)

KIB = 1024
JSON_CAP = 64 * KIB
# Lambda takes at most 6 MiB in a synchronous invocation, so no larger body reaches a deployed function.
# (A binary body arrives base64-encoded, 4/3 its size: in AWS a statement over about 4.5 MB never gets here.)
STATEMENT_CAP = 6 * KIB * KIB
# Routes whose largest valid payload is over JSON_CAP (tests/unit/test_limits.py checks every schema's).
ROUTE_CAPS = {
    ("POST", "/api/rounds"): 512 * KIB,  # 30 bundles x 30 items at their longest: ~370 KB escaped
    ("POST", "/api/rounds/{round_id}/payments/confirm"): 512 * KIB,  # 500 order ids and their transactions
    ("PUT", "/api/communities/{community_id}/rounds/{round_id}/slots"): 1024 * KIB,  # a large compound's plan
    ("POST", "/api/rounds/{round_id}/payments/statement"): STATEMENT_CAP,  # the wallet statement file as is
}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JOIN_ROUTES = frozenset({"/api/join/{join_key}", "/api/join/{join_key}/households"})


def install(app) -> None:
    """Register the middleware; app.py installs it right after logs', so it runs before any route code."""
    app.register_middleware(_guard, "http")


def cap_of(method: str, route: str) -> int:
    """The largest body, in bytes, the route takes."""
    return ROUTE_CAPS.get((method, route), JSON_CAP)


# --- the middleware ----------------------------------------------------------------------------

def _guard(event, get_response):
    if event is None:
        return get_response(event)
    context = event.context or {}
    route = context.get("resourcePath") or ""
    method = (event.method or "").upper()
    refused = _over_cap(event, method, route)
    if refused is not None:
        return refused
    if not config.RATE_LIMITS:
        return get_response(event)
    ip = client_ip(event.headers or {}, context)
    join = route in JOIN_ROUTES and ip is not None
    join_counter = None
    if join:
        join_counter, refused = _count_join(ip)
    if refused is None and method in WRITES:
        refused = _count_write(event.headers, ip)
    if refused is not None:
        return refused
    response = get_response(event)
    if join_counter is not None and response.status_code == 404:
        _add_miss(join_counter)
    return response


def _over_cap(event, method: str, route: str) -> Response | None:
    cap = cap_of(method, route)
    declared = (event.headers or {}).get("content-length")
    size = int(declared) if declared and declared.isdigit() else 0
    if size <= cap:  # a missing or lying Content-Length: measure the body itself
        size = len(event.raw_body or b"")
    if size <= cap:
        return None
    shown = f"{cap // (KIB * KIB)} MB" if cap >= KIB * KIB else f"{cap // KIB} KB"
    return _response(TooLarge(f"请求内容太大，这个接口最多接受 {shown}", f"The request body is too large; this route takes at most {shown}",
                              code="body_too_large", fields={"body": [f"最多 {cap} 字节 / At most {cap} bytes"]}))


# --- counters ----------------------------------------------------------------------------------

def client_ip(headers, context: dict) -> str | None:
    """The address the per-IP limits count, or None for none.

    API Gateway's `sourceIp` is the TCP peer: the phone's (carrier NAT) address when the API is called
    directly, a CloudFront server's when the request came through the distribution, as every request does
    in a deployed stage (CloudFront adds X-Amz-Cf-Id to each). There the viewer's address is CloudFront's
    own CloudFront-Viewer-Address ("ip:port") when the origin request policy forwards it; without it, no
    per-IP count at all: an edge server's address would lump thousands of phones together, and 20 wrong
    join keys from one of them would lock the join page for all the others. X-Forwarded-For is never read.
    """
    if headers.get("x-amz-cf-id"):
        viewer = (headers.get("cloudfront-viewer-address") or "").strip()
        address = viewer.rpartition(":")[0].strip("[]")
        return address or None
    return (context.get("identity") or {}).get("sourceIp") or "unknown"


def _count_write(headers, ip: str | None) -> Response | None:
    caller = _caller(headers)
    if caller is not None:
        refused = _hit(*caller)[1]
        if refused is not None:
            return refused
    return None if ip is None else _hit("ip_writes", ip)[1]


def _caller(headers) -> tuple[str, str] | None:
    """(limit, caller) for a token the app accepts: the household for a resident, else the staff member."""
    if not headers.get("authorization"):
        return None
    from api import auth
    try:
        principal = auth.from_headers(headers)
    except Exception:  # noqa: BLE001 - a bad token is the route's to refuse (401); here it counts per IP only
        return None
    if principal.role == "resident":
        return "household_writes", principal.household_id
    return "staff_writes", principal.subject


def _count_join(ip: str) -> tuple[RateCounter | None, Response | None]:
    extra = RateCounter.miss.does_not_exist() | (RateCounter.miss < config.JOIN_MISSES)
    return _hit("join", ip, extra)


def window(limit: str, now: datetime | None = None) -> tuple[int, int]:
    """(start, end) of the limit's current window, in epoch seconds."""
    seconds = config.LIMITS[limit][1]
    moment = (now or clock.now()).timestamp()
    start = int(moment // seconds) * seconds
    return start, start + seconds


def counter_key(limit: str, caller: str, start: int) -> str:
    return f"LIMIT#{limit}#{caller}#{start}"


def _hit(limit: str, caller: str, extra=None) -> tuple[RateCounter | None, Response | None]:
    """Count one request; (the counter, None) if it may pass, (None, a 429) if over the limit."""
    allowed, seconds = config.LIMITS[limit]
    now = clock.now()
    start, end = window(limit, now)
    counter = RateCounter(counter_key(limit, caller, start), "LIMIT")
    condition = RateCounter.n.does_not_exist() | (RateCounter.n < allowed)
    if extra is not None:
        condition = condition & extra
    try:
        counter.update(actions=[RateCounter.n.add(1), RateCounter.kind.set(RateCounter),
                                # kept one window past its end, then DynamoDB's TTL removes it
                                RateCounter.expires_at.set(datetime.fromtimestamp(end + seconds, timezone.utc))],
                       condition=condition)
    except PynamoDBException as exc:
        if condition_failed(exc):
            return None, _too_many(end - now.timestamp())
        return _fail_open(limit, exc)
    except (BotoCoreError, ClientError) as exc:
        return _fail_open(limit, exc)
    return counter, None


def _add_miss(counter: RateCounter) -> None:
    try:
        counter.update(actions=[RateCounter.miss.add(1)])
    except (PynamoDBException, BotoCoreError, ClientError) as exc:
        _fail_open("join", exc)


def _fail_open(limit: str, exc: Exception) -> tuple[None, None]:
    code = getattr(exc, "cause_response_code", None) or type(exc).__name__
    log.warning("rate limit %s not counted (%s): request let through", limit, code)
    return None, None


def _too_many(seconds_left: float) -> Response:
    wait = max(1, math.ceil(seconds_left))
    shown_zh, shown_en = (f"{wait} 秒", f"{wait} seconds") if wait < 120 else (
        f"{math.ceil(wait / 60)} 分钟", f"{math.ceil(wait / 60)} minutes")
    return _response(TooManyRequests(f"操作太频繁，请 {shown_zh}后再试", f"Too many requests; try again in {shown_en}",
                                     headers={"Retry-After": str(wait)}))


def _response(err: DomainError) -> Response:
    # This middleware runs outside app.py's error middleware: it answers in the same format itself.
    return Response(err.body(), status_code=err.status, headers=dict(err.headers))

