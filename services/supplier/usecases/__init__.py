"""Supplier use cases, by area: one async function per command; only these commit."""

from services.supplier.usecases.common import Edit
from services.supplier.usecases.suppliers import RegisterSupplier, register_supplier, update_supplier

__all__ = ["Edit", "RegisterSupplier", "register_supplier", "update_supplier"]
