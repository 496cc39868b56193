"""Lighter candles: upstream's feed against the real response shapes, and this connector's feed (registered under
`lighter_perpetual` in its place) against the Lighter emulator."""
import asyncio
import json
import os
import time
from decimal import Decimal
from types import SimpleNamespace
from unittest import IsolatedAsyncioTestCase
from unittest.mock import patch

import aiohttp
import numpy as np

from emulator.lighter import LighterEmulator
from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_candles import LighterPerpetualCandles
from hummingbot.data_feed.candles_feed.candles_factory import CandlesFactory
from hummingbot.data_feed.candles_feed.data_types import CandlesConfig
from hummingbot.data_feed.candles_feed.lighter_perpetual_candles import (
    LighterPerpetualCandles as UpstreamCandles,
    constants as UPSTREAM_CONSTANTS,
)
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_test_helpers import IsolatedConnections
from test.reference_payloads import PAYLOADS

NAUTILUS = PAYLOADS / "raw" / "nautilus_lighter_fixtures"
MINUTE_MS = 60_000
ETH = 0


def fixture(name: str) -> dict:
    return json.loads((NAUTILUS / name).read_text())


class UpstreamFeedAgainstRealShapesTest(IsolatedAsyncioTestCase):
    """What Hummingbot 20260922's own lighter_perpetual feed does with the captured and fixture answers."""

    def test_upstream_parses_the_live_shape(self):
        rows = UpstreamCandles("ETH-USD", "1m")._parse_rest_candles(fixture("http_candles.json"))
        self.assertEqual([[1700000000.0, 2361.11, 2362.22, 2360.0, 2361.31, 1.2345, 2914.872195, 0.0, 0.0, 0.0],
                          [1700000060.0, 2361.31, 2363.0, 2361.1, 2362.5, 0.5, 1181.905, 0.0, 0.0, 0.0]], rows)

    def test_upstream_fails_on_null_candles_where_ours_reads_none(self):
        null_answer = fixture("http_candles_null.json")
        with self.assertRaises(TypeError):
            UpstreamCandles("ETH-USD", "1m")._parse_rest_candles(null_answer)
        self.assertEqual([], LighterPerpetualCandles("ETH-USD", "1m")._parse_rest_candles(null_answer))

    def test_ours_reads_the_live_shape_as_upstream_does(self):
        answer = fixture("http_candles.json")
        self.assertEqual(UpstreamCandles("ETH-USD", "1m")._parse_rest_candles(answer),
                         LighterPerpetualCandles("ETH-USD", "1m")._parse_rest_candles(answer))

    def test_page_size_is_the_documented_500(self):
        self.assertEqual(1000, UpstreamCandles("ETH-USD", "1m").candles_max_result_per_rest_request)
        self.assertEqual(500, LighterPerpetualCandles("ETH-USD", "1m").candles_max_result_per_rest_request)

    def test_a_poll_after_the_minute_rolled_over_gives_the_closed_candle_its_final_values(self):
        feed = LighterPerpetualCandles("ETH-USD", "1m")
        closed, forming = feed._parse_rest_candles(fixture("http_candles.json"))
        # What the previous poll saw of the first minute, seconds before it closed.
        feed._candles.append(np.array(closed[:4] + [2361.0] + closed[5:]))
        feed._merge_polled([closed, forming])
        self.assertEqual([closed, forming], [list(row) for row in feed._candles])
        feed._merge_polled([forming[:4] + [2363.0] + forming[5:]])
        self.assertEqual([closed[4], 2363.0], [row[4] for row in feed._candles])


