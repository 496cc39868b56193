"""The connector on more pairs than get a book connection each, against the emulator's all-markets streams: books,
trades and funding info of several markets right through a handful of connections, and a seq gap on one market
resynced without a stale level on any book."""
import asyncio
import time
from decimal import Decimal
from typing import Dict, List, Tuple

from emulator.extended.markets import mainnet_markets
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.core.data_type.order_book import OrderBook
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_emulator_fixtures import (
    EmulatorConnectorTestCase,
)

MARKETS = mainnet_markets()
PAIRS = [spec.name for spec in MARKETS[:CONSTANTS.MARKET_BOOK_STREAMS_MAX + 3]]
# Markets the connector does not track: their frames share the connections and must change nothing.
UNTRACKED = [spec.name for spec in MARKETS[len(PAIRS):len(PAIRS) + 2]]
FLOW = PAIRS[:3] + UNTRACKED
CONVERGENCE_S = 5.0

Levels = Dict[str, List[Tuple[float, float]]]


class ExtendedPerpetualAllMarketsStreamsTest(EmulatorConnectorTestCase):
    emulator_kwargs = {"markets": MARKETS, "price_interval": 0.2, "funding_stream_interval": 0.4}

    def new_connector(self, api_key: str = None, private_key: str = None, public_key: str = None,
                      trading_required: bool = True) -> ExtendedPerpetualDerivative:
        return ExtendedPerpetualDerivative(self.acct.api_key, self.acct.stark_private_key, self.acct.stark_public_key,
                                           self.acct.vault, trading_pairs=PAIRS, trading_required=trading_required)

    async def asyncSetUp(self):
        await super().asyncSetUp()
        await self.ex.start_flow(markets=FLOW, interval=0.02)
        self.addAsyncCleanup(self.ex.stop_flow)
        await asyncio.sleep(1.0)

    def exchange_book(self, market: str) -> Levels:
        book = self.ex.state.books[market]
        return {"bids": [(float(price), float(size)) for price, size in book.levels("BUY")],
                "asks": [(float(price), float(size)) for price, size in book.levels("SELL")]}

    def connector_book(self, pair: str) -> Levels:
        book: OrderBook = self.connector.order_book_tracker.order_books[pair]
        return {"bids": [(row.price, row.amount) for row in book.bid_entries()],
                "asks": [(row.price, row.amount) for row in book.ask_entries()]}

    async def assert_books_converge(self, pairs: List[str]):
        deadline = time.monotonic() + CONVERGENCE_S
        while time.monotonic() < deadline:
            if all(self.connector_book(pair) == self.exchange_book(pair) for pair in pairs):
                return
            await asyncio.sleep(0.05)
        differ = [pair for pair in pairs if self.connector_book(pair) != self.exchange_book(pair)]
        self.fail(f"the connector's books of {differ} differ from Extended's {CONVERGENCE_S} s after the market went "
                  f"quiet")

    def connections(self) -> Dict[str, List]:
        return {kind: [sub.market for sub in subs] for kind, subs in self.ex.hub._subs.items() if subs}

    async def test_every_book_trade_and_funding_update_through_five_connections(self):
        self.assertEqual({"orderbooks": [None], "publicTrades": [None], "funding": [None], "prices/mark": [None],
                          "prices/index": [None], "account": [None]}, self.connections())

        # Trades of two tracked markets reach their own order books; an untracked market's goes nowhere.
        await self.ex.stop_flow()
        traded = {}
        for market in (PAIRS[0], PAIRS[-1], UNTRACKED[0]):
            fills = self.ex.synthetic_taker(market, "BUY", self.ex.state.market(market).spec.min_order_size * 2)
            self.assertTrue(fills, f"no resting liquidity on {market}")
            traded[market] = float(fills[-1].price)
        await self.wait_for(lambda: all(self.connector.order_books[pair].last_trade_price == traded[pair]
                                        for pair in (PAIRS[0], PAIRS[-1])))
        self.assertFalse(set(UNTRACKED) & set(self.connector._orderbook_ds._books))
        await self.assert_books_converge(PAIRS)

        # Mark, index and funding rate of several markets.
        expected = {}
        for i, pair in enumerate(PAIRS[1:4]):
            mark, index, rate = Decimal(f"1.{i + 1}"), Decimal(f"1.0{i + 1}"), Decimal(f"0.0000{i + 2}")
            self.ex.set_prices(pair, mark=mark, index=index)
            self.ex.set_funding_rate(pair, rate)
            expected[pair] = (mark, index, rate)

        def funding_seen():
            return {pair: (info.mark_price, info.index_price, info.rate)
                    for pair, info in ((p, self.connector.get_funding_info(p)) for p in expected)}

        await self.wait_for(lambda: funding_seen() == expected, timeout=5)
        self.assertEqual(0, self.connector._orderbook_ds.resync_count)

    async def test_a_seq_gap_on_one_market_resyncs_the_books(self):
        source = self.connector._orderbook_ds
        for _ in range(2):
            self.ex.faults.gap_next_orderbook_delta(PAIRS[1])
            await asyncio.sleep(0.7)
        await self.ex.stop_flow()

        await self.assert_books_converge(PAIRS)
        self.assertGreaterEqual(source.resync_count, 2)
        self.assertEqual({"orderbooks": [None]}, {k: v for k, v in self.connections().items() if k == "orderbooks"})

    async def test_funding_info_and_last_prices_of_every_pair_in_one_read_each(self):
        quiet = [pair for pair in PAIRS if pair not in FLOW]
        await self.wait_for(lambda: all(self.connector.order_books[pair].last_trade_price
                                        == float(self.ex.state.market(pair).last_price) for pair in quiet))
        reads = [r.query.get("market", []) for r in self.requests("GET", "/info/markets")]
        batched = [markets for markets in reads if len(markets) > 1]
        # Funding info first (every pair), then the last prices of the books without a recent trade.
        self.assertEqual(sorted(PAIRS), batched[0])
        self.assertTrue(set(quiet) <= set(batched[1]))
        self.assertEqual([], [r.path for r in self.ex.state.requests if r.path.endswith("/stats")])
        self.assertEqual({pair: self.ex.state.market(pair).mark_price for pair in quiet},
                         {pair: self.connector.get_funding_info(pair).mark_price for pair in quiet})
