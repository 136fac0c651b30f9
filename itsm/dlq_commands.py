"""`itsm dlq list|replay`: the messages in a service's dead-letter queue."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from itsm.cli_args import ServiceArg
from itsm.cli_args import settings_of as _settings

dlq_app = typer.Typer(help="Dead-lettered messages of a service.", no_args_is_help=True)
console = Console()


@dlq_app.command("list")
def dlq_list(
    service: ServiceArg,
    limit: Annotated[int, typer.Option(help="At most this many")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False,
) -> None:
    """Show the messages in a service's dead-letter queue (they stay there)."""
    from shared.dlq import list_dead_letters

    settings = _settings(service)
    letters = asyncio.run(list_dead_letters(settings.amqp_url.get_secret_value(), settings.queue_name(), limit=limit))
    if as_json:
        for letter in letters:
            typer.echo(
                json.dumps(
                    {
                        "message_id": letter.message_id,
                        "type": letter.event_type,
                        "routing_key": letter.routing_key,
                        "attempts": letter.attempts,
                        "error": letter.error,
                        "body": letter.body.decode(errors="replace"),
                    }
                )
            )
        return
    table = Table("message id", "type", "attempts", "error", title=f"{settings.queue_name()}.dead")
    for letter in letters:
        table.add_row(letter.message_id or "-", letter.event_type or "-", str(letter.attempts), letter.error)
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(
    service: ServiceArg,
    message_id: Annotated[str | None, typer.Option("--id", help="Only the message with this id")] = None,
    body_file: Annotated[
        Path | None, typer.Option("--body-file", help="Replace the body with this (repaired) file; needs --id")
    ] = None,
) -> None:
    """Put dead-lettered messages back on the service's queue, optionally with a repaired body."""
    from shared.dlq import replay_dead_letters

    if body_file is not None and message_id is None:
        raise typer.BadParameter("--body-file needs --id: a repaired body replaces one message")
    settings = _settings(service)
    body = body_file.read_bytes() if body_file is not None else None
    count = asyncio.run(
        replay_dead_letters(
            settings.amqp_url.get_secret_value(), settings.queue_name(), message_id=message_id, replacement_body=body
        )
    )
    console.print(f"replayed {count} message(s) to {settings.queue_name()}")
    if message_id is not None and count == 0:
        raise typer.Exit(1)
