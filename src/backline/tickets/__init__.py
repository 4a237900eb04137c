"""Escalated tickets: tiers, the status machine, the immutable timeline and SLA clocks.

Owns: Ticket, TicketPause, TimelineEntry, SlaPolicy. Writes go through services.py, reads through
selectors.py; access to one ticket goes through ``selectors.ticket_for_user``. Must not send
notifications itself or read logs: later apps subscribe through services they own.
"""
