"""The dead man's switch end to end, across processes: a bot (Hummingbot's clock running lighter_perpetual in a child
process, dead_man_switch_child) places orders on the Lighter emulator; while it runs, its orders survive ten windows
of the switch; killed with SIGKILL, it leaves them to the exchange, which cancels them at the last scheduled time."""
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import unittest
from decimal import Decimal
from pathlib import Path

from emulator.lighter import LighterEmulator
from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS

REPO = Path(__file__).resolve().parents[5]
CHILD = "test.hummingbot.connector.derivative.lighter_perpetual.dead_man_switch_child"
PAIR = "ETH-USDC"
MARKET = 0
# Lighter's shortest window is 5 minutes (MinOrderCancelAllPeriod); the emulator's is lowered to 1 s for this test.
MIN_SECONDS = 1
WINDOW = 2
WINDOWS_SURVIVED = 10
# The emulator looks at scheduled cancel-alls every 0.2 s.
EXCHANGE_TICK = 0.2


class DeadManSwitchKillTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.ex = LighterEmulator(port=0, min_cancel_all_period_ms=MIN_SECONDS * 1000)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        self.ex.place_order(maker, MARKET, is_ask=False, size=Decimal("2"), price=Decimal("2500"))
        self.ex.place_order(maker, MARKET, is_ask=True, size=Decimal("2"), price=Decimal("2505"))
        self.account, self.key_index, self.private_key = self.ex.create_account_with_api_key(
            collateral=Decimal("100000"), api_key_index=4)
        self.stderr = tempfile.TemporaryFile()
        self.addCleanup(self.stderr.close)
        self.child = None

    async def asyncTearDown(self):
        if self.child is not None and self.child.returncode is None:
            self.child.kill()
            await self.child.wait()

    async def start_bot(self) -> list:
        config = {"private_key": self.private_key, "key_index": self.key_index, "account": self.account,
                  "window": WINDOW, "min_seconds": MIN_SECONDS, "pair": PAIR,
                  "orders": [[True, "0.1", "2450"], [False, "0.1", "2550"]]}
        env = dict(os.environ, **{CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                  CONSTANTS.WSS_URL_ENV_VAR: self.ex.ws_url})
        self.child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", CHILD, cwd=str(REPO), env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=self.stderr)
        self.child.stdin.write((json.dumps(config) + "\n").encode())
        await self.child.stdin.drain()
        self.child.stdin.close()
        line = await asyncio.wait_for(self.child.stdout.readline(), timeout=50)
        self.assertTrue(line, f"the bot exited before placing its orders: {self.bot_output()}")
        client_ids = {int(order_id) for order_id in json.loads(line)["orders"]}
        orders = [order for order in self.ex.state.accounts[self.account].active_orders.values()
                  if order.client_order_index in client_ids]
        self.assertEqual(2, len(orders))
        return orders

    def bot_output(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-2000:]

    def schedules(self) -> list:
        """(received ms, scheduled time ms) of every scheduled cancel-all the bot sent (over its WebSocket)."""
        found = []
        for request in self.ex.state.requests:
            data = request.form.get("data") if request.transport == "ws" else None
            if not isinstance(data, dict) or "tx_types" not in data:
                continue
            for tx_type, info in zip(json.loads(data["tx_types"]), json.loads(data["tx_infos"])):
                info = json.loads(info)
                if tx_type == CONSTANTS.TX_TYPE_CANCEL_ALL_ORDERS and info["TimeInForce"] == 1:
                    found.append((request.received_ms, info["Time"]))
        return found

    async def test_orders_survive_ten_windows_then_a_killed_bot_leaves_them_to_the_exchange(self):
        orders = await self.start_bot()
        self.assertTrue(self.schedules(), "the switch was never armed")

        # Running: each renewal moves the deadline ahead, so ten windows pass without a cancel.
        started, first = time.monotonic(), len(self.schedules())
        while time.monotonic() - started < WINDOWS_SURVIVED * WINDOW:
            self.assertTrue(all(order.is_active for order in orders), [order.status for order in orders])
            self.assertIsNone(self.child.returncode, self.bot_output())
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - started
        renewed = len(self.schedules()) - first
        per_minute = renewed / elapsed * 60
        default_per_minute = per_minute * WINDOW / CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS
        print(f"\ndead man's switch: {renewed} renewals (abort + schedule, one request each) in {elapsed:.1f} s with a "
              f"{WINDOW} s window = {per_minute:.0f} requests/min; {default_per_minute:.2f} requests/min with the "
              f"default {CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS} s window")
        expected = elapsed / WINDOW * CONSTANTS.DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW
        self.assertGreaterEqual(renewed, expected - 2)
        self.assertLessEqual(renewed, expected + 2)

        # Killed: no clean stop, no abort. Lighter cancels at the last schedule's time.
        os.kill(self.child.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        await self.child.wait()
        _, deadline_ms = self.schedules()[-1]
        while any(order.is_active for order in orders):
            self.assertLess(time.monotonic() - killed_at, WINDOW + 1, "Lighter did not cancel the orders")
            await asyncio.sleep(0.02)
        cancelled_after = time.monotonic() - killed_at
        print(f"dead man's switch: the killed bot's orders were cancelled {cancelled_after:.2f} s after SIGKILL")
        self.assertEqual(["canceled", "canceled"], [order.status for order in orders])
        self.assertLessEqual(cancelled_after, WINDOW + EXCHANGE_TICK + 0.1)
        for order in orders:
            self.assertGreaterEqual(order.updated_us // 1000, deadline_ms)
            self.assertLessEqual(order.updated_us // 1000, deadline_ms + (EXCHANGE_TICK + 0.1) * 1000)
        self.assertEqual(0, self.ex.state.accounts[self.account].cancel_all_time)


if __name__ == "__main__":
    unittest.main()
