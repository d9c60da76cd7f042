"""docker-compose.yml: valid against the compose spec, healthy start-up order, no secrets inline."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.contract

REQUIRED_VARIABLE = re.compile(r"\$\{(\w+):\?[^}]*\}")
ONLY_A_VARIABLE = re.compile(r"^\$\{\w+(:[?-][^}]*)?\}$")


def app_services(compose, services):
    return [(s, compose["services"][s.name]) for s in services]


def infrastructure(compose) -> dict[str, dict]:
    return {name: spec for name, spec in compose["services"].items() if "build" not in spec}


def test_the_compose_file_passes_the_compose_spec_check_that_a_misspelled_copy_fails(repo_root, tmp_path):
    # One run of check-jsonschema over both: the broken copy proves the check looks at the content.
    real = repo_root / "docker-compose.yml"
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(real.read_text().replace("healthcheck:", "healthchek:", 1))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(real),
            str(broken),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"{broken}::" in report
    assert f"{real}::" not in report, report


def test_each_service_is_built_from_its_own_dockerfile(compose, services, repo_root):
    for service, spec in app_services(compose, services):
        folder = f"services/{service.folder}" if service.is_job else "saga"
        assert spec["build"]["dockerfile"] == f"{folder}/Dockerfile", service.name
        assert (repo_root / spec["build"].get("context", ".") / spec["build"]["dockerfile"]).is_file()


def test_every_long_running_container_has_a_healthcheck(compose):
    for name, spec in compose["services"].items():
        if spec.get("restart") == "no":
            continue  # one-shot, waited for with service_completed_successfully
        assert spec["healthcheck"]["test"], name


def test_services_start_only_once_the_infrastructure_is_healthy(compose, services):
    infra = infrastructure(compose)
    for service, spec in app_services(compose, services):
        needs = spec["depends_on"]
        for name in ("kafka", "redis", "jaeger"):
            assert needs[name]["condition"] == "service_healthy", f"{service.name} -> {name}"
        for name, condition in needs.items():
            one_shot = infra[name].get("restart") == "no"
            wanted = "service_completed_successfully" if one_shot else "service_healthy"
            assert condition["condition"] == wanted, f"{service.name} -> {name}"


def test_the_email_job_sends_to_the_smtp_sink(compose, jobs):
    for job in jobs:
        if job.template == "notification":
            spec = compose["services"][job.name]
            host = spec["environment"]["SAGALINE_SMTP_HOST"]
            assert host in infrastructure(compose), host
            assert spec["depends_on"][host]["condition"] == "service_healthy"


def test_kafka_runs_kraft_from_the_official_image_and_redis_keeps_an_append_only_file(compose):
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(kafka["environment"]["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    redis = compose["services"]["redis"]["command"]
    assert redis[redis.index("--appendonly") + 1] == "yes"


def test_settings_are_known_and_secrets_come_only_from_the_env_file(compose, services, settings_variables):
    for service, spec in app_services(compose, services):
        known = settings_variables(service)
        for variable, value in spec["environment"].items():
            assert variable in known, f"{service.name}: {variable} is not a setting it reads"
            if known[variable].secret:
                assert ONLY_A_VARIABLE.match(str(value)), f"{service.name}: {variable} must come from .env"
        required = {v for v, s in known.items() if s.required}
        assert required <= set(spec["environment"]), service.name


def test_the_env_example_names_every_variable_compose_requires(repo_root):
    required = set(REQUIRED_VARIABLE.findall((repo_root / "docker-compose.yml").read_text()))
    example = (repo_root / ".env.example").read_text()
    defined = set(re.findall(r"^(\w+)=", example, re.MULTILINE))
    assert required
    assert required <= defined


def test_the_env_file_is_git_ignored(repo_root):
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=repo_root, capture_output=True, timeout=30
    )
    assert ignored.returncode == 0


def test_kafka_init_creates_the_topics_kubernetes_declares(compose, rendered):
    created = set(compose["services"]["kafka-init"]["environment"]["TOPICS"].split())
    assert created == rendered["prod"].topic_names()


def test_compose_and_kubernetes_use_the_same_consumer_groups(compose, services, rendered):
    for service, spec in app_services(compose, services):
        group = rendered["prod"].environment(service)["SAGALINE_CONSUMER_GROUP"]
        assert spec["environment"]["SAGALINE_CONSUMER_GROUP"] == group, service.name


def test_the_pods_run_as_the_uid_and_gid_each_image_is_built_to_run_as(
    compose, services, rendered, repo_root
):
    for service, spec in app_services(compose, services):
        dockerfile = (repo_root / spec["build"].get("context", ".") / spec["build"]["dockerfile"]).read_text()
        users = re.findall(r"^USER\s+(\d+):(\d+)\s*$", dockerfile, re.MULTILINE)
        assert users, f"{service.name}: the image must end on a numeric USER uid:gid"
        uid, gid = map(int, users[-1])
        for manifests in rendered.values():
            pod = manifests.deployment(service)["spec"]["template"]["spec"]["securityContext"]
            assert (pod["runAsUser"], pod["runAsGroup"]) == (uid, gid), f"{manifests.env} {service.name}"
