from __future__ import annotations

import hashlib
import secrets
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models

from backline.accounts.roles import ROLE_CHOICES, Role


class User(AbstractUser):
    """A member of the support organisation. Patients are never users of Backline."""

    display_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York")

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @cached_property
    def roles(self) -> frozenset[Role]:
        """The roles this person holds (cached per instance: one query per request)."""
        if not self.pk or not self.is_active:
            return frozenset()
        found = {Role(r) for r in self.role_grants.values_list("role", flat=True)}
        if self.is_superuser:
            found.add(Role.ADMIN)
        return frozenset(found)

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)


class RoleGrant(models.Model):
    """One role held by one person. A person may hold several (the real team does)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_role_grant")]

    def __str__(self) -> str:
        return f"{self.user} as {Role(self.role).label}"


class Team(models.Model):
    """A group of people working one tier or one on-call role (Help Desk, Tier 3 Support ...)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100, unique=True)
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)
    members = models.ManyToManyField(User, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def token_digest(raw: str) -> str:
    # API tokens are long random strings, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(raw.encode()).hexdigest()


TOKEN_PREFIX = "bl_"


def new_token_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A personal API token. Only its hash is stored; the secret is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="The first characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
