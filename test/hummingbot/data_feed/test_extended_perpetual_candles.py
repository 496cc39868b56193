"""The Extended candles feed against the Extended emulator: REST history, the candles stream, mark and index
candles, and Hummingbot's CandlesFactory."""
import asyncio
import os
import time
from decimal import Decimal
from unittest import IsolatedAsyncioTestCase
from unittest.mock import patch

import aiohttp

from emulator.extended import ExtendedEmulator
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_candles import (
    ExtendedPerpetualCandles,
    ExtendedPerpetualIndexPriceCandles,
    ExtendedPerpetualMarkPriceCandles,
)
from hummingbot.data_feed.candles_feed.candles_factory import CandlesFactory
from hummingbot.data_feed.candles_feed.data_types import CandlesConfig
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_test_helpers import IsolatedConnections
from test.reference_payloads import payload_objects

MINUTE_MS = 60_000
SEEDED_MINUTES = 30


def seed_trades(emulator: ExtendedEmulator, market: str, now_ms: int) -> dict:
    """Three trades in each of the last SEEDED_MINUTES whole minutes; returns the expected (o, h, l, c, v) by start."""
    state = emulator.state.markets[market]
    expected = {}
    first = now_ms // MINUTE_MS * MINUTE_MS - SEEDED_MINUTES * MINUTE_MS
    for k in range(SEEDED_MINUTES):
        start = first + k * MINUTE_MS
        prices = [Decimal(100_000 + 10 * k), Decimal(100_000 + 10 * k + 7), Decimal(100_000 + 10 * k - 3)]
        quantities = [Decimal("0.01"), Decimal("0.02"), Decimal("0.005")]
        for offset, (price, qty) in enumerate(zip(prices, quantities)):
            state.record_trade(start + 1_000 * (offset + 1), price, qty)
        expected[start // 1000] = (float(prices[0]), float(max(prices)), float(min(prices)), float(prices[-1]),
                                   float(sum(quantities)))
    return expected


