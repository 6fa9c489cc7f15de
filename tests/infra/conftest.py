"""A moto server of its own for each test module that asks (`moto_url`), outside the test process.

Outside, because the session's in-process mock (tests/conftest.py `aws`) shares moto's backends with any
server thread in this process; the deploy script and scripts/bootstrap_admin.py run as commands anyway.
"""
import subprocess
import sys
import time

import boto3
import pytest
import requests

from scripts.devstack import free_port


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{url}/moto-api/", timeout=1)
            break
        except requests.RequestException:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("moto server did not start")
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.fixture(scope="module")
def aws_client(moto_url):
    """aws_client(service, region): a boto3 client of the module's moto server."""
    def make(service: str, region: str):
        return boto3.client(service, region_name=region, endpoint_url=moto_url, aws_access_key_id="testing",
                            aws_secret_access_key="testing")
    return make
