"""The one error type for expected domain refusals, mapped once to a UI message and status
(``samples.views.errors``) and once to a 4xx body of the API (``samples.api.errors``).

``LabError``: the action is not possible now (unknown barcode, wrong state, missing reason...).
``NotAllowed``: the user's role may not do this (COMPLIANCE.md C9); pages and the API answer 403.
Nothing is changed when either is raised.
"""


class LabError(Exception):
    """An expected refusal, with a message written for the person at the bench."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(LabError):
    """The actor's role does not allow this action."""
