"""The connector's Extended book against the emulator's across stream drops and seq gaps: what Hummingbot's order book
shows once the market is quiet must be the exchange's book, level for level."""
import asyncio
import time
from typing import Dict, List, Tuple

from hummingbot.core.data_type.order_book import OrderBook
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_emulator_fixtures import (
    PAIR,
    EmulatorConnectorTestCase,
)

# Within this long after the market went quiet the connector's book must equal the exchange's.
CONVERGENCE_S = 5.0

Levels = Dict[str, List[Tuple[float, float]]]


class ExtendedPerpetualBookContinuityTest(EmulatorConnectorTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        await self.ex.start_flow(markets=[PAIR], interval=0.02)
        self.addAsyncCleanup(self.ex.stop_flow)
        await asyncio.sleep(1.0)

    def exchange_book(self) -> Levels:
        book = self.ex.state.books[PAIR]
        return {"bids": [(float(price), float(size)) for price, size in book.levels("BUY")],
                "asks": [(float(price), float(size)) for price, size in book.levels("SELL")]}

    def connector_book(self) -> Levels:
        book: OrderBook = self.connector.order_book_tracker.order_books[PAIR]
        return {"bids": [(row.price, row.amount) for row in book.bid_entries()],
                "asks": [(row.price, row.amount) for row in book.ask_entries()]}

    async def assert_converges(self):
        deadline = time.monotonic() + CONVERGENCE_S
        while time.monotonic() < deadline:
            if self.connector_book() == self.exchange_book():
                return
            await asyncio.sleep(0.05)
        theirs, ours = self.exchange_book(), self.connector_book()
        stale = {side: sorted(set(ours[side]) - set(theirs[side])) for side in ours}
        missing = {side: sorted(set(theirs[side]) - set(ours[side])) for side in theirs}
        self.fail(f"the connector's book differs from Extended's {CONVERGENCE_S} s after the market went quiet: "
                  f"levels only the connector shows {stale}, levels it lacks {missing}")

    async def test_two_stream_drops_during_a_latency_spike_leave_no_stale_level(self):
        self.ex.faults.stream_latency = 0.05
        self.assertGreater(self.ex.faults.close_streams("orderbooks"), 0)
        await asyncio.sleep(1.3)
        self.assertGreater(self.ex.faults.close_streams("orderbooks"), 0)
        await asyncio.sleep(2.5)
        self.ex.faults.stream_latency = 0.0
        await asyncio.sleep(1.0)
        await self.ex.stop_flow()

        await self.assert_converges()
        self.assertGreater(len(self.exchange_book()["asks"]), 3)

    async def test_a_seq_gap_resynchronises_from_a_fresh_snapshot(self):
        source = self.connector._orderbook_ds
        for _ in range(2):
            self.ex.faults.gap_next_orderbook_delta(PAIR)
            await asyncio.sleep(0.7)
        await self.ex.stop_flow()

        await self.assert_converges()
        self.assertGreaterEqual(source.resync_count, 2)
