"""Supplier persistence: tables (SQLAlchemy Core), repositories and read queries, by area."""

from services.supplier.store.contracts import ContractRepository
from services.supplier.store.governance import DisputeRepository, ProcessRepository, ReviewRepository
from services.supplier.store.suppliers import SupplierRepository, get_supplier, list_suppliers
from services.supplier.store.tables import (
    ci_read_model,
    contract,
    contract_amendment,
    contract_notice,
    dispute,
    inbox,
    metadata,
    number_sequence,
    operated_process,
    outbox,
    performance_review,
    record_history,
    supplier,
)

__all__ = [
    "ContractRepository",
    "DisputeRepository",
    "ProcessRepository",
    "ReviewRepository",
    "SupplierRepository",
    "ci_read_model",
    "contract",
    "contract_amendment",
    "contract_notice",
    "dispute",
    "get_supplier",
    "inbox",
    "list_suppliers",
    "metadata",
    "number_sequence",
    "operated_process",
    "outbox",
    "performance_review",
    "record_history",
    "supplier",
]
