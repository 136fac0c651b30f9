"""The six services' apps as the fuzzing builds them: each on its own database and queue prefix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from services.change.app import create_app as change_app
from services.change.settings import ChangeSettings
from services.config.app import create_app as config_app
from services.config.settings import ConfigSettings
from services.incident.app import create_app as incident_app
from services.incident.settings import IncidentSettings
from services.notify.app import create_app as notify_app
from services.notify.settings import NotifySettings
from services.reporting.app import create_app as reporting_app
from services.reporting.settings import ReportingSettings
from services.supplier.app import create_app as supplier_app
from services.supplier.settings import SupplierSettings

APPS: dict[str, tuple[Callable[[Any], FastAPI], type[Any]]] = {
    "incident": (incident_app, IncidentSettings),
    "change": (change_app, ChangeSettings),
    "config": (config_app, ConfigSettings),
    "supplier": (supplier_app, SupplierSettings),
    "reporting": (reporting_app, ReportingSettings),
    "notify": (notify_app, NotifySettings),
}
SERVICES = list(APPS)


def fuzz_app(service: str, make_settings: Callable[..., Any], database_url: str, queue_prefix: str) -> FastAPI:
    """`make_settings(settings_cls, database_url, **overrides)`: the suite's test settings."""
    create_app, settings_cls = APPS[service]
    return create_app(make_settings(settings_cls, database_url, queue_prefix=queue_prefix))
