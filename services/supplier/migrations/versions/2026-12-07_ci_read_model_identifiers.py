"""The CI read model keeps each CI's identifiers (serial, host name, FQDN, cloud id) from config's
events, so a CI named by one of them is found without asking config.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from shared.ci_read_model import add_ci_read_model_identifiers, drop_ci_read_model_identifiers

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_ci_read_model_identifiers()


def downgrade() -> None:
    drop_ci_read_model_identifiers()
