"""Background exports (后台导出): a job record, the worker that builds the file into S3, and the
presigned link that downloads it.

A request may not outlive API Gateway's 29 s nor answer more than Lambda's 6 MB, so a large
export is a job: `create` checks the caller exactly as a direct export does and stores an
ExportJob; `dispatch` starts `run` elsewhere: an asynchronous Lambda invocation in AWS, a worker
thread under `make dev`, inline in the tests. `run` counts the orders (so progress has a total),
streams the export into a temporary file while writing `done` every few hundred orders, puts the
file in the exports bucket, and marks the job done. `view` answers the job's creator, and only
them (anyone else: 404), with a link valid for 15 minutes. The bucket deletes files after 7 days
(infra/template.yaml), and the table's TTL (infra/table.yaml) the job.
"""
import json
import logging
import queue
import tempfile
import threading
from datetime import timedelta

from pynamodb.exceptions import UpdateError

from api import aws, clock, config, exports, ids, rounds
from api.auth import Principal
from api.errors import NotFound, storage_errors
from api.models import ExportJob

KEEP_DAYS = 7
LINK_SECONDS = 15 * 60
# A worker that has not written progress for this long has died (its Lambda timed out at 15 minutes).
STALE = timedelta(minutes=16)
_log = logging.getLogger(__name__)


def create(principal: Principal, round_id: str, kind: str, data: dict) -> dict:
    """Store a queued job for an export the caller may make, start it, and return its view (202)."""
    selection = exports.select(principal, round_id, kind, data)
    now = clock.now()
    job_id = ids.new_id()
    job = ExportJob(
        f"EXPORTJOB#{job_id}", "EXPORTJOB", job_id=job_id, round_id=round_id, kind_of_export=kind,
        format=selection.fmt, layout=selection.layout if selection.fmt == "pdf" else "",
        status_filter=selection.status, community_id=selection.community_id, building=selection.building,
        owner_role=principal.role, owner_scope=principal.scope_id, created_by=principal.subject, created_at=now,
        updated_at=now, filename=selection.filename, content_type=selection.content_type,
        expires_at=now + timedelta(days=KEEP_DAYS))
    with storage_errors():
        job.save(condition=ExportJob.pk.does_not_exist())
    dispatch(job_id)
    return _view(_get(job_id) or job)  # inline (the tests), it has already run


def view(principal: Principal, job_id: str) -> dict:
    """The job's state and progress; once done, a fresh presigned link. Someone else's job is 404."""
    job = _get(job_id)
    if job is None or (job.owner_role, job.owner_scope) != (principal.role, principal.scope_id):
        raise NotFound("导出任务不存在或已过期", "No such export job (or it has expired)")
    return _view(job)


def _get(job_id: str) -> ExportJob | None:
    with storage_errors():
        try:
            return ExportJob.get(f"EXPORTJOB#{job_id}", "EXPORTJOB", consistent_read=True)
        except ExportJob.DoesNotExist:
            return None


def _view(job: ExportJob) -> dict:
    state, error = job.state, None
    if state in ("queued", "running") and clock.now() - (job.updated_at or job.created_at) > STALE:
        state = "failed"
        error = {"code": "export_timed_out", "message": "导出超时，请重新导出",
                 "message_en": "The export timed out; please start it again"}
    elif state == "failed":
        error = {"code": job.error_code or "export_failed", "message": "导出失败，请重新导出",
                 "message_en": "The export failed; please start it again"}
    url, url_expires_at = None, None
    if state == "done" and job.s3_key:
        url = aws.client("s3").generate_presigned_url("get_object", ExpiresIn=LINK_SECONDS, Params={
            "Bucket": config.EXPORTS_BUCKET, "Key": job.s3_key, "ResponseContentType": job.content_type,
            "ResponseContentDisposition": _disposition(job)})
        url_expires_at = clock.iso(clock.now() + timedelta(seconds=LINK_SECONDS))
    return {"job_id": job.job_id, "round_id": job.round_id, "kind": job.kind_of_export, "format": job.format,
            "layout": job.layout or None, "status": job.status_filter, "community_id": job.community_id,
            "building": job.building, "state": state, "done": int(job.done), "total": int(job.total),
            "filename": job.filename, "url": url, "url_expires_at": url_expires_at, "error": error,
            "created_at": clock.iso(job.created_at), "finished_at": clock.iso(job.finished_at)}


