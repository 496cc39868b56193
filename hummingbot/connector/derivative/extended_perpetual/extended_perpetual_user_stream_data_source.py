import asyncio
from typing import Any, Optional

import aiohttp

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_parsers as parsers,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_auth import ExtendedPerpetualAuth
from hummingbot.core.data_type.user_stream_tracker_data_source import UserStreamTrackerDataSource
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.core.web_assistant.ws_assistant import WSAssistant


class ExtendedPerpetualUserStreamDataSource(UserStreamTrackerDataSource):
    """The /account stream: ORDER, TRADE (with the fee charged), BALANCE and POSITION frames. The API key travels in
    the X-Api-Key header of the connection request; there is no subscribe message. Each connection starts with
    ORDER/BALANCE/POSITION snapshots (`isSnapshot`), which the connector takes as its cue to recover over REST what
    happened while the stream was down. Messages count `seq` from 1 on each connection (live capture, extended_14): a
    skipped number means a lost message, and the connection is made anew, so the snapshots and the recovery follow."""

    def __init__(self, auth: ExtendedPerpetualAuth, api_factory: WebAssistantsFactory,
                 domain: str = CONSTANTS.DEFAULT_DOMAIN):
        super().__init__()
        self._auth = auth
        self._api_factory = api_factory
        self._domain = domain
        self._last_seq: Optional[int] = None

    async def _connected_websocket_assistant(self) -> WSAssistant:
        ws: WSAssistant = await self._api_factory.get_ws_assistant()
        try:
            await ws.connect(ws_url=web_utils.stream_url(CONSTANTS.ACCOUNT_STREAM, self._domain),
                             ws_headers=self._auth.stream_headers(), ping_timeout=CONSTANTS.WS_HEARTBEAT_INTERVAL)
        except aiohttp.WSServerHandshakeError as e:
            # The listener reconnects at once after a ConnectionError: pause so a refused key is not hammered.
            await self._sleep(CONSTANTS.STREAM_RECONNECT_DELAY)
            if e.status == CONSTANTS.HTTP_UNAUTHORIZED:
                raise ConnectionError("Extended refused the API key on the account stream (HTTP 401).") from None
            raise ConnectionError(f"Extended refused the account stream connection (HTTP {e.status}).") from None
        return ws

    async def _subscribe_channels(self, websocket_assistant: WSAssistant):
        # The URL selects the stream and the connection's header authenticates it.
        self._last_seq = None
        self.logger().info("Connected to the Extended account stream.")

    async def _process_event_message(self, event_message: Any, queue: asyncio.Queue):
        if not isinstance(event_message, dict):
            return
        error = parsers.envelope_error(event_message)
        if error is not None:
            code, message = error
            raise ConnectionError(f"Extended reported an error on the account stream: {message} ({code})")
        seq = event_message.get("seq")
        if isinstance(seq, int):
            if self._last_seq is not None and seq != self._last_seq + 1:
                raise ConnectionError(f"the account stream skipped from message {self._last_seq} to {seq}; "
                                      f"reconnecting to recover what was missed")
            self._last_seq = seq
        if event_message.get("type"):
            queue.put_nowait(event_message)
