"""The tables every service's store starts with: one metadata, the outbox, the inbox and the
record-number sequences. A service's `store/tables.py` begins with `service_tables()` and
declares its own tables on the metadata it returns."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import MetaData, Table

from shared.db import make_metadata
from shared.inbox import inbox_table
from shared.numbering import number_sequence_table
from shared.outbox import outbox_table


class ServiceTables(NamedTuple):
    metadata: MetaData
    outbox: Table
    inbox: Table
    number_sequence: Table


def service_tables() -> ServiceTables:
    metadata = make_metadata()
    return ServiceTables(metadata, outbox_table(metadata), inbox_table(metadata), number_sequence_table(metadata))
