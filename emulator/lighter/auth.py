"""Auth tokens ("<deadline>:<account>:<api_key>:<hex signature>", made by create_auth_token_with_expiry).

The signature is checked for shape only; the account, key and deadline are checked for real.
"""
import time
from typing import Optional

from emulator.lighter.constants import INVALID_AUTH, INVALID_PARAM
from emulator.lighter.errors import LighterError
from emulator.lighter.state import ExchangeState

TOKEN_SIG_HEX_CHARS = 160
MAX_TOKEN_TTL_S = 8 * 3600
CLOCK_SLACK_S = 60


class AuthError(LighterError):
    """20013 "invalid auth: <reason>[: <channel>]" (HTTP 401), or 20001 when no token was given at all."""

    def __init__(self, reason: str, scope: str = "", missing: bool = False):
        if missing:
            code, message, status = INVALID_PARAM[0], f"{INVALID_PARAM[1]}: {reason}", 400
        else:
            code, message, status = INVALID_AUTH, f"invalid auth: {reason}", 401
        super().__init__((code, message + (f": {scope}" if scope else "")), http_status=status)


def check_token(state: ExchangeState, token: Optional[str], account_index: Optional[int], scope: str = "",
                missing_reason: str = "auth field is required") -> int:
    """Validates `token` for `account_index` (None: any registered account); returns the token's account."""
    if not token:
        raise AuthError(missing_reason, scope, missing=True)
    parts = token.split(":")
    if len(parts) != 4:
        raise AuthError("malformed token", scope)
    deadline_s, account_s, key_s, signature = parts
    try:
        deadline, token_account, key_index = int(deadline_s), int(account_s), int(key_s)
        int(signature, 16)
    except ValueError:
        raise AuthError("malformed token", scope)
    if len(signature) != TOKEN_SIG_HEX_CHARS:
        raise AuthError("malformed token", scope)
    now = time.time()
    if deadline < now:
        raise AuthError("expired token", scope)
    if deadline > now + MAX_TOKEN_TTL_S + CLOCK_SLACK_S:
        raise AuthError("invalid deadline", scope)
    account = state.account(token_account)
    if account is None or key_index not in account.api_keys:
        raise AuthError("api key not found", scope)
    if account_index is not None and token_account != account_index:
        raise AuthError("token does not match the account", scope)
    return token_account
