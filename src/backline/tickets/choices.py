"""Enumerations of the ticket domain, with the words the support team uses."""

from __future__ import annotations

from django.db import models


class Priority(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


PRIORITY_MEANING = {
    Priority.CRITICAL: "Patient safety impact",
    Priority.HIGH: "Multiple users or providers",
    Priority.MEDIUM: "Single user, complex",
    Priority.LOW: "Enhancement or non-urgent",
}
PRIORITY_RANK = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


class Tier(models.IntegerChoices):
    TIER1 = 1, "Tier 1"
    TIER2 = 2, "Tier 2"
    TIER3 = 3, "Tier 3"


class Status(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    WAITING_REQUESTER = "waiting_requester", "Waiting on requester"
    WAITING_PARTNER = "waiting_partner", "Waiting on partner"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELED = "canceled", "Canceled"


OPEN_STATUSES = frozenset(
    {
        Status.NEW,
        Status.ACKNOWLEDGED,
        Status.INVESTIGATING,
        Status.WAITING_REQUESTER,
        Status.WAITING_PARTNER,
    }
)
PAUSED_STATUSES = frozenset({Status.WAITING_REQUESTER, Status.WAITING_PARTNER})

# The status machine. Anything not listed is refused with HTTP 409 naming these.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {
            Status.ACKNOWLEDGED,
            Status.INVESTIGATING,
            Status.WAITING_REQUESTER,
            Status.WAITING_PARTNER,
            Status.RESOLVED,
            Status.CANCELED,
        }
    ),
    Status.ACKNOWLEDGED: frozenset(
        {
            Status.INVESTIGATING,
            Status.WAITING_REQUESTER,
            Status.WAITING_PARTNER,
            Status.RESOLVED,
            Status.CANCELED,
        }
    ),
    Status.INVESTIGATING: frozenset(
        {Status.WAITING_REQUESTER, Status.WAITING_PARTNER, Status.RESOLVED, Status.CANCELED}
    ),
    Status.WAITING_REQUESTER: frozenset(
        {Status.INVESTIGATING, Status.WAITING_PARTNER, Status.RESOLVED, Status.CANCELED}
    ),
    Status.WAITING_PARTNER: frozenset(
        {Status.INVESTIGATING, Status.WAITING_REQUESTER, Status.RESOLVED, Status.CANCELED}
    ),
    Status.RESOLVED: frozenset({Status.INVESTIGATING, Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.CANCELED: frozenset(),
}


class Area(models.TextChoices):
    MEDICATIONS = "medications", "Medications"
    SECURE_MESSAGING = "secure_messaging", "Secure Messaging"
    MEDICAL_RECORDS = "medical_records", "Medical Records"
    ACCOUNT = "account", "Account and sign-in"
    APPOINTMENTS = "appointments", "Appointments"
    OTHER = "other", "Other"


AREA_TITLE_PREFIX = {
    Area.MEDICAL_RECORDS: "MR - ",
    Area.SECURE_MESSAGING: "SM - ",
    Area.MEDICATIONS: "RX - ",
}


class Upstream(models.TextChoices):
    MHV_API = "mhv_api", "MHV API"
    VISTA = "vista", "VistA"
    ORACLE_HEALTH = "oracle_health", "Oracle Health"
    MPI = "mpi", "Identity / MPI"
    SIGN_IN = "sign_in", "Sign-in provider"
    UNKNOWN = "unknown", "None known"


class Credential(models.TextChoices):
    IDME = "idme", "ID.me"
    LOGINGOV = "logingov", "Login.gov"
    OTHER = "other", "Other"


class EntryCriterion(models.TextChoices):
    TIER2_CANNOT_RESOLVE = "tier2_cannot_resolve", "Tier 2 cannot resolve"
    CONFIG_CHANGE = "config_change", "System-level configuration change needed"
    MULTIPLE_USERS = "multiple_users", "Multiple users or facilities affected"
    INTEGRATION_FAILURE = "integration_failure", "Cross-system integration failure"
    SECURITY = "security", "Security or compliance implication"
    CODE_BUG = "code_bug", "Reproducible bug needing code-level work"


class RootCause(models.TextChoices):
    USER_DATA = "user_data", "User-specific data problem"
    IDENTITY = "identity", "Identity / correlation problem"
    UPSTREAM = "upstream", "Upstream system failure"
    CONFIGURATION = "configuration", "Configuration"
    CODE_DEFECT = "code_defect", "Code defect"
    USER_ERROR = "user_error", "User error / expected behaviour"
    DUPLICATE = "duplicate", "Duplicate of another ticket"
    UNKNOWN = "unknown", "Unknown"


class SlaState(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
