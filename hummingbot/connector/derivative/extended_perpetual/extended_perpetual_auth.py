from typing import Dict

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.connections.data_types import RESTRequest, WSRequest


class ExtendedPerpetualAuth(AuthBase):
    """Private REST requests and the /account stream carry the API key in the X-Api-Key header, and only there:
    never in a URL or a body. Orders carry their own Stark signature (see extended_perpetual_transactions)."""

    def __init__(self, api_key: str):
        self._api_key = api_key

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        request.headers = {**(request.headers or {}), CONSTANTS.API_KEY_HEADER: self._api_key}
        return request

    async def ws_authenticate(self, request: WSRequest) -> WSRequest:
        # The account stream is authenticated once, by the header of its connection request.
        return request

    def stream_headers(self) -> Dict[str, str]:
        return {**web_utils.stream_headers(), CONSTANTS.API_KEY_HEADER: self._api_key}
