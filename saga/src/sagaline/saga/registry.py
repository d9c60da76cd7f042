"""Every deployed version of every workflow, so in-flight sagas finish on the version they began on.

New sagas start on ``latest(name)``; a stored saga is resumed with ``for_saga(workflow, version)``.
Removing an old version is only safe once no saga of it is still running.
"""

from __future__ import annotations

from collections.abc import Iterator

import semver
from pydantic import BaseModel
from sagaline.saga.definition import WorkflowDefinition


class UnknownWorkflow(LookupError):
    """No registered definition has that name (and version)."""


class WorkflowRegistry:
    def __init__(self) -> None:
        self._definitions: dict[str, dict[str, WorkflowDefinition]] = {}
        self._data_models: dict[str, type[BaseModel]] = {}

    def register(self, definition: WorkflowDefinition, data_model: type[BaseModel] | None = None) -> None:
        """Add ``definition``. Registering an equal definition again is a no-op; a different one
        under the same ``name@version`` raises ``ValueError`` (a released version never changes).

        ``data_model``, when given, is the pydantic model saga data of this version must satisfy;
        entrypoints use it to reject a bad start request before any saga exists.
        """
        versions = self._definitions.setdefault(definition.name, {})
        existing = versions.get(definition.version)
        if existing is not None and existing != definition:
            raise ValueError(f"{definition.key} is already registered with a different definition")
        versions[definition.version] = definition
        if data_model is not None:
            self._data_models[definition.key] = data_model

    def get(self, name: str, version: str) -> WorkflowDefinition:
        try:
            return self._definitions[name][version]
        except KeyError:
            known = ", ".join(self.versions(name)) or "none"
            raise UnknownWorkflow(f"no workflow {name}@{version} (registered versions: {known})") from None

    def for_saga(self, workflow: str, workflow_version: str) -> WorkflowDefinition:
        """The exact definition a saga started on (same as ``get``; named for its purpose)."""
        return self.get(workflow, workflow_version)

    def latest(self, name: str) -> WorkflowDefinition:
        """The highest semver of ``name``: what new sagas start on."""
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none"
            raise UnknownWorkflow(f"no workflow called {name!r} (registered: {known})")
        return self._definitions[name][versions[-1]]

    def versions(self, name: str) -> list[str]:
        """Registered versions of ``name``, lowest first."""
        return sorted(self._definitions.get(name, {}), key=semver.Version.parse)

    def names(self) -> list[str]:
        return sorted(self._definitions)

    def data_model(self, name: str, version: str) -> type[BaseModel] | None:
        return self._data_models.get(f"{name}@{version}")

    def __iter__(self) -> Iterator[WorkflowDefinition]:
        for name in self.names():
            for version in self.versions(name):
                yield self._definitions[name][version]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name, _, version = key.partition("@")
        return version in self._definitions.get(name, {})
