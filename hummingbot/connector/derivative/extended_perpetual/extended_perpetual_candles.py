"""Extended candles on Hummingbot's CandlesBase: history from REST, the forming candle from the candles stream.

Wire (api.docs.extended.exchange "Get candles history" and "Candles stream"; x10 SDK `CandleModel`,
`InfoModule.get_candles_history`, `StreamClient.subscribe_to_candles`):
- GET /api/v1/info/candles/{market}/{candleType}?interval=PT1M&limit=N&endTime=ms answers
  {"status": "OK", "data": [{"o", "l", "h", "c", "v", "T"}, ...]}, newest first; prices and volume are decimal
  strings, "T" is the candle's start in epoch ms, "v" (base-asset volume) comes only with trades candles.
- wss .../stream.extended.exchange/v1/candles/{market}/{candleType}?interval=PT1M: the URL selects the stream (no
  subscribe message); frames {"ts", "data": [candle, ...], "seq"}, seq 1 is the snapshot and a seq out of order
  means the client must reconnect. Pushed every 1-10 s.
"""
import logging
from typing import Dict, List, Optional

import numpy as np

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.core.api_throttler.data_types import LinkedLimitWeightPair, RateLimit
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.core.utils.async_utils import safe_ensure_future
from hummingbot.core.web_assistant.ws_assistant import WSAssistant
from hummingbot.data_feed.candles_feed.candles_base import CandlesBase
from hummingbot.data_feed.candles_feed.candles_factory import CandlesFactory
from hummingbot.logger import HummingbotLogger

CANDLES_PATH = "/info/candles/{market}/{candle_type}"
CANDLES_STREAM = "/candles/{market}/{candle_type}?interval={interval}"
# The intervals the x10 SDK types (CandleInterval); the docs also list PT8H, PT12H, PT24H, P7D, P30D, but the
# SDK's P1D for a day is what live clients use.
INTERVALS = {"1m": "PT1M", "5m": "PT5M", "15m": "PT15M", "30m": "PT30M", "1h": "PT1H", "2h": "PT2H", "4h": "PT4H",
             "1d": "P1D"}
# The docs cap an answer at 10,000 candles; a page of 1,000 keeps one answer small (a live PT1M request for 10,000
# returned fewer, as third-party notes report).
MAX_RESULTS_PER_REST_REQUEST = 1000
# Candle requests count against the connector's shared pool (same limit id), so a feed attached to the connector
# and the connector itself stay within one 1,000 requests/minute budget together.
_POOL, _WINDOW = CONSTANTS.RATE_LIMIT_TIERS["standard"]
RATE_LIMITS = [RateLimit(limit_id=CONSTANTS.ALL_ENDPOINTS_LIMIT, limit=_POOL, time_interval=_WINDOW)] + [
    RateLimit(limit_id=path, limit=_POOL, time_interval=_WINDOW,
              linked_limits=[LinkedLimitWeightPair(CONSTANTS.ALL_ENDPOINTS_LIMIT, 1)])
    for path in (CANDLES_PATH, CONSTANTS.MARKETS_PATH)]


