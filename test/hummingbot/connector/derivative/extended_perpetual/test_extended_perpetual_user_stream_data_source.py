import asyncio
import json
from unittest import IsolatedAsyncioTestCase
from unittest.mock import AsyncMock, MagicMock

import aiohttp

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_auth import ExtendedPerpetualAuth
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_user_stream_data_source import (
    ExtendedPerpetualUserStreamDataSource,
)
from hummingbot.connector.test_support.network_mocking_assistant import NetworkMockingAssistant
from test.hummingbot.connector.derivative.extended_perpetual import extended_perpetual_test_helpers as helpers


class UserStreamDataSourceTests(helpers.IsolatedConnections, IsolatedAsyncioTestCase):
    level = 0

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.factory = web_utils.build_api_factory(auth=ExtendedPerpetualAuth(helpers.API_KEY))
        self.data_source = ExtendedPerpetualUserStreamDataSource(ExtendedPerpetualAuth(helpers.API_KEY), self.factory)
        self.data_source._sleep = AsyncMock()
        self.mocking = NetworkMockingAssistant()
        await self.mocking.async_init()
        self.ws = self.mocking.configure_web_assistants_factory(self.factory)
        self.session = self.factory._connections_factory._ws_independent_session
        self.log_records = []
        self.data_source.logger().setLevel(1)
        self.data_source.logger().addHandler(self)
        self.queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self.data_source.listen_for_user_stream(self.queue))

    async def asyncTearDown(self):
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.data_source.logger().removeHandler(self)
        await super().asyncTearDown()

    def handle(self, record):
        self.log_records.append(record)

    async def test_account_stream_is_opened_with_the_key_in_the_header(self):
        # The captures come from several connections: numbered here as one connection's messages.
        frames = [dict(frame, seq=seq) for seq, frame in
                  enumerate(helpers.payload_objects("extended_14_account_stream.txt"), start=1)]
        for frame in frames:
            self.mocking.add_websocket_aiohttp_message(self.ws, json.dumps(frame))
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0)

        self.assertEqual(web_utils.stream_url(CONSTANTS.ACCOUNT_STREAM), self.session.connection_args[0])
        self.assertEqual({"User-Agent": CONSTANTS.USER_AGENT, CONSTANTS.API_KEY_HEADER: helpers.API_KEY},
                         self.session.connection_kwargs["headers"])
        self.assertNotIn(helpers.API_KEY, self.session.connection_args[0])
        self.assertEqual([frame["type"] for frame in frames],
                         [self.queue.get_nowait()["type"] for _ in range(self.queue.qsize())])
        self.assertGreater(self.data_source.last_recv_time, 0)

    async def test_a_skipped_message_number_makes_a_new_connection(self):
        frames = [{"type": "ORDER", "data": {"isSnapshot": True, "orders": []}, "ts": 1, "seq": 1},
                  {"type": "BALANCE", "data": {"isSnapshot": True, "balance": None}, "ts": 1, "seq": 2},
                  {"type": "TRADE", "data": {"trades": []}, "ts": 2, "seq": 4}]
        for frame in frames:
            self.mocking.add_websocket_aiohttp_message(self.ws, json.dumps(frame))
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0)
        self.assertTrue(any(r.levelname == "WARNING" and "skipped from message 2 to 4" in r.getMessage()
                            for r in self.log_records))
        self.assertEqual(["ORDER", "BALANCE"], [self.queue.get_nowait()["type"] for _ in range(self.queue.qsize())])
        # The new connection counts from 1 again: its snapshot is taken, not refused as a gap.
        self.mocking.add_websocket_aiohttp_message(self.ws, json.dumps(frames[0]))
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0)
        self.assertEqual(["ORDER"], [self.queue.get_nowait()["type"] for _ in range(self.queue.qsize())])

    async def test_error_frame_drops_the_connection(self):
        self.mocking.add_websocket_aiohttp_message(
            self.ws, json.dumps({"status": "ERROR", "error": {"code": 1006, "message": "Internal Server Error"}}))
        self.mocking.add_websocket_aiohttp_message(self.ws, "not json")
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0)
        self.assertTrue(any(r.levelname == "WARNING" and "Internal Server Error (1006)" in r.getMessage()
                            for r in self.log_records))
        self.assertTrue(self.queue.empty())

    async def test_refused_key_is_reported_without_the_key(self):
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.session.ws_connect = AsyncMock(side_effect=aiohttp.WSServerHandshakeError(
            request_info=MagicMock(), history=(), status=401, message="Invalid response status"))
        with self.assertRaises(ConnectionError) as error:
            await self.data_source._connected_websocket_assistant()
        self.assertEqual("Extended refused the API key on the account stream (HTTP 401).", str(error.exception))
        self.data_source._sleep.assert_awaited_once_with(CONSTANTS.STREAM_RECONNECT_DELAY)
