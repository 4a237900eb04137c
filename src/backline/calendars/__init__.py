"""Business calendars: opening hours, holidays and time zones, and the business-time math on them.

The math lives in businesstime.py, free of Django; the stored calendars are in models.py.
"""
