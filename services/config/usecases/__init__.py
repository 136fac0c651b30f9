"""CMDB use cases: one async function per command; only these commit."""

from services.config.usecases.baselines import TakeBaseline, compare_baseline, take_baseline
from services.config.usecases.bulk import CIRow, ImportResult, RelationshipRow, import_cis, import_relationships
from services.config.usecases.change_control import (
    apply_implemented_change,
    on_change_approved,
    on_change_created,
    record_change,
)
from services.config.usecases.discovery import DiscoveryRun, run_discovery
from services.config.usecases.items import (
    DefineCIType,
    Edit,
    RegisterConfigItem,
    define_ci_type,
    register_config_item,
    retire_config_item,
    update_config_item,
)
from services.config.usecases.relationships import add_relationship, record_contract_support, remove_relationship

__all__ = [
    "CIRow",
    "DefineCIType",
    "DiscoveryRun",
    "Edit",
    "ImportResult",
    "RegisterConfigItem",
    "RelationshipRow",
    "TakeBaseline",
    "add_relationship",
    "apply_implemented_change",
    "compare_baseline",
    "define_ci_type",
    "import_cis",
    "import_relationships",
    "on_change_approved",
    "on_change_created",
    "record_change",
    "record_contract_support",
    "register_config_item",
    "remove_relationship",
    "retire_config_item",
    "run_discovery",
    "take_baseline",
    "update_config_item",
]
