"""What the demo must prove before it exits 0: the books balance and every saga is one trace."""

from __future__ import annotations

import asyncio
import json
import mailbox
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from rich.console import Console
from sagaline.simulators.ledger import read_ledger

from sagaline_demo.report import Outcome
from sagaline_demo.system import System

JOB_OF_PROVIDER = {
    "reservation": "inventory_reservation_job",
    "stripe": "payment_gateway_stripe_job",
    "paypal": "payment_gateway_paypal_job",
    "fedex": "shipping_fedex_job",
    "email": "notification_email_job",
}


def _services_involved(outcome: Outcome) -> set[str]:
    """The coordinator and every job the saga sent a command to (history: "command_sent to X")."""
    providers = {h.detail.removeprefix("to ") for h in outcome.state.history if h.event == "command_sent"}
    return {"sagaline-coordinator"} | {JOB_OF_PROVIDER[p] for p in providers if p in JOB_OF_PROVIDER}


async def run_checks(console: Console, system: System, outcomes: list[Outcome]) -> bool:
    results = [
        _final_states(outcomes),
        _expected_outcomes(outcomes),
        await _ledger(system, outcomes),
        _emails(system, outcomes),
        await _traces(console, system, outcomes),
    ]
    for name, problems in results:
        if problems:
            console.print(f"[red]FAIL[/] {name}")
            for problem in problems[:10]:
                console.print(f"   - {problem}")
            if len(problems) > 10:
                console.print(f"   ... and {len(problems) - 10} more")
        else:
            console.print(f"[green]ok[/]   {name}")
    return not any(problems for _, problems in results)


def _final_states(outcomes: list[Outcome]) -> tuple[str, list[str]]:
    stuck = [
        f"{o.order.order_id}: {o.state.status.value} ({o.state.failure_reason})"
        for o in outcomes
        if o.state.status.value not in ("completed", "compensated")
    ]
    return "every saga completed or compensated", stuck


def _expected_outcomes(outcomes: list[Outcome]) -> tuple[str, list[str]]:
    want = {"good": "completed", "declined": "compensated", "undeliverable": "compensated"}
    wrong = [
        f"{o.order.order_id} ({o.order.kind}) ended {o.state.status.value}: {o.state.rollback_reason}"
        for o in outcomes
        if o.state.status.value != want[o.order.kind]
    ]
    return "good orders completed, declined and undeliverable ones compensated", wrong


async def _ledger(system: System, outcomes: list[Outcome]) -> tuple[str, list[str]]:
    books = await read_ledger(system.redis, system.config.redis_prefix, ("stripe", "paypal"))
    problems = list(books.problems())
    for o in outcomes:
        net = books.net_cents(o.order.order_id)
        if o.state.status.value == "completed" and net != o.order.data["amount_cents"]:
            problems.append(
                f"completed {o.order.order_id} nets {net} cents, not {o.order.data['amount_cents']}"
            )
        if o.state.status.value == "compensated" and net != 0:
            problems.append(f"compensated {o.order.order_id} still nets {net} cents")
    return (
        "ledger: no double charge, every compensated order refunded, every refund matches a charge",
        problems,
    )


def _emails(system: System, outcomes: list[Outcome]) -> tuple[str, list[str]]:
    maildir = Path(system.config.extra_env.get("SAGALINE_MAILDIR", ".stack/mail"))
    wanted = {o.order.order_id for o in outcomes if o.state.status.value == "completed"}
    seen: set[str] = set()
    if maildir.exists():
        for message in mailbox.Maildir(str(maildir), create=False):
            subject = str(message.get("Subject", ""))
            seen.update(order for order in wanted if order in subject)
    missing = sorted(wanted - seen)
    return "a confirmation email was delivered for every completed order", [
        f"no email for {m}" for m in missing
    ]


async def _traces(console: Console, system: System, outcomes: list[Outcome]) -> tuple[str, list[str]]:
    problems: list[str] = []
    for label, status in (("completed", "completed"), ("compensated", "compensated")):
        sample = next((o for o in outcomes if o.state.status.value == status and o.state.trace_parent), None)
        if sample is None:
            problems.append(f"no {label} saga with a trace to show")
            continue
        trace_id = sample.state.trace_parent.split("-")[1]  # type: ignore[union-attr]
        trace = await asyncio.to_thread(
            _fetch_trace, system.config.jaeger_query, trace_id, _services_involved(sample)
        )
        if trace is None:
            problems.append(f"trace {trace_id} of {label} saga {sample.state.saga_id} not in Jaeger")
            continue
        services = {p["serviceName"] for p in trace["processes"].values()}
        missing = _services_involved(sample) - services
        if missing:
            problems.append(f"trace {trace_id} has no spans from {sorted(missing)}")
        if len({s["traceID"] for s in trace["spans"]}) != 1:
            problems.append(f"trace {trace_id} mixes trace ids")
        if (roots := _roots(trace)) != 1:
            problems.append(f"trace {trace_id} has {roots} root spans, not 1")
        console.print(
            f"Jaeger: {label} saga {sample.order.order_id}: {system.config.jaeger_query}/trace/{trace_id}"
            f" ({len(trace['spans'])} spans from {len(services)} services)"
        )
    return "one trace per saga in Jaeger, with spans from the coordinator and the jobs", problems


def _fetch_trace(
    jaeger: str, trace_id: str, services: set[str], seconds: float = 30.0
) -> dict[str, Any] | None:
    """The trace once it has spans from every one of ``services`` and a single root, or what
    Jaeger has at the deadline: each service exports its spans in batches, every few seconds."""
    deadline = time.monotonic() + seconds
    trace: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{jaeger}/api/traces/{trace_id}", timeout=5) as response:
                data = json.loads(response.read()).get("data") or []
                trace = dict(data[0]) if data else None
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
        if trace is not None and _complete(trace, services):
            return trace
        time.sleep(0.5)
    return trace


def _complete(trace: dict[str, Any], services: set[str]) -> bool:
    seen = {p["serviceName"] for p in trace["processes"].values()}
    return seen >= services and _roots(trace) == 1


def _roots(trace: dict[str, Any]) -> int:
    """Spans of ``trace`` whose parent is not in it (one, in a whole trace of one saga)."""
    span_ids = {s["spanID"] for s in trace["spans"]}
    return sum(not any(r["spanID"] in span_ids for r in s.get("references", [])) for s in trace["spans"])
