"""Structured logs: one JSON object a line, each with the request id, and nothing personal in them.

`install(app)` (called from app.py before any blueprint is registered) does three things:

- Every record leaves through a handler that carries `RedactFilter` and `JsonFormatter`. In
  Lambda those are the runtime's own handlers on the root logger (so CloudWatch gets one JSON
  object per line, and Lambda's request id is kept); elsewhere (`make dev`, tests) one stream
  handler on the root logger, to stdout. Chalice's own plain-text handler on the app's logger
  is taken off, so its records (an unhandled exception's traceback) go the same way.
- `RedactFilter` masks, in the message after its arguments are put in, in the traceback and in
  the stack: mobile phones (11 digits from 13…19, with or without +86 and separators) as
  138****1234, and resident ID numbers (18 characters) as 320102********1234. The formatter
  runs the same masks over the whole finished line, so fields added through `extra` are
  covered too.
- A middleware writes one access line per API request: method, the route *pattern*
  (`/api/orders/{order_id}/pickup`, never the path with its values), status, duration in ms, the
  caller's role (from their verified token; never the token) and the request id. Never a
  header, a query string or a body.

The request id is API Gateway's (`requestContext.requestId`, which API Gateway also returns to
the caller as `x-amzn-RequestId`), else the Lambda invocation's, else a generated one (the
Chalice test client and `make dev` give each request a generated Lambda request id). It is
sent back as `X-Request-Id` so a person reporting a problem can quote it. Scheduled and
background functions log with their Lambda request id.

BAOGONG_LOG_LEVEL (default INFO) sets the level of the app's own loggers (`baogong…`, `api…`);
libraries stay at WARNING.
"""
import contextvars
import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import NamedTuple

ACCESS_LOGGER = "baogong.access"
LEVEL = os.environ.get("BAOGONG_LOG_LEVEL", "INFO").upper()

# 11-digit mainland mobiles (1[3-9]…), optionally +86 / 86 in front and split by spaces or dashes
# (138 1234 5678, 138-1234-5678); not inside a longer run of digits (an ID number, a timestamp).
PHONE = re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?(1[3-9][0-9])[\s-]?[0-9]{4}[\s-]?([0-9]{4})(?![0-9])")
# 18-character resident ID numbers (GB 11643): 17 digits and a check character, 0-9 or X.
ID_NUMBER = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")


def redact(text: str) -> str:
    """`text` with every ID number and mobile phone masked (ID numbers first: one may hold a phone-like run)."""
    if not text:
        return text
    text = ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)[-4:]}", text)
    return PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


# --- the request a record belongs to -----------------------------------------------------------

class RequestInfo(NamedTuple):
    request_id: str
    route: str = ""
    raw_path: str = ""


_current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("baogong_request", default=None)


def current() -> RequestInfo | None:
    """The request being served on this thread, if any."""
    return _current.get()


def _request_id(context: dict | None, lambda_context) -> str:
    return ((context or {}).get("requestId") or getattr(lambda_context, "aws_request_id", None)
            or uuid.uuid4().hex)


# --- filter and formatter ----------------------------------------------------------------------

class RedactFilter(logging.Filter):
    """Puts the arguments into the message and masks phones and ID numbers in it, its traceback and stack.

    The record is changed in place (msg rendered, args dropped), so any handler after this one sees
    only the masked text too. A raw request path in the message becomes its route pattern.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        info = current()
        if info and info.raw_path and info.route and info.raw_path != info.route:
            message = message.replace(info.raw_path, info.route)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_BASE_KEYS = ("time", "level", "logger", "message", "request_id")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request_id, any `extra={"fields": {...}}`,
    and the exception's traceback as `exception`. The finished line is masked once more."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        info = current()
        request_id = info.request_id if info else getattr(record, "aws_request_id", None)
        if request_id:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in _BASE_KEYS})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


# --- installing it ---------------------------------------------------------------------------------

def _prepare(handler: logging.Handler) -> logging.Handler:
    handler.setFormatter(JsonFormatter())
    if not any(isinstance(f, RedactFilter) for f in handler.filters):
        handler.addFilter(RedactFilter())
    handler._baogong = True  # noqa: SLF001 - marks the handlers this module owns or dressed
    return handler


def handlers() -> list[logging.Handler]:
    """The handlers `install` set up (tests swap their stream to read what would be written)."""
    return [h for h in logging.getLogger().handlers if getattr(h, "_baogong", False)]


def install(app) -> None:
    """JSON, masked logs for everything, the request id in each line, and one access line per request."""
    root = logging.getLogger()
    if not handlers():
        if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and root.handlers:
            for handler in root.handlers:  # the Lambda runtime's: keep where it writes, change how
                _prepare(handler)
        else:
            root.addHandler(_prepare(logging.StreamHandler(sys.stdout)))
    # Chalice gave the app's logger its own plain-text stdout handler; send its records through ours.
    for handler in list(app.log.handlers):
        if not getattr(handler, "_baogong", False):
            app.log.removeHandler(handler)
    app.log.propagate = True
    for name in (app.log.name, "api"):
        logging.getLogger(name).setLevel(LEVEL)
    logging.getLogger(ACCESS_LOGGER).setLevel(LEVEL)

    app.register_middleware(_access_log, "http")
    for event_type in ("scheduled", "pure_lambda"):
        app.register_middleware(_invocation, event_type)


_access = logging.getLogger(ACCESS_LOGGER)


def _role(headers) -> str | None:
    """The caller's role, from a token the app would accept; None without one. Never the token."""
    if not headers.get("authorization"):
        return None
    from api import auth
    try:
        return auth.from_headers(headers).role
    except Exception:  # noqa: BLE001 - a bad token is the route's to refuse; here it is only "none"
        return None


def _access_log(event, get_response):
    context = event.context or {}
    route = context.get("resourcePath") or event.path or ""
    info = RequestInfo(_request_id(context, event.lambda_context), route, context.get("path") or "")
    token = _current.set(info)
    started = time.perf_counter()
    status = 500
    try:
        response = get_response(event)
        status = response.status_code
        response.headers["X-Request-Id"] = info.request_id
        return response
    finally:
        duration = round((time.perf_counter() - started) * 1000, 1)
        _access.info("%s %s %s %sms", event.method, route, status, duration, extra={"fields": {
            "type": "access", "method": event.method, "route": route, "status": status, "duration_ms": duration,
            "role": _role(event.headers)}})
        _current.reset(token)


def _invocation(event, get_response):
    """Scheduled and background functions: their lines carry the Lambda invocation's request id."""
    context = getattr(event, "context", None)
    token = _current.set(RequestInfo(_request_id(None, context)))
    try:
        return get_response(event)
    finally:
        _current.reset(token)
