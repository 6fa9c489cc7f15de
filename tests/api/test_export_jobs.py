"""Background exports through moto's S3: POST a job (202), follow its progress, download the file
from the presigned link; another supplier (or another community's liaison) is told it does not exist.

The tests run jobs inline (BAOGONG_EXPORT_RUNNER=inline, tests/conftest.py); in AWS `dispatch`
invokes the export_worker Lambda asynchronously instead, checked here with botocore's Stubber.
"""
import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest
import requests
import time_machine
from botocore.stub import Stubber

from api import aws, clock, config, export_jobs, exports
from api.models import ExportJob
from tests.api.helpers import (
    create_community, create_supplier, error_of, fair_share_off, get, place_order, post, register,
)

FLATS = [("10栋", "1单元", "1001"), ("1栋", "", "2"), ("3栋", "2单元", "101"), ("1栋", "", "10")]


@pytest.fixture(autouse=True)
def exports_bucket(aws):
    s3 = aws_s3()
    s3.create_bucket(Bucket=config.EXPORTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": config.REGION})
    yield
    for item in s3.list_objects_v2(Bucket=config.EXPORTS_BUCKET).get("Contents", []):
        s3.delete_object(Bucket=config.EXPORTS_BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=config.EXPORTS_BUCKET)


def aws_s3():
    return aws.client("s3")


@pytest.fixture
def ordered(client, demo):
    """Four households, each with one order (unpaid), in scrambled flat order."""
    fair_share_off(demo["community_id"])
    placed = []
    for n, (building, unit, room) in enumerate(FLATS):
        household = register(client, demo["join_key"], building=building, unit=unit, room=room,
                             phone=f"1390000{n:04d}")
        response = place_order(client, household["token"], demo["round_id"], (demo["bundle_ids"][1], 1))
        assert response.status_code == 201, response.body
        placed.append(response.json_body)
    return placed


def start(client, demo, kind="packing", token=None, **body):
    return post(client, f"/api/rounds/{demo['round_id']}/exports/{kind}/jobs", {"format": "xlsx", **body},
                token or demo["tokens"]["supplier"])


def job_of(client, job_id, token):
    return get(client, f"/api/export-jobs/{job_id}", token)


def download(url: str) -> bytes:
    """The presigned link, fetched as a browser would (moto answers it)."""
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response.content


def test_job__202_then_done_with_a_link_that_downloads_the_xlsx(client, demo, ordered):
    response = start(client, demo, status="all_live")
    assert response.status_code == 202, response.body
    job_id = response.json_body["job_id"]
    body = job_of(client, job_id, demo["tokens"]["supplier"]).json_body
    assert body["state"] == "done" and body["done"] == body["total"] == 4
    assert body["url"] and body["url_expires_at"]
    assert parse_qs(urlparse(body["url"]).query)["response-content-disposition"][0].startswith("attachment;")
    book = openpyxl.load_workbook(io.BytesIO(download(body["url"])), read_only=True)
    rows = list(book["全部 All"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[3]) for r in rows] == [("1栋", "2"), ("1栋", "10"), ("3栋", "101"), ("10栋", "1001")]


def test_job__pdf_labels__downloads_a_pdf(client, demo, ordered):
    body = start(client, demo, kind="labels", format="pdf", layout="roll-60x40", status="all_live").json_body
    done = job_of(client, body["job_id"], demo["tokens"]["supplier"]).json_body
    assert done["state"] == "done" and done["total"] == 4 and done["layout"] == "roll-60x40"
    assert download(done["url"]).startswith(b"%PDF-")


def test_job__reports_progress_while_it_runs(client, demo, ordered, monkeypatch):
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    seen = []
    original = export_jobs._progress

    def record(job, done, total):
        original(job, done, total)
        stored = ExportJob.get(job.pk, job.sk, consistent_read=True)
        seen.append((stored.state, int(stored.done), int(stored.total)))

    monkeypatch.setattr(export_jobs, "_progress", record)
    start(client, demo, status="all_live")
    assert seen[0] == ("running", 0, 4)
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)
    assert {(state, total) for state, _, total in seen} == {("running", 4)}
    assert (1, 2, 3, 4) == tuple(sorted({done for _, done, _ in seen if done}))


def test_job__paid_only_by_default(client, demo, ordered):
    body = start(client, demo).json_body
    assert job_of(client, body["job_id"], demo["tokens"]["supplier"]).json_body["total"] == 0


def test_job__another_supplier__404_and_cannot_start_one_on_the_round(client, demo, ordered):
    stranger = create_supplier(demo["sub_district_id"], "隔壁超市")
    job_id = start(client, demo, status="all_live").json_body["job_id"]
    error_of(job_of(client, job_id, stranger["token"]), 404, "not_found")
    error_of(start(client, demo, token=stranger["token"]), 404, "not_found")


