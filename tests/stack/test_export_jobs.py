"""On the running `make dev`: a background export is built by the dev worker thread into moto's S3,
and its presigned link downloads the file over plain HTTP, as the browser would."""
import io
import time

import openpyxl
import pytest
import requests


@pytest.mark.stack
def test_export_job__worker_thread_builds_it_and_the_link_downloads_it(dev_stack):
    info = dev_stack.info
    base = info["base_url"]
    headers = {"Authorization": f"Bearer {info['tokens']['supplier']}"}
    started = requests.post(f"{base}/api/rounds/{info['round_id']}/exports/picklist/jobs", headers=headers,
                            json={"format": "xlsx", "status": "all_live"}, timeout=30)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] in ("queued", "running", "done")
    deadline = time.monotonic() + 60
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.3)
        job = requests.get(f"{base}/api/export-jobs/{job['job_id']}", headers=headers, timeout=30).json()
    assert job["state"] == "done", job
    assert job["url"].startswith(info["moto_url"])  # the local S3, reachable from the browser
    file = requests.get(job["url"], timeout=30)
    assert file.status_code == 200
    assert file.headers["Content-Disposition"].startswith("attachment;")
    book = openpyxl.load_workbook(io.BytesIO(file.content), read_only=True)
    assert book.sheetnames[0] == "全部 All"
    header = next(book["全部 All"].iter_rows(max_row=1, values_only=True))
    assert header[:3] == ("范围 Scope", "类别 Type", "名称 Name")
    # Someone else's job does not exist for them.
    other = requests.get(f"{base}/api/export-jobs/{job['job_id']}", timeout=30,
                         headers={"Authorization": f"Bearer {info['tokens']['liaison']}"})
    assert other.status_code == 404
