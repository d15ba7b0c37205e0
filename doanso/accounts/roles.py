"""Roles and the actions they grant. A role assigned at a unit covers that unit and its whole subtree.

Modules add their roles and actions with :func:`register_role` and :func:`extend_role` from their AppConfig.
Platform administrators (``User.is_superuser``) may do everything everywhere.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass
class Role:
    key: str
    label: str
    actions: set[str] = field(default_factory=set)
    # Which roles a holder of this role may grant inside their subtree.
    grants: set[str] = field(default_factory=set)


ROLES: dict[str, Role] = {}


def register_role(key: str, label, actions=(), grants=()) -> Role:
    ROLES[key] = Role(key, label, set(actions), set(grants))
    return ROLES[key]


def extend_role(key: str, actions=(), grants=()) -> None:
    ROLES[key].actions.update(actions)
    ROLES[key].grants.update(grants)


def role_choices():
    return [(r.key, r.label) for r in ROLES.values()]


# Actions of the foundation. Naming: "<app>.<verb>".
VIEW_UNITS = "org.view"
MANAGE_UNITS = "org.manage"  # create, rename, move, merge, split, dissolve, twinning
MANAGE_ROLES = "accounts.manage_roles"
VIEW_AUDIT = "core.view_audit"
RUN_TASKS = "core.run_tasks"

register_role(
    "unit_manager",
    _("Unit manager"),
    actions={VIEW_UNITS, MANAGE_UNITS, MANAGE_ROLES, VIEW_AUDIT, RUN_TASKS},
    grants={"unit_manager", "unit_staff"},
)
register_role("unit_staff", _("Unit staff"), actions={VIEW_UNITS, RUN_TASKS})

VIEW_MEMBERS = "members.view"
extend_role("unit_manager", actions={VIEW_MEMBERS})
extend_role("unit_staff", actions={VIEW_MEMBERS})

# Member registry.
MANAGE_MEMBERS = "members.manage"  # lifecycle operations, edits, approving corrections, campaigns
VIEW_SENSITIVE = "members.view_sensitive"  # unmask citizen ID, phone and the other protected fields, with a reason
IMPORT_MEMBERS = "members.import"
EXPORT_MEMBERS = "members.export"
extend_role("unit_manager", actions={MANAGE_MEMBERS, VIEW_SENSITIVE, IMPORT_MEMBERS, EXPORT_MEMBERS})
extend_role("unit_staff", actions={MANAGE_MEMBERS, IMPORT_MEMBERS, EXPORT_MEMBERS})
