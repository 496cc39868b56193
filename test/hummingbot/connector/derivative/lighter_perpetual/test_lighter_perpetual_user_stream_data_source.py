import asyncio
import json
import time
import unittest
from typing import Any, Dict, List
from unittest.mock import AsyncMock, patch

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_web_utils as web_utils,
    lighter_perpetual_ws_pacer as pacer_module,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_transactions import LighterTransactionClient
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_user_stream_data_source import (
    LighterPerpetualUserStreamDataSource,
)
from hummingbot.connector.test_support.network_mocking_assistant import NetworkMockingAssistant
from test.hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_payloads as payloads

PRIVATE_CHANNELS = ["account_all_orders", "account_all_trades", "account_all_positions", "user_stats",
                    "account_all_assets"]


class LighterPerpetualUserStreamDataSourceTests(unittest.IsolatedAsyncioTestCase):
    # Receives the data source's log records (see handle).
    level = 0

    async def asyncSetUp(self):
        # Each test starts with the per-IP message budget unspent.
        pacer_module._pacers.clear()
        payloads.use_default_urls(self)
        self.log_records = []
        self.mocking_assistant = NetworkMockingAssistant()
        await self.mocking_assistant.async_init()
        api_factory = web_utils.build_api_factory()
        # The real client: subscribe frames carry a token signed by the official signer.
        self.transactions = LighterTransactionClient(
            api_factory=api_factory, account_index=payloads.ACCOUNT_INDEX, api_key_index=payloads.API_KEY_INDEX,
            api_private_key=payloads.API_PRIVATE_KEY)
        self.data_source = LighterPerpetualUserStreamDataSource(transactions=self.transactions,
                                                                api_factory=api_factory)
        self.reconnects = 0
        self.data_source.on_reconnect = self.count_reconnect
        self.data_source.logger().setLevel(1)
        self.data_source.logger().addHandler(self)
        self.output = asyncio.Queue()
        self.listening_task = None

    async def asyncTearDown(self):
        if self.listening_task is not None:
            self.listening_task.cancel()
        self.data_source.logger().removeHandler(self)
        await self.transactions.stop()

    def handle(self, record):
        self.log_records.append(record)

    def count_reconnect(self):
        self.reconnects += 1

    async def listen(self, ws_connect_mock: AsyncMock, messages: List[Dict[str, Any]]) -> AsyncMock:
        ws = self.mocking_assistant.create_websocket_mock()
        # An open aiohttp socket, so that a disconnect really closes it.
        ws.closed = False
        ws_connect_mock.return_value = ws
        for message in messages:
            self.mocking_assistant.add_websocket_aiohttp_message(ws, json.dumps(message))
        self.listening_task = asyncio.get_running_loop().create_task(
            self.data_source.listen_for_user_stream(self.output))
        await self.mocking_assistant.run_until_all_aiohttp_messages_delivered(ws)
        await asyncio.sleep(0)
        return ws

    def subscriptions(self, ws: AsyncMock) -> List[Dict[str, Any]]:
        return [m for m in self.mocking_assistant.json_messages_sent_through_websocket(ws) if m["type"] == "subscribe"]

    def assert_valid_token(self, token: str):
        deadline, account, key, signature = token.split(":")
        self.assertEqual((str(payloads.ACCOUNT_INDEX), str(payloads.API_KEY_INDEX)), (account, key))
        self.assertGreater(int(deadline), time.time())
        self.assertRegex(signature, "^[0-9a-f]{160}$")

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_private_channels_are_subscribed_with_an_auth_token(self, ws_connect_mock):
        ws = await self.listen(ws_connect_mock, [payloads.WS_CONNECTED])

        subscriptions = self.subscriptions(ws)
        self.assertEqual([f"{channel}/{payloads.ACCOUNT_INDEX}" for channel in PRIVATE_CHANNELS],
                         [s["channel"] for s in subscriptions])
        self.assertEqual(1, len({s["auth"] for s in subscriptions}))
        self.assert_valid_token(subscriptions[0]["auth"])
        self.assertEqual(web_utils.wss_url(), ws_connect_mock.call_args.args[0])
        self.assertEqual(1, self.reconnects)
        self.assertTrue(any(r.getMessage() == "Subscribed to private account channels..." for r in self.log_records))

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_account_frames_are_queued_and_control_frames_are_not(self, ws_connect_mock):
        frames = [payloads.WS_ACCOUNT_ALL_ORDERS_FILLED, payloads.WS_CONNECTED, payloads.WS_ACCOUNT_ALL_TRADES,
                  payloads.WS_USER_STATS, payloads.WS_ACCOUNT_ALL_POSITIONS]
        await self.listen(ws_connect_mock, frames)

        queued = [self.output.get_nowait() for _ in range(self.output.qsize())]
        self.assertEqual(["account_all_orders:225671", "account_all_trades:1234", "user_stats:225671",
                          "account_all_positions:1234"], [frame["channel"] for frame in queued])
        self.assertEqual(payloads.WS_ACCOUNT_ALL_ORDERS_FILLED, queued[0])

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_ping_is_answered_with_pong(self, ws_connect_mock):
        ws = await self.listen(ws_connect_mock, [payloads.WS_PING])

        self.assertEqual({"type": "pong"}, self.mocking_assistant.json_messages_sent_through_websocket(ws)[-1])
        self.assertEqual(0, self.output.qsize())

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_error_frame_reconnects_and_subscribes_again(self, ws_connect_mock):
        ws = await self.listen(ws_connect_mock, [payloads.WS_EXPIRED_TOKEN])
        for _ in range(20):
            if len(self.subscriptions(ws)) == 2 * len(PRIVATE_CHANNELS):
                break
            await asyncio.sleep(0.01)

        self.assertEqual(2 * len(PRIVATE_CHANNELS), len(self.subscriptions(ws)))
        self.assertEqual(2, ws_connect_mock.call_count)
        self.assertEqual(2, self.reconnects)
        ws.close.assert_awaited()
        self.assertTrue(any(r.levelname == "WARNING" and "invalid auth: expired token" in r.getMessage()
                            for r in self.log_records))
        self.assertEqual(0, self.output.qsize())

    @patch("aiohttp.ClientSession.ws_connect", new_callable=AsyncMock)
    async def test_failed_token_creation_is_logged_and_retried(self, ws_connect_mock):
        token = AsyncMock(side_effect=[RuntimeError("signer down"), "1:2:3:abc"])
        with patch.object(self.transactions, "auth_token", token), \
                patch.object(self.data_source, "_sleep", AsyncMock()):
            ws = await self.listen(ws_connect_mock, [payloads.WS_CONNECTED])
            for _ in range(20):
                if self.subscriptions(ws):
                    break
                await asyncio.sleep(0.01)

        self.assertEqual(["1:2:3:abc"] * len(PRIVATE_CHANNELS), [s["auth"] for s in self.subscriptions(ws)])
        self.assertTrue(any(r.levelname == "ERROR" and r.getMessage().startswith(
            "Unexpected error occurred subscribing to private account channels") for r in self.log_records))
