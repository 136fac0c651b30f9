"""The supplier service's domain, by area: suppliers, contracts, performance, governance (no I/O)."""

from services.supplier.domain.suppliers import (
    Contact,
    RiskRating,
    Supplier,
    SupplierCategory,
    SupplierChanged,
    SupplierRegistered,
    SupplierRole,
    SupplierStatus,
    check_lead,
    name_key,
)

__all__ = [
    "Contact",
    "RiskRating",
    "Supplier",
    "SupplierCategory",
    "SupplierChanged",
    "SupplierRegistered",
    "SupplierRole",
    "SupplierStatus",
    "check_lead",
    "name_key",
]
