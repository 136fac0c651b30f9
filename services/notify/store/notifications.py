"""Notification rules and e-mail messages in the database: the rules (read, add, remove), the
messages queued for an event (once per rule and recipient), the next one that is due (claimed
across replicas), its attempts, and the log's read queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.domain.notifications import MessageStatus, Rule
from services.notify.domain.recipients import Kind, Recipient
from services.notify.store.claims import claim_first
from services.notify.store.tables import mail_message, notification_rule, unsubscription
from shared.db import insert_ignoring_duplicates, page, where_given

R, M, U = notification_rule, mail_message, unsubscription
MAX_DIGEST = 200
"""Messages one digest lists at most (the rest go in the next one, at once)."""


def _rule(row: Any) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        event_pattern=row.event_pattern,
        template=row.template,
        recipient_fields=list(row.recipient_fields),
        created_by=row.created_by,
        created_at=row.created_at,
        data_filter=dict(row.data_filter),
        enabled=row.enabled,
        targets=[Recipient(Kind(r["kind"]), r.get("value", "")) for r in row.recipients or []],
        mandatory=bool(row.mandatory),
    )


async def enabled_rules(conn: AsyncConnection) -> list[Rule]:
    return [_rule(r) for r in await conn.execute(select(R).where(R.c.enabled.is_(True)).order_by(R.c.name))]


async def get_rule(conn: AsyncConnection, rule_id: UUID) -> Rule | None:
    row = (await conn.execute(select(R).where(R.c.id == rule_id))).first()
    return None if row is None else _rule(row)


async def rule_named(conn: AsyncConnection, name: str) -> Rule | None:
    row = (await conn.execute(select(R).where(R.c.name == name))).first()
    return None if row is None else _rule(row)


async def list_rules(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[Rule], int]:
    rows, total = await page(conn, select(R), R.c.name, limit=limit, offset=offset)
    return [_rule(r) for r in rows], total


async def add_rule(conn: AsyncConnection, rule: Rule) -> None:
    await conn.execute(
        insert(R).values(
            id=rule.id,
            name=rule.name,
            event_pattern=rule.event_pattern,
            data_filter=rule.data_filter,
            template=rule.template,
            recipient_fields=rule.recipient_fields,
            enabled=rule.enabled,
            recipients=[{"kind": t.kind.value, "value": t.value} for t in rule.targets],
            mandatory=rule.mandatory,
            created_by=rule.created_by,
            created_at=rule.created_at,
        )
    )


async def set_rule_enabled(conn: AsyncConnection, rule_id: UUID, enabled: bool) -> None:
    await conn.execute(update(R).where(R.c.id == rule_id).values(enabled=enabled))


async def delete_rule(conn: AsyncConnection, rule_id: UUID) -> bool:
    return bool((await conn.execute(delete(R).where(R.c.id == rule_id))).rowcount)


async def queue_messages(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Queue messages; one already queued for the same event, rule and recipient is kept as it is."""
    if not rows:
        return
    once = insert_ignoring_duplicates(M, rows[0], key=("event_id", "rule_id", "recipient"))
    await conn.execute(once, list(rows))


async def claim_due_message(conn: AsyncConnection, now: datetime) -> Any | None:
    """The next message that is due, locked for this transaction (see `store.claims`).

    Of the due messages waiting for one recipient's digest only the first is claimable: the
    replica that claims it gathers the others (`due_digest`), and another replica, which skips the
    locked first one, does not start a second digest with the rest."""
    earlier = M.alias("earlier")
    behind = (
        select(earlier.c.seq)
        .where(
            earlier.c.recipient == M.c.recipient,
            earlier.c.digest.is_(True),
            earlier.c.status == MessageStatus.PENDING.value,
            earlier.c.next_attempt_at <= now,
            earlier.c.seq < M.c.seq,
        )
        .exists()
    )
    query = (
        select(M)
        .where(
            M.c.status == MessageStatus.PENDING.value,
            M.c.next_attempt_at <= now,
            or_(M.c.digest.is_(False), ~behind),
        )
        .order_by(M.c.next_attempt_at, M.c.seq)
    )
    return await claim_first(conn, query, M)


async def due_digest(conn: AsyncConnection, recipient: str, now: datetime) -> list[Any]:
    """The due messages waiting for `recipient`'s digest (the claimed first one among them),
    oldest first, at most `MAX_DIGEST`, locked for this transaction (skipping any another
    replica holds: it never waits)."""
    query = (
        select(M)
        .where(
            M.c.recipient == recipient,
            M.c.digest.is_(True),
            M.c.status == MessageStatus.PENDING.value,
            M.c.next_attempt_at <= now,
        )
        .order_by(M.c.seq)
        .limit(MAX_DIGEST)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=M, skip_locked=True)
    return list(await conn.execute(query))


async def pending_about(conn: AsyncConnection, record_id: str, event_type: str) -> list[Any]:
    """The pending messages about one record (the event's subject) sent for events of one type,
    locked for this transaction."""
    query = select(M).where(
        M.c.record_id == record_id, M.c.event_type == event_type, M.c.status == MessageStatus.PENDING.value
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=M)
    return list(await conn.execute(query.order_by(M.c.seq).limit(MAX_DIGEST)))


async def update_message(conn: AsyncConnection, message_id: UUID, values: dict[str, Any]) -> None:
    await update_messages(conn, [message_id], values)


async def update_messages(conn: AsyncConnection, message_ids: Sequence[UUID], values: dict[str, Any]) -> None:
    await conn.execute(update(M).where(M.c.id.in_(list(message_ids))).values(values))


async def list_messages(
    conn: AsyncConnection,
    *,
    status: str | None,
    event_id: UUID | None,
    recipient: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    query = where_given(select(M), M, status=status, event_id=event_id, recipient=recipient)
    return await page(conn, query, M.c.seq.desc(), limit=limit, offset=offset)


async def unsubscribed(conn: AsyncConnection, rule_ids: Sequence[UUID]) -> set[tuple[str, UUID]]:
    """(address lower-cased, rule id) of the unsubscriptions from these rules."""
    if not rule_ids:
        return set()
    rows = await conn.execute(select(U.c.address, U.c.rule_id).where(U.c.rule_id.in_(list(rule_ids))))
    return {(r.address.lower(), r.rule_id) for r in rows}


async def add_unsubscription(conn: AsyncConnection, address: str, rule_id: UUID, now: datetime) -> None:
    row = {"address": address.lower(), "rule_id": rule_id, "created_at": now}
    await conn.execute(insert_ignoring_duplicates(U, row, key=("address", "rule_id")), row)
