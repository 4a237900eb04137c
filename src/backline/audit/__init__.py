"""The append-only audit log: who saw which patient's data, and who changed what.

Owns: AuditEvent. Rows are written in the same transaction as the action they record, through
``audit.services.audit_record``; they are never updated or deleted by the application.
"""
