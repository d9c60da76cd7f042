"""The four built-in templates, one module each."""

from sagaline.contracts.templates import inventory, notification, payment_gateway, shipping

__all__ = ["inventory", "notification", "payment_gateway", "shipping"]
