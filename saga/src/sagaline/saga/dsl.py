"""The fluent DSL for saga definitions.

    workflow("order_processing_workflow", "1.0.0")
        .step("reserve_inventory")
        .invoke(inventory.TEMPLATE, "reserve", providers=["reservation"],
                command={"order_id": "$.order_id", "items": "$.items"})
        .on_reply(StockReserved, {"reservation_id": "$.reservation_id"})
        .with_compensation("release", command={"order_id": "$.order_id"}, name="release_inventory")
        .step("charge_payment")
        ...
        .build()

The builder only records what it is told; ``build()`` hands the resulting dict to
``WorkflowDefinition.from_dict``, so the DSL and YAML share one validator and one set of errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sagaline.contracts import registry
from sagaline.contracts.messages import Reply
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.template import Template
from sagaline.saga.definition import DefinitionError, WorkflowDefinition


def workflow(name: str, version: str, description: str = "") -> WorkflowBuilder:
    """Start a definition called ``name@version``."""
    return WorkflowBuilder(name, version, description)


class WorkflowBuilder:
    def __init__(self, name: str, version: str, description: str = "") -> None:
        self._data: dict[str, Any] = {"name": name, "version": version}
        if description:
            self._data["description"] = description
        self._steps: list[dict[str, Any]] = []
        self._invoked: dict[str, Template] = {}

    def step(self, name: str) -> StepBuilder:
        """Add the next forward step; steps run in the order they are added."""
        raw: dict[str, Any] = {"name": name}
        self._steps.append(raw)
        return StepBuilder(self, raw)

    def build(self) -> WorkflowDefinition:
        """Validate and return the definition; ``DefinitionError`` lists every problem."""
        # Templates given to invoke() win over the registry's, so a workflow can use a template
        # (or a newer version of one) that the contracts package does not register.
        templates = {**registry.TEMPLATES, **self._invoked}
        return WorkflowDefinition.from_dict({**self._data, "steps": self._steps}, templates)

    def _use(self, template: Template) -> None:
        known = self._invoked.get(template.name)
        if known is not None and known != template:
            versions = f"{known.version} and {template.version}"
            raise DefinitionError(
                f"workflow {self._data['name']}@{self._data['version']}",
                [f"two templates called {template.name!r} are invoked ({versions})"],
            )
        self._invoked[template.name] = template


class StepBuilder:
    def __init__(self, workflow: WorkflowBuilder, raw: dict[str, Any]) -> None:
        self._workflow = workflow
        self._raw = raw

    def invoke(
        self,
        template: Template,
        operation: str,
        *,
        providers: Sequence[str],
        command: Mapping[str, Any],
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> StepBuilder:
        """Call ``template.operation`` on ``providers`` (tried in order), building the command from
        saga data with ``command`` (field -> ``"$.path"`` or literal). ``timeout`` and ``retry``
        default to the operation's own."""
        self._workflow._use(template)
        self._raw.update(
            template=template.name,
            template_version=template.version,
            operation=operation,
            providers=list(providers),
            command=dict(command),
        )
        if timeout is not None:
            self._raw["timeout"] = timeout
        if retry is not None:
            self._raw["retry"] = retry.model_dump(mode="json")
        return self

    def on_reply(self, reply: type[Reply], mapping: Mapping[str, Any]) -> StepBuilder:
        """Copy fields of the success reply into saga data (data key -> ``"$.reply_field"``)."""
        template = self._invoked("on_reply")
        op = template.operations.get(self._raw["operation"])
        if op is not None and reply is not op.success:
            raise self._error(
                f"on_reply({reply.__name__}) must name the success reply of "
                f"{template.name}.{op.name}, which is {op.success.__name__}"
            )
        self._raw["reply"] = dict(mapping)
        return self

    def with_compensation(
        self,
        operation: str,
        *,
        command: Mapping[str, Any],
        name: str | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> StepBuilder:
        """Undo this step with ``operation`` of the same template, sent to each provider that did
        (or may have done) the step. ``name`` defaults to ``compensate_<step>``."""
        self._invoked("with_compensation")
        comp: dict[str, Any] = {"operation": operation, "command": dict(command)}
        if name is not None:
            comp["name"] = name
        if timeout is not None:
            comp["timeout"] = timeout
        if retry is not None:
            comp["retry"] = retry.model_dump(mode="json")
        self._raw["compensation"] = comp
        return self

    def step(self, name: str) -> StepBuilder:
        return self._workflow.step(name)

    def build(self) -> WorkflowDefinition:
        return self._workflow.build()

    def _invoked(self, what: str) -> Template:
        if "template" not in self._raw:
            raise self._error(f"{what}() needs invoke() first")
        return self._workflow._invoked[self._raw["template"]]

    def _error(self, problem: str) -> DefinitionError:
        data = self._workflow._data
        return DefinitionError(
            f"workflow {data['name']}@{data['version']}", [f"step {self._raw['name']!r}: {problem}"]
        )
