"""Turn a definition dict into a validated ``WorkflowDefinition``, collecting every problem."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import semver
from sagaline.contracts import registry
from sagaline.contracts.template import Operation, Template
from sagaline.saga._checks import (
    NAME,
    PROVIDER,
    command_mapping_problems,
    reply_mapping_problems,
    retry_policy,
    semver_problems,
    timeout_value,
    unknown_keys,
)
from sagaline.saga.definition import (
    CompensationDefinition,
    DefinitionError,
    StepDefinition,
    WorkflowDefinition,
)

_WORKFLOW_KEYS = {"name", "version", "description", "steps"}
_STEP_KEYS = {
    "name", "template", "template_version", "operation", "providers", "command", "reply",
    "timeout", "retry", "compensation",
}  # fmt: skip
_COMPENSATION_KEYS = {"name", "operation", "command", "timeout", "retry"}


def load_workflow(data: Mapping[str, Any], templates: Mapping[str, Template] | None) -> WorkflowDefinition:
    known = registry.TEMPLATES if templates is None else templates
    name, version = data.get("name"), data.get("version")
    problems = unknown_keys("workflow", data, _WORKFLOW_KEYS)
    if not isinstance(name, str) or not NAME.match(name):
        problems.append(f"workflow name {name!r} must match {NAME.pattern}")
    problems += semver_problems(version)
    raw_steps = data.get("steps")
    steps: list[StepDefinition] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.append("a workflow needs a non-empty list of steps")
    else:
        for position, raw in enumerate(raw_steps, start=1):
            step = _load_step(position, raw, known, problems)
            if step is not None:
                steps.append(step)
    names = [s.name for s in steps] + [s.compensation.name for s in steps if s.compensation]
    problems += [
        f"duplicate step name {n!r} (step and compensation names must be unique)"
        for n, count in Counter(names).items()
        if count > 1
    ]
    if problems:
        raise DefinitionError(f"workflow {name}@{version}", problems)
    description = data.get("description", "")
    return WorkflowDefinition(str(name), str(version), tuple(steps), str(description))


def _load_step(
    position: int, raw: Any, templates: Mapping[str, Template], problems: list[str]
) -> StepDefinition | None:
    if not isinstance(raw, Mapping):
        problems.append(f"step #{position} must be a mapping")
        return None
    name = raw.get("name")
    where = f"step {name!r}" if isinstance(name, str) else f"step #{position}"
    before = len(problems)
    problems += unknown_keys(where, raw, _STEP_KEYS)
    if not isinstance(name, str) or not NAME.match(name):
        problems.append(f"{where}: name must match {NAME.pattern}")
    template = _template(where, raw, templates, problems)
    op = _operation(where, template, raw.get("operation"), problems) if template else None
    providers = raw.get("providers")
    if not isinstance(providers, list) or not providers:
        problems.append(f"{where}: providers must be a non-empty list of derived job names")
        providers = []
    for provider in providers:
        if not isinstance(provider, str) or not PROVIDER.match(provider):
            problems.append(f"{where}: provider {provider!r} must match {PROVIDER.pattern}")
    problems += [
        f"{where}: provider {p!r} is listed twice" for p, c in Counter(map(str, providers)).items() if c > 1
    ]
    if template is None or op is None:
        return None
    command, reply = raw.get("command", {}), raw.get("reply", {})
    problems += command_mapping_problems(f"{where} command", op.command, command)
    problems += reply_mapping_problems(f"{where} reply", op.success, reply)
    timeout = timeout_value(where, raw.get("timeout", op.timeout), problems)
    retry = retry_policy(where, raw.get("retry"), op.retry, problems)
    compensation = _compensation(where, str(name), raw.get("compensation"), template, op, problems)
    if len(problems) > before:
        return None
    return StepDefinition(
        name=str(name),
        template=template,
        operation=op.name,
        providers=tuple(providers),
        command=MappingProxyType(dict(command)),
        reply=MappingProxyType(dict(reply)),
        timeout=timeout,
        retry=retry,
        compensation=compensation,
    )


def _compensation(
    where: str, step: str, raw: Any, template: Template, op: Operation, problems: list[str]
) -> CompensationDefinition | None:
    if raw is None:
        if op.compensation is not None:
            problems.append(
                f"{where}: {template.name}.{op.name} must be compensated (its template declares "
                f"{op.compensation!r}); add with_compensation({op.compensation!r}, command=...)"
            )
        return None
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: compensation must be a mapping")
        return None
    problems += unknown_keys(f"{where} compensation", raw, _COMPENSATION_KEYS)
    comp_op = _operation(f"{where} compensation", template, raw.get("operation"), problems)
    name = raw.get("name", f"compensate_{step}")
    if not isinstance(name, str) or not NAME.match(name):
        problems.append(f"{where}: compensation name {name!r} must match {NAME.pattern}")
    if comp_op is None:
        return None
    if not comp_op.is_compensation:
        problems.append(
            f"{where}: {template.name}.{comp_op.name} is not a compensation operation"
            + (f" (use {op.compensation!r})" if op.compensation else "")
        )
        return None
    command = raw.get("command", {})
    problems += command_mapping_problems(f"{where} compensation command", comp_op.command, command)
    return CompensationDefinition(
        name=str(name),
        operation=comp_op.name,
        command=MappingProxyType(dict(command)) if isinstance(command, Mapping) else MappingProxyType({}),
        timeout=timeout_value(f"{where} compensation", raw.get("timeout", comp_op.timeout), problems),
        retry=retry_policy(f"{where} compensation", raw.get("retry"), comp_op.retry, problems),
    )


def _template(
    where: str, raw: Mapping[str, Any], templates: Mapping[str, Template], problems: list[str]
) -> Template | None:
    name = raw.get("template")
    if name is None:
        problems.append(f"{where}: no template to invoke (a step needs invoke(template, operation, ...))")
        return None
    template = templates.get(name) if isinstance(name, str) else None
    if template is None:
        problems.append(f"{where}: unknown template {name!r} (known: {', '.join(sorted(templates))})")
        return None
    wanted = raw.get("template_version")
    if wanted is not None:
        try:
            major = semver.Version.parse(str(wanted)).major
        except ValueError:
            problems.append(f"{where}: template_version {wanted!r} is not semver")
            return None
        if major != template.major:
            problems.append(
                f"{where}: written for {template.name}@{wanted} but {template.contract} is registered "
                "(a different major is a different contract)"
            )
            return None
    return template


def _operation(where: str, template: Template, name: Any, problems: list[str]) -> Operation | None:
    if isinstance(name, str) and name in template.operations:
        return template.operations[name]
    problems.append(
        f"{where}: template {template.name!r} has no operation {name!r} "
        f"(operations: {', '.join(template.operations)})"
    )
    return None
