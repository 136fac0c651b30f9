"""Webhook deliveries of the notify service: how many a second one replica, then two, send to a
real receiver, each exactly once and in order per subject.

1. A database `bench_<id>_notify` migrated with the service's migrations; a receiver process
   (uvicorn, `bench.webhooks:receiver_app`) that verifies every delivery's Standard Webhooks
   signature with the `standardwebhooks` package and counts event ids per path.
2. One subscription (`#`); `--events` events over `--subjects` subjects consumed as the
   consumer does (one transaction each: kept, queued): events per second queued.
3. One replica: delivery passes (`usecases.deliveries.deliver_due`, as the periodic job runs them)
   until every event arrived: deliveries per second.
4. The same events replayed (`replay` by time range) and delivered by two replicas at once, each
   on its own engine (`FOR UPDATE SKIP LOCKED`), in this process: deliveries per second.

After 3 and 4 the receiver must hold each event exactly once, every signature verified, and the
events of each subject in the order they were consumed. No broker: events are handed to the
consumer's handler directly. No target: the figures describe this machine.

    uv run python -m bench.webhooks [--events 2000] [--subjects 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench import smoke
from bench.infra import Bench, ServerProcess, machine_info, print_machine, run_main
from services.notify.settings import NotifySettings
from services.notify.store import tables
from services.notify.usecases import deliveries, subscriptions
from shared.db import create_engine
from shared.events import CloudEvent
from shared.uow import UnitOfWork

SECRET_ENV = "BENCH_WEBHOOK_SECRET"


def receiver_app() -> Any:
    """The receiver: POST verifies and records (path -> event ids in arrival order); GET answers them."""
    from standardwebhooks import Webhook
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    webhook = Webhook(os.environ[SECRET_ENV])
    seen: dict[str, list[str]] = defaultdict(list)
    refused: list[str] = []

    async def post(request: Request) -> PlainTextResponse:
        body = await request.body()
        try:
            event = webhook.verify(body, dict(request.headers.items()))
        except Exception as exc:
            refused.append(str(exc))
            return PlainTextResponse("refused", status_code=401)
        seen[request.url.path].append(f"{event.get('subject')}|{event['id']}")
        return PlainTextResponse("ok")

    async def get(request: Request) -> JSONResponse:
        return JSONResponse({"seen": seen.get("/" + request.path_params["path"], []), "refused": refused})

    return Starlette(
        routes=[
            Route("/ready", lambda r: PlainTextResponse("ok")),
            Route("/{path}", post, methods=["POST"]),
            Route("/{path}", get, methods=["GET"]),
        ]
    )


def check(seen: list[str], sent: list[CloudEvent]) -> list[str]:
    """What is wrong with what the receiver saw: not each event once, or a subject out of order."""
    problems = []
    ids = [s.split("|", 1)[1] for s in seen]
    if sorted(ids) != sorted(str(e.id) for e in sent):
        problems.append(f"{len(ids)} deliveries ({len(set(ids))} distinct) for {len(sent)} events")
    by_subject: dict[str, list[str]] = defaultdict(list)
    for s in seen:
        subject, event_id = s.split("|", 1)
        by_subject[subject].append(event_id)
    for subject, got in by_subject.items():
        wanted = [str(e.id) for e in sent if e.subject == subject]
        if got != wanted:
            problems.append(f"subject {subject} out of order")
    return problems


async def run(args: argparse.Namespace) -> int:
    bench = Bench()
    problems: list[str] = []
    receiver: ServerProcess | None = None
    engines = []
    try:
        info = await machine_info(bench)
        url = await bench.create_database("notify", "notify")
        settings = NotifySettings(
            environment="test", database_url=url, webhook_allow_private_targets=True, webhook_timeout_s=10
        )
        engines = [create_engine(url, pool_size=4), create_engine(url, pool_size=4)]

        def unit_of_work(i: int) -> UnitOfWork:
            return UnitOfWork(engines[i], tables.outbox, source="/itsm/notify", settings=settings)

        sub = await subscriptions.create_subscription(
            subscriptions.NewSubscription(url="http://127.0.0.1:1/placeholder", event_pattern="#"),
            "bench",
            unit_of_work(0),
            allow_private=True,
        )
        receiver = ServerProcess("receiver", "bench.webhooks:receiver_app", {SECRET_ENV: sub.secret}, bench.workdir)
        await receiver.wait_ready("/ready")
        async with engines[0].begin() as conn:
            s = tables.webhook_subscription
            await conn.execute(s.update().where(s.c.id == sub.id).values(url=f"{receiver.base_url}/one"))

        since = datetime.now(UTC) - timedelta(seconds=1)
        sent = [
            CloudEvent(
                source="/itsm/incident",
                type="itsm.incident.updated.v1",
                time=datetime.now(UTC),
                subject=f"INC{i % args.subjects:07d}",
                data={"n": i, "note": "x" * 200},
            )
            for i in range(args.events)
        ]
        started = time.perf_counter()
        for item in sent:
            async with unit_of_work(0) as uow:
                await deliveries.on_event(item, uow)
                await uow.commit()
        queued_s = time.perf_counter() - started
        config = replace(deliveries.config_of(settings), max_per_pass=args.events)

        async def deliver(replica: int, path: str) -> None:
            async with httpx.AsyncClient(base_url=receiver.base_url if receiver else "") as client:
                while len((await client.get(path)).json()["seen"]) < len(sent):
                    result = await deliveries.deliver_due(lambda: unit_of_work(replica), config)
                    if result.delivered == 0:
                        await asyncio.sleep(0.01)

        started = time.perf_counter()
        await deliver(0, "/one")
        one_s = time.perf_counter() - started

        async with engines[0].begin() as conn:
            s = tables.webhook_subscription
            await conn.execute(s.update().where(s.c.id == sub.id).values(url=f"{receiver.base_url}/two"))
        await deliveries.replay(
            sub.id,
            deliveries.Replay(since=since, until=datetime.now(UTC) + timedelta(seconds=1)),
            unit_of_work(0),
            max_events=args.events,
        )
        started = time.perf_counter()
        await asyncio.gather(deliver(0, "/two"), deliver(1, "/two"))
        two_s = time.perf_counter() - started

        async with httpx.AsyncClient(base_url=receiver.base_url) as client:
            for path in ("/one", "/two"):
                answer = (await client.get(path)).json()
                problems += [f"{path}: {p}" for p in check(answer["seen"], sent)]
            problems += [f"refused: {r}" for r in answer["refused"][:3]]

        print_machine(info)
        figures = {
            "events": args.events,
            "subjects": args.subjects,
            "queued_per_s": round(args.events / queued_s, 1),
            "one_replica_per_s": round(args.events / one_s, 1),
            "two_replicas_per_s": round(args.events / two_s, 1),
        }
        print(json.dumps(figures))
        print(
            f"{args.events} events over {args.subjects} subjects: queued {figures['queued_per_s']}/s;"
            f" delivered {figures['one_replica_per_s']}/s by one replica, {figures['two_replicas_per_s']}/s by two;"
            f" each once, in order per subject: {'yes' if not problems else 'NO'}"
        )
        for p in problems:
            print("problem:", p, file=sys.stderr)
    finally:
        if receiver is not None:
            await receiver.stop()
        for engine in engines:
            await engine.dispose()
        await bench.cleanup(keep_logs=bool(problems))
    return smoke.finish(problems, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--subjects", type=int, default=50)
    args = smoke.parse_args(parser, argv, events=100, subjects=10)
    return run_main(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
