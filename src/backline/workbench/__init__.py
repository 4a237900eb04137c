"""The investigation workbench: log explorer, a ticket's user timeline, pinned evidence, audit page.

Owns the checkpoint that decides whether log events are shown masked or unmasked (and why), the
audit rows of every look, and the pages and API built on them. Reads logs only through
``backline.logs`` (its source), tickets only through ``tickets.selectors``; writes a ticket's
timeline only through ``tickets.services``. Must not touch the log store's or the query
language's internals, nor change audit rows.
"""
