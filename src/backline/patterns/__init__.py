"""Error signatures: the template miner that gives every log event a stable template id.

`masking` decides which parts of a message are values; `miner` groups masked messages into
templates online and keeps their ids stable across restarts (`to_state` / `from_state`). Both
are framework-free; counting affected users and baselines build on the ids and must not
re-implement the grouping.
"""
