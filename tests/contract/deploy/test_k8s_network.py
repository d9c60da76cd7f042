"""NetworkPolicies: deny by default, then per service only the traffic it needs."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.contract

DNS = {("UDP", 53), ("TCP", 53)}


def ports(rules: list[dict]) -> set[tuple[str, int]]:
    return {(p.get("protocol", "TCP"), p["port"]) for rule in rules for p in rule.get("ports", [])}


def port_of(address: str) -> int:
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    assert parsed.port is not None, f"no port in {address!r}"
    return parsed.port


def test_the_namespace_denies_all_ingress_and_egress_by_default(manifests):
    deny_all = [
        p
        for p in manifests.of_kind("NetworkPolicy")
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert len(deny_all) == 1


def test_every_allow_rule_names_both_peers_and_ports(manifests):
    # A rule without "to"/"from" allows every peer, one without "ports" every port.
    for policy in manifests.of_kind("NetworkPolicy"):
        for direction, peers in (("egress", "to"), ("ingress", "from")):
            for rule in policy["spec"].get(direction, []):
                where = f"{policy['metadata']['name']} {direction}"
                assert rule.get(peers), where
                assert rule.get("ports"), where


def test_services_reach_only_dns_kafka_redis_the_collector_and_smtp_for_email(manifests, services):
    for service in services:
        env = manifests.environment(service)
        needed = DNS | {
            ("TCP", port_of(env["SAGALINE_KAFKA_BOOTSTRAP"].split(",")[0])),
            ("TCP", 6379),
            ("TCP", port_of(env["SAGALINE_OTLP_ENDPOINT"])),
        }
        if service.template == "notification":
            needed.add(("TCP", int(env["SAGALINE_SMTP_PORT"])))
        egress = manifests.get("NetworkPolicy", service.name)["spec"]["egress"]
        assert ports(egress) == needed, service.name


def test_dns_goes_to_the_cluster_resolver_only(manifests, services):
    for service in services:
        for rule in manifests.get("NetworkPolicy", service.name)["spec"]["egress"]:
            if ports([rule]) & DNS:
                assert ports([rule]) == DNS
                (peer,) = rule["to"]
                assert peer["namespaceSelector"]["matchLabels"] == {
                    "kubernetes.io/metadata.name": "kube-system"
                }
                assert peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}


def test_only_the_coordinator_accepts_traffic_beyond_metrics_scraping(manifests, services):
    for service in services:
        policy = manifests.get("NetworkPolicy", service.name)["spec"]
        port = int(manifests.environment(service)["SAGALINE_HTTP_PORT"])
        assert ports(policy["ingress"]) == {("TCP", port)}, service.name
        sources = [peer for rule in policy["ingress"] for peer in rule["from"]]
        scrapers = [
            p
            for p in sources
            if p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            == "monitoring"
        ]
        assert scrapers, f"{service.name}: Prometheus must reach /metrics"
        if service.is_job:
            assert sources == scrapers, f"{service.name} must not accept other traffic"
        else:
            assert len(sources) > len(scrapers), "the coordinator API must be reachable"
