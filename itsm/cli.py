"""The `itsm` command: `up`, `status`, `serve`, `migrate`, `worker`, `token`, `dashboard`, `demo`, `dlq list|replay`,
`events`, `repair`, `continuity-pack`."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from itsm.cli_args import ServiceArg
from itsm.cli_args import settings_of as _settings
from itsm.dlq_commands import dlq_app
from itsm.registry import SERVICE_NAMES, all_entries, entry
from itsm.restarts import DEFAULT_MAX_START_FAILURES
from itsm.suite_state import DEFAULT_STATE_FILE
from shared.auth import Role, mint_token

app = typer.Typer(help="The ITSM suite's command line.", no_args_is_help=True, add_completion=False)
app.add_typer(dlq_app, name="dlq")
console = Console()


StateFileOption = Annotated[
    Path,
    typer.Option(envvar="ITSM_UP_STATE_FILE", help="Where `itsm up` publishes its state for `itsm status`"),
]


WorkersOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=64,
        envvar="ITSM_WORKERS",
        help="API processes per service on the one port (each with its relay and consumer); a dead one is restarted",
    ),
]


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Apply migrations first")] = True,
    max_start_failures: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="ITSM_UP_MAX_START_FAILURES",
            help="Stop the suite when a service exits this many times in a row before it is ready",
        ),
    ] = DEFAULT_MAX_START_FAILURES,
    state_file: StateFileOption = DEFAULT_STATE_FILE,
    workers: WorkersOption = 1,
) -> None:
    """Run all five services on this machine (SQLite files under ./var/, the local RabbitMQ).

    A service whose process exits is started again (after 0.5 s, doubling for exits in a row up to
    30 s); the suite stops on Ctrl-C or SIGTERM, or when a service fails to start
    --max-start-failures times in a row. `itsm status` shows how each service is doing."""
    from itsm.suite_state import read_state
    from itsm.supervisor import broker_reachable, run_all

    running = read_state(state_file)
    if running is not None:
        typer.echo(f"itsm up (pid {running.pid}) already runs here ({state_file}); stop it first.", err=True)
        raise typer.Exit(2)
    amqp_url = _settings("incident").amqp_url.get_secret_value()
    problem = asyncio.run(broker_reachable(amqp_url))
    if problem is not None:
        typer.echo(
            f"RabbitMQ is not reachable at {_redact(amqp_url)} ({problem}). Start one "
            "(`rabbitmq-server -detached`, or `docker run -d -p 5672:5672 rabbitmq:3.13`) or set ITSM_AMQP_URL.",
            err=True,
        )
        raise typer.Exit(2)
    if migrate_first:
        for service in SERVICE_NAMES:
            migrate(service)
    supervised = run_all(
        all_entries(),
        host=host,
        console=console,
        state_file=state_file,
        max_start_failures=max_start_failures,
        workers=workers,
    )
    raise typer.Exit(asyncio.run(supervised))


@app.command()
def status(
    host: Annotated[str, typer.Option(help="Where the services listen when no `itsm up` runs here")] = "127.0.0.1",
    management_url: Annotated[
        str | None,
        typer.Option(
            envvar="ITSM_AMQP_MANAGEMENT_URL",
            help="RabbitMQ's management API (default: port 15672 on the broker's host; '' for AMQP only)",
        ),
    ] = None,
    state_file: StateFileOption = DEFAULT_STATE_FILE,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """Each service's state, port, uptime, restarts, outbox backlog and queue depth.

    Exits 1 when a service is not ready."""
    from itsm.status import default_management_url, status_table, suite_status
    from itsm.suite_state import read_state

    if management_url is None:
        management_url = default_management_url(_settings("incident").amqp_url.get_secret_value())
    found = asyncio.run(
        suite_status(all_entries(), supervisor=read_state(state_file), host=host, management_url=management_url)
    )
    if as_json:
        typer.echo(json.dumps(found.as_json()))
    else:
        console.print(status_table(found))
    if not all(s.ready for s in found.services):
        raise typer.Exit(1)


@app.command()
def migrate(service: Annotated[str, typer.Argument(help="A service, or 'all'")] = "all") -> None:
    """Apply a service's database migrations (all services by default)."""
    from shared.migrations import upgrade

    for name in SERVICE_NAMES if service == "all" else [service]:
        settings = _settings(name)
        upgrade(name, settings.database_url)
        console.print(f"{name}: migrated ({_redact(settings.database_url)})")


