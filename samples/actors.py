"""Who acted, as the workflow history and the audit trail name them.

A lifecycle event names its actor by a string (the engine knows no accounts): the username of
the account that acted. An instrument acts as its service identity (``Instrument.service_user``),
which the trail shows as the instrument; a person's username is never an instrument's name.
When an account acts through an API token someone else minted for it, the string says so:
"ravi (API token minted by alex)"; the same is kept as ``token_minted_by`` in the context of
every record it changes. ``ClientTokenAuthentication`` finds who minted the token.
"""

from __future__ import annotations

from typing import Any

# Who minted a token made with ``manage.py api_tokens`` (no person signed in); a username
# holds no blank, so no account has this name.
COMMAND_LINE = "command line"
MINTED = " (API token minted "
ACTOR_LENGTH = 200  # the history's actor column


def minted_words(minted_by: str) -> str:
    """ "(API token minted by alex)", or "(API token minted at the command line)"."""
    where = "at the command line" if minted_by == COMMAND_LINE else f"by {minted_by}"
    return f"(API token minted {where})"


def actor_name(user: Any) -> str:
    """The actor a lifecycle event keeps for ``user``'s action."""
    name = user.get_username()
    minted_by = getattr(user, "token_minted_by", "")
    if not minted_by:
        return name
    return f"{name} {minted_words(minted_by)}"[:ACTOR_LENGTH]
