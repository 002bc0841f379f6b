"""The two ways the engine runs a workflow, for fixtures that run each test in both."""

import pytest

# Each advance replays the history from the table (inside a test transaction nothing is kept
# past a commit), or the process keeps each waiting workflow suspended between commits and
# records a step and what follows it in one statement.
BOTH_MODES = [
    pytest.param("replayed", marks=pytest.mark.django_db),
    pytest.param("kept", marks=pytest.mark.django_db(transaction=True)),
]
