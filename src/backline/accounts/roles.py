"""The roles a person may hold. Framework-free so that pure modules can name them too."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    TIER1 = "tier1"
    TIER2 = "tier2"
    TIER3 = "tier3"
    MONITORING = "monitoring"
    INVESTIGATOR = "investigator"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.TIER1: "Tier 1 agent",
    Role.TIER2: "Tier 2 specialist",
    Role.TIER3: "Tier 3 engineer",
    Role.MONITORING: "Monitoring on-call engineer",
    Role.INVESTIGATOR: "Investigator on-call engineer",
    Role.MANAGER: "Support manager",
    Role.ADMIN: "Admin",
}

ROLE_CHOICES = [(role.value, role.label) for role in Role]

# Engineers behind Tier 3 may work Tier 3 tickets too: the real team shares people between roles.
ENGINEERING_ROLES = frozenset({Role.TIER3, Role.MONITORING, Role.INVESTIGATOR})