class LighterCandlesFeedTest(IsolatedConnections, IsolatedAsyncioTestCase):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.ex = LighterEmulator(port=0)
        await self.ex.start()
        self.env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                           CONSTANTS.WSS_URL_ENV_VAR: self.ex.ws_url})
        self.env.start()
        self.maker = self.ex.create_account(collateral=Decimal(10 ** 7))
        self.feeds = []

    async def asyncTearDown(self):
        for feed in self.feeds:
            await feed.stop_network()
        await self.ex.stop()
        self.env.stop()
        await super().asyncTearDown()

    def seed_fills(self, minutes: int, now_ms: int) -> dict:
        """One or more trades in each of the last `minutes` minutes, this one included (synthetic timestamps on
        trades the emulator matched); returns the expected (o, h, l, c, v) by candle start in seconds."""
        first = now_ms // MINUTE_MS * MINUTE_MS - (minutes - 1) * MINUTE_MS
        market = self.ex.state.markets[ETH]
        expected = {}
        for k in range(minutes):
            prices = [Decimal("2500.00") + k, Decimal("2503.50") + k]
            for offset, price in enumerate(prices):
                self.ex.place_order(self.maker, ETH, is_ask=True, size=Decimal("0.1"), price=price)
                before = len(market.recent_fills)
                self.ex.submit_taker(ETH, is_ask=False, size=Decimal("0.1"), worst_price=price)
                for fill in list(market.recent_fills)[before:]:
                    fill.timestamp_ms = min(first + k * MINUTE_MS + 100 * (offset + 1), now_ms)
            expected[(first + k * MINUTE_MS) // 1000] = (float(prices[0]), float(prices[1]), float(prices[0]),
                                                         float(prices[1]), 0.2)
        return expected

    async def emulator_candles(self, count: int) -> list:
        now = int(time.time() * 1000)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{self.ex.rest_url}/api/v1/candles",
                                   params={"market_id": ETH, "resolution": "1m", "start_timestamp": 0,
                                           "end_timestamp": now + MINUTE_MS, "count_back": count}) as response:
                body = await response.json()
        return [[c["t"] / 1000, c["o"], c["h"], c["l"], c["c"], c["v"]] for c in body["c"]]

    async def wait_for(self, condition, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                self.fail("condition not met in time")
            await asyncio.sleep(0.05)

    async def test_factory_feed_is_ours_and_fills_its_deque_from_the_emulator(self):
        now_ms = int(time.time() * 1000)
        if now_ms % MINUTE_MS > MINUTE_MS - 8_000:  # keep the whole test inside one minute
            await asyncio.sleep((MINUTE_MS - now_ms % MINUTE_MS) / 1000 + 0.1)
            now_ms = int(time.time() * 1000)
        expected = self.seed_fills(6, now_ms)

        feed = CandlesFactory.get_candle(CandlesConfig(connector="lighter_perpetual", trading_pair="ETH-USD",
                                                       interval="1m", max_records=6))
        self.feeds.append(feed)
        self.assertIsInstance(feed, LighterPerpetualCandles)
        await feed.start_network()
        await self.wait_for(lambda: feed.ready)

        frame = feed.candles_df
        self.assertEqual(sorted(expected), frame["timestamp"].astype(int).tolist())
        for _, row in frame.iterrows():
            o, h, low, c, v = expected[int(row["timestamp"])]
            self.assertEqual([o, h, low, c], [row["open"], row["high"], row["low"], row["close"]])
            self.assertAlmostEqual(v, row["volume"], places=9)
        self.assertEqual(await self.emulator_candles(6),
                         frame[["timestamp", "open", "high", "low", "close", "volume"]].values.tolist())

    async def test_no_trades_is_an_empty_history_not_an_error(self):
        feed = LighterPerpetualCandles("BTC-USD", "1m")
        candles = await feed.fetch_candles(end_time=int(time.time()), limit=10)
        self.assertEqual((0, 10), candles.shape)

    async def test_unknown_market_is_one_clear_error(self):
        feed = LighterPerpetualCandles("DOGE-USD", "1m")
        with self.assertRaises(ValueError) as error:
            await feed.start_network()
        self.assertEqual("Lighter has no perpetual market DOGE: check the trading pair DOGE-USD of the candles feed.",
                         str(error.exception))

    async def test_attached_to_this_connector_upstream_waits_forever_and_ours_fetches(self):
        self.seed_fills(1, int(time.time() * 1000))
        connector = SimpleNamespace(throttler=web_utils.create_throttler())  # what the connector shares
        end = int(time.time()) // 60 * 60 + 60

        ours = LighterPerpetualCandles("ETH-USD", "1m")
        ours.attach_connector(connector)
        self.assertEqual(1, len(await asyncio.wait_for(ours.fetch_candles(end_time=end, limit=1), timeout=5)))

        with patch.object(UPSTREAM_CONSTANTS, "MAINNET_BASE_URL", self.ex.rest_url):
            alone = UpstreamCandles("ETH-USD", "1m")  # with its own throttler it fetches
            alone._market_id, alone._exchange_data_initialized = ETH, True
            self.assertEqual(1, len(await asyncio.wait_for(alone.fetch_candles(end_time=end, limit=1), timeout=5)))
            upstream = UpstreamCandles("ETH-USD", "1m")
            upstream.attach_connector(connector)
            upstream._market_id, upstream._exchange_data_initialized = ETH, True
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(upstream.fetch_candles(end_time=end, limit=1), timeout=2)
