"""The Lighter emulator's own failures are never silent: a handler that fails answers 500 and logs its traceback, a
frame handler that fails logs and closes the connection, and a client that leaves too many frames unread is
disconnected with a WARNING instead of frames being dropped or memory growing without bound."""
import logging
from decimal import Decimal
from unittest.mock import patch

from aiohttp import WSCloseCode, WSMsgType

from emulator.lighter import views, ws as emulator_ws
from emulator.lighter.ws import WsHub
from test.emulator.lighter.lighter_emulator_support import WS_TIMEOUT_S, EmulatorTestCase


class EmulatorFailuresTests(EmulatorTestCase):
    async def test_a_failing_handler_answers_500_and_logs_its_traceback(self):
        with patch.object(views, "market_summary", side_effect=RuntimeError("summary broke")), \
                self.assertLogs("emulator.lighter.rest", level="ERROR") as logs:
            status, body = await self.get("/api/v1/orderBooks")
        self.assertEqual(500, status)
        self.assertEqual({"code": 500, "message": "internal server error"}, body)
        (record,) = logs.records
        self.assertIn("GET /api/v1/orderBooks", record.getMessage())
        self.assertIs(RuntimeError, record.exc_info[0])
        self.assertEqual("summary broke", str(record.exc_info[1]))

    async def test_a_failing_frame_handler_logs_and_closes_the_connection(self):
        ws = await self.connect()
        with patch.object(WsHub, "_on_frame", side_effect=RuntimeError("frame broke")), \
                self.assertLogs("emulator.lighter.ws", level="ERROR") as logs:
            await ws.send_json({"type": "ping"})
            message = await ws.receive(timeout=WS_TIMEOUT_S)
        self.assertEqual(WSMsgType.CLOSE, message.type)
        self.assertEqual(WSCloseCode.INTERNAL_ERROR, message.data)
        self.assertEqual("frame broke", str(logs.records[0].exc_info[1]))
        # The emulator still serves new connections.
        self.assertEqual("pong", (await self.answer_to_ping(await self.connect()))["type"])

    async def answer_to_ping(self, ws) -> dict:
        await ws.send_json({"type": "ping"})
        return await ws.receive_json(timeout=WS_TIMEOUT_S)

    async def test_a_client_too_far_behind_is_disconnected_with_a_warning(self):
        ws = await self.connect()
        await self.subscribe(ws, "order_book/0")
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        with patch.object(emulator_ws, "SEND_QUEUE_LIMIT", 5), \
                self.assertLogs("emulator.lighter.ws", level="WARNING") as logs:
            # Ten book updates published in one go, before the connection's writer could send any of them.
            for step in range(10):
                self.ex.place_order(maker, 0, is_ask=False, size=Decimal("0.1"), price=Decimal(2000 + step))
            frames = []
            while True:
                message = await ws.receive(timeout=WS_TIMEOUT_S)
                if message.type != WSMsgType.TEXT:
                    break
                frames.append(message)
        self.assertEqual(WSMsgType.CLOSE, message.type)
        self.assertEqual(WSCloseCode.TRY_AGAIN_LATER, message.data)
        self.assertLess(len(frames), 10)
        self.assertEqual(["Lighter emulator: a client left 5 frames unread; its connection is closed."],
                         [record.getMessage() for record in logs.records])
        self.assertEqual(logging.WARNING, logs.records[0].levelno)
