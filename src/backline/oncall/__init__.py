"""On-call rotations: who is on call when, handoffs, overrides, coverage gaps and fairness.

`schedule` holds the framework-free rotation arithmetic. The Django side (tables, services,
selectors, UI) builds on it and must not re-implement the time math.
"""
