"""Services started by the demo/bench harness never outlive the process that started them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SERVICE = """
import signal, sys
from pathlib import Path

def on_term(*_):
    Path(sys.argv[0]).with_name("terminated").write_text("SIGTERM")
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
Path(sys.argv[0]).with_name("started").write_text("yes")
signal.pause()  # until SIGTERM
"""

PARENT = """
import signal, sys
from pathlib import Path
from sagaline_demo.processes import ProcessGroup, ServiceSpec

here = Path(sys.argv[1])
spec = ServiceSpec("svc", "fake_service", int(sys.argv[2]))
group = ProcessGroup([spec], here / "logs", {"PYTHONPATH": str(here)})
group.start_one(group.specs[0])
print(group.procs["svc"].pid, flush=True)
signal.pause()  # until the test kills this parent
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


def test_when_the_parent_is_killed_its_services_get_sigterm_and_exit(tmp_path: Path) -> None:
    (tmp_path / "fake_service.py").write_text(textwrap.dedent(SERVICE))
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path), str(_free_port())],
        stdout=subprocess.PIPE,
        text=True,
    )
    child: int | None = None
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        deadline = time.monotonic() + 20
        while not (tmp_path / "started").exists():
            assert time.monotonic() < deadline, "the service never started"
            time.sleep(0.05)

        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()

        deadline = time.monotonic() + 10
        while not _gone(child):
            assert time.monotonic() < deadline, "the service outlived its parent"
            time.sleep(0.05)
        assert (tmp_path / "terminated").read_text() == "SIGTERM"
    finally:
        parent.kill()
        if child is not None and not _gone(child):
            os.kill(child, signal.SIGKILL)  # a failed run must not leave the service behind
