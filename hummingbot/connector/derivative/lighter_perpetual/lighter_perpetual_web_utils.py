import functools
import ipaddress
import json
import logging
import os
import time
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

import aiohttp

from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS
from hummingbot.core.api_throttler.async_throttler import AsyncThrottler
from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.connections.data_types import RESTRequest, WSJSONRequest
from hummingbot.core.web_assistant.rest_pre_processors import RESTPreProcessorBase
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.core.web_assistant.ws_assistant import WSAssistant

# Overrides carry the auth token and signed transactions, so only this machine is trusted without this opt-in.
ALLOW_REMOTE_ENV_VAR = "PERP_DEX_ALLOW_REMOTE_ENDPOINTS"
_logged_overrides = set()


@functools.lru_cache(maxsize=16)
def _remote_host(url: str) -> Optional[str]:
    """The URL's host unless it is this machine (127.0.0.0/8, ::1, localhost); the host is never resolved."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return None if loopback else host or url


def _override(env_var: str, path_suffix: str = "") -> Optional[str]:
    value = os.environ.get(env_var, "").strip().rstrip("/")
    # Lighter's documented REST URLs end in /api/v1, which every request path adds again: a copied one is accepted.
    if path_suffix and value.endswith(path_suffix):
        value = value[:-len(path_suffix)].rstrip("/")
    host = _remote_host(value) if value else None
    if host and os.environ.get(ALLOW_REMOTE_ENV_VAR) != "1":
        raise ValueError(f"{env_var} points at {host}, which is not this machine, and would receive your Lighter auth "
                         f"token and signed transactions: unset it, or set {ALLOW_REMOTE_ENV_VAR}=1 if you trust that "
                         f"host.")
    if value and env_var not in _logged_overrides:
        _logged_overrides.add(env_var)
        logging.getLogger(__name__).info(f"{env_var} is set: the Lighter connector uses {value}")
    return value or None


def rest_base_url(domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return _override(CONSTANTS.REST_URL_ENV_VAR, CONSTANTS.API_VERSION) or CONSTANTS.REST_URLS[domain]


def wss_url(domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return _override(CONSTANTS.WSS_URL_ENV_VAR) or CONSTANTS.WSS_URLS[domain]


def public_rest_url(path_url: str, domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return f"{rest_base_url(domain)}{CONSTANTS.API_VERSION}{path_url}"


private_rest_url = public_rest_url


class LighterFormPreProcessor(RESTPreProcessorBase):
    """sendTx and sendTxBatch take multipart form fields (as the official SDK sends them), not a JSON body."""

    async def pre_process(self, request: RESTRequest) -> RESTRequest:
        if request.data is not None and request.url.endswith((CONSTANTS.SEND_TX_PATH, CONSTANTS.SEND_TX_BATCH_PATH)):
            writer = aiohttp.MultipartWriter("form-data")
            for name, value in json.loads(request.data).items():
                part = writer.append(str(value))
                part.set_content_disposition("form-data", name=name)
            request.data = await writer.as_bytes()
            request.headers = {**(request.headers or {}), "Content-Type": writer.content_type}
        return request


def create_throttler(tier: str = "Standard") -> AsyncThrottler:
    return AsyncThrottler(CONSTANTS.rate_limits(tier))


def check_endpoint_overrides():
    """Refuses a remote override without the opt-in and warns about an allowed one; runs at every construction."""
    for env_var in (CONSTANTS.REST_URL_ENV_VAR, CONSTANTS.WSS_URL_ENV_VAR):
        value = _override(env_var)
        host = _remote_host(value) if value else None
        if host:
            logging.getLogger(__name__).warning(
                f"{env_var} sends your Lighter auth token and signed transactions to {host} "
                f"({ALLOW_REMOTE_ENV_VAR}=1).")


def build_api_factory(throttler: Optional[AsyncThrottler] = None, auth: Optional[AuthBase] = None,
                      ) -> WebAssistantsFactory:
    # Every connector builds its factory in its constructor: a refused override stops it before anything is sent.
    check_endpoint_overrides()
    return WebAssistantsFactory(
        throttler=throttler or create_throttler(),
        rest_pre_processors=[LighterFormPreProcessor()],
        auth=auth)


async def get_current_server_time(throttler: Optional[AsyncThrottler] = None,
                                  domain: str = CONSTANTS.DEFAULT_DOMAIN) -> float:
    # Lighter stamps transactions with the client's clock (ExpiredAt); there is no server-time endpoint to sync to.
    return time.time()


async def answer_ping(ws: WSAssistant, message: Dict[str, Any]) -> bool:
    """Lighter pings in-band ({"type": "ping"}) and closes connections that don't pong; True if `message` was one."""
    if message.get("type") == "ping":
        await ws.send(WSJSONRequest(payload={"type": "pong"}))
        return True
    return False
