"""The dead man's switch end to end, across processes: a bot (Hummingbot's clock running extended_perpetual in a child
process, dead_man_switch_child) places orders on the Extended emulator; while it runs, its orders survive ten windows
of the switch; killed with SIGKILL, it leaves them to the exchange, which cancels them within one window."""
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

from emulator.extended import ExtendedEmulator
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS

REPO = Path(__file__).resolve().parents[5]
CHILD = "test.hummingbot.connector.derivative.extended_perpetual.dead_man_switch_child"
PAIR = "BTC-USD"
# Short windows keep the test short; Extended's docs set no minimum ("non-negative"), so the emulator takes any.
WINDOW = 2
WINDOWS_SURVIVED = 10
# The emulator looks at the countdowns every 0.2 s; a loaded machine adds some delay to that.
EXCHANGE_TICK = 0.2
SLACK = 0.3


class DeadManSwitchKillTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.ex = await ExtendedEmulator(port=0, rng_seed=5, hourly_funding=False).start()
        self.addAsyncCleanup(self.ex.stop)
        self.acct = self.ex.create_account(collateral=Decimal("100000"))
        self.stderr = tempfile.TemporaryFile()
        self.addCleanup(self.stderr.close)
        self.child = None

    async def asyncTearDown(self):
        if self.child is not None and self.child.returncode is None:
            self.child.kill()
            await self.child.wait()

    async def start_bot(self) -> list:
        book = self.ex.state.books[PAIR]
        config = {"api_key": self.acct.api_key, "stark_private_key": self.acct.stark_private_key,
                  "stark_public_key": self.acct.stark_public_key, "vault": self.acct.vault, "window": WINDOW,
                  "pair": PAIR, "orders": [[True, "0.001", str(book.best("BUY") - 100)],
                                           [False, "0.001", str(book.best("SELL") + 100)]]}
        env = dict(os.environ, **{CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                  CONSTANTS.WSS_URL_ENV_VAR: self.ex.stream_url})
        self.child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", CHILD, cwd=str(REPO), env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=self.stderr)
        self.child.stdin.write((json.dumps(config) + "\n").encode())
        await self.child.stdin.drain()
        self.child.stdin.close()
        line = await asyncio.wait_for(self.child.stdout.readline(), timeout=90)
        self.assertTrue(line, f"the bot exited before placing its orders: {self.bot_output()}")
        client_ids = json.loads(line)["orders"]
        orders = [self.ex.state.order_by_external_id(self.acct.account_id, client_id) for client_id in client_ids]
        self.assertTrue(all(order is not None and order.is_open for order in orders))
        return orders

    def bot_output(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-2000:]

    def renewals(self) -> list:
        return [request for request in self.ex.state.requests
                if request.path == CONSTANTS.DEAD_MAN_SWITCH_PATH and request.account_id == self.acct.account_id]

    async def test_orders_survive_ten_windows_then_a_killed_bot_leaves_them_to_the_exchange(self):
        orders = await self.start_bot()
        deadline = time.monotonic() + 10
        while not self.renewals():
            self.assertLess(time.monotonic(), deadline, "the switch was never armed")
            await asyncio.sleep(0.05)

        # Running: the renewals keep the countdown ahead, so ten windows pass without a cancel.
        started, first = time.monotonic(), len(self.renewals())
        while time.monotonic() - started < WINDOWS_SURVIVED * WINDOW:
            self.assertTrue(all(order.is_open for order in orders), [order.status for order in orders])
            self.assertIsNone(self.child.returncode)
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - started
        renewed = len(self.renewals()) - first
        per_minute = renewed / elapsed * 60
        print(f"\ndead man's switch: {renewed} renewals in {elapsed:.1f} s with a {WINDOW} s window = "
              f"{per_minute:.0f} requests/min ({per_minute * WINDOW / CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS:.1f} "
              f"requests/min with the default {CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS} s window)")
        expected = elapsed / WINDOW * CONSTANTS.DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW
        self.assertGreaterEqual(renewed, expected - 2)
        self.assertLessEqual(renewed, expected + 2)
        self.assertEqual({str(WINDOW)}, {request.query["countdownTime"][0] for request in self.renewals()})

        # Killed: no clean stop, no disarm. Extended cancels once the last renewal's countdown runs out.
        os.kill(self.child.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        await self.child.wait()
        last_renewal_ms = self.renewals()[-1].ts
        while any(order.is_open for order in orders):
            self.assertLess(time.monotonic() - killed_at, WINDOW + 1, "Extended did not cancel the orders")
            await asyncio.sleep(0.02)
        cancelled_after = time.monotonic() - killed_at
        print(f"dead man's switch: the killed bot's orders were cancelled {cancelled_after:.2f} s after SIGKILL")
        self.assertEqual(["CANCELLED", "CANCELLED"], [order.status for order in orders])
        self.assertLessEqual(cancelled_after, WINDOW + EXCHANGE_TICK + SLACK)
        for order in orders:
            self.assertGreaterEqual(order.updated_time - last_renewal_ms, WINDOW * 1000)
            self.assertLessEqual(order.updated_time - last_renewal_ms, (WINDOW + EXCHANGE_TICK + SLACK) * 1000)
        self.assertFalse([request for request in self.ex.state.requests
                          if request.account_id == self.acct.account_id and request.ts > last_renewal_ms])


if __name__ == "__main__":
    unittest.main()
