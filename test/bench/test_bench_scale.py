"""The scale bench's book floods run through each connector's real book path and leave Hummingbot's books as the
flood's frames say; a flood that no longer reaches the book (or breaks its own sequence) fails here, not in a bench."""
from typing import Dict, List, Tuple
from unittest import IsolatedAsyncioTestCase

from bidict import bidict

from bench import bench_scale
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as EXTENDED_CONSTANTS
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.core.data_type.order_book import OrderBook
from test.hummingbot.connector.derivative.extended_perpetual import extended_perpetual_test_helpers as helpers
from test.hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_payloads as payloads

COUNT = 600


def expected_books(pairs: List[str], count: int) -> Dict[str, Tuple[list, list]]:
    """The levels the flood's pattern leaves: update i goes to pair i % len(pairs), asks when i is odd, at
    (1.1 asks, 0.9 bids) + (i % 50) * 0.0001, size 1 + i % 7; the last update of a price wins."""
    sides = {pair: ({}, {}) for pair in pairs}
    for i in range(count):
        is_ask = i % 2 == 1
        price = float(f"{(1.1 if is_ask else 0.9) + (i % 50) * 0.0001:.5f}")
        sides[pairs[i % len(pairs)]][is_ask][price] = float(1 + i % 7)
    return {pair: (sorted(bids.items(), reverse=True), sorted(asks.items())) for pair, (bids, asks) in sides.items()}


def levels(book: OrderBook) -> Tuple[list, list]:
    return ([(row.price, row.amount) for row in book.bid_entries()],
            [(row.price, row.amount) for row in book.ask_entries()])


class FloodTests(helpers.IsolatedConnections, IsolatedAsyncioTestCase):
    def assert_rates(self, rates: dict):
        self.assertGreater(rates["flood_per_s"], 0)
        self.assertGreater(rates["flood_wall_per_s"], 0)

    async def test_lighter_flood_reaches_the_book(self):
        pair = "ETH-USDC"
        connector = LighterPerpetualDerivative(trading_pairs=[pair], trading_required=False)
        connector._initialize_trading_pair_symbols_from_exchange_info(payloads.fresh(payloads.ORDER_BOOK_DETAILS))
        book = connector.order_book_tracker._order_books[pair] = OrderBook()

        self.assert_rates(await bench_scale.flood(connector, [pair], COUNT))

        self.assertEqual(expected_books([pair], COUNT)[pair], levels(book))
        self.assertEqual(0, connector.order_book_tracker._data_source.gap_count)

    async def extended_flood(self, pairs: List[str]):
        connector = ExtendedPerpetualDerivative(helpers.API_KEY, helpers.STARK_PRIVATE_KEY, helpers.STARK_PUBLIC_KEY,
                                                helpers.VAULT, trading_pairs=pairs)
        connector._set_trading_pair_symbol_map(bidict({pair: pair for pair in pairs}))
        books = {pair: OrderBook() for pair in pairs}
        connector.order_book_tracker._order_books.update(books)

        self.assert_rates(await bench_scale.extended_flood(connector, pairs, COUNT))

        expected = expected_books(pairs, COUNT)
        self.assertEqual(expected, {pair: levels(book) for pair, book in books.items()})
        self.assertEqual(0, connector.order_book_tracker._data_source.resync_count)

    async def test_extended_flood_on_a_market_connection(self):
        await self.extended_flood(["BTC-USD"])

    async def test_extended_flood_on_the_all_markets_connection(self):
        pairs = [f"M{k}-USD" for k in range(EXTENDED_CONSTANTS.MARKET_BOOK_STREAMS_MAX + 1)]
        await self.extended_flood(pairs)
