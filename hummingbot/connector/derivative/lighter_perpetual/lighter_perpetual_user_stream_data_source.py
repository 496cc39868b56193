import asyncio
from typing import TYPE_CHECKING, Optional

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_ws_pacer import pacer_for
from hummingbot.core.data_type.user_stream_tracker_data_source import UserStreamTrackerDataSource
from hummingbot.core.web_assistant.connections.data_types import WSJSONRequest
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.core.web_assistant.ws_assistant import WSAssistant

if TYPE_CHECKING:
    from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_transactions import (
        LighterTransactionClient,
    )

PRIVATE_CHANNELS = (
    CONSTANTS.WS_ACCOUNT_ORDERS_CHANNEL,
    CONSTANTS.WS_ACCOUNT_TRADES_CHANNEL,
    CONSTANTS.WS_ACCOUNT_POSITIONS_CHANNEL,
    CONSTANTS.WS_USER_STATS_CHANNEL,
    CONSTANTS.WS_ACCOUNT_ASSETS_CHANNEL,
)


class LighterPerpetualUserStreamDataSource(UserStreamTrackerDataSource):
    """Orders, fills (with the fee charged), positions and balances of the account. Each subscribe frame carries a
    fresh auth token; the stream's first frames are snapshots."""

    def __init__(self, transactions: "LighterTransactionClient", api_factory: WebAssistantsFactory,
                 domain: str = CONSTANTS.DEFAULT_DOMAIN):
        super().__init__()
        self._transactions = transactions
        self._api_factory = api_factory
        self._domain = domain
        self._ws: Optional[WSAssistant] = None
        # Set by the connector: called when the stream was down, so fills are recovered over REST.
        self.on_reconnect = None

    async def _connected_websocket_assistant(self) -> WSAssistant:
        ws: WSAssistant = await self._api_factory.get_ws_assistant()
        await ws.connect(ws_url=web_utils.wss_url(self._domain), ping_timeout=CONSTANTS.WS_HEARTBEAT_INTERVAL)
        self._ws = ws
        return ws

    async def _subscribe_channels(self, websocket_assistant: WSAssistant):
        try:
            token = await self._transactions.auth_token()
            account = self._transactions.account_index
            # Paced with the order book stream's subscriptions: Lighter counts messages per IP.
            pacer = pacer_for(web_utils.wss_url(self._domain))
            for channel in PRIVATE_CHANNELS:
                await pacer.wait()
                await websocket_assistant.send(WSJSONRequest(
                    payload={"type": "subscribe", "channel": f"{channel}/{account}", "auth": token}))
            self.logger().info("Subscribed to private account channels...")
            if self.on_reconnect is not None:
                self.on_reconnect()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.logger().error("Unexpected error occurred subscribing to private account channels.")
            raise

    async def _process_event_message(self, event_message, queue: asyncio.Queue):
        if not isinstance(event_message, dict):
            return
        if await web_utils.answer_ping(self._ws, event_message):
            return
        if "error" in event_message:
            # e.g. an expired token: reconnecting subscribes again with a fresh one.
            raise ConnectionError(f"Lighter refused a private subscription: {event_message['error']}")
        elif event_message.get("channel"):
            queue.put_nowait(event_message)

    async def _on_user_stream_interruption(self, websocket_assistant: Optional[WSAssistant]):
        self._ws = None
        websocket_assistant and await websocket_assistant.disconnect()
