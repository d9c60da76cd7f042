"""Every rendered Kubernetes object is valid against the API schemas kubernetes-validate bundles."""

from __future__ import annotations

import pytest
from kubernetes_validate import validate
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError, latest_version

pytestmark = pytest.mark.contract

# The newest Kubernetes release whose schemas the locked kubernetes-validate ships.
KUBERNETES_VERSION = latest_version()
# Custom resources have no schema in kubernetes-validate: test_custom_resources checks them.
CUSTOM_KINDS = {"KafkaTopic", "KafkaUser", "ScaledObject", "TriggerAuthentication"}


def schema_errors(objects: list[dict]) -> tuple[list[str], set[str]]:
    errors: list[str] = []
    unvalidated: set[str] = set()
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            validate(obj, KUBERNETES_VERSION, strict=True)
        except SchemaNotFoundError:
            unvalidated.add(obj["kind"])
        except ValidationError as exc:
            errors.append(f"{where}: {exc.message} at {'/'.join(map(str, exc.absolute_path))}")
    return errors, unvalidated


def test_every_object_of_an_overlay_is_valid_for_current_kubernetes(manifests):
    errors, unvalidated = schema_errors(manifests.objects)
    assert errors == []
    assert unvalidated <= CUSTOM_KINDS, f"no schema for {unvalidated - CUSTOM_KINDS}"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_service_renders_and_validates_on_its_own(env, services, render, k8s_root):
    for service in services:
        objects = render(k8s_root / "overlays" / env / service.folder)
        errors, _ = schema_errors(objects)
        assert errors == [], service.folder
        kinds = {o["kind"] for o in objects}
        assert {"Deployment", "ServiceAccount", "ConfigMap", "KafkaUser"} <= kinds, service.folder


def test_strict_validation_rejects_a_misspelled_field(manifests, services):
    # Guards the guard: a typo in a probe must fail, or the test above proves nothing.
    deployment = manifests.deployment(services[0])
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    errors, _ = schema_errors([broken])
    assert errors
    assert "replica" in errors[0]
