"""The six services as the command line knows them: name -> settings class and app spec."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from shared.repair import RepairTarget
from shared.runtime import ServiceSpec
from shared.settings import ServiceSettings

SERVICE_NAMES = ("incident", "change", "config", "supplier", "reporting", "notify")


@dataclass(frozen=True)
class ServiceEntry:
    name: str

    @property
    def settings_class(self) -> type[ServiceSettings]:
        module = importlib.import_module(f"services.{self.name}.settings")
        cls: type[ServiceSettings] = getattr(module, f"{self.name.capitalize()}Settings")
        return cls

    def settings(self, **overrides: Any) -> ServiceSettings:
        return self.settings_class(**overrides)

    @property
    def spec(self) -> ServiceSpec:
        spec: ServiceSpec = importlib.import_module(f"services.{self.name}.app").SPEC
        return spec

    @property
    def repair_targets(self) -> tuple[RepairTarget, ...]:
        """What `itsm repair` checks: the service's `usecases/repair.py` TARGETS (none without one)."""
        try:
            module = importlib.import_module(f"services.{self.name}.usecases.repair")
        except ModuleNotFoundError:
            return ()
        targets: tuple[RepairTarget, ...] = module.TARGETS
        return targets

    @property
    def app_factory(self) -> str:
        return f"services.{self.name}.app:create_app"


def entry(name: str) -> ServiceEntry:
    if name not in SERVICE_NAMES:
        raise KeyError(f"unknown service {name!r}; one of: {', '.join(SERVICE_NAMES)}")
    return ServiceEntry(name)


def all_entries() -> list[ServiceEntry]:
    return [ServiceEntry(n) for n in SERVICE_NAMES]
