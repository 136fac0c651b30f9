"""E-mail intake in the database: the message recorded by its IMAP UID (once: a unique index on
folder, UIDVALIDITY and UID), its attachments, the recipients the desk's mail bounced from, the
record a sent message was about (to match a reply), and the log's read queries."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.domain.intake import Bounce, Outcome
from services.notify.domain.notifications import MessageStatus
from services.notify.store.tables import bounced_recipient, mail_attachment, mail_intake, mail_message
from shared.db import insert_ignoring_duplicates, page, where_given

N, A, B, M = mail_intake, mail_attachment, bounced_recipient, mail_message


async def recorded_uids(conn: AsyncConnection, folder: str, uidvalidity: int, uids: Collection[int]) -> set[int]:
    """Which of `uids` are recorded already (processed by an earlier pass, or another replica)."""
    if not uids:
        return set()
    query = select(N.c.uid).where(N.c.folder == folder, N.c.uidvalidity == uidvalidity, N.c.uid.in_(list(uids)))
    return set((await conn.scalars(query)).all())


async def record(conn: AsyncConnection, row: dict[str, Any]) -> bool:
    """Record a message; False when its UID is recorded already (then nothing was written). On
    PostgreSQL a second replica's insert of the same UID waits for the first to commit, then
    finds the row and writes nothing."""
    once = insert_ignoring_duplicates(N, row, key=["folder", "uidvalidity", "uid"], returning="id")
    return (await conn.execute(once, row)).first() is not None


async def set_event(conn: AsyncConnection, intake_id: UUID, event_id: UUID) -> None:
    await conn.execute(update(N).where(N.c.id == intake_id).values(event_id=event_id))


async def sent_from_sender_since(conn: AsyncConnection, sender: str, since: datetime) -> int:
    """How many of `sender`'s messages since `since` opened or commented on a ticket."""
    accepted = [Outcome.OPENED.value, Outcome.COMMENTED.value]
    query = select(func.count()).where(N.c.sender == sender, N.c.received_at >= since, N.c.outcome.in_(accepted))
    return int(await conn.scalar(query) or 0)


async def record_of_sent(conn: AsyncConnection, message_ids: Sequence[UUID]) -> tuple[str, str] | None:
    """(event type, record id) of the first of `message_ids` that is a message notify sent about a record."""
    if not message_ids:
        return None
    query = select(M.c.id, M.c.event_type, M.c.record_id).where(
        M.c.id.in_(list(message_ids)), M.c.record_id.is_not(None)
    )
    found = {row.id: row for row in await conn.execute(query)}
    for message_id in message_ids:
        if (row := found.get(message_id)) is not None:
            return row.event_type, row.record_id
    return None


async def add_attachments(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(A), list(rows))


async def mark_bounced(conn: AsyncConnection, bounce: Bounce, now: datetime, intake_id: UUID) -> None:
    """Count a bounce on its recipient (recorded the first time)."""
    row = (await conn.execute(select(B).where(B.c.address == bounce.recipient).with_for_update())).first()
    values = {"status": bounce.status, "diagnostic": bounce.diagnostic, "last_bounced_at": now, "intake_id": intake_id}
    if row is None:
        await conn.execute(insert(B).values(address=bounce.recipient, bounces=1, first_bounced_at=now, **values))
    else:
        await conn.execute(update(B).where(B.c.address == bounce.recipient).values(bounces=B.c.bounces + 1, **values))


async def bounced(conn: AsyncConnection, address: str) -> Any | None:
    return (await conn.execute(select(B).where(B.c.address == address.lower()))).first()


async def clear_bounced(conn: AsyncConnection, address: str, now: datetime) -> bool:
    """Forget a bounced recipient; the messages held for it are due again."""
    gone = bool((await conn.execute(delete(B).where(B.c.address == address.lower()))).rowcount)
    if gone:
        held = update(M).where(M.c.recipient == address.lower(), M.c.status == MessageStatus.HELD.value)
        await conn.execute(held.values(status=MessageStatus.PENDING.value, next_attempt_at=now))
    return gone


async def list_bounced(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[Any], int]:
    return await page(conn, select(B), B.c.last_bounced_at.desc(), limit=limit, offset=offset)


async def list_intake(
    conn: AsyncConnection, *, outcome: str | None, sender: str | None, limit: int, offset: int
) -> tuple[list[Any], int]:
    query = where_given(select(N), N, outcome=outcome, sender=sender)
    return await page(conn, query, N.c.seq.desc(), limit=limit, offset=offset)


async def get_intake(conn: AsyncConnection, intake_id: UUID) -> Any | None:
    return (await conn.execute(select(N).where(N.c.id == intake_id))).first()


async def attachments_of(conn: AsyncConnection, intake_ids: Collection[UUID]) -> list[Any]:
    """The attachments of these messages, without their content."""
    if not intake_ids:
        return []
    columns = [c for c in A.c if c.name != "content"]
    query = select(*columns).where(A.c.intake_id.in_(list(intake_ids))).order_by(A.c.filename)
    return list(await conn.execute(query))


async def get_attachment(conn: AsyncConnection, attachment_id: UUID) -> Any | None:
    return (await conn.execute(select(A).where(A.c.id == attachment_id))).first()


async def forget_before(conn: AsyncConnection, cutoff: datetime) -> int:
    """Remove the intake records received before `cutoff`, with their attachments; how many."""
    old = select(N.c.id).where(N.c.received_at < cutoff).scalar_subquery()
    await conn.execute(delete(A).where(A.c.intake_id.in_(old)))
    return int((await conn.execute(delete(N).where(N.c.received_at < cutoff))).rowcount or 0)


async def note_opened(conn: AsyncConnection, sender: str, title: str, number: str, incident_id: UUID) -> bool:
    """Write the number of the incident a message opened on the oldest message of `sender` whose
    subject gave `title` and that has no number yet (the incident service opens them in order)."""
    waiting = (
        select(N.c.id, N.c.subject)
        .where(N.c.sender == sender, N.c.outcome == Outcome.OPENED.value, N.c.ticket_number.is_(None))
        .order_by(N.c.seq)
        .limit(20)
    )
    for row in await conn.execute(waiting):
        if ((row.subject or "(no subject)")[:200]) == title:
            await conn.execute(update(N).where(N.c.id == row.id).values(ticket_number=number, incident_id=incident_id))
            return True
    return False
