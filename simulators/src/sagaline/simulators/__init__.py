"""Provider simulators for Sagaline's derived jobs.

No real payment provider or carrier can be reached from a test or the demo, so a derived job's
``provider.py`` talks to a simulator with the provider's request and response shapes. The machinery
every simulator shares lives here: settings (latency, outage, declines), the outage switch that
tests and the demo flip at run time, the provider's call log, the payment ledger and the carrier's
books. All of it is state in Redis, readable from any process.
"""

from sagaline.simulators.calls import CallLog
from sagaline.simulators.faults import OutageSwitch, outage_key
from sagaline.simulators.ledger import (
    Charge,
    IdempotencyConflict,
    LedgerSnapshot,
    PaymentLedger,
    Refund,
    RefundRefused,
    read_ledger,
)
from sagaline.simulators.settings import CarrierSimulatorSettings, PaymentSimulatorSettings, SimulatorSettings
from sagaline.simulators.shipments import Shipment, ShipmentBook
from sagaline.simulators.simulation import Simulation, unreachable_is_transient

__all__ = [
    "CallLog",
    "CarrierSimulatorSettings",
    "Charge",
    "IdempotencyConflict",
    "LedgerSnapshot",
    "OutageSwitch",
    "PaymentLedger",
    "PaymentSimulatorSettings",
    "Refund",
    "RefundRefused",
    "Shipment",
    "ShipmentBook",
    "Simulation",
    "SimulatorSettings",
    "outage_key",
    "read_ledger",
    "unreachable_is_transient",
]