@app.command()
def serve(
    service: ServiceArg,
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default: the HOST setting)")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: the PORT setting)")] = None,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log every request")] = True,
    timeout_graceful_shutdown: Annotated[
        int | None,
        typer.Option(
            envvar="UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN",
            help="On SIGTERM, seconds in-flight requests get before they are cancelled (default: DRAIN_TIMEOUT_S)",
        ),
    ] = None,
    workers: WorkersOption = 1,
) -> None:
    """Run a service's HTTP API (and its relay and consumer, unless RUN_WORKER is off), with the
    request-head limits of its settings (MAX_HEADER_BYTES, HEADER_TIMEOUT_S)."""
    from shared.server import serve as serve_http

    settings = _settings(service)  # an unknown service is a usage error, before anything starts
    serve_http(
        entry(service).app_factory,
        settings,
        host=host,
        port=port,
        access_log=access_log,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
        workers=workers,
    )


@app.command()
def worker(service: ServiceArg) -> None:
    """Run a service's outbox relay and consumer without its HTTP API (to scale them apart)."""
    from shared.worker import run_worker

    settings = _settings(service)
    asyncio.run(run_worker(entry(service).spec, settings))


@app.command()
def token(
    subject: Annotated[str, typer.Argument(help="Who the token is for")],
    role: Annotated[list[Role], typer.Option("--role", "-r", help="A role; repeat for several")],
    hours: Annotated[float, typer.Option(help="Lifetime in hours")] = 12,
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="An assignment group the person works in; repeat")
    ] = None,
) -> None:
    """Mint a development token (HS256, signed with ITSM_JWT_SECRET)."""
    settings = _settings("incident")
    if hours > settings.jwt_max_lifetime_hours:
        raise typer.BadParameter(
            f"the services refuse tokens living over {settings.jwt_max_lifetime_hours:g} hours"
            " (ITSM_JWT_MAX_LIFETIME_HOURS)",
            param_hint="--hours",
        )
    typer.echo(
        mint_token(
            settings.jwt_secret.get_secret_value(),
            subject,
            [r.value for r in role],
            ttl=timedelta(hours=hours),
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            groups=group or (),
        )
    )


def _service_urls(host: str) -> dict[str, str]:
    return {name: f"http://{host}:{_settings(name).port}" for name in SERVICE_NAMES}


def _dev_token(subject: str, roles: list[str], hours: float) -> str:
    settings = _settings("reporting")
    return mint_token(
        settings.jwt_secret.get_secret_value(),
        subject,
        roles,
        ttl=timedelta(hours=hours),
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )


@app.command()
def dashboard(
    host: Annotated[str, typer.Option(help="Where reporting listens")] = "127.0.0.1",
    subject: Annotated[str, typer.Option(help="Who the token is for")] = "dashboard-viewer",
    hours: Annotated[float, typer.Option(help="Lifetime of the token in hours")] = 12,
    open_browser: Annotated[bool, typer.Option("--open", help="Open it in the default browser")] = False,
) -> None:
    """Print the dashboard's address with a read-only (auditor) development token in its fragment."""
    url = f"{_service_urls(host)['reporting']}/#token={_dev_token(subject, [Role.AUDITOR.value], hours)}"
    typer.echo(url)
    if open_browser:
        import webbrowser

        webbrowser.open(url)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Where the services listen (ports from their settings)")] = "127.0.0.1",
    url: Annotated[
        list[str] | None, typer.Option("--url", help="A service's base URL, e.g. incident=http://10.0.0.5:8001")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=90, help="How many days of history to load")] = 28,
    seed: Annotated[int, typer.Option(help="The same seed loads the same data set")] = 7,
    force: Annotated[bool, typer.Option(help="Load even if the demo data set is there already")] = False,
    live: Annotated[
        float, typer.Option(help="Then keep raising and resolving an incident every N seconds (0: stop)")
    ] = 0,
) -> None:
    """Load a realistic demo data set through the services' APIs (run `itsm up` first, in another terminal).

    Suppliers, the service catalogue with CIs and relationships, contracts, a few weeks of incidents
    through their lifecycles, problems and changes, recorded at the times they happened (an admin
    import with X-ITSM-Occurred-At). Parts the running services do not offer yet are skipped with a note.
    """
    from itsm.demo import Api, live_incidents, parse_urls, run_demo

    try:
        urls = parse_urls(url or [], _service_urls(host))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings = _settings("incident")

    async def go() -> None:
        async with Api(
            urls=urls,
            secret=settings.jwt_secret.get_secret_value(),
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        ) as api:
            console.print(f"Loading {days} days of demo data through the APIs…")
            loaded = await run_demo(api, days=days, seed=seed, force=force, say=console.print)
            console.print(f"{api.calls} API calls. The dashboard (reporting catches up within seconds):")
            # Plain output: a wrapped line would break the address when copied.
            typer.echo(f"  {urls['reporting']}/#token={_dev_token('dashboard-viewer', [Role.AUDITOR.value], 12)}")
            if live > 0:
                console.print(f"Raising an incident every {live:g} s; Ctrl-C stops.")
                await live_incidents(api, loaded, every_s=live, say=console.print)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


