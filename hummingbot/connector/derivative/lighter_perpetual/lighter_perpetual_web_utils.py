import json
import logging
import os
import time
from typing import Any, Dict, Optional

import aiohttp

from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS
from hummingbot.core.api_throttler.async_throttler import AsyncThrottler
from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.connections.data_types import RESTRequest, WSJSONRequest
from hummingbot.core.web_assistant.rest_pre_processors import RESTPreProcessorBase
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.core.web_assistant.ws_assistant import WSAssistant

_logged_overrides = set()


def _override(env_var: str, path_suffix: str = "") -> Optional[str]:
    value = os.environ.get(env_var, "").strip().rstrip("/")
    # Lighter's documented REST URLs end in /api/v1, which every request path adds again: a copied one is accepted.
    if path_suffix and value.endswith(path_suffix):
        value = value[:-len(path_suffix)].rstrip("/")
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


def build_api_factory(throttler: Optional[AsyncThrottler] = None, auth: Optional[AuthBase] = None,
                      ) -> WebAssistantsFactory:
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