def _disposition(job: ExportJob) -> str:
    return exports.attachment(job.filename, job.s3_key.rsplit("/", 1)[-1])


# --- running ---------------------------------------------------------------------------

def run(job_id: str) -> str:
    """Build the job's file into S3. Returns the final state. Runs once: a repeated start is ignored."""
    job = _get(job_id)
    if job is None:
        return "missing"
    try:
        with storage_errors():
            job.update(actions=[ExportJob.state.set("running"), ExportJob.updated_at.set(clock.now())],
                       condition=ExportJob.state == "queued")
    except UpdateError:
        return job.state  # another invocation has it (an asynchronous Lambda may be delivered twice)
    try:
        rnd, bundles = rounds.load(job.round_id)
        selection = exports.selection_of(
            rnd, bundles, job.kind_of_export, job.format, layout=job.layout or "a4-3x7", status=job.status_filter,
            community_id=job.community_id, building=job.building, for_supplier=job.owner_role == "supplier")
        total = exports.count(selection)
        _progress(job, 0, total)
        key = f"exports/{job.round_id}/{job.job_id}/{exports.ascii_name(selection)}"
        with tempfile.TemporaryFile(dir=tempfile.gettempdir()) as out:
            written = exports.write(selection, exports.orders(selection), out,
                                    progress=lambda n: _progress(job, n, max(total, n)))
            out.seek(0)
            aws.client("s3").put_object(Bucket=config.EXPORTS_BUCKET, Key=key, Body=out,
                                        ContentType=selection.content_type)
        now = clock.now()
        with storage_errors():
            job.update(actions=[ExportJob.state.set("done"), ExportJob.s3_key.set(key),
                                ExportJob.done.set(written), ExportJob.total.set(written),
                                ExportJob.finished_at.set(now), ExportJob.updated_at.set(now)])
        return "done"
    except Exception as exc:  # noqa: BLE001 - the job must end failed, not stay running
        _log.error("export job %s failed: %s", job_id, type(exc).__name__)  # no data: it may hold phones
        job.update(actions=[ExportJob.state.set("failed"), ExportJob.error_code.set(getattr(exc, "code", "export_failed")),
                            ExportJob.finished_at.set(clock.now()), ExportJob.updated_at.set(clock.now())])
        return "failed"


def _progress(job: ExportJob, done: int, total: int) -> None:
    with storage_errors():
        job.update(actions=[ExportJob.done.set(done), ExportJob.total.set(total),
                            ExportJob.updated_at.set(clock.now())])


# --- starting a job elsewhere ------------------------------------------------------------

_queue: "queue.Queue[str]" = queue.Queue()
_worker: threading.Thread | None = None
_worker_lock = threading.Lock()


def dispatch(job_id: str) -> None:
    """Start `run(job_id)` away from the request: config.EXPORT_RUNNER is lambda, thread or inline."""
    if config.EXPORT_RUNNER == "inline":
        run(job_id)
    elif config.EXPORT_RUNNER == "thread":
        _start_worker()
        _queue.put(job_id)
    else:
        aws.client("lambda").invoke(FunctionName=config.EXPORT_FUNCTION, InvocationType="Event",
                                    Payload=json.dumps({"job_id": job_id}).encode())


def _start_worker() -> None:
    """`make dev`'s worker: one thread, one job at a time, like a Lambda with reserved concurrency 1."""
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, daemon=True, name="export-worker")
            _worker.start()


def _work() -> None:
    while True:
        job_id = _queue.get()
        try:
            run(job_id)
        finally:
            _queue.task_done()
