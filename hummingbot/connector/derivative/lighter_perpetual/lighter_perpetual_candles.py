"""Lighter candles: Hummingbot's own `lighter_perpetual` feed, corrected where it meets the real API and this
connector.

Upstream's feed (hummingbot 20260922, data_feed/candles_feed/lighter_perpetual_candles) reads the live shape
{"code": 200, "r": "1m", "c": [{"t", "o", "h", "l", "c", "v", "V", "i"}]} right, but:
- it fails on "c": null (nautilus_trader's `http_candles_null.json`: Lighter sends null, not [], for no candles):
  `for c in None` raises, and the history fill retries that every second, forever;
- it asks for up to 1,000 candles a call where the API gives at most 500 (lighter-sdk `Candles.c`: "max 500 per
  call"; nautilus_trader LIGHTER_CANDLES_MAX_LIMIT);
- it always calls mainnet, ignoring the connector's LIGHTER_PERPETUAL_REST_URL (testnet, the local emulator);
- its rate limits declare the shared pool `lighter_perpetual_all` as 18,000 weight a minute with 300 a candle
  request; attached to this connector (Standard: a pool of 60 requests a minute, each counting 1), the throttler
  keeps the pool it already has and adds the 300-weight candle limit, which can never fit in 60: every candle
  request would wait forever;
- it polls only the forming candle, so when a minute rolls over the candle that just closed keeps what the last poll
  (up to 10 s earlier) saw: every poll here reads the last two candles and rewrites the closed one.
"""
import asyncio
import time
from typing import List, Optional

import numpy as np

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.core.api_throttler.data_types import LinkedLimitWeightPair, RateLimit
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.core.utils.async_utils import safe_ensure_future
from hummingbot.data_feed.candles_feed.candles_factory import CandlesFactory
from hummingbot.data_feed.candles_feed.lighter_perpetual_candles import (
    LighterPerpetualCandles as UpstreamCandles,
    constants as UPSTREAM_CONSTANTS,
)

CANDLES_PATH = "/candles"
MAX_RESULTS_PER_REST_REQUEST = 500
# Standard accounts count requests, not weights (60 a minute in the connector's pool); a feed attached to the
# connector draws from that same pool. A weighted tier's pool is far larger than what the feed asks for.
_POOL = CONSTANTS.TIER_LIMITS["Standard"][0]
RATE_LIMITS = [RateLimit(limit_id=CONSTANTS.ALL_ENDPOINTS_LIMIT, limit=_POOL, time_interval=CONSTANTS.ONE_MINUTE)] + [
    RateLimit(limit_id=path, limit=_POOL, time_interval=CONSTANTS.ONE_MINUTE,
              linked_limits=[LinkedLimitWeightPair(CONSTANTS.ALL_ENDPOINTS_LIMIT, 1)])
    for path in (CANDLES_PATH, CONSTANTS.ORDER_BOOK_DETAILS_PATH, CONSTANTS.EXCHANGE_STATS_PATH)]


class LighterPerpetualCandles(UpstreamCandles):

    @property
    def rest_url(self):
        return web_utils.rest_base_url()

    @property
    def wss_url(self):
        return web_utils.wss_url()

    @property
    def health_check_url(self):
        return web_utils.public_rest_url(CONSTANTS.EXCHANGE_STATS_PATH)

    @property
    def candles_url(self):
        return web_utils.public_rest_url(CANDLES_PATH)

    @property
    def candles_endpoint(self):
        return CANDLES_PATH

    @property
    def candles_max_result_per_rest_request(self):
        return MAX_RESULTS_PER_REST_REQUEST

    @property
    def rate_limits(self):
        return RATE_LIMITS

    async def check_network(self) -> NetworkStatus:
        rest_assistant = await self._api_factory.get_rest_assistant()
        await rest_assistant.execute_request(url=self.health_check_url,
                                             throttler_limit_id=CONSTANTS.EXCHANGE_STATS_PATH)
        return NetworkStatus.CONNECTED

    async def _initialize_exchange_data(self):
        base = self._trading_pair.split("-")[0].upper()
        rest_assistant = await self._api_factory.get_rest_assistant()
        data = await rest_assistant.execute_request(url=web_utils.public_rest_url(CONSTANTS.ORDER_BOOK_DETAILS_PATH),
                                                    throttler_limit_id=CONSTANTS.ORDER_BOOK_DETAILS_PATH)
        ids = [int(market["market_id"]) for market in data.get("order_book_details") or []
               if str(market.get("symbol", "")).upper() == base]
        if not ids:
            raise ValueError(f"Lighter has no perpetual market {base}: check the trading pair {self._trading_pair} "
                             f"of the candles feed.")
        self._market_id = ids[0]

    def _parse_rest_candles(self, data: dict, end_time: Optional[int] = None) -> List[List[float]]:
        return super()._parse_rest_candles({"c": data.get("c") or []} if isinstance(data, dict) else {}, end_time)

    async def listen_for_subscriptions(self):
        # Lighter's REST is polled as upstream does (every CANDLE_POLL_INTERVAL_SECONDS), two candles at a time.
        while True:
            try:
                forming_end = self._round_timestamp_to_interval_multiple(int(time.time())) + self.interval_in_seconds
                self._merge_polled(await self.fetch_candles(end_time=forming_end, limit=2))
                await self._sleep(UPSTREAM_CONSTANTS.CANDLE_POLL_INTERVAL_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.logger().exception("Unexpected error polling Lighter candles. Retrying in 5s...")
                await self._sleep(5.0)

    def _merge_polled(self, rows: List[List[float]]):
        """Rewrites candles already held (a closed one gets its final values) and appends newer ones."""
        for row in rows:
            candle = np.array(row[:10]).astype(float)
            if len(self._candles) == 0:
                self._candles.append(candle)
                self._ws_candle_available.set()
                safe_ensure_future(self.fill_historical_candles())
                continue
            held = [index for index in range(max(0, len(self._candles) - 2), len(self._candles))
                    if int(self._candles[index][0]) == int(row[0])]
            if held:
                self._candles[held[0]] = candle
            elif int(row[0]) > int(self._candles[-1][0]):
                self._candles.append(candle)


# Replaces upstream's feed under the same key for as long as this connector is installed (importing this package
# registers it); Hummingbot's own files are never changed, so removing the connector brings upstream's back.
CandlesFactory._candles_map[CONSTANTS.EXCHANGE_NAME] = LighterPerpetualCandles
