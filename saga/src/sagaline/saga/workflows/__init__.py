"""Workflows shipped with Sagaline."""

from sagaline.saga.registry import WorkflowRegistry
from sagaline.saga.workflows.order_processing_workflow import OrderData, order_processing_workflow


def register_default_workflows(registry: WorkflowRegistry) -> WorkflowRegistry:
    """Register every shipped workflow version (with its data model) and return ``registry``."""
    registry.register(order_processing_workflow, data_model=OrderData)
    return registry


__all__ = ["OrderData", "order_processing_workflow", "register_default_workflows"]
