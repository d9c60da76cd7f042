"""Policy for every service's pods: resources, probes, hardening, and its own supporting objects."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.contract


def pod_spec(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]


def test_every_container_has_cpu_and_memory_requests_and_limits(manifests, services):
    for service in services:
        resources = manifests.container(service).get("resources", {})
        for bound in ("requests", "limits"):
            assert set(resources.get(bound, {})) >= {"cpu", "memory"}, f"{service.name} {bound}"


def test_liveness_probes_health_and_readiness_probes_ready(manifests, services):
    for service in services:
        container = manifests.container(service)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{service.name} {probe}"
            assert get["port"] in ports or get["port"] in ports.values(), f"{service.name} {probe} port"


def test_probes_reach_the_port_the_service_listens_on(manifests, services):
    for service in services:
        container = manifests.container(service)
        listen = int(manifests.environment(service)["SAGALINE_HTTP_PORT"])
        assert {p["containerPort"] for p in container["ports"]} == {listen}, service.name


def test_pods_run_as_non_root_with_a_read_only_root_and_no_privileges(manifests, services):
    for service in services:
        spec = pod_spec(manifests.deployment(service))
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, service.name
        # A numeric uid: runAsNonRoot cannot verify an image whose USER is a name.
        assert isinstance(pod["runAsUser"], int), service.name
        assert pod["runAsUser"] > 0, service.name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", service.name
        container = manifests.container(service)["securityContext"]
        assert container["readOnlyRootFilesystem"] is True, service.name
        assert container["allowPrivilegeEscalation"] is False, service.name
        assert container["capabilities"]["drop"] == ["ALL"], service.name
        assert not container["capabilities"].get("add"), service.name
        assert not container.get("privileged", False), service.name


def test_every_pod_gets_a_writable_empty_dir_at_tmp(manifests, services):
    for service in services:
        spec = pod_spec(manifests.deployment(service))
        empty_dirs = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        mounts = {m["mountPath"]: m["name"] for m in manifests.container(service)["volumeMounts"]}
        assert mounts.get("/tmp") in empty_dirs, service.name


def test_each_service_runs_under_its_own_service_account_without_an_api_token(manifests, services):
    for service in services:
        spec = pod_spec(manifests.deployment(service))
        assert spec["serviceAccountName"] == service.name
        assert spec["automountServiceAccountToken"] is False, service.name
        account = manifests.get("ServiceAccount", service.name)
        assert account["automountServiceAccountToken"] is False, service.name


def test_each_service_has_a_disruption_budget_and_a_network_policy_selecting_its_pods(manifests, services):
    for service in services:
        labels = manifests.deployment(service)["spec"]["template"]["metadata"]["labels"]
        for kind, field in (("PodDisruptionBudget", "selector"), ("NetworkPolicy", "podSelector")):
            wanted = manifests.get(kind, service.name)["spec"][field]["matchLabels"]
            assert wanted, f"{kind} {service.name}"
            assert wanted.items() <= labels.items(), f"{kind} {service.name}"


def test_prod_scales_every_service_with_keda_and_dev_with_an_hpa(manifests, services):
    deployments = {s.name for s in services}
    if manifests.env == "prod":
        targets = {o["spec"]["scaleTargetRef"]["name"] for o in manifests.of_kind("ScaledObject")}
        # KEDA makes its own HPA: a second one on the same Deployment would fight it.
        assert manifests.of_kind("HorizontalPodAutoscaler") == []
    else:
        targets = {o["spec"]["scaleTargetRef"]["name"] for o in manifests.of_kind("HorizontalPodAutoscaler")}
        assert manifests.of_kind("ScaledObject") == []
    assert targets == deployments


def test_deployments_leave_the_replica_count_to_the_autoscaler(manifests, services):
    for service in services:
        assert "replicas" not in manifests.deployment(service)["spec"], service.name


def test_every_config_map_a_pod_reads_is_part_of_the_overlay(manifests, services):
    for service in services:
        for source in manifests.container(service).get("envFrom", []):
            assert "configMapRef" in source, f"{service.name}: envFrom only from ConfigMaps"
            manifests.get("ConfigMap", source["configMapRef"]["name"])


def test_jobs_get_longer_to_stop_than_they_give_in_flight_work(manifests, jobs):
    for job in jobs:
        kill_after = pod_spec(manifests.deployment(job))["terminationGracePeriodSeconds"]
        drain = float(manifests.environment(job)["SAGALINE_SHUTDOWN_GRACE_SECONDS"])
        assert kill_after > drain, job.name


def test_the_otel_endpoint_comes_from_config(manifests, services):
    for service in services:
        endpoint = manifests.environment(service).get("SAGALINE_OTLP_ENDPOINT", "")
        assert endpoint.startswith("http"), service.name


def test_every_image_has_an_explicit_release_tag(manifests, services):
    for service in services:
        image = manifests.container(service)["image"]
        name, _, tag = image.rpartition(":")
        assert name.endswith(service.image), image
        assert tag not in ("", "latest"), image
