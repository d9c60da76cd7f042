"""Semver rules for templates: who accepts what, and whether a version matches its schema changes.

The bump a release needs is the largest change in it (see ``schema_diff``): a breaking change needs
a major bump, a compatible addition at least a minor one, a documentation-only change a patch.
The check asks for exactly that bump. A smaller bump lets incompatible messages through under a
major that consumers trust; a larger one (or any bump with identical schemas) splits topics and
consumers (topics carry the major) or claims a change that is not in the schemas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import semver
from sagaline.contracts.schema_diff import Change, Level, diff_messages
from sagaline.contracts.schema_files import SchemaDoc, load_schemas, render, template_schemas
from sagaline.contracts.template import Template


def accepts(consumer_version: str, message_contract_version: str) -> bool:
    """Whether a consumer built for ``consumer_version`` may handle a message of the other version.

    Same major: yes, whatever the minor/patch on either side. A message version that is not valid
    semver is never accepted (so it goes to the DLQ instead of raising); an invalid
    ``consumer_version`` is a programming error and raises ``ValueError``.
    """
    consumer = semver.Version.parse(consumer_version)
    try:
        message = semver.Version.parse(message_contract_version)
    except (ValueError, TypeError):
        return False
    return consumer.major == message.major


def bump_level(old_version: str, new_version: str) -> Level:
    """Size of the bump from ``old_version`` to ``new_version``; ``ValueError`` if it goes back."""
    old, new = semver.Version.parse(old_version), semver.Version.parse(new_version)
    if new < old:
        raise ValueError(f"version went backwards: {old_version} -> {new_version}")
    if new.major != old.major:
        return Level.MAJOR
    if new.minor != old.minor:
        return Level.MINOR
    if new == old and new.build == old.build:
        return Level.NONE
    return Level.PATCH


@dataclass(frozen=True)
class TemplateCheck:
    """The outcome of checking one template against its recorded schemas."""

    template: str
    recorded_version: str | None
    current_version: str | None
    changes: tuple[Change, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.recorded_version is None:
            return f"{self.template} {self.current_version}: new template, no recorded schemas"
        if self.current_version is None:
            return f"{self.template}: removed (recorded {self.recorded_version})"
        version = (
            self.current_version
            if self.recorded_version == self.current_version
            else f"{self.recorded_version} -> {self.current_version}"
        )
        if not self.changes:
            return f"{self.template} {version}: schemas unchanged"
        levels = ", ".join(
            f"{sum(c.level == level for c in self.changes)} {level}"
            for level in (Level.MAJOR, Level.MINOR, Level.PATCH)
            if any(c.level == level for c in self.changes)
        )
        return f"{self.template} {version}: changes ({levels})"


def check_template(name: str, recorded: SchemaDoc | None, current: SchemaDoc | None) -> TemplateCheck:
    """Compare the recorded schema document of template ``name`` with the current one."""
    if recorded is None:
        if current is None:
            raise ValueError(f"nothing to check for template {name!r}")
        return TemplateCheck(name, None, current["version"])
    if current is None:
        problem = (
            f"{name}: template removed but schemas for {name}@{recorded['version']} are recorded; "
            "removing a template breaks its consumers (delete its schema file if that is intended)"
        )
        return TemplateCheck(name, recorded["version"], None, problems=(problem,))

    old_version, new_version = recorded["version"], current["version"]
    changes = tuple(diff_messages(recorded["messages"], current["messages"]))
    check = TemplateCheck(name, old_version, new_version, changes)
    try:
        bump = bump_level(old_version, new_version)
    except ValueError as exc:
        return _with_problems(check, [f"{name}: {exc}"])
    needed = max((c.level for c in changes), default=Level.NONE)
    versions = f"version {old_version} -> {new_version}"
    if bump < needed:
        return _with_problems(
            check,
            [f"{name}: {c} (needs a {c.level} bump; {versions})" for c in changes if c.level > bump],
        )
    if bump > needed:
        if needed is Level.NONE:
            return _with_problems(check, [f"{name}: {bump} bump ({versions}) but no message schema changed"])
        return _with_problems(
            check, [f"{name}: {bump} bump ({versions}) but the schema changes only need a {needed} bump"]
        )
    return check


@dataclass(frozen=True)
class CheckReport:
    """Every template's check plus problems with the files themselves."""

    checks: tuple[TemplateCheck, ...]
    file_problems: tuple[str, ...] = ()

    @property
    def problems(self) -> list[str]:
        return [p for c in self.checks for p in c.problems] + list(self.file_problems)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_schemas(
    recorded: Mapping[str, tuple[SchemaDoc, str]],
    templates: Iterable[Template],
    *,
    frozen: bool = False,
) -> CheckReport:
    """Check ``templates`` against recorded ``{name: (document, file text)}``.

    ``frozen`` also requires every recorded file to be byte-identical to a fresh export (the CI
    guard that nobody changed a model without exporting and committing its schemas).
    """
    current = {t.name: template_schemas(t) for t in templates}
    checks: list[TemplateCheck] = []
    stale: list[str] = []
    for name in sorted(recorded.keys() | current.keys()):
        recorded_doc, text = recorded.get(name, (None, None))
        checks.append(check_template(name, recorded_doc, current.get(name)))
        if frozen and name in current and text != render(current[name]):
            what = "has no recorded schemas" if text is None else "recorded schemas are out of date"
            stale.append(f"{name}: {what}; run `sagaline-contracts export` and commit the result")
    return CheckReport(tuple(checks), tuple(stale))


def check_schema_dir(directory: Path, templates: Iterable[Template], *, frozen: bool = False) -> CheckReport:
    """``check_schemas`` over the files in ``directory`` (what ``sagaline-contracts check`` runs)."""
    return check_schemas(load_schemas(directory), templates, frozen=frozen)


def _with_problems(check: TemplateCheck, problems: list[str]) -> TemplateCheck:
    return TemplateCheck(
        check.template, check.recorded_version, check.current_version, check.changes, tuple(problems)
    )
