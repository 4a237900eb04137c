"""The one exception type the query language raises for bad input."""

from __future__ import annotations


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed.

    ``position`` is the 0-based character offset in the query text where the problem was found and
    ``expected`` says, in words, what would have been valid there (``"')'"``, ``"a value"``, ...).
    ``str(error)`` reads like ``expected ')' at position 14``.
    """

    def __init__(self, message: str, position: int, expected: str) -> None:
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.position = position
        self.expected = expected

    def __reduce__(self) -> tuple[type[QuerySyntaxError], tuple[str, int, str]]:
        # Keeps the error picklable (task queues, multiprocessing) despite the custom signature.
        return (type(self), (self.message, self.position, self.expected))
