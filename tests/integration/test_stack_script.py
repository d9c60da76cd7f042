"""deploy/local/stack.sh fails fast with one clear line when the machine is not ready for it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "local" / "stack.sh"


def _path_without(tmp_path: Path, *hidden: str) -> str:
    """A PATH with every tool of the real PATH except ``hidden`` (symlinked into one folder)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            target = bindir / name
            if name in hidden or target.exists():
                continue
            source = os.path.join(folder, name)
            if os.access(source, os.X_OK) and not os.path.isdir(source):
                target.symlink_to(source)
    return str(bindir)


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "SAGALINE_STACK_DIR": str(tmp_path / "state"),
        "SAGALINE_CACHE_DIR": str(tmp_path / "cache"),
        **env,
    }
    return subprocess.run(
        ["bash", str(STACK), *args], env=full_env, capture_output=True, text=True, timeout=120
    )


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got: {stderr!r}"
    return lines[0]


def test_when_java_is_missing_up_says_so_in_one_line(tmp_path):
    result = _run(tmp_path, "up", "kafka", PATH=_path_without(tmp_path, "java"))
    assert result.returncode != 0
    assert _one_line(result.stderr) == (
        "stack: java not found on PATH: install a Java 17+ runtime "
        "(apt-get install openjdk-17-jre-headless) to run Kafka"
    )


def test_when_maven_is_missing_and_jars_are_not_cached_up_says_so(tmp_path):
    assert shutil.which("java"), "this test needs java on PATH"
    result = _run(tmp_path, "up", "kafka", PATH=_path_without(tmp_path, "mvn"))
    assert result.returncode != 0
    assert "stack: mvn not found on PATH" in _one_line(result.stderr)


def test_when_go_is_missing_and_jaeger_is_not_built_up_says_so(tmp_path):
    result = _run(tmp_path, "up", "jaeger", PATH=_path_without(tmp_path, "go"))
    assert result.returncode != 0
    assert _one_line(result.stderr).startswith("stack: go not found on PATH: install the Go toolchain")


def test_when_the_redis_port_is_taken_up_names_the_port_and_owner(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = _run(tmp_path, "up", "redis", SAGALINE_REDIS_PORT=str(port))
    assert result.returncode != 0
    line = _one_line(result.stderr)
    assert line.startswith(f"stack: redis cannot start: port {port} is taken by ")
    assert f"(pid {os.getpid()})" in line
    assert line.endswith("; stop it or set SAGALINE_REDIS_PORT")


def test_when_a_component_dies_at_start_up_up_points_at_its_log(tmp_path):
    # A Redis that cannot write its AOF folder exits at once: the failure names the log to read.
    state = tmp_path / "state"
    (state / "redis").mkdir(parents=True)
    (state / "redis" / "appendonlydir").write_text("not a folder")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _run(tmp_path, "up", "redis", SAGALINE_REDIS_PORT=str(port), SAGALINE_REDIS_DEADLINE="10")
    line = _one_line(result.stderr)
    assert result.returncode != 0
    assert line.startswith("stack: redis ")
    assert line.endswith(f"see {state / 'logs' / 'redis.log'}")


def test_unknown_command_prints_usage(tmp_path):
    result = _run(tmp_path, "sideways")
    assert result.returncode != 0
    assert _one_line(result.stderr).startswith("stack: usage: stack.sh install|up|down|status|logs")


def test_a_second_up_finds_the_running_stack_up_and_starts_nothing():
    # The suite runs on the stack `make test` brought up: `up` again must only confirm it.
    result = subprocess.run(["bash", str(STACK), "up"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for component in ("kafka", "redis", "jaeger", "smtp"):
        assert f"stack: {component} already up" in result.stdout
    assert "stack: stack up in" in result.stdout
    assert re.search(r"stack: (kafka|redis|jaeger|smtp) up in", result.stdout) is None, "it started one"
