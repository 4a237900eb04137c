"""Escalation: error signatures per ticket, how many users share them, recommendations to escalate
to the monitoring or investigator on-call, incidents (problem records) and continuous detection.

Owns ``Incident``, ``IncidentTicket``, ``RuleSettings`` and ``HotfixMark``. Reads logs through
``LogSource``, tickets through their selectors, on-call through ``oncall.selectors`` and writes
notifications only through ``notify.services``; it never writes a ticket except through
``tickets.services`` (resolving linked tickets).
"""
