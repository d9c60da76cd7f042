"""Every derived job folder has the same shape, and two jobs of one template differ in provider.py alone."""

from __future__ import annotations

import importlib
import re
import tomllib
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pytest
from sagaline.contracts.job import TemplateJob
from sagaline.contracts.job.settings import JobSettings
from sagaline.contracts.registry import TEMPLATES
from sagaline.contracts.topics import commands_topic

pytestmark = pytest.mark.contract

SERVICES = Path(__file__).resolve().parents[3] / "services"
MODULES = ("__init__", "__main__", "app", "job", "provider", "settings")


@dataclass(frozen=True)
class Job:
    folder: Path
    settings: type[JobSettings]
    job_class: type[TemplateJob]

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def provider(self) -> str:
        return str(self.settings.model_fields["provider"].default)

    @property
    def class_prefix(self) -> str:
        return self.settings.__name__.removesuffix("Settings")

    def files(self) -> dict[str, str]:
        """Every file but provider.py, with the job's own names replaced by placeholders."""
        found = {}
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and path.name != "provider.py" and "__pycache__" not in path.parts:
                text = (
                    path.read_text().replace(self.name, "<job>").replace(self.name.replace("_", "-"), "<job>")
                )
                text = text.replace(self.class_prefix, "<Provider>").replace(self.provider, "<provider>")
                found[str(path.relative_to(self.folder)).replace(self.name, "<job>")] = text
        return found


def load(folder: Path) -> Job:
    settings_module = importlib.import_module(f"{folder.name}.settings")
    [settings] = [
        value
        for value in vars(settings_module).values()
        if isinstance(value, type)
        and issubclass(value, JobSettings)
        and value.__module__ == settings_module.__name__
    ]
    job_module = importlib.import_module(f"{folder.name}.job")
    [job_class] = [
        value
        for value in vars(job_module).values()
        if isinstance(value, type)
        and issubclass(value, TemplateJob)
        and value.__module__ == job_module.__name__
    ]
    return Job(folder, settings, job_class)


JOBS = [load(p.parent) for p in sorted(SERVICES.glob("*/pyproject.toml"))]


def test_there_are_derived_jobs_to_check():
    assert {job.name for job in JOBS} >= {
        "payment_gateway_stripe_job",
        "payment_gateway_paypal_job",
        "inventory_reservation_job",
        "shipping_fedex_job",
        "notification_email_job",
    }


@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.name)
def test_a_job_folder_has_the_files_every_job_has(job):
    package = job.folder / "src" / job.name
    expected = [
        job.folder / f for f in ("pyproject.toml", "Dockerfile", "README.md", "tests/test_conformance.py")
    ]
    expected += [package / f"{module}.py" for module in MODULES] + [package / "py.typed"]
    assert [str(p.relative_to(SERVICES)) for p in expected if not p.is_file()] == []


@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.name)
def test_the_folder_name_is_the_template_and_the_provider_id_the_settings_default_to(job):
    template = job.job_class.template.name
    assert template in TEMPLATES
    assert job.settings.model_fields["job_name"].default == job.name
    assert job.name == f"{template}_{job.provider}_job"


@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.name)
def test_the_package_depends_on_the_contracts_by_version_range_and_runs_as_a_console_script(job):
    project = tomllib.loads((job.folder / "pyproject.toml").read_text())
    dependencies = project["project"]["dependencies"]
    assert "sagaline-contracts>=1.0,<2" in dependencies
    assert project["tool"]["uv"]["sources"]["sagaline-contracts"] == {"workspace": True}
    assert project["project"]["scripts"] == {job.name: f"{job.name}.__main__:main"}
    assert project["build-system"]["build-backend"] == "hatchling.build"


@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.name)
def test_the_image_is_multi_stage_non_root_holds_only_its_packages_and_runs_the_module(job):
    dockerfile = (job.folder / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM\s", dockerfile, re.MULTILINE)) >= 2
    copied = {
        source
        for line in re.findall(r"^COPY\s+(?!--from)(.+)$", dockerfile, re.MULTILINE)
        for source in line.split()[:-1]
    }
    assert copied == {"pyproject.toml", "uv.lock", "contracts", "simulators", f"services/{job.name}"}
    [user] = re.findall(r"^USER\s+(\S+)\s*$", dockerfile, re.MULTILINE)[-1:]
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", user), f"USER {user} is not a numeric non-root uid:gid"
    assert dockerfile.rstrip().splitlines()[-1] == f'CMD ["python", "-m", "{job.name}"]'


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.name)
async def test_the_app_factory_builds_the_job_on_its_providers_commands_topic(job):
    app_module = importlib.import_module(f"{job.name}.app")
    settings = job.settings(signing_keys="contract:0123456789abcdef", topic_prefix="contract.")
    app = app_module.create_job_app(settings)
    try:
        assert isinstance(app.job, job.job_class)
        assert app.settings is settings
        assert app.topics.commands == "contract." + commands_topic(job.job_class.template, job.provider)
    finally:
        await app.store.close()


PAIRS = [
    pytest.param(a, b, id=f"{a.name}-{b.name}")
    for a, b in combinations(JOBS, 2)
    if a.job_class.template.name == b.job_class.template.name
]


@pytest.mark.parametrize(("one", "other"), PAIRS)
def test_two_jobs_of_one_template_differ_in_provider_py_alone(one, other):
    # The claim of services/README.md: a new derived job is a copy of a folder with names
    # replaced and one new provider.py.
    mine, theirs = one.files(), other.files()
    assert sorted(mine) == sorted(theirs)
    differing = [name for name in mine if mine[name] != theirs[name]]
    assert differing == []
