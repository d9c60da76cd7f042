"""Every service is deployed by both compose and kustomize, and each one's release touches only its files."""

from __future__ import annotations

import re

import pytest
import yaml

pytestmark = pytest.mark.contract

ENVIRONMENTS = ("dev", "prod")
SHARED_FOLDERS = {"platform"}


def folders(path) -> set[str]:
    return {p.name for p in path.iterdir() if p.is_dir()}


def test_every_service_has_a_compose_service_a_base_and_an_overlay_folder_and_nothing_else(
    services, compose, k8s_root
):
    wanted = {s.folder for s in services}
    assert folders(k8s_root / "base") - SHARED_FOLDERS == wanted
    for env in ENVIRONMENTS:
        assert folders(k8s_root / "overlays" / env) - SHARED_FOLDERS == wanted, env
    built = {name for name, spec in compose["services"].items() if "build" in spec}
    assert built == {s.name for s in services}


def test_each_overlay_deploys_every_service_folder(k8s_root, services):
    for env in ENVIRONMENTS:
        kustomization = yaml.safe_load((k8s_root / "overlays" / env / "kustomization.yaml").read_text())
        assert set(kustomization["resources"]) == {s.folder for s in services} | SHARED_FOLDERS, env


def test_an_image_is_named_only_in_its_own_services_folders(k8s_root, services):
    files = [p for p in k8s_root.rglob("*") if p.is_file()]
    for service in services:
        pattern = re.compile(re.escape(service.image) + r"(?![\w-])")
        own = {k8s_root / "base" / service.folder} | {
            k8s_root / "overlays" / env / service.folder for env in ENVIRONMENTS
        }
        naming = [p for p in files if pattern.search(p.read_text())]
        assert naming, service.name
        assert all(p.parent in own for p in naming), f"{service.image} named outside its folders: {naming}"


def tag_file(k8s_root, env: str, service) -> tuple[dict, dict]:
    """The overlay kustomization that pins the service's image, and that ``images`` entry."""
    path = k8s_root / "overlays" / env / service.folder / "kustomization.yaml"
    kustomization = yaml.safe_load(path.read_text())
    (entry,) = [i for i in kustomization.get("images", []) if i["name"] == service.image]
    return kustomization, entry


def test_each_environment_pins_a_services_version_in_that_services_folder(rendered, k8s_root, services):
    for env, manifests in rendered.items():
        for service in services:
            _, entry = tag_file(k8s_root, env, service)
            assert manifests.container(service)["image"] == f"{service.image}:{entry['newTag']}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_releasing_one_service_changes_only_that_services_deployment(env, k8s_copy, build, render, services):
    for service in services:
        folder = k8s_copy / "overlays" / env / service.folder
        before = {(o["kind"], o["metadata"]["name"]): o for o in render(folder)}
        kustomization, entry = tag_file(k8s_copy, env, service)
        entry["newTag"] = f"{entry['newTag']}-next"
        (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        after = {(o["kind"], o["metadata"]["name"]): o for o in build(folder)}
        changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
        assert changed == {("Deployment", service.name)}, service.name
