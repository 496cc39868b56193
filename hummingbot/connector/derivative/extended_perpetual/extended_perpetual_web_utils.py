import functools
import ipaddress
import logging
import os
import time
from typing import Optional
from urllib.parse import urlsplit

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.core.api_throttler.async_throttler import AsyncThrottler
from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.connections.data_types import RESTRequest
from hummingbot.core.web_assistant.rest_pre_processors import RESTPreProcessorBase
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

# Overrides carry the API key and signed orders, so only this machine is trusted without this opt-in.
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


def _override(env_var: str) -> Optional[str]:
    value = os.environ.get(env_var, "").strip().rstrip("/")
    host = _remote_host(value) if value else None
    if host and os.environ.get(ALLOW_REMOTE_ENV_VAR) != "1":
        raise ValueError(f"{env_var} points at {host}, which is not this machine, and would receive your Extended API "
                         f"key and signed orders: unset it, or set {ALLOW_REMOTE_ENV_VAR}=1 if you trust that host.")
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


def check_endpoint_overrides():
    """Refuses a remote override without the opt-in and warns about an allowed one; runs at every construction."""
    for env_var in (CONSTANTS.REST_URL_ENV_VAR, CONSTANTS.WSS_URL_ENV_VAR):
        value = _override(env_var)
        host = _remote_host(value) if value else None
        if host:
            logging.getLogger(__name__).warning(
                f"{env_var} sends your Extended API key and signed orders to {host} ({ALLOW_REMOTE_ENV_VAR}=1).")


def build_api_factory(throttler: Optional[AsyncThrottler] = None, auth: Optional[AuthBase] = None,
                      ) -> WebAssistantsFactory:
    # Every connector builds its factory in its constructor: a refused override stops it before anything is sent.
    check_endpoint_overrides()
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