@app.command()
def events(
    out: Annotated[Path | None, typer.Option(help="Write one JSON Schema file per event type here")] = None,
    asyncapi: Annotated[
        bool, typer.Option("--asyncapi", help="Print the suite's AsyncAPI 3.0 document (or write it to FILE)")
    ] = False,
    file: Annotated[Path | None, typer.Argument(help="With --asyncapi: the file to write", show_default=False)] = None,
) -> None:
    """Print the event catalogue (who publishes, who consumes), export the JSON Schemas, or the
    AsyncAPI document of the whole event stream (exchange and queue names from the settings)."""
    from itsm.catalogue import asyncapi_json, catalogue_markdown, suite_asyncapi, write_schemas

    if file is not None and not asyncapi:
        raise typer.BadParameter("FILE is where --asyncapi writes its document", param_hint="FILE")
    if asyncapi:
        settings = _settings("incident")
        text = asyncapi_json(suite_asyncapi(settings.events_exchange, settings.queue_prefix))
        if file is None:
            typer.echo(text, nl=False)
        else:
            file.write_text(text)
            console.print(str(file))
        return
    if out is not None:
        for path in write_schemas(out):
            console.print(str(path))
        return
    typer.echo(catalogue_markdown())


@app.command()
def repair(
    service: Annotated[str, typer.Argument(help="A service, or 'all'")] = "all",
    apply: Annotated[bool, typer.Option("--apply", help="Fix what is found (default: only report it)")] = False,
) -> None:
    """Find records earlier versions stored that the current code cannot read back or would refuse
    (free-form JSON beyond its limits, NULL in required text); `--apply` fixes them with evidence.

    Exits 1 when a dry run finds something to repair, or when something is left after `--apply`."""
    from itsm.repair import repair_service

    try:
        entries = all_entries() if service == "all" else [entry(service)]
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from None
    table = Table("service", "record", "field", "why", title="records to repair" if not apply else "repaired")
    left = 0
    for one in entries:
        outcome = asyncio.run(repair_service(one, apply=apply))
        for finding in outcome.findings:
            table.add_row(outcome.service, f"{finding.table} {finding.record}", finding.field, finding.why)
        left += len(outcome.left) if apply else len(outcome.findings)
        if apply:
            console.print(f"{outcome.service}: {outcome.repaired} record(s) repaired, {len(outcome.left)} left")
    if table.row_count:
        console.print(table)
    else:
        console.print("nothing to repair")
    if left:
        raise typer.Exit(1)


@app.command("continuity-pack")
def continuity_pack(
    out: Annotated[Path, typer.Option(help="The folder to write the pack into (keep it off the suite's machines)")],
    host: Annotated[str, typer.Option(help="Where the configuration service listens")] = "127.0.0.1",
    url: Annotated[str | None, typer.Option(help="The configuration service's base URL (instead of --host)")] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="ITSM_TOKEN", help="A configuration manager's bearer token (default: a development one)"),
    ] = None,
    dated: Annotated[
        bool, typer.Option(help="Write into a new folder under --out named by the export's time (for scheduled runs)")
    ] = False,
    keep: Annotated[
        int, typer.Option(min=0, help="With --dated: keep only this many newest packs under --out (0: keep all)")
    ] = 0,
) -> None:
    """Write the offline continuity pack: plans, contact lists, the covered services with their CIs
    and relationships, a readable HTML page and a SHA-256 manifest. The export is recorded in config.
    Scheduled (cron, the Helm chart's CronJob): `--dated --keep N` keeps the N newest packs."""
    from itsm.continuity_pack import dated_folder, fetch_pack, prune_packs, write_pack

    if keep and not dated:
        raise typer.BadParameter("--keep prunes dated packs: give --dated with it", param_hint="--keep")
    bearer = token or _dev_token("continuity-pack", [Role.CONFIG_MANAGER.value], 1)
    pack = asyncio.run(fetch_pack(url or _service_urls(host)["config"], bearer))
    if dated:
        out = dated_folder(pack, out)
    manifest = write_pack(pack, out)
    if keep:
        for folder in prune_packs(out.parent, keep):
            console.print(f"removed the older pack {folder}")
    counts = manifest["counts"]
    console.print(
        f"Continuity pack {manifest['export_id']} in {out}: {counts['plans']} plan(s), "
        f"{counts['services']} service(s), {counts['cis']} CI(s); open {out / 'index.html'}"
    )


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


if __name__ == "__main__":
    app()
