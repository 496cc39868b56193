import logging
import os
import time
from typing import Optional

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.core.api_throttler.async_throttler import AsyncThrottler
from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.connections.data_types import RESTRequest
from hummingbot.core.web_assistant.rest_pre_processors import RESTPreProcessorBase
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

_logged_overrides = set()


def _override(env_var: str) -> Optional[str]:
    value = os.environ.get(env_var, "").strip().rstrip("/")
    if value and env_var not in _logged_overrides:
        _logged_overrides.add(env_var)
        logging.getLogger(__name__).info(f"{env_var} is set: the Extended connector uses {value}")
    return value or None


def rest_base_url(domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return _override(CONSTANTS.REST_URL_ENV_VAR) or CONSTANTS.REST_URLS[domain]


def wss_base_url(domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return _override(CONSTANTS.WSS_URL_ENV_VAR) or CONSTANTS.WSS_URLS[domain]


def public_rest_url(path_url: str, domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return f"{rest_base_url(domain)}{path_url}"


private_rest_url = public_rest_url


def stream_url(path: str, domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return f"{wss_base_url(domain)}{path}"


def stream_headers() -> dict:
    """Extended expects a User-Agent on stream connections (the SDK sends its own)."""
    return {"User-Agent": CONSTANTS.USER_AGENT}


class ExtendedUserAgentPreProcessor(RESTPreProcessorBase):
    async def pre_process(self, request: RESTRequest) -> RESTRequest:
        request.headers = {**(request.headers or {}), "User-Agent": CONSTANTS.USER_AGENT}
        return request


def create_throttler(tier: str = "standard") -> AsyncThrottler:
    return AsyncThrottler(CONSTANTS.rate_limits(tier))


def build_api_factory(throttler: Optional[AsyncThrottler] = None, auth: Optional[AuthBase] = None,
                      ) -> WebAssistantsFactory:
    return WebAssistantsFactory(
        throttler=throttler or create_throttler(),
        rest_pre_processors=[ExtendedUserAgentPreProcessor()],
        auth=auth)


def build_api_factory_without_time_synchronizer_pre_processor(throttler: AsyncThrottler) -> WebAssistantsFactory:
    return build_api_factory(throttler=throttler)


async def get_current_server_time(throttler: Optional[AsyncThrottler] = None,
                                  domain: str = CONSTANTS.DEFAULT_DOMAIN) -> float:
    # Orders carry an expiry from the client's clock and Extended has no server-time endpoint to sync to.
    return time.time()
