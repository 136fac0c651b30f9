"""`itsm status`: each service's state, port, uptime, restarts, outbox backlog and queue depth.

It puts together what three sources know: the state file `itsm up` keeps (process ids, uptimes,
restarts), each service's `/readyz` (whether it is ready, and its outbox backlog: a count), and
the broker (the messages waiting in each service's queue and its dead-letter queue), read from
RabbitMQ's management API where it answers and otherwise from passive declares over AMQP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import aio_pika
import httpx
from aio_pika.exceptions import AMQPError
from rich import box
from rich.table import Table

from itsm.registry import ServiceEntry
from itsm.suite_state import SuiteState, seconds_since
from itsm.supervisor import readyz_url
from shared.messaging import QueueNames

PROBE_TIMEOUT_S = 3.0


@dataclass
class ServiceStatus:
    name: str
    state: str
    """`ready`, `not ready`, or what the supervisor says of a process that does not answer
    (`starting`, `restarting`, `stopping`, `failed`), or `down`."""
    host: str
    port: int
    pid: int | None = None
    uptime_s: float | None = None
    restarts: int | None = None
    outbox_backlog: int | None = None
    queue_depth: int | None = None
    """Messages waiting in the service's queue (None: it has no queue, or the broker did not say)."""
    dead_letters: int | None = None
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.state == "ready"


@dataclass
class SuiteStatus:
    services: list[ServiceStatus]
    supervisor: SuiteState | None
    queue_source: str

    def as_json(self) -> dict[str, Any]:
        supervisor = None
        if self.supervisor is not None:
            supervisor = {"pid": self.supervisor.pid, "uptime_s": seconds_since(self.supervisor.started_at)}
        return {
            "supervisor": supervisor,
            "queue_source": self.queue_source,
            "services": [{**vars(s), "ready": s.ready} for s in self.services],
        }


async def suite_status(
    entries: list[ServiceEntry], *, supervisor: SuiteState | None, host: str, management_url: str | None
) -> SuiteStatus:
    services = [_known(entry, supervisor, host) for entry in entries]
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as http:
        await asyncio.gather(*(_ask_readiness(http, status) for status in services))
        settings = entries[0].settings()  # the suite's broker: on one machine every service shares it
        queues = {e.name: QueueNames.for_queue(e.settings().queue_name()) for e in entries}
        names = [n for q in queues.values() for n in (q.main, q.dead)]
        depths, source = await queue_depths(http, names, settings.amqp_url.get_secret_value(), management_url)
    for status in services:
        status.queue_depth = depths.get(queues[status.name].main)
        status.dead_letters = depths.get(queues[status.name].dead)
    return SuiteStatus(services, supervisor, source)


def _known(entry: ServiceEntry, supervisor: SuiteState | None, host: str) -> ServiceStatus:
    """What the supervisor published about the service, or its settings when no `itsm up` runs here."""
    known = supervisor.services.get(entry.name) if supervisor is not None else None
    if known is None:
        return ServiceStatus(entry.name, "down", host, entry.settings().port)
    return ServiceStatus(
        entry.name,
        known.state,
        known.host,
        known.port,
        pid=known.pid,
        uptime_s=seconds_since(known.started_at),
        restarts=known.restarts,
    )


async def _ask_readiness(http: httpx.AsyncClient, status: ServiceStatus) -> None:
    try:
        answer = await http.get(readyz_url(status.host, status.port))
        document = answer.json()
    except (httpx.HTTPError, ValueError):
        if status.state not in ("starting", "restarting", "stopping", "failed"):
            status.state = "down"
        status.uptime_s = None
        return
    status.state = "ready" if answer.status_code == 200 else "not ready"
    status.checks = dict(document.get("checks", {}))
    backlog = document.get("outbox_backlog")
    status.outbox_backlog = backlog if isinstance(backlog, int) else None


def default_management_url(amqp_url: str) -> str:
    """Where RabbitMQ's management API usually listens beside this AMQP address."""
    return f"http://{urlsplit(amqp_url).hostname or 'localhost'}:15672"


async def queue_depths(
    http: httpx.AsyncClient, names: list[str], amqp_url: str, management_url: str | None
) -> tuple[dict[str, int | None], str]:
    """Ready messages per queue (None: no such queue), and where the numbers came from."""
    if management_url:
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
            return await _from_management_api(http, names, amqp_url, management_url), "management API"
    try:
        return await _from_passive_declares(names, amqp_url), "AMQP passive declares"
    except (AMQPError, OSError, TimeoutError) as exc:
        return {}, f"broker unreachable ({type(exc).__name__})"


async def _from_management_api(
    http: httpx.AsyncClient, names: list[str], amqp_url: str, management_url: str
) -> dict[str, int | None]:
    amqp = urlsplit(amqp_url)
    vhost = quote(unquote(amqp.path[1:]) or "/", safe="")
    auth = (unquote(amqp.username or "guest"), unquote(amqp.password or "guest"))
    depths: dict[str, int | None] = {}
    for name in names:
        answer = await http.get(f"{management_url.rstrip('/')}/api/queues/{vhost}/{quote(name, safe='')}", auth=auth)
        if answer.status_code == 404:
            depths[name] = None
            continue
        answer.raise_for_status()
        ready = answer.json().get("messages_ready")
        depths[name] = int(ready) if ready is not None else None
    return depths


async def _from_passive_declares(names: list[str], amqp_url: str) -> dict[str, int | None]:
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)  # a queue that is not there is an answer here
    depths: dict[str, int | None] = {}
    connection = await asyncio.wait_for(aio_pika.connect(amqp_url, timeout=PROBE_TIMEOUT_S), PROBE_TIMEOUT_S * 2)
    try:
        for name in names:
            # A passive declare of a missing queue closes its channel: one channel per question.
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
                depths[name] = queue.declaration_result.message_count
            except AMQPError:
                depths[name] = None
            finally:
                if not channel.is_closed:
                    await channel.close()
    finally:
        await connection.close()
    return depths


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)


def status_table(status: SuiteStatus) -> Table:
    """The status as a table; underneath, where its numbers came from and why a service is not ready."""
    if status.supervisor is None:
        caption = "no `itsm up` runs here: the configured ports were asked"
    else:
        caption = f"itsm up (pid {status.supervisor.pid}) up {_duration(seconds_since(status.supervisor.started_at))}"
    notes = [f"{caption}; queues from {status.queue_source}"]
    notes += [
        f"{s.name}: " + ", ".join(f"{check} {why}" for check, why in s.checks.items() if why != "ok")
        for s in status.services
        if s.checks and not s.ready
    ]
    table = Table(
        caption="\n".join(notes), caption_justify="left", box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True
    )
    table.add_column("service", no_wrap=True)
    for heading in ("state", "port", "pid", "uptime", "restarts", "outbox", "queue", "dead"):
        table.add_column(heading, justify="left" if heading == "state" else "right")
    for s in status.services:
        table.add_row(
            s.name,
            f"[green]{s.state}[/]" if s.ready else f"[red]{s.state}[/]",
            str(s.port),
            _number(s.pid),
            _duration(s.uptime_s),
            _number(s.restarts),
            _number(s.outbox_backlog),
            _number(s.queue_depth),
            _number(s.dead_letters),
        )
    return table
