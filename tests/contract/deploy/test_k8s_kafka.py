"""Strimzi topics and users match the topics each service really uses (named by sagaline.contracts)."""

from __future__ import annotations

import re

import pytest
from sagaline.contracts.registry import template
from sagaline.contracts.topics import DLQ, commands_topic, events_topic
from sagaline.saga.coordinator import Topology
from sagaline.saga.registry import WorkflowRegistry
from sagaline.saga.workflows import register_default_workflows

pytestmark = pytest.mark.contract

# Enums of the kafka.strimzi.io/v1 KafkaUser CRD.
ACL_RESOURCE_TYPES = {"topic", "group", "cluster", "transactionalId"}
ACL_OPERATIONS = {
    "Read", "Write", "Create", "Delete", "Alter", "Describe",
    "ClusterAction", "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All",
}  # fmt: skip
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def topics_of(job) -> tuple[str, str]:
    t = template(job.template)
    return commands_topic(t, job.provider), events_topic(t)


def coordinator_group(group: str, events: str) -> str:
    """The coordinator consumes each events topic in a group of its own, named like this."""
    return f"{group}.{events}"


def acl_grants(user: dict) -> dict[tuple[str, str], set[str]]:
    """(resource type, name) -> operations, for the user's allow rules."""
    grants: dict[tuple[str, str], set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        assert acl.get("type", "allow") == "allow"
        resource = acl["resource"]
        assert resource.get("patternType", "literal") == "literal", "prefix ACLs grant more than is needed"
        grants.setdefault((resource["type"], resource["name"]), set()).update(acl["operations"])
    return grants


def test_the_topics_are_the_commands_of_each_job_their_events_and_the_dlq(manifests, jobs):
    wanted = {DLQ}
    for job in jobs:
        wanted.update(topics_of(job))
    assert manifests.topic_names() == wanted


def test_each_job_reads_its_commands_in_its_group_and_writes_its_events_and_the_dlq(manifests, jobs):
    for job in jobs:
        commands, events = topics_of(job)
        group = manifests.environment(job)["SAGALINE_CONSUMER_GROUP"]
        assert acl_grants(manifests.get("KafkaUser", job.name)) == {
            ("topic", commands): {"Read", "Describe"},
            ("group", group): {"Read"},
            ("topic", events): {"Write", "Describe"},
            ("topic", DLQ): {"Write", "Describe"},
        }, job.name


def test_the_coordinator_reads_every_events_topic_and_writes_every_commands_topic(manifests, services, jobs):
    (coordinator,) = [s for s in services if not s.is_job]
    group = manifests.environment(coordinator)["SAGALINE_CONSUMER_GROUP"]
    wanted = {("topic", DLQ): {"Write", "Describe"}}
    for job in jobs:
        commands, events = topics_of(job)
        wanted[("topic", events)] = {"Read", "Describe"}
        wanted[("group", coordinator_group(group, events))] = {"Read"}
        wanted[("topic", commands)] = {"Write", "Describe"}
    assert acl_grants(manifests.get("KafkaUser", coordinator.name)) == wanted


def test_each_service_logs_in_as_its_own_kafka_user(manifests, services):
    for service in services:
        env = manifests.environment(service)
        assert env["SAGALINE_KAFKA_USERNAME"] == service.name
        manifests.get("KafkaUser", service.name)
        # The User Operator writes the password to a Secret named after the KafkaUser.
        password = next(
            v for v in manifests.container(service)["env"] if v["name"] == "SAGALINE_KAFKA_PASSWORD"
        )
        assert password["valueFrom"]["secretKeyRef"] == {"name": service.name, "key": "password"}


def test_strimzi_resources_have_the_fields_their_crds_require(manifests):
    for obj in manifests.of_kind("KafkaTopic") + manifests.of_kind("KafkaUser"):
        name = obj["metadata"]["name"]
        assert obj["apiVersion"] == "kafka.strimzi.io/v1", name
        assert DNS_SUBDOMAIN.match(name), f"{name} is not a valid resource name"
        # Without this label no Strimzi operator picks the resource up.
        assert obj["metadata"]["labels"].get("strimzi.io/cluster"), name
        assert isinstance(obj["spec"], dict), name
    for topic in manifests.of_kind("KafkaTopic"):
        assert topic["spec"]["partitions"] >= 1
        assert all(isinstance(v, str | int) for v in topic["spec"].get("config", {}).values())
    for user in manifests.of_kind("KafkaUser"):
        spec = user["spec"]
        assert spec["authentication"]["type"] in {"tls", "tls-external", "scram-sha-512"}
        assert spec["authorization"]["type"] == "simple"
        for acl in spec["authorization"]["acls"]:
            assert acl["resource"]["type"] in ACL_RESOURCE_TYPES
            assert acl["operations"]
            assert set(acl["operations"]) <= ACL_OPERATIONS


def test_every_service_talks_to_the_cluster_the_topics_and_users_belong_to(manifests):
    clusters = {
        o["metadata"]["labels"]["strimzi.io/cluster"]
        for o in manifests.objects
        if o["kind"].startswith("Kafka")
    }
    assert len(clusters) == 1
    (cluster,) = clusters
    for config in manifests.of_kind("ConfigMap"):
        bootstrap = config.get("data", {}).get("SAGALINE_KAFKA_BOOTSTRAP")
        if bootstrap:
            assert bootstrap.startswith(f"{cluster}-kafka-bootstrap."), bootstrap


def test_the_coordinators_grants_are_what_the_shipped_workflows_send_and_receive(manifests, services):
    # Every provider a workflow step invokes must have a deployed job, and nothing more is granted.
    topology = Topology.of(register_default_workflows(WorkflowRegistry()))
    (coordinator,) = [s for s in services if not s.is_job]
    grants = acl_grants(manifests.get("KafkaUser", coordinator.name))
    reads = {name for (kind, name), ops in grants.items() if kind == "topic" and "Read" in ops}
    writes = {name for (kind, name), ops in grants.items() if kind == "topic" and "Write" in ops}
    assert reads == set(topology.events)
    assert writes == {*topology.commands, topology.dlq}
