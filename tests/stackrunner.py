"""Start the real local stack with `make dev` (as a newcomer would) and tear it down after."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from scripts.devstack import free_port

ROOT = Path(__file__).resolve().parent.parent


class DevStack:
    """A `make dev` process on a free port; `info` is its .local/dev.json.

    `env` is added to the stack's environment, e.g. {"BAOGONG_LIMIT_IP_WRITES": "1000000/60"} to let a
    test drive it hard from 127.0.0.1 (api/config.py lists the rate-limit settings).
    """

    def __init__(self, state_dir: Path, env: dict[str, str] | None = None):
        self.state_dir = state_dir
        self.env = dict(env or {})
        self.port = free_port()
        self.log_path = state_dir / "make-dev.log"
        self.process = None
        self.info: dict = {}

    def start(self, timeout: float = 120) -> "DevStack":
        # A clean environment: nothing from the in-process test settings leaks into the stack.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BAOGONG_"))}
        env.update(PORT=str(self.port), BAOGONG_STATE_DIR=str(self.state_dir), PYTHONUNBUFFERED="1")
        env.update(self.env)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(["make", "--no-print-directory", "dev"], cwd=ROOT, env=env,
                                        stdout=self.log_path.open("w"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        dev_json = self.state_dir / "dev.json"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"make dev exited early:\n{self.output()}")
            if dev_json.exists():
                try:
                    self.info = json.loads(dev_json.read_text())
                    if requests.get(self.info["base_url"] + "/api/health", timeout=2).ok:
                        return self
                except (ValueError, requests.RequestException):
                    pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"make dev did not come up in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> "DevStack":
        """`with DevStack(dir) as stack:` a stack of the block's own, stopped however the block ends."""
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