def test_job__liaison__own_jobs_only_and_own_community_only(client, demo, ordered):
    from api import bootstrap
    supplier_job = start(client, demo, status="all_live").json_body["job_id"]
    error_of(job_of(client, supplier_job, demo["tokens"]["liaison"]), 404, "not_found")
    mine = start(client, demo, token=demo["tokens"]["liaison"], status="all_live")
    assert mine.status_code == 202, mine.body
    assert mine.json_body["community_id"] == demo["community_id"]
    other = create_community(demo["sub_district_id"], "和平里小区")
    other_liaison = bootstrap.create_staff("liaison", other["community_id"])
    error_of(job_of(client, mine.json_body["job_id"], other_liaison), 404, "not_found")
    error_of(start(client, demo, token=other_liaison), 404, "not_found")


def test_job__unknown_id__404_and_resident_403(client, demo, ordered):
    error_of(job_of(client, "01JOBTHATDOESNOTEXIST0000", demo["tokens"]["supplier"]), 404, "not_found")
    household = register(client, demo["join_key"], room="909", phone="13800000909")
    assert job_of(client, "x", household["token"]).status_code == 403
    assert start(client, demo, token=household["token"]).status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"format": "pdf"}, "format"),
    ({"format": "docx"}, "format"),
    ({"layout": "a3"}, "layout"),
    ({"status": "everything"}, "status"),
    ({"building": "1栋"}, "community_id"),
    ({"unexpected": 1}, "unexpected"),
])
def test_job__bad_input__400_and_no_job(client, demo, body, field):
    with_defaults = {"format": "xlsx", **body}
    response = post(client, f"/api/rounds/{demo['round_id']}/exports/packing/jobs", with_defaults,
                    demo["tokens"]["supplier"])
    error = error_of(response, 400, "bad_input")
    assert field in error["fields"]


def test_job__unknown_kind__404(client, demo):
    error_of(start(client, demo, kind="invoices"), 404, "not_found")


def test_job__that_fails__says_so_and_leaves_no_file(client, demo, ordered, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "write", broken)
    job_id = start(client, demo, status="all_live").json_body["job_id"]
    body = job_of(client, job_id, demo["tokens"]["supplier"]).json_body
    assert body["state"] == "failed" and body["url"] is None
    assert body["error"]["code"] == "export_failed" and body["error"]["message_en"]
    assert aws_s3().list_objects_v2(Bucket=config.EXPORTS_BUCKET).get("KeyCount") == 0


def test_job__silent_for_too_long__is_shown_failed(client, demo, monkeypatch):
    monkeypatch.setattr(export_jobs, "dispatch", lambda job_id: None)  # a worker that never starts
    job_id = start(client, demo).json_body["job_id"]
    assert job_of(client, job_id, demo["tokens"]["supplier"]).json_body["state"] == "queued"
    with time_machine.travel(clock.now() + export_jobs.STALE + timedelta(seconds=1), tick=False):
        body = job_of(client, job_id, demo["tokens"]["supplier"]).json_body
    assert body["state"] == "failed" and body["error"]["code"] == "export_timed_out"


def test_job__run_twice__builds_once(client, demo, ordered, monkeypatch):
    monkeypatch.setattr(export_jobs, "dispatch", lambda job_id: None)
    job_id = start(client, demo, status="all_live").json_body["job_id"]
    assert export_jobs.run(job_id) == "done"
    assert export_jobs.run(job_id) == "done"  # a second delivery of the async event finds it taken
    assert aws_s3().list_objects_v2(Bucket=config.EXPORTS_BUCKET)["KeyCount"] == 1


def test_job__record_expires_with_its_file_after_seven_days(client, demo):
    job_id = start(client, demo).json_body["job_id"]
    stored = ExportJob.get(f"EXPORTJOB#{job_id}", "EXPORTJOB", consistent_read=True)
    # TTL is whole seconds
    assert abs(stored.expires_at - stored.created_at - timedelta(days=7)) < timedelta(seconds=1)


def test_dispatch__in_aws__invokes_the_worker_lambda_asynchronously(monkeypatch):
    monkeypatch.setattr(config, "EXPORT_RUNNER", "lambda")
    client = aws.client("lambda")
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 202}, {
            "FunctionName": config.EXPORT_FUNCTION, "InvocationType": "Event",
            "Payload": json.dumps({"job_id": "01JOB"}).encode()})
        export_jobs.dispatch("01JOB")
        stub.assert_no_pending_responses()


def test_export_worker__lambda_handler_runs_the_job(client, demo, ordered, monkeypatch):
    from app import app
    monkeypatch.setattr(export_jobs, "dispatch", lambda job_id: None)
    job_id = start(client, demo, status="all_live").json_body["job_id"]
    handler = app.handler_map["export_worker"]
    assert handler({"job_id": job_id}, None) == {"state": "done"}
    assert job_of(client, job_id, demo["tokens"]["supplier"]).json_body["state"] == "done"
