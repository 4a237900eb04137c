"""People, roles, teams and API tokens; the one place that decides what each role may do.

Owns: User, Team, ApiToken and the permission matrix (permissions.py). Must not touch tickets or
other domains' tables: other apps ask ``permissions.can`` / ``permissions.require``.
"""
