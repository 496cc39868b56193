"""REST middleware: request log, injected faults, rate limit, X-Api-Key auth, exchange error envelope."""
import asyncio
import json
import logging

from aiohttp import web

from emulator.extended.app_keys import API_PREFIX, FAULTS, LIMITER, STATE
from emulator.extended.errors import NOT_FOUND, NOT_FOUND_WORD, RATE_LIMITED, UNAUTHORIZED, ExchangeError
from emulator.extended.fmt import now_ms
from emulator.extended.responses import error, http_error
from emulator.extended.rest_private import ACCOUNT
from emulator.extended.state import RequestRecord

SERVER_ERROR_BODY = "Internal Server Error"  # live 5xx body: {"code":1006,"message":"Internal Server Error"}


def _decode(raw: bytes):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


@web.middleware
async def api_middleware(request: web.Request, handler):
    if not request.path.startswith(API_PREFIX + "/"):
        return await handler(request)
    app = request.app
    state = app[STATE]
    path = request.path[len(API_PREFIX):]
    account = state.accounts_by_key.get(request.headers.get("X-Api-Key", ""))
    raw = await request.read() if request.body_exists else b""
    state.log_request(RequestRecord(ts=now_ms(), method=request.method, path=path,
                                    query={k: request.query.getall(k) for k in request.query.keys()},
                                    body=_decode(raw), account_id=account.account_id if account else None))
    faults = app[FAULTS]
    wait, forced_status, answer_delay, drop = faults.rest_action(request.method, path)
    if wait > 0:
        await asyncio.sleep(wait)
    if drop:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=504)
    if forced_status == RATE_LIMITED[0]:
        return http_error(*RATE_LIMITED)
    if forced_status is not None:
        if forced_status >= 500:
            return http_error(forced_status, SERVER_ERROR_BODY, code=1006)
        return http_error(forced_status, "Error")
    if not app[LIMITER].allow(request.remote or "local"):
        return http_error(*RATE_LIMITED)
    if path.startswith("/user/"):
        if account is None or account.synthetic:
            return http_error(*UNAUTHORIZED)
        request[ACCOUNT] = account
    try:
        response = await handler(request)
    except ExchangeError as err:
        response = error(err)
    except web.HTTPException:
        raise
    except Exception:
        # The emulator's own failure: said with its traceback, and answered as the live 5xx.
        logging.getLogger(__name__).exception(f"The Extended emulator failed on {request.method} {request.path}")
        return http_error(500, SERVER_ERROR_BODY, code=1006)
    if faults.string_error_codes and response.status == NOT_FOUND[0]:
        response = http_error(NOT_FOUND[0], json.loads(response.body)["error"]["message"], code=NOT_FOUND_WORD)
    if answer_delay > 0:
        await asyncio.sleep(answer_delay)
    return response
