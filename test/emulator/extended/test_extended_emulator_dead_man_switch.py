"""Mass auto-cancel (dead man's switch): POST /user/deadmanswitch?countdownTime=<seconds> as Extended's docs describe
it: a countdown per account, restarted by every call, removed by 0; when it runs out every open order of the account is
cancelled, with the usual CANCELLED updates on the account stream, and positions stay."""
import asyncio
import time

from test.emulator.extended.extended_emulator_helpers import EmulatorTestCase, signed_order

PATH = "/user/deadmanswitch"


class DeadManSwitchTests(EmulatorTestCase):
    async def arm(self, countdown, api_key: str = None) -> tuple:
        return await self.request("POST", f"{PATH}?countdownTime={countdown}", api_key=api_key)

    async def wait_until(self, condition, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while not condition():
            self.assertLess(time.monotonic(), deadline, "condition not met in time")
            await asyncio.sleep(0.02)

    def open_ids(self, account) -> set:
        return {order.id for order in self.ex.state.account_open_orders(account.account_id)}

    async def test_countdown_must_be_given_and_non_negative(self):
        for query in ("", "?countdownTime=-1", "?countdownTime=abc", "?countdownTime=1.5"):
            status, body = await self.request("POST", f"{PATH}{query}")
            self.assertEqual(400, status, query)
            self.assertEqual("ERROR", body["status"], query)
        self.assertIsNone(self.acct.dead_man_deadline_ms)
        status, _ = await self.request("POST", PATH, auth=False)
        self.assertEqual(401, status)

    async def test_each_call_restarts_the_countdown_and_zero_removes_it(self):
        self.assertEqual((200, None), await self.arm(30))
        first = self.acct.dead_man_deadline_ms
        self.assertAlmostEqual(time.time() * 1000 + 30_000, first, delta=1_000)
        await asyncio.sleep(0.05)
        await self.arm(30)
        self.assertGreater(self.acct.dead_man_deadline_ms, first)
        await self.arm(2)
        self.assertLess(self.acct.dead_man_deadline_ms, first)
        self.assertEqual((200, None), await self.arm(0))
        self.assertIsNone(self.acct.dead_man_deadline_ms)

    async def test_expiry_cancels_every_open_order_of_the_account_only(self):
        other = self.ex.create_account(collateral=self.collateral)
        kept = await self.post_order(signed_order(self.ex.state, other.stark_account(), "BTC-USD", "BUY", "0.001",
                                                  "70000"), api_key=other.api_key)
        self.assertEqual(200, kept[0], kept)
        await self.open_position("BUY", "0.001", self.inside_price("BUY"))
        ids = {int((await self.place("BUY", "0.001", "70000"))["id"]),
               int((await self.place("SELL", "0.02", "3000", market="ETH-USD"))["id"])}
        self.assertEqual(ids, self.open_ids(self.acct))
        async with await self.connect("/account", headers=self.headers()) as ws:
            await self.drain(ws)
            armed_at = time.monotonic()
            await self.arm(1)
            await self.wait_until(lambda: not self.open_ids(self.acct))
            elapsed = time.monotonic() - armed_at
            frames = await self.drain(ws)
        # The clock checks the countdown every 0.2 s.
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 1.6)
        cancelled = {int(row["id"]): row["status"] for frame in frames if frame.get("type") == "ORDER"
                     for row in frame["data"]["orders"]}
        self.assertEqual({order_id: "CANCELLED" for order_id in ids}, cancelled)
        self.assertEqual(1, len(self.open_ids(other)))
        self.assertIsNotNone(self.ex.state.position(self.acct.account_id, "BTC-USD"))
        # Spent once it fired: an order placed afterwards stays.
        self.assertIsNone(self.acct.dead_man_deadline_ms)
        later = int((await self.place("BUY", "0.001", "70000"))["id"])
        await asyncio.sleep(0.5)
        self.assertEqual({later}, self.open_ids(self.acct))

    async def test_renewals_inside_the_window_keep_the_orders(self):
        order_id = int((await self.place("BUY", "0.001", "70000"))["id"])
        for _ in range(8):
            await self.arm(1)
            await asyncio.sleep(0.3)
        self.assertEqual({order_id}, self.open_ids(self.acct))
        await self.arm(0)
        await asyncio.sleep(1.3)
        self.assertEqual({order_id}, self.open_ids(self.acct))