class ExtendedCandlesFeedTest(IsolatedConnections, IsolatedAsyncioTestCase):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.ex = ExtendedEmulator(port=0, rng_seed=5, hourly_funding=False)
        await self.ex.start()
        self.env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                           CONSTANTS.WSS_URL_ENV_VAR: self.ex.stream_url})
        self.env.start()
        self.feeds = []

    async def asyncTearDown(self):
        for feed in self.feeds:
            await feed.stop_network()
        await self.ex.stop()
        self.env.stop()
        await super().asyncTearDown()

    async def emulator_candles(self, market: str, candle_type: str, limit: int) -> list:
        """The emulator's own answer, read without the feed: [start s, o, h, l, c, v] oldest first."""
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{self.ex.rest_url}/info/candles/{market}/{candle_type}",
                                   params={"interval": "PT1M", "limit": limit}) as response:
                body = await response.json()
        return [[c["T"] / 1000, float(c["o"]), float(c["h"]), float(c["l"]), float(c["c"]), float(c.get("v", 0))]
                for c in reversed(body["data"])]

    async def wait_for(self, condition, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                self.fail("condition not met in time")
            await asyncio.sleep(0.05)

    async def test_rest_history_has_the_seeded_candles_oldest_first(self):
        expected = seed_trades(self.ex, "BTC-USD", int(time.time() * 1000))
        feed = ExtendedPerpetualCandles("BTC-USD", "1m", max_records=20)
        end = max(expected)
        candles = await feed.fetch_candles(end_time=end, limit=19)
        self.assertEqual(20, len(candles))
        self.assertEqual(sorted(candles[:, 0]), list(candles[:, 0]))
        self.assertEqual(end, candles[-1][0])
        for row in candles:
            o, h, low, c, v = expected[int(row[0])]
            self.assertEqual([o, h, low, c], list(row[1:5]))
            self.assertAlmostEqual(v, row[5], places=9)

    async def test_factory_feed_fills_its_deque_and_follows_the_stream(self):
        now_ms = int(time.time() * 1000)
        if now_ms % MINUTE_MS > MINUTE_MS - 8_000:  # keep the whole test inside one minute
            await asyncio.sleep((MINUTE_MS - now_ms % MINUTE_MS) / 1000 + 0.1)
            now_ms = int(time.time() * 1000)
        seed_trades(self.ex, "BTC-USD", now_ms)
        self.ex.state.markets["BTC-USD"].record_trade(now_ms, Decimal("100400"), Decimal("0.1"))

        feed = CandlesFactory.get_candle(CandlesConfig(connector="extended_perpetual", trading_pair="BTC-USD",
                                                       interval="1m", max_records=12))
        self.feeds.append(feed)
        self.assertIsInstance(feed, ExtendedPerpetualCandles)
        await feed.start_network()
        await self.wait_for(lambda: feed.ready)
        # A trade now moves the forming candle: only the stream brings it.
        self.ex.state.markets["BTC-USD"].record_trade(int(time.time() * 1000), Decimal("100999"), Decimal("0.2"))
        await self.wait_for(lambda: feed.candles_df["high"].iloc[-1] == 100999.0)

        frame = feed.candles_df
        self.assertEqual(12, len(frame))
        self.assertEqual(0, frame["timestamp"].diff().dropna().ne(60).sum())
        emulator = await self.emulator_candles("BTC-USD", "trades", 12)
        self.assertEqual(emulator, frame[["timestamp", "open", "high", "low", "close", "volume"]].values.tolist())
        self.assertAlmostEqual(0.3, frame["volume"].iloc[-1], places=9)

    async def test_mark_and_index_candles_carry_those_prices_without_volume(self):
        self.ex.set_prices("BTC-USD", mark=Decimal("101234.5"), index=Decimal("101200.1"))
        end = int(time.time()) // 60 * 60
        mark = await ExtendedPerpetualMarkPriceCandles("BTC-USD", "1m").fetch_candles(end_time=end, limit=3)
        index = await ExtendedPerpetualIndexPriceCandles("BTC-USD", "1m").fetch_candles(end_time=end, limit=3)
        self.assertEqual(101234.5, mark[-1][4])
        self.assertEqual(101200.1, index[-1][4])
        # From end - 3 minutes to end, both included, like Hummingbot's other feeds.
        self.assertEqual([0.0] * 4, mark[:, 5].tolist())
        self.assertEqual(await self.emulator_candles("BTC-USD", "mark-prices", 4), mark[:, :6].tolist())

    async def test_mark_price_stream_reaches_the_feed(self):
        feed = ExtendedPerpetualMarkPriceCandles("BTC-USD", "1m", max_records=3)
        self.feeds.append(feed)
        await feed.start_network()
        await self.wait_for(lambda: feed.ready)
        self.ex.set_prices("BTC-USD", mark=Decimal("98765.4"))
        await self.wait_for(lambda: feed.candles_df["close"].iloc[-1] == 98765.4)

    async def test_unknown_market_is_one_clear_error_and_nothing_streams(self):
        feed = ExtendedPerpetualCandles("DOGE-USD", "1m")
        with self.assertRaises(ValueError) as error:
            await feed.start_network()
        self.assertEqual("Extended has no market DOGE-USD: check the trading pair of the trades candles feed.",
                         str(error.exception))
        self.assertIsNone(feed._listen_candles_task)

    def test_unsupported_interval_is_refused_at_construction(self):
        with self.assertRaises(ValueError) as error:
            ExtendedPerpetualCandles("BTC-USD", "3m")
        self.assertIn("Extended has no 3m candles", str(error.exception))


class ExtendedCandlesWireShapeTest(IsolatedAsyncioTestCase):
    """The documented frames parse into Hummingbot's columns."""

    def test_documented_rest_answer(self):
        rest, _, _ = payload_objects("extended_19_candles.txt")
        feed = ExtendedPerpetualCandles("BTC-USD", "1m")
        self.assertEqual([[1715797320.0, 65206.2, 65206.2, 65206.2, 65206.2, 0.0, 0.0, 0.0, 0.0, 0.0]],
                         feed._parse_rest_candles(rest))

    def test_documented_stream_candles(self):
        _, trades, mark = payload_objects("extended_19_candles.txt")
        self.assertEqual([1695738674.0, 1000.0, 2400.0, 800.0, 2100.0, 10.0, 0.0, 0.0, 0.0, 0.0],
                         ExtendedPerpetualCandles._row(trades["data"][0]))
        self.assertEqual(0.0, ExtendedPerpetualCandles._row(mark["data"][0])[5])

    def test_error_envelope_is_an_error_not_an_empty_history(self):
        feed = ExtendedPerpetualCandles("BTC-USD", "1m")
        with self.assertRaises(IOError) as error:
            feed._parse_rest_candles({"status": "ERROR", "error": {"code": 1005, "message": "Not supported interval."}})
        self.assertIn("Not supported interval.", str(error.exception))
