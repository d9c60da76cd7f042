"""Lag-based autoscaling (KEDA, prod) and its HPA fallback (dev) point at what the services consume."""

from __future__ import annotations

import pytest
from sagaline.contracts.registry import template
from sagaline.contracts.topics import commands_topic, events_topic

pytestmark = pytest.mark.contract

# Trigger metadata the KEDA Kafka scaler reads; anything else would be ignored without a word.
KAFKA_SCALER_KEYS = {
    "bootstrapServers", "bootstrapServersFromEnv", "consumerGroup", "consumerGroupFromEnv",
    "topic", "topicFromEnv", "lagThreshold", "activationLagThreshold", "offsetResetPolicy",
    "allowIdleConsumers", "excludePersistentLag", "scaleToZeroOnInvalidOffset",
    "limitToPartitionsWithLag", "partitionLimitation", "sasl", "tls", "unsafeSsl", "version",
}  # fmt: skip
# Kafka's SASL mechanism names as the KEDA scaler spells them.
KEDA_SASL = {
    "": "none",
    "PLAIN": "plaintext",
    "SCRAM-SHA-256": "scram_sha256",
    "SCRAM-SHA-512": "scram_sha512",
}


@pytest.fixture
def prod(rendered):
    """KEDA is the prod autoscaler."""
    return rendered["prod"]


def keda(prod, services):
    return [(s, prod.get("ScaledObject", s.name)) for s in services]


def partitions(prod, topic: str) -> int:
    (found,) = [o for o in prod.of_kind("KafkaTopic") if o["spec"]["topicName"] == topic]
    return int(found["spec"]["partitions"])


def test_scaled_objects_have_the_fields_their_crd_requires(prod, services):
    for service, scaled in keda(prod, services):
        assert scaled["apiVersion"] == "keda.sh/v1alpha1"
        spec = scaled["spec"]
        assert spec["scaleTargetRef"]["name"] == service.name
        assert spec["scaleTargetRef"]["envSourceContainerName"] == prod.container(service)["name"]
        assert spec["triggers"], service.name
        for trigger in spec["triggers"]:
            assert trigger["type"] == "kafka"
            # The CRD types metadata as map[string]string.
            assert all(isinstance(v, str) for v in trigger["metadata"].values()), service.name
            assert set(trigger["metadata"]) <= KAFKA_SCALER_KEYS, service.name


def test_the_scaler_reaches_the_brokers_the_way_the_service_does(prod, services):
    for service, scaled in keda(prod, services):
        env = prod.environment(service)
        for trigger in scaled["spec"]["triggers"]:
            meta = trigger["metadata"]
            # From the container's own settings, so the scaler cannot drift from the service.
            assert meta["bootstrapServersFromEnv"] in env, service.name
            assert meta["sasl"] == KEDA_SASL[env["SAGALINE_KAFKA_SASL_MECHANISM"]]
            assert meta["tls"] == ("enable" if env["SAGALINE_KAFKA_TLS"] == "true" else "disable")


def test_a_job_scales_on_its_groups_lag_on_its_commands_never_past_their_partitions(prod, jobs):
    for job, scaled in keda(prod, jobs):
        topic = commands_topic(template(job.template), job.provider)
        (trigger,) = scaled["spec"]["triggers"]
        assert trigger["metadata"]["topic"] == topic
        assert trigger["metadata"]["consumerGroupFromEnv"] == "SAGALINE_CONSUMER_GROUP"
        assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
        assert scaled["spec"]["maxReplicaCount"] <= partitions(prod, topic), job.name


def test_the_coordinator_scales_on_each_events_topic_in_its_group_and_keeps_two_replicas(
    prod, services, jobs
):
    (coordinator,) = [s for s in services if not s.is_job]
    scaled = prod.get("ScaledObject", coordinator.name)
    group = prod.environment(coordinator)["SAGALINE_CONSUMER_GROUP"]
    watched = {(t["metadata"]["topic"], t["metadata"]["consumerGroup"]) for t in scaled["spec"]["triggers"]}
    # The coordinator consumes each events topic in a group of its own: <group>.<topic>.
    events = {events_topic(template(job.template)) for job in jobs}
    assert watched == {(topic, f"{group}.{topic}") for topic in events}
    assert scaled["spec"]["minReplicaCount"] >= 2
    assert all(scaled["spec"]["maxReplicaCount"] <= partitions(prod, topic) for topic in events)


def test_the_scaler_logs_in_with_the_services_own_credentials(prod, services):
    for service, scaled in keda(prod, services):
        for trigger in scaled["spec"]["triggers"]:
            auth = prod.get("TriggerAuthentication", trigger["authenticationRef"]["name"])["spec"]
            params = {}
            for entry in auth.get("env", []):
                assert {"parameter", "name"} <= set(entry)
                assert entry["containerName"] == prod.container(service)["name"]
                params[entry["parameter"]] = prod.environment(service)[entry["name"]]
            for entry in auth.get("secretTargetRef", []):
                assert {"parameter", "name", "key"} <= set(entry)
                params[entry["parameter"]] = (entry["name"], entry["key"])
            assert params["username"] == service.name
            assert params["password"] == (service.name, "password")
            if trigger["metadata"]["tls"] == "enable":
                assert "ca" in params, f"{service.name}: TLS to a private CA needs the ca parameter"


def test_dev_falls_back_to_a_cpu_hpa_per_deployment(rendered, services):
    dev = rendered["dev"]
    for service in services:
        hpa = dev.get("HorizontalPodAutoscaler", service.name)["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name}
        assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
        assert hpa["metrics"], service.name
