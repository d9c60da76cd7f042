"""Start Sagaline services as real OS processes, wait until each is ready, stop them with SIGTERM."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port: int
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ready"


class ServiceStartError(RuntimeError):
    pass


_PR_SET_PDEATHSIG = 1
try:  # resolved before any fork: the child only calls it
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: services outlive a killed parent there
    _prctl = None


def _term_with_parent() -> None:
    """In the child: SIGTERM when the process that started it dies, so a demo or bench that is
    killed (or interrupted) never leaves services behind on their ports; they drain and exit."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ProcessGroup:
    """The services of one run; each writes its JSON log lines to ``<log_dir>/<name>.log``."""

    def __init__(self, specs: Sequence[ServiceSpec], log_dir: Path, base_env: Mapping[str, str]) -> None:
        self.specs = list(specs)
        self.log_dir = log_dir
        self.base_env = dict(base_env)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, deadline_seconds: float = 60.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for spec in self.specs:
                self.start_one(spec)
            for spec in self.specs:
                self.wait_ready(spec, deadline_seconds)
        except BaseException:
            self.stop()  # never leave half a system running behind a failed start
            raise

    def start_one(self, spec: ServiceSpec) -> None:
        # Readiness is probed over HTTP: a leftover process on the port would answer for ours.
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", spec.port)) == 0:
                raise ServiceStartError(
                    f"{spec.name} cannot start: port {spec.port} is taken by another process "
                    "(a previous run still going?)"
                )
        env = {**os.environ, **self.base_env, **spec.env, "SAGALINE_HTTP_PORT": str(spec.port)}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{spec.name}.log").open("ab")
        self.procs[spec.name] = subprocess.Popen(
            [sys.executable, "-m", spec.module],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_term_with_parent,  # only calls a libc function resolved before the fork
        )

    def wait_ready(self, spec: ServiceSpec, deadline_seconds: float) -> None:
        deadline = time.monotonic() + deadline_seconds
        proc = self.procs[spec.name]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServiceStartError(
                    f"{spec.name} exited with {proc.returncode}; see {self.log_dir / (spec.name + '.log')}"
                )
            try:
                if httpx.get(spec.ready_url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise ServiceStartError(
            f"{spec.name} not ready within {deadline_seconds:.0f}s; see {self.log_dir / (spec.name + '.log')}"
        )

    def stop(self, grace_seconds: float = 20.0) -> dict[str, int | None]:
        """SIGTERM every service, wait for graceful exits, SIGKILL stragglers; returns exit codes."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        codes: dict[str, int | None] = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = None
        self.procs.clear()
        return codes

    def kill(self, name: str) -> None:
        """SIGKILL one service (chaos): no graceful shutdown, nothing flushed."""
        proc = self.procs.pop(name)
        proc.kill()
        proc.wait()

    def restart(self, name: str, deadline_seconds: float = 60.0) -> None:
        spec = next(s for s in self.specs if s.name == name)
        self.start_one(spec)
        self.wait_ready(spec, deadline_seconds)