class ExtendedPerpetualCandles(CandlesBase):
    """Trades (last price) candles with base-asset volume; the factory's `extended_perpetual` feed."""
    candle_type = "trades"
    _logger: Optional[HummingbotLogger] = None

    @classmethod
    def logger(cls) -> HummingbotLogger:
        if cls._logger is None:
            cls._logger = logging.getLogger(__name__)
        return cls._logger

    def __init__(self, trading_pair: str, interval: str = "1m", max_records: int = 150):
        if interval not in INTERVALS:
            raise ValueError(f"Extended has no {interval} candles; use one of {', '.join(INTERVALS)}.")
        super().__init__(trading_pair, interval, max_records)
        self._last_seq: Optional[int] = None

    @property
    def name(self):
        return f"{CONSTANTS.EXCHANGE_NAME}_{self._trading_pair}"

    @property
    def rest_url(self):
        return web_utils.rest_base_url()

    @property
    def health_check_url(self):
        return web_utils.public_rest_url(CONSTANTS.MARKETS_PATH)

    @property
    def candles_url(self):
        return web_utils.public_rest_url(self.candles_endpoint)

    @property
    def candles_endpoint(self):
        return CANDLES_PATH.format(market=self._ex_trading_pair, candle_type=self.candle_type)

    @property
    def _rest_throttler_limit_id(self):
        return CANDLES_PATH

    @property
    def candles_max_result_per_rest_request(self):
        return MAX_RESULTS_PER_REST_REQUEST

    @property
    def wss_url(self):
        return web_utils.stream_url(CANDLES_STREAM.format(
            market=self._ex_trading_pair, candle_type=self.candle_type, interval=INTERVALS[self.interval]))

    @property
    def rate_limits(self):
        return RATE_LIMITS

    @property
    def intervals(self):
        return INTERVALS

    async def check_network(self) -> NetworkStatus:
        rest_assistant = await self._api_factory.get_rest_assistant()
        await rest_assistant.execute_request(url=self.health_check_url, throttler_limit_id=CONSTANTS.MARKETS_PATH)
        return NetworkStatus.CONNECTED

    def get_exchange_trading_pair(self, trading_pair: str) -> str:
        # Hummingbot's BTC-USD is Extended's market name as it is.
        return trading_pair.upper()

    async def _initialize_exchange_data(self):
        # One look-up at start turns an unknown market into one clear error instead of a stream that keeps failing.
        rest_assistant = await self._api_factory.get_rest_assistant()
        answer = await rest_assistant.execute_request(url=web_utils.public_rest_url(CONSTANTS.MARKETS_PATH),
                                                      params={"market": self._ex_trading_pair},
                                                      throttler_limit_id=CONSTANTS.MARKETS_PATH)
        names = [market.get("name") for market in (answer or {}).get("data") or []]
        if self._ex_trading_pair not in names:
            raise ValueError(f"Extended has no market {self._ex_trading_pair}: check the trading pair of the "
                             f"{self.candle_type} candles feed.")

    def _get_rest_candles_params(self, start_time: Optional[int] = None, end_time: Optional[int] = None,
                                 limit: Optional[int] = None) -> dict:
        # The API takes an end and a count, not a start: count the candles from start to end, both included.
        count = int((end_time - start_time) // self.interval_in_seconds) + 1
        return {"interval": INTERVALS[self.interval], "limit": min(max(count, 1), MAX_RESULTS_PER_REST_REQUEST),
                "endTime": int(end_time * 1000)}

    def _parse_rest_candles(self, data: dict, end_time: Optional[int] = None) -> List[List[float]]:
        if not isinstance(data, dict) or data.get("status") != "OK":
            error = data.get("error") if isinstance(data, dict) else None
            raise IOError(f"Extended refused the {self.candle_type} candles request for {self._trading_pair}: "
                          f"{error or data}")
        rows = [self._row(candle) for candle in data.get("data") or []]
        if end_time is not None:
            rows = [row for row in rows if row[0] <= end_time]
        rows.sort(key=lambda row: row[0])
        return rows

    @staticmethod
    def _row(candle: Dict[str, str]) -> List[float]:
        # Extended reports no quote volume, trade count or taker split: those columns stay 0.
        return [candle["T"] / 1000.0, float(candle["o"]), float(candle["h"]), float(candle["l"]), float(candle["c"]),
                float(candle.get("v") or 0), 0.0, 0.0, 0.0, 0.0]

    # ----- stream: the URL is the subscription -----

    async def _connected_websocket_assistant(self) -> WSAssistant:
        ws: WSAssistant = await self._api_factory.get_ws_assistant()
        self._last_seq = None
        await ws.connect(ws_url=self.wss_url, ping_timeout=CONSTANTS.WS_HEARTBEAT_INTERVAL,
                         ws_headers=web_utils.stream_headers())
        return ws

    async def _subscribe_channels(self, ws: WSAssistant):
        self.logger().info(f"Listening to {self.candle_type} candles of {self._ex_trading_pair} ({self.interval})")

    def ws_subscription_payload(self):
        return None

    async def _process_websocket_messages(self, websocket_assistant: WSAssistant):
        async for ws_response in websocket_assistant.iter_messages():
            message = ws_response.data
            if not isinstance(message, dict) or not isinstance(message.get("data"), list):
                raise IOError(f"Unexpected Extended candles frame: {message}")
            seq = message.get("seq")
            if self._last_seq is not None and seq != self._last_seq + 1:
                raise ConnectionError(f"Extended candles stream skipped from seq {self._last_seq} to {seq}")
            self._last_seq = seq
            # A frame may carry more than one candle (at a period change): oldest first.
            for candle in sorted(message["data"], key=lambda c: c["T"]):
                self._apply_stream_candle(np.array(self._row(candle), dtype=float))
        await self._sleep(CONSTANTS.STREAM_RECONNECT_DELAY)
        raise ConnectionError("Extended closed the candles stream")

    def _apply_stream_candle(self, row: np.ndarray):
        if len(self._candles) == 0:
            self._candles.append(row)
            self._ws_candle_available.set()
            self._fill_candles_task = safe_ensure_future(self.fill_historical_candles())
        elif row[0] > self._candles[-1][0]:
            self._candles.append(row)
        elif row[0] == self._candles[-1][0]:
            self._candles[-1] = row

    def _parse_websocket_message(self, data: dict):
        # Frames are read by _process_websocket_messages, which handles several candles a frame.
        raise NotImplementedError


class ExtendedPerpetualMarkPriceCandles(ExtendedPerpetualCandles):
    """Mark-price candles (no volume)."""
    candle_type = "mark-prices"

    @property
    def name(self):
        return f"{CONSTANTS.EXCHANGE_NAME}_mark_price_{self._trading_pair}"


class ExtendedPerpetualIndexPriceCandles(ExtendedPerpetualCandles):
    """Index-price candles (no volume)."""
    candle_type = "index-prices"

    @property
    def name(self):
        return f"{CONSTANTS.EXCHANGE_NAME}_index_price_{self._trading_pair}"


# Hummingbot has no Extended feed: importing this package adds one for as long as the connector is installed;
# Hummingbot's own files are never changed, so removing the connector leaves its registry as it was.
CandlesFactory._candles_map[CONSTANTS.EXCHANGE_NAME] = ExtendedPerpetualCandles
