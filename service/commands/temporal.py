"""`orders temporal setup` and `orders temporal check`: the Temporal namespace the service
needs, provisioned or checked (workflows.provisioning, workflows.namespace).

`setup` is idempotent: it creates the namespace when missing (retention TEMPORAL_RETENTION),
updates a retention that differs, registers every search attribute the workflows declare,
then reports the server's dynamic config the service benefits from. `check` changes
nothing and exits 1 when the namespace is not set up (a deploy's gate). Both read only the
Temporal settings (`TemporalAdminSettings`): no database, broker or secret key needed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from service.commands.output import add_json_flag, emit
from service.settings import TemporalAdminSettings
from service.settings.temporal import TemporalSettings

if TYPE_CHECKING:  # imported when the command runs
    from temporalio.client import Client

RPC_TIMEOUT = timedelta(seconds=10)
T = TypeVar("T")


def register(sub: Any) -> None:
    temporal = sub.add_parser("temporal", help="the Temporal namespace").add_subparsers(
        dest="temporal_command", required=True
    )
    setup = temporal.add_parser(
        "setup", help="create or update the namespace and its search attributes (idempotent)"
    )
    setup.add_argument(
        "--no-probe",
        action="store_true",
        help="do not start the probe workflow that tells whether eager start is on",
    )
    check = temporal.add_parser("check", help="exit 1 unless the namespace is set up")
    for command, run in ((setup, setup_command), (check, check_command)):
        command.add_argument(
            "--wait", type=float, default=30.0, help="seconds to wait for the server (30)"
        )
        add_json_flag(command)
        command.set_defaults(run=run, settings_class=TemporalAdminSettings)


async def with_client(
    settings: TemporalSettings,
    wait: float,
    use: Callable[[Client], Awaitable[T]],
) -> T:
    """`use(client)`, the client dropped before the loop ends: a temporalio client still
    alive when the interpreter finalizes can abort the process (temporalio/sdk-python#300).
    It runs on a runtime of its own, dropped with it, not the SDK's default one, whose
    threads outlive the loop (with that one, a command that ran workflows' queries and
    signals aborted about one run in six)."""
    client = await _connect(settings, wait)
    try:
        return await use(client)
    finally:
        del client
        gc.collect()
        await asyncio.sleep(0.05)  # the bridge's threads let go of it


async def _connect(settings: TemporalSettings, wait: float) -> Client:
    """A client, once the server answers (within `wait` seconds), else SystemExit."""
    from temporalio.runtime import Runtime, TelemetryConfig

    from service.temporal import connection

    runtime = Runtime(telemetry=TelemetryConfig())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        try:
            return await connection(settings).connect(runtime=runtime)
        except RuntimeError as exc:  # temporalio: cannot connect (refused, TLS, auth)
            if loop.time() >= deadline:
                raise SystemExit(
                    f"cannot reach Temporal at {settings.temporal_address}: {exc}"
                ) from None
            await asyncio.sleep(0.5)


def setup_command(settings: TemporalAdminSettings, args: argparse.Namespace) -> None:
    from service.temporal import requirements
    from workflows.namespace import describe, duration
    from workflows.probe import dynamic_config
    from workflows.provisioning import SetupRefused, provision

    needs = requirements(settings)

    async def setup(client: Client) -> dict[str, Any]:
        changes = await provision(client, needs, rpc_timeout=RPC_TIMEOUT)
        config = [] if args.no_probe else await dynamic_config(client, rpc_timeout=RPC_TIMEOUT)
        return {
            "address": settings.temporal_address,
            "namespace": needs.namespace,
            "changes": changes,
            "retention": duration(needs.retention),
            "search_attributes": [describe(key) for key in needs.search_attributes],
            "dynamic_config": [{"name": c.name, "on": c.on, "why": c.why} for c in config],
        }

    try:
        report = asyncio.run(with_client(settings, args.wait, setup))
    except SetupRefused as exc:
        raise SystemExit(f"orders temporal setup: {exc}") from None
    emit(args, report, _setup_lines)


def _setup_lines(data: dict[str, Any]) -> list[str]:
    lines = [f"Temporal at {data['address']}, namespace {data['namespace']}:"]
    lines += [f"  {change}" for change in data["changes"]] or ["  nothing to change"]
    lines.append(
        f"set up: retention {data['retention']}, "
        f"search attributes {', '.join(data['search_attributes'])}"
    )
    if data["dynamic_config"]:
        lines.append("dynamic config the service benefits from (the server's own settings):")
    for config in data["dynamic_config"]:
        state = {True: "on", False: "OFF: set it", None: "unknown (not readable by a client)"}
        lines.append(f"  {config['name']:<44} {state[config['on']]}")
        lines.append(f"      {config['why']}")
    return lines


def check_command(settings: TemporalAdminSettings, args: argparse.Namespace) -> None:
    from service.temporal import requirements
    from workflows.namespace import FIX, duration, inspect

    needs = requirements(settings)

    async def check(client: Client) -> dict[str, Any]:
        found = await inspect(client, needs, rpc_timeout=RPC_TIMEOUT)
        return {
            "address": settings.temporal_address,
            "namespace": needs.namespace,
            "ready": found.ready,
            "problems": found.problems(),
            "retention": duration(found.retention) if found.retention is not None else None,
            "wanted_retention": duration(needs.retention),
        }

    report = asyncio.run(with_client(settings, args.wait, check))

    def lines(data: dict[str, Any]) -> list[str]:
        head = f"Temporal at {data['address']}, namespace {data['namespace']}:"
        if data["ready"] and data["retention"] != data["wanted_retention"]:
            return [
                head,
                f"  set up, but it keeps closed workflows for {data['retention']} where "
                f"TEMPORAL_RETENTION is {data['wanted_retention']}: {FIX}",
            ]
        if data["ready"]:
            return [head, f"  set up (retention {data['retention']})"]
        return [head, *(f"  {problem}" for problem in data["problems"]), f"  fix: {FIX}"]

    emit(args, report, lines)
    if not report["ready"]:
        raise SystemExit(1)
