"""The connector's Lighter book against the emulator's across book-socket drops and resubscribes: what Hummingbot's
order book shows once the market is quiet must be the exchange's book, level for level."""
import asyncio
import os
import time
import unittest
from typing import Dict, List, Tuple
from unittest.mock import patch

from emulator.lighter import LighterEmulator
from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_ws_pacer as pacer_module,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from test.hummingbot.connector.derivative.lighter_perpetual.test_lighter_perpetual_e2e import fresh_shared_session

PAIR = "ETH-USDC"
MARKET = 0
# Within this long after the market went quiet the connector's book must equal the exchange's.
CONVERGENCE_S = 5.0

Levels = Dict[str, List[Tuple[float, float]]]


class LighterPerpetualBookContinuityTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await fresh_shared_session()
        pacer_module._pacers.clear()
        self.ex = LighterEmulator(port=0)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                      CONSTANTS.WSS_URL_ENV_VAR: self.ex.ws_url})
        env.start()
        self.addCleanup(env.stop)
        self.connector = LighterPerpetualDerivative(trading_pairs=[PAIR], trading_required=False)
        self.tracker = self.connector.order_book_tracker
        self.addAsyncCleanup(self.stop)
        await self.ex.start_flow(rate_per_s=60, market_ids=[MARKET])
        self.tracker.start()
        await self.until(lambda: self.tracker.ready, timeout=20)

    async def stop(self):
        self.tracker.stop()
        await self.ex.stop_flow()
        await ConnectionsFactory().close()

    async def until(self, condition, timeout: float):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                self.fail(f"condition not met within {timeout} s")
            await asyncio.sleep(0.02)

    def exchange_book(self) -> Levels:
        levels = self.ex.book_levels(MARKET)
        return {side: [(float(price), float(size)) for price, size in levels[side]] for side in ("bids", "asks")}

    def connector_book(self) -> Levels:
        book: OrderBook = self.tracker.order_books[PAIR]
        return {"bids": [(row.price, row.amount) for row in book.bid_entries()],
                "asks": [(row.price, row.amount) for row in book.ask_entries()]}

    async def assert_converges(self):
        """Waits up to CONVERGENCE_S for the books to agree; on failure shows the levels only one side has."""
        deadline = time.monotonic() + CONVERGENCE_S
        while time.monotonic() < deadline:
            if self.connector_book() == self.exchange_book():
                return
            await asyncio.sleep(0.05)
        theirs, ours = self.exchange_book(), self.connector_book()
        stale = {side: sorted(set(ours[side]) - set(theirs[side])) for side in ours}
        missing = {side: sorted(set(theirs[side]) - set(ours[side])) for side in theirs}
        self.fail(f"the connector's book differs from Lighter's {CONVERGENCE_S} s after the market went quiet: levels "
                  f"only the connector shows {stale}, levels it lacks {missing}")

    async def test_two_socket_drops_during_a_latency_spike_leave_no_stale_level(self):
        await asyncio.sleep(1.0)
        self.ex.latency_ms = 700
        self.ex.faults.close_websockets()
        await asyncio.sleep(1.3)
        self.ex.faults.close_websockets()
        await asyncio.sleep(2.5)
        self.ex.latency_ms = 0
        await asyncio.sleep(1.0)
        await self.ex.stop_flow()

        await self.assert_converges()
        self.assertGreater(self.ex.flow.actions, 200)
        self.assertGreater(len(self.exchange_book()["asks"]), 3)

    async def test_a_gap_is_resynchronised_from_a_fresh_snapshot(self):
        source = self.connector._orderbook_ds
        for _ in range(3):
            await asyncio.sleep(0.5)
            self.ex.faults.skip_book_update(MARKET)
        await asyncio.sleep(1.0)
        await self.ex.stop_flow()

        await self.assert_converges()
        self.assertGreaterEqual(source.gap_count, 1)

    async def test_resubscribe_snapshots_under_flow_leave_no_stale_level(self):
        source = self.connector._orderbook_ds
        for _ in range(4):
            await asyncio.sleep(0.4)
            await source._request_order_book_snapshots(asyncio.Queue())
        await asyncio.sleep(1.0)
        await self.ex.stop_flow()

        await self.assert_converges()


if __name__ == "__main__":
    unittest.main()
