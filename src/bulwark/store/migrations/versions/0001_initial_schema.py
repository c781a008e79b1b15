"""initial schema

Revision ID: 0001
Revises:

Written by Alembic's autogenerate, then folded with the small helpers below (local on purpose: a
migration is history and imports no live code). The DDL it emits is unchanged:
tests/unit/store/test_migrations.py checks the migrated schema against the models.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _string(name: str, length: int, *, nullable: bool = False) -> "sa.Column[Any]":
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _serial() -> "sa.Column[Any]":
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _at() -> "sa.Column[Any]":
    return sa.Column("at", sa.DateTime(timezone=True), nullable=False)


def _refers(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [target])


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def _drop(table: str, *indexed: str) -> None:
    """``table`` and its indexes on ``indexed``, newest index first."""
    if indexed:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(indexed):
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
    op.drop_table(table)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        _string("at", 40),
        _string("kind", 64),
        _string("incident_id", 64, nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        _string("prev_hash", 66),
        _string("hash", 66),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("hash"),
        sa.UniqueConstraint("prev_hash"),
    )
    _index("audit_log", "incident_id")

    op.create_table(
        "checkpoints",
        _string("name", 128),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        _string("block_hash", 66),
        sa.Column("data", sa.JSON(), nullable=False),
        _at(),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "incidents",
        _string("id", 64),
        _string("protocol", 128),
        _string("state", 32),
        _string("severity", 16),
        _string("vuln_class", 64),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("incidents", "protocol", "state")

    op.create_table(
        "actions",
        _serial(),
        _string("incident_id", 64),
        _string("kind", 64),
        _string("step", 64),
        _string("status", 16),
        _string("tx_hash", 66, nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        _at(),
        _refers("incident_id", "incidents.id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "kind", "step", name="uq_action_step"),
    )
    _index("actions", "incident_id")

    op.create_table(
        "artifacts",
        _string("id", 80),
        _string("incident_id", 64, nullable=True),
        _string("kind", 32),
        _string("state", 32),
        _string("sha256", 66),
        sa.Column("body", sa.JSON(), nullable=False),
        _at(),
        _refers("incident_id", "incidents.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("artifacts", "incident_id", "kind")

    op.create_table(
        "findings",
        _serial(),
        _string("incident_id", 64, nullable=True),
        _string("detector", 64),
        _string("vuln_class", 64),
        _string("severity", 16),
        _string("protocol", 128),
        _string("contract", 42, nullable=True),
        _string("tx_hash", 66, nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        _string("block_hash", 66, nullable=True),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _at(),
        _refers("incident_id", "incidents.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("findings", "incident_id", "tx_hash")

    op.create_table(
        "signatures",
        _serial(),
        _string("proposal_id", 80),
        _string("signer", 42),
        _string("decision", 16),
        sa.Column("signature", sa.Text(), nullable=False),
        _at(),
        _refers("proposal_id", "artifacts.id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "signer", name="uq_signature_signer"),
    )
    _index("signatures", "proposal_id")


def downgrade() -> None:
    _drop("signatures", "proposal_id")
    _drop("findings", "incident_id", "tx_hash")
    _drop("artifacts", "incident_id", "kind")
    _drop("actions", "incident_id")
    _drop("incidents", "protocol", "state")
    _drop("checkpoints")
    _drop("audit_log", "incident_id")
