"""Fixtures for the deployment tests: the services, the rendered kustomize overlays, docker-compose.yml.

Rendering uses the real kustomize (pinned in deploy/local/kustomize/go.mod, built once by
deploy/local/tools.sh and cached), so the tests check what `kubectl apply -k` would send, not what
a re-implementation of kustomize thinks it would.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings
from sagaline.contracts.job.settings import JobSettings
from sagaline.contracts.registry import TEMPLATES
from sagaline.saga.settings import CoordinatorSettings

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
ENVIRONMENTS = ("dev", "prod")
# base/ folders that are not a service: what every service in the namespace shares.
SHARED_BASE_FOLDERS = frozenset({"platform"})

Obj = dict[str, Any]


@dataclass(frozen=True)
class Service:
    """One deployable: the coordinator or a derived job (``<template>_<provider>_job``)."""

    folder: str
    template: str | None = None
    provider: str | None = None

    @property
    def name(self) -> str:
        """Kubernetes object name and compose service name (DNS labels allow no underscore)."""
        return self.folder.replace("_", "-")

    @property
    def is_job(self) -> bool:
        return self.template is not None

    @property
    def image(self) -> str:
        return f"sagaline/{self.name}"


def job_service(folder: str) -> Service:
    """The derived job in ``services/<folder>``, its template and provider read off the name."""
    for template in sorted(TEMPLATES, key=len, reverse=True):
        prefix = f"{template}_"
        if folder.startswith(prefix) and folder.endswith("_job") and len(folder) > len(prefix) + 4:
            return Service(folder, template, folder[len(prefix) : -len("_job")])
    raise ValueError(
        f"services/{folder}: a derived job folder is named <template>_<provider>_job with a template "
        f"from {sorted(TEMPLATES)}"
    )


def service_folders() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))


@pytest.fixture(scope="session")
def services() -> list[Service]:
    """The coordinator and every derived job under services/."""
    return [Service("coordinator"), *(job_service(f) for f in service_folders())]


@pytest.fixture(scope="session")
def jobs(services: list[Service]) -> list[Service]:
    return [s for s in services if s.is_job]


@dataclass(frozen=True)
class Setting:
    secret: bool
    required: bool


def settings_class(service: Service) -> type[BaseSettings]:
    """The settings model the service's process reads its environment with."""
    if not service.is_job:
        return CoordinatorSettings
    module = importlib.import_module(f"{service.folder}.settings")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, JobSettings) and value.__module__ == module.__name__
    ]
    assert len(found) == 1, f"{module.__name__}: expected one JobSettings subclass, found {found}"
    return found[0]


@pytest.fixture(scope="session")
def settings_variables() -> Callable[[Service], dict[str, Setting]]:
    """``settings_variables(service)``: every environment variable its settings read."""

    def _variables(service: Service) -> dict[str, Setting]:
        model = settings_class(service)
        prefix = model.model_config.get("env_prefix", "")
        return {
            f"{prefix}{name}".upper(): Setting(field.annotation is SecretStr, field.is_required())
            for name, field in model.model_fields.items()
        }

    return _variables


@pytest.fixture(scope="session")
def kustomize() -> Path:
    """The pinned kustomize binary; built with Go on first use (about a minute), cached after."""
    try:
        out = subprocess.run(
            ["bash", str(ROOT / "deploy" / "local" / "tools.sh"), "kustomize"],
            capture_output=True,
            text=True,
            timeout=900,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"could not get kustomize: {exc.stderr.strip()}", pytrace=False)
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def build(kustomize: Path) -> Callable[[Path], list[Obj]]:
    """``build(folder)``: the objects ``kustomize build folder`` prints."""

    def _build(folder: Path) -> list[Obj]:
        done = subprocess.run(
            [str(kustomize), "build", str(folder)], capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            pytest.fail(f"kustomize build {folder} failed: {done.stderr.strip()}")
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    return _build


@pytest.fixture(scope="session")
def render(build: Callable[[Path], list[Obj]]) -> Callable[[Path], list[Obj]]:
    """``build`` cached per folder, for the checked-in folders that no test edits."""
    return cache(build)


@dataclass(frozen=True)
class Manifests:
    """The objects one overlay renders to, with look-ups the policy tests share."""

    env: str
    objects: list[Obj]

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> Obj:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.env}: expected one {kind} {name!r}, found {len(found)}"
        return found[0]

    def names(self, kind: str) -> set[str]:
        return {o["metadata"]["name"] for o in self.of_kind(kind)}

    def deployment(self, service: Service) -> Obj:
        return self.get("Deployment", service.name)

    def container(self, service: Service) -> Obj:
        containers = self.deployment(service)["spec"]["template"]["spec"]["containers"]
        assert len(containers) == 1, f"{service.name}: one container expected"
        return containers[0]

    def environment(self, service: Service) -> dict[str, str]:
        """Plain environment of the service's container: ConfigMaps (envFrom) then literal env."""
        container = self.container(service)
        values: dict[str, str] = {}
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef")
            if ref:
                values.update(self.get("ConfigMap", ref["name"]).get("data", {}))
        for var in container.get("env", []):
            if "value" in var:
                values[var["name"]] = var["value"]
        return values

    def secret_env(self, service: Service) -> set[str]:
        """Names of the container's variables whose value comes from a Secret."""
        return {
            v["name"]
            for v in self.container(service).get("env", [])
            if "secretKeyRef" in v.get("valueFrom", {})
        }

    def topic_names(self) -> set[str]:
        return {o["spec"].get("topicName", o["metadata"]["name"]) for o in self.of_kind("KafkaTopic")}


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def manifests(request: pytest.FixtureRequest, render: Callable[[Path], list[Obj]]) -> Manifests:
    """Every object of one overlay (dev, then prod)."""
    env = request.param
    return Manifests(env, render(K8S / "overlays" / env))


@pytest.fixture(scope="session")
def rendered(render: Callable[[Path], list[Obj]]) -> dict[str, Manifests]:
    """Both overlays by name, for tests that compare them."""
    return {env: Manifests(env, render(K8S / "overlays" / env)) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def k8s_root() -> Path:
    return K8S


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture
def k8s_copy(tmp_path: Path) -> Path:
    """A scratch copy of deploy/k8s to edit and render."""
    target = tmp_path / "k8s"
    shutil.copytree(K8S, target)
    return target
