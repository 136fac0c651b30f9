"""The supplier service's HTTP API, by area (routes are thin: validate, call a use case, answer)."""

from services.supplier.api import contracts, disputes, suppliers

routers = [suppliers.router, contracts.router, disputes.router]

__all__ = ["routers"]
