"""Configuration reaches the services as settings they know, and secrets only by reference."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.contract

# A row of the Secrets table in deploy/README.md: | `name` | `key` | ...
SECRET_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|", re.MULTILINE)


def test_every_variable_set_for_a_service_is_one_of_its_settings(manifests, services, settings_variables):
    for service in services:
        known = settings_variables(service)
        given = set(manifests.environment(service)) | manifests.secret_env(service)
        unknown = {v for v in given if v.startswith("SAGALINE_")} - set(known)
        assert unknown == set(), f"{service.name} sets variables its settings ignore: {sorted(unknown)}"


def test_secret_settings_come_from_secrets_and_never_from_config_maps(
    manifests, services, settings_variables
):
    for service in services:
        secrets = {v for v, spec in settings_variables(service).items() if spec.secret}
        in_config = secrets & set(manifests.environment(service))
        assert in_config == set(), f"{service.name} puts secrets in plain config: {sorted(in_config)}"


def test_required_settings_are_all_provided(manifests, services, settings_variables):
    for service in services:
        required = {v for v, spec in settings_variables(service).items() if spec.required}
        given = set(manifests.environment(service)) | manifests.secret_env(service)
        assert required <= given, f"{service.name} misses {sorted(required - given)}"


def test_no_secret_object_carries_values(manifests):
    # Secrets are created out of band (or by the Strimzi User Operator); manifests only refer to them.
    assert manifests.of_kind("Secret") == []


def secret_references(manifests) -> set[tuple[str, str]]:
    refs: set[tuple[str, str]] = set()
    for deployment in manifests.of_kind("Deployment"):
        spec = deployment["spec"]["template"]["spec"]
        for container in spec["containers"]:
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add((ref["name"], ref["key"]))
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, "a whole-Secret envFrom hides which keys are used"
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                refs.update(
                    (volume["secret"]["secretName"], item["key"]) for item in volume["secret"]["items"]
                )
    for auth in manifests.of_kind("TriggerAuthentication"):
        refs.update((ref["name"], ref["key"]) for ref in auth["spec"].get("secretTargetRef", []))
    return refs


def documented_secrets(repo_root, services) -> set[tuple[str, str]]:
    text = (repo_root / "deploy" / "README.md").read_text()
    rows = SECRET_ROW.findall(text)
    assert rows, "deploy/README.md has no Secrets table"
    out: set[tuple[str, str]] = set()
    for name, key in rows:
        if "<service>" in name:
            out.update((name.replace("<service>", s.name), key) for s in services)
        else:
            out.add((name, key))
    return out


def test_the_secrets_table_in_the_readme_lists_exactly_the_secrets_referenced(rendered, repo_root, services):
    documented = documented_secrets(repo_root, services)
    used = set().union(*(secret_references(m) for m in rendered.values()))
    assert used - documented == set(), "document these in deploy/README.md"
    assert documented - used == set(), "deploy/README.md lists Secrets nothing reads"
