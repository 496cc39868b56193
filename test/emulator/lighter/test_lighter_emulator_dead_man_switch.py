"""Lighter's dead man's switch in the emulator: cancel-all transactions with a scheduled time in force (1) and its
abort (2), signed by the real SDK signer, with the venue's rules (lighter-go's 5 minute to 15 day period, one queued
per account)."""
import asyncio
import time
from decimal import Decimal

from test.emulator.lighter.lighter_emulator_support import EmulatorTestCase, of_type

SCHEDULED, ABORT = 1, 2
MINUTE_MS = 60_000


def now_ms() -> int:
    return int(time.time() * 1000)


class DeadManSwitchTests(EmulatorTestCase):

    def sign_cancel_all(self, time_in_force: int, at_ms: int):
        tx_type, tx_info, _, error = self.signer.sign_cancel_all_orders(time_in_force, at_ms, nonce=self.next_nonce(),
                                                                        api_key_index=self.key)
        self.assertIsNone(error)
        return tx_type, tx_info

    @property
    def scheduled_at(self) -> int:
        return self.ex.state.accounts[self.account].cancel_all_time

    async def test_a_schedule_must_lie_5_minutes_to_15_days_ahead_and_a_refusal_keeps_the_nonce(self):
        # The signer refuses a time of 0 itself; the period is the sequencer's rule.
        for at_ms in (now_ms() + 5 * MINUTE_MS - 2000, now_ms() + 15 * 24 * 60 * MINUTE_MS + 60_000, 1):
            status, body = await self.send_tx(*self.sign_cancel_all(SCHEDULED, at_ms))
            self.assertEqual((400, {"code": 21714, "message": "invalid cancel all time"}), (status, body))
            self.nonce -= 1  # refused: the nonce was not consumed
        at_ms = now_ms() + 5 * MINUTE_MS + 2000
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(SCHEDULED, at_ms)))[0])
        self.assertEqual(at_ms, self.scheduled_at)
        _, account = await self.get("/api/v1/account", {"by": "index", "value": str(self.account)})
        self.assertEqual(at_ms, account["accounts"][0]["cancel_all_time"])

    async def test_one_schedule_per_account_renewed_by_an_abort_and_a_new_schedule_in_one_batch(self):
        first = now_ms() + 6 * MINUTE_MS
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(SCHEDULED, first)))[0])
        status, body = await self.send_tx(*self.sign_cancel_all(SCHEDULED, first + MINUTE_MS))
        self.assertEqual((400, {"code": 21712, "message": "account has a queued cancel all orders request"}),
                         (status, body))
        self.nonce -= 1
        self.assertEqual(first, self.scheduled_at)
        renewed = first + MINUTE_MS
        status, body = await self.send_batch([self.sign_cancel_all(ABORT, 0), self.sign_cancel_all(SCHEDULED, renewed)])
        self.assertEqual((200, 2), (status, len(body["tx_hash"])))
        self.assertEqual(renewed, self.scheduled_at)
        # An abort clears the schedule; a second one finds nothing and is accepted (inferred).
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(ABORT, 0)))[0])
        self.assertEqual(0, self.scheduled_at)
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(ABORT, 0)))[0])

    async def test_at_its_time_every_open_order_is_cancelled_with_order_stream_updates(self):
        # Five minutes is too long for a test: the emulator's minimum is lowered, the rule stays the same.
        self.ex.txs.min_cancel_all_period_ms = 500
        await self.send_tx(*self.sign_order(client_index=1, price=249000))
        await self.send_tx(*self.sign_order(client_index=2, price=65000_0, market=1, base=100))
        self.assertEqual(2, len(self.ex.state.accounts[self.account].active_orders))
        ws = await self.connect()
        await self.subscribe(ws, f"account_all_orders/{self.account}", auth=self.auth_token())
        at_ms = now_ms() + 1000
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(SCHEDULED, at_ms)))[0])
        cancelled = []
        while len(cancelled) < 2:
            update = await self.receive_until(ws, of_type("update/account_all_orders"))
            cancelled += [order for orders in update["orders"].values() for order in orders]
        self.assertEqual({"canceled"}, {order["status"] for order in cancelled})
        self.assertEqual({1, 2}, {order["client_order_index"] for order in cancelled})
        self.assertGreaterEqual(now_ms(), at_ms)
        self.assertEqual({}, self.ex.state.accounts[self.account].active_orders)
        self.assertEqual(0, self.scheduled_at)  # fired once; a new schedule is accepted again
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(SCHEDULED, now_ms() + 1000)))[0])

    async def test_an_immediate_cancel_all_leaves_the_schedule_and_an_aborted_one_cancels_nothing(self):
        self.ex.txs.min_cancel_all_period_ms = 200
        at_ms = now_ms() + 5000
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(SCHEDULED, at_ms)))[0])
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(0, 0)))[0])
        self.assertEqual(at_ms, self.scheduled_at)  # inferred: an immediate cancel-all is not an abort
        await self.send_tx(*self.sign_order(client_index=3, price=249000))
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(ABORT, 0)))[0])
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(SCHEDULED, now_ms() + 300)))[0])
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel_all(ABORT, 0)))[0])
        deadline = now_ms() + 800
        while now_ms() < deadline:
            await asyncio.sleep(0.05)
        order = next(iter(self.ex.state.accounts[self.account].active_orders.values()))
        self.assertEqual(("open", Decimal("0.1")), (order.status, Decimal(order.remaining_base) / 10_000))
