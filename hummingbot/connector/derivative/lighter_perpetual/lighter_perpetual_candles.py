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
  request would wait forever.
"""
from typing import List, Optional

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.core.api_throttler.data_types import LinkedLimitWeightPair, RateLimit
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.data_feed.candles_feed.candles_factory import CandlesFactory
from hummingbot.data_feed.candles_feed.lighter_perpetual_candles import LighterPerpetualCandles as UpstreamCandles

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


# Replaces upstream's feed under the same key for as long as this connector is installed (importing this package
# registers it); Hummingbot's own files are never changed, so removing the connector brings upstream's back.
CandlesFactory._candles_map[CONSTANTS.EXCHANGE_NAME] = LighterPerpetualCandles
