"""The local stack in one process: embedded moto (DynamoDB, S3, SSM), the Chalice app under /api,
and the PWA under /, all on one origin.

moto's server is not safe under concurrent requests (a TransactWriteItems can
die with "dictionary changed size during iteration"), so every request into
it passes one lock. The API side stays concurrent, as Lambda would be.
"""
import copy
import gzip
import logging
import mimetypes
import os
import secrets
import socket
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/manifest+json", "image/svg")
_clock_offset = timedelta(0)  # moved on by POST /_dev/clock (Site.move_clock)
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/manifest+json", ".webmanifest")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serialised(wsgi_app):
    lock = threading.Lock()

    def app(environ, start_response):
        with lock:
            # Drain the body inside the lock: the response may be lazy.
            return list(wsgi_app(environ, start_response))
    return app


def cheap_transaction_rollback() -> None:
    """Make moto's TransactWriteItems snapshot only the items it touches.

    moto 5.2 deep-copies the whole table once per item of every transaction so
    it can roll back: a 6-item order against a few thousand items took ~250 ms,
    all of it under the lock above, so 300 shoppers queued past their timeouts.
    Here the table copy becomes a no-op and the items the transaction names are
    snapshotted instead, then put back if it is cancelled. Rollback is still
    all-or-nothing (tests/unit/test_devstack.py); real DynamoDB needs none of this.
    """
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.exceptions import MultipleTransactionsException
    from moto.dynamodb.models.table import Table

    backend_class = dynamodb_models.DynamoDBBackend
    if getattr(backend_class, "_baogong_cheap_rollback", False):
        return

    class _KeepTables:
        """Stands in for the `copy` module inside moto.dynamodb.models: tables are not copied."""

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        copy = staticmethod(copy.copy)  # noqa: F811 (the module's copy.copy, under the same name)

    original = backend_class.transact_write_items

    def transact_write_items(self, transact_items):
        snapshot = []
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or {table.hash_key_attr: op["Item"][table.hash_key_attr],
                                    **({table.range_key_attr: op["Item"][table.range_key_attr]}
                                       if table.range_key_attr else {})}
            try:
                current = self.get_item(table.name, key)
            except MultipleTransactionsException:
                current = None
            snapshot.append((table.name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        try:
            return original(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(snapshot):
                if attributes is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise

    dynamodb_models.copy = _KeepTables
    backend_class.transact_write_items = transact_write_items
    backend_class._baogong_cheap_rollback = True


def start_moto(host: str = "127.0.0.1", port: int = 0):
    """Start moto in a daemon thread; returns (server, endpoint URL)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args, **kwargs):
            pass  # one line per DynamoDB call drowns everything else

    cheap_transaction_rollback()
    server = make_server(host, port, _serialised(DomainDispatcherApplication(create_backend_app)),
                         threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name="moto").start()
    return server, f"http://{host}:{server.server_port}"


def _thread_local_chalice_request():
    """Chalice keeps `current_request` on the app object: fine in Lambda (one request per
    container), a race in a threaded server. Make it per thread."""
    from chalice import app as chalice_app

    local = threading.local()
    for name in ("current_request", "lambda_context"):
        setattr(chalice_app.Chalice, name, property(
            lambda self, n=name: getattr(local, n, None),
            lambda self, value, n=name: setattr(local, n, value)))


def prepare_aws(endpoint: str) -> None:
    """Point the app at the embedded moto, give it a token secret, create the table and buckets."""
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "cn-north-1"),
        "BAOGONG_AWS_ENDPOINT": endpoint, "BAOGONG_STAGE": "local", "BAOGONG_EXPORT_RUNNER": "thread",
        "BAOGONG_DYNAMODB_READ_TIMEOUT": os.environ.get("BAOGONG_DYNAMODB_READ_TIMEOUT", "300"),
    })
    from api import aws, config, models
    aws.client("ssm").put_parameter(Name=config.TOKEN_SECRET_PARAM, Value=secrets.token_hex(32),
                                    Type="SecureString", Overwrite=True)
    from py_vapid import Vapid02  # Web Push works locally too (api/push.py); a new key each start
    vapid = Vapid02()
    vapid.generate_keys()
    aws.client("ssm").put_parameter(Name=config.VAPID_KEY_PARAM, Value=vapid.private_pem().decode(),
                                    Type="SecureString", Overwrite=True)
    for bucket in (config.EXPORTS_BUCKET, config.UPLOADS_BUCKET):
        aws.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": config.REGION})
    models.create_table()


def _raw_path(request: Request) -> str:
    """The request's path as sent, still percent-encoded, with its raw query string. werkzeug's
    `request.path` is decoded once already: an encoded `#`, `?` or `;` in a path parameter would end the
    path when Chalice's LocalGateway parses it as a URL again, and an encoded tab or newline would go."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        raw = raw.encode("latin-1").decode("utf-8", "replace")  # PEP 3333: the bytes as latin-1
        raw = raw.split("?", 1)[0].split("#", 1)[0]
    else:  # a WSGI server without the raw target (a test's environ): encode the decoded path again
        raw = quote(request.path, safe="/!$&'()*+,=:@~-._")
    query = request.environ.get("QUERY_STRING", "")
    return f"{raw}?{query}" if query else raw


class _EncodedPathMatcher:
    """Chalice's RouteMatcher, over the raw (encoded) path: split at `/` and the first `?` only, then each
    path parameter decoded once, as API Gateway does. `/api/sites/%3F2` is GET /api/sites/{site_id} with
    site_id `?2`, never GET /api/sites; a `;` stays in its parameter (urlparse would cut it off)."""

    def __init__(self, routes: list[str]):
        self.route_urls = sorted(routes)  # as RouteMatcher: concrete segments before captures

    def match_route(self, url: str):
        from chalice.local import MatchResult
        path, _, query = url.partition("?")
        if path != "/" and path.endswith("/"):
            path = path[:-1]  # API Gateway drops a trailing slash
        parts = path.split("/")
        for route_url in self.route_urls:
            url_parts = route_url.split("/")
            if len(parts) != len(url_parts):
                continue
            captured = {}
            for part, pattern in zip(parts, url_parts):
                if pattern.startswith("{") and pattern.endswith("}"):
                    captured[pattern[1:-1]] = unquote(part)
                elif unquote(part) != pattern:
                    break
            else:
                return MatchResult(route_url, captured, parse_qs(query, keep_blank_values=True))
        raise ValueError(f"No matching route found for: {url}")


class Site:
    """WSGI app: /api/* to Chalice's local gateway, everything else from frontend/."""

    def __init__(self, chalice_app):
        from chalice.config import Config
        from chalice.local import LocalGateway

        self.gateway = LocalGateway(chalice_app, Config.create(chalice_stage="local", lambda_timeout=30))
        self.gateway.event_converter._route_matcher = _EncodedPathMatcher(list(chalice_app.routes))

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == "/_dev/clock" and request.method == "POST":
            response = self.move_clock(request)
        elif request.path.startswith("/api/") or request.path == "/api":
            response = self.api(request)
        else:
            response = self.static(request)
        return response(environ, start_response)

    def api(self, request: Request) -> Response:
        from chalice.local import LocalGatewayException

        path = _raw_path(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            result = self.gateway.handle_request(request.method, path, headers, request.get_data() or None)
        except LocalGatewayException as exc:
            body = b'{"error": {"code": "not_found", "message": "\xe6\xb2\xa1\xe6\x9c\x89\xe8\xbf\x99\xe4\xb8\xaa\xe6\x8e\xa5\xe5\x8f\xa3", "message_en": "No such API route", "fields": {}}}'
            return Response(body, status=404 if exc.CODE in (403, 404) else exc.CODE, content_type="application/json")
        body = result["body"]
        if result.get("isBase64Encoded"):
            import base64
            body = base64.b64decode(body)
        # API Gateway's default for a Lambda proxy answer without one; Chalice sets none for dicts.
        response = Response(body, status=result["statusCode"], content_type="application/json")
        for name, value in result["headers"].items():
            response.headers[name] = value
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(name, value)
        return self.compress(request, response)

    @staticmethod
    def move_clock(request: Request) -> Response:
        """Test hook of the local stack only (never in the Chalice app, so never deployed): move the app's
        clock on by `advance_seconds` (or back to real time with `{"reset": true}`), so a browser test can
        pass a 30-minute rest without sleeping. Tokens issued after a move carry a future `iat`: sign in first."""
        import json

        from api import clock
        body = json.loads(request.get_data() or b"{}")
        global _clock_offset
        _clock_offset = timedelta(0) if body.get("reset") else _clock_offset + timedelta(
            seconds=float(body.get("advance_seconds", 0)))
        return Response(json.dumps({"offset_seconds": _clock_offset.total_seconds(), "now": clock.iso(clock.now())}),
                        content_type="application/json")

    def static(self, request: Request) -> Response:
        relative = request.path.lstrip("/") or "index.html"
        target = (FRONTEND / relative).resolve()
        if not target.is_relative_to(FRONTEND) or not target.is_file():
            return Response("Not found", status=404, content_type="text/plain; charset=utf-8")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        response = Response(target.read_bytes(), content_type=content_type)
        # The shell is versioned by the service worker's cache; the worker itself must never be stale.
        response.headers["Cache-Control"] = "no-cache"
        return self.compress(request, response)

    @staticmethod
    def compress(request: Request, response: Response) -> Response:
        """gzip as CloudFront would, so measured transfer sizes mean something."""
        content_type = response.headers.get("Content-Type", "")
        if ("gzip" in request.headers.get("Accept-Encoding", "") and content_type.startswith(_COMPRESSIBLE)
                and "Content-Encoding" not in response.headers):
            response.set_data(gzip.compress(response.get_data(), compresslevel=6))
            response.headers["Content-Encoding"] = "gzip"
            response.headers["Vary"] = "Accept-Encoding"
        return response


def serve(host: str, port: int):
    """Build the app and start serving in a daemon thread; returns the server."""
    _thread_local_chalice_request()
    from api import clock
    real_now = clock.now
    clock.now = lambda: real_now() + _clock_offset  # every caller asks clock.now(): one place to move
    from app import app as chalice_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # errors only; request lines may carry tokens
    server = make_server(host, port, Site(chalice_app), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True, name="site").start()
    return server


SCHEDULE_SECONDS = 30  # EventBridge runs them every minute in AWS; locally a little more often


def run_schedules(stop: threading.Event) -> None:
    """Run the app's scheduled functions until `stop` is set, as EventBridge would.

    They call DynamoDB over HTTP like any request, so moto's lock serialises them too.
    A failing run is logged (without its data) and the next one tries again.
    """
    from chalice.app import ScheduledEventConfig

    from app import app
    jobs = [app.handler_map[source.name].func for source in app.event_sources
            if isinstance(source, ScheduledEventConfig)]
    while not stop.wait(SCHEDULE_SECONDS):
        for job in jobs:
            try:
                job({})
            except Exception as exc:  # noqa: BLE001 - keep the timer alive; the next run retries
                print(f"scheduled job {job.__name__} failed: {type(exc).__name__}", flush=True)
