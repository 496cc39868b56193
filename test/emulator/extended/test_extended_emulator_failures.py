"""The Extended emulator's own failures are never silent: a handler that fails logs its traceback and answers the
live 5xx envelope."""
import unittest
from unittest.mock import patch

import aiohttp

from emulator.extended import ExtendedEmulator
from emulator.extended.state import ExchangeState


class EmulatorFailureTests(unittest.IsolatedAsyncioTestCase):
    async def test_a_failing_handler_logs_its_traceback_and_answers_500(self):
        async with ExtendedEmulator(port=0) as ex, aiohttp.ClientSession() as session:
            with patch.object(ExchangeState, "market_json", side_effect=RuntimeError("market broke")), \
                    self.assertLogs("emulator.extended.middleware", level="ERROR") as logs:
                async with session.get(f"{ex.rest_url}/info/markets") as response:
                    status, body = response.status, await response.json()
        self.assertEqual(500, status)
        self.assertEqual({"status": "ERROR", "error": {"code": 1006, "message": "Internal Server Error"}}, body)
        (record,) = logs.records
        self.assertIn("GET /api/v1/info/markets", record.getMessage())
        self.assertEqual("market broke", str(record.exc_info[1]))
