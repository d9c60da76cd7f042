"""Saga definitions as data: a workflow is an ordered list of steps over template operations.

Build one with the fluent DSL (``sagaline.saga.dsl.workflow``) or load one from a dict/YAML;
both paths end in ``WorkflowDefinition.from_dict``, which validates everything, so a definition
that exists is a valid one. ``to_dict``/``to_yaml`` dump exactly what ``from_dict`` reads back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.template import Operation, Template


class DefinitionError(ValueError):
    """A saga definition is invalid; the message lists every problem found."""

    def __init__(self, subject: str, problems: list[str]) -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{subject} is invalid:\n{lines}")
        self.problems = tuple(problems)


@dataclass(frozen=True)
class CompensationDefinition:
    """How to undo a step: a compensation operation of the step's template, sent to the provider
    that did (or may have done) the step."""

    name: str
    operation: str
    command: Mapping[str, Any]
    timeout: float
    retry: RetryPolicy


@dataclass(frozen=True)
class StepDefinition:
    """One forward step: an operation of a template, tried on ``providers`` in order."""

    name: str
    template: Template
    operation: str
    providers: tuple[str, ...]
    command: Mapping[str, Any]
    reply: Mapping[str, Any]
    timeout: float
    retry: RetryPolicy
    compensation: CompensationDefinition | None = None

    @property
    def forward_operation(self) -> Operation:
        return self.template.operation(self.operation)

    @property
    def compensation_operation(self) -> Operation | None:
        if self.compensation is None:
            return None
        return self.template.operation(self.compensation.operation)


@dataclass(frozen=True)
class WorkflowDefinition:
    """A validated, versioned saga definition, identified as ``name@version``."""

    name: str
    version: str
    steps: tuple[StepDefinition, ...]
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def step(self, name: str) -> StepDefinition:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"{self.key} has no step {name!r}")

    def step_index(self, name: str) -> int:
        return self.steps.index(self.step(name))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-ready data; ``from_dict`` of it gives an equal definition."""
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.description:
            out["description"] = self.description
        out["steps"] = [_step_to_dict(step) for step in self.steps]
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], templates: Mapping[str, Template] | None = None
    ) -> WorkflowDefinition:
        """Load and validate; ``templates`` defaults to the contracts registry.

        Raises ``DefinitionError`` listing every problem found.
        """
        # Imported here because the loader builds the classes of this module.
        from sagaline.saga._loader import load_workflow

        return load_workflow(data, templates)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    @classmethod
    def from_yaml(cls, text: str, templates: Mapping[str, Template] | None = None) -> WorkflowDefinition:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DefinitionError("workflow YAML", [f"not valid YAML: {exc}"]) from exc
        if not isinstance(data, Mapping):
            raise DefinitionError("workflow YAML", ["top level must be a mapping"])
        return cls.from_dict(data, templates)


def _step_to_dict(step: StepDefinition) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": step.name,
        "template": step.template.name,
        "template_version": step.template.version,
        "operation": step.operation,
        "providers": list(step.providers),
        "command": _plain(step.command),
        "reply": _plain(step.reply),
        "timeout": step.timeout,
        "retry": step.retry.model_dump(mode="json"),
    }
    if step.compensation is not None:
        comp = step.compensation
        out["compensation"] = {
            "name": comp.name,
            "operation": comp.operation,
            "command": _plain(comp.command),
            "timeout": comp.timeout,
            "retry": comp.retry.model_dump(mode="json"),
        }
    return out


def _plain(value: Any) -> Any:
    # Mappings may be read-only proxies or tuples after loading; YAML's safe dumper wants builtins.
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
