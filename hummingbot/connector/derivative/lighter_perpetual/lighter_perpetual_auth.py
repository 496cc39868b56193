from typing import Awaitable, Callable

from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.connections.data_types import RESTRequest, WSRequest


class LighterPerpetualAuth(AuthBase):
    """Private reads carry an auth token signed by the API key (header `Authorization`, as Lighter documents).
    Transactions need none: each one carries its own signature. Private WebSocket channels take the token in the
    subscribe frame, which the user stream data source builds."""

    def __init__(self, token_provider: Callable[[], Awaitable[str]]):
        self._token_provider = token_provider

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        request.headers = {**(request.headers or {}), "Authorization": await self._token_provider()}
        return request

    async def ws_authenticate(self, request: WSRequest) -> WSRequest:
        return request
