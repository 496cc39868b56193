"""A market-making controller whose spreads follow the market's volatility, measured on candles.

Each level's spread is `level multiple x base spread`, where the base spread is `volatility_multiplier x volatility`
held within [min_spread, max_spread], and the volatility is the standard deviation (sample, ddof 1) of the log returns
between the closes of the last `volatility_length + 1` closed candles (the forming candle is left out: its close is
not final). Quotes are Hummingbot PositionExecutors around the mid price, each with the triple barrier of the config,
replaced every `executor_refresh_time` seconds while unfilled.

Copy this file into Hummingbot's `controllers/market_making/` folder; a config in `conf/controllers/` names it with
`controller_type: market_making` and `controller_name: candles_volatility_maker`.
"""
import logging
import math
from decimal import Decimal
from typing import List, Optional

import numpy as np
from pydantic import Field, field_validator, model_validator
from pydantic_core.core_schema import ValidationInfo

from hummingbot.core.data_type.common import PriceType
from hummingbot.data_feed.candles_feed.candles_base import CandlesBase
from hummingbot.data_feed.candles_feed.data_types import CandlesConfig
from hummingbot.logger import HummingbotLogger
from hummingbot.strategy_v2.controllers.market_making_controller_base import (
    MarketMakingControllerBase,
    MarketMakingControllerConfigBase,
)
from hummingbot.strategy_v2.executors.position_executor.data_types import PositionExecutorConfig
from hummingbot.strategy_v2.models.executor_actions import ExecutorAction


class CandlesVolatilityMakerConfig(MarketMakingControllerConfigBase):
    controller_name: str = "candles_volatility_maker"
    buy_spreads: List[float] = Field(
        default="1,2",
        json_schema_extra={
            "prompt": "Enter the buy levels' spreads as multiples of the volatility spread (e.g. '1,2'): ",
            "prompt_on_new": True, "is_updatable": True})
    sell_spreads: List[float] = Field(
        default="1,2",
        json_schema_extra={
            "prompt": "Enter the sell levels' spreads as multiples of the volatility spread (e.g. '1,2'): ",
            "prompt_on_new": True, "is_updatable": True})
    # Validated when left out too, so that an omitted list means equal amounts on every level (the base class's
    # validator fills it in only for a value given in the config).
    buy_amounts_pct: Optional[List[Decimal]] = Field(
        default=None, validate_default=True,
        json_schema_extra={
            "prompt": "Enter the buy levels' shares of the amount (e.g. '50,50'), or leave blank for equal shares: ",
            "prompt_on_new": True, "is_updatable": True})
    sell_amounts_pct: Optional[List[Decimal]] = Field(
        default=None, validate_default=True,
        json_schema_extra={
            "prompt": "Enter the sell levels' shares of the amount (e.g. '50,50'), or leave blank for equal shares: ",
            "prompt_on_new": True, "is_updatable": True})
    candles_connector: Optional[str] = Field(
        default=None, validate_default=True,
        json_schema_extra={
            "prompt": "Enter the connector of the candles (empty: the trading connector): ", "prompt_on_new": True})
    candles_trading_pair: Optional[str] = Field(
        default=None, validate_default=True,
        json_schema_extra={
            "prompt": "Enter the trading pair of the candles (empty: the traded pair): ", "prompt_on_new": True})
    interval: str = Field(
        default="1m",
        json_schema_extra={"prompt": "Enter the candle interval (e.g. 1m, 5m, 1h): ", "prompt_on_new": True})
    volatility_length: int = Field(
        default=20,
        json_schema_extra={
            "prompt": "Enter the number of candle-to-candle returns the volatility is measured on (e.g. 20): ",
            "prompt_on_new": True})
    volatility_multiplier: Decimal = Field(
        default=Decimal("2"),
        json_schema_extra={
            "prompt": "Enter the base spread as a multiple of the volatility (e.g. 2): ",
            "prompt_on_new": True, "is_updatable": True})
    min_spread: Decimal = Field(
        default=Decimal("0.0005"),
        json_schema_extra={
            "prompt": "Enter the smallest base spread, as a fraction (e.g. 0.0005 for 0.05%): ",
            "prompt_on_new": True, "is_updatable": True})
    max_spread: Decimal = Field(
        default=Decimal("0.05"),
        json_schema_extra={
            "prompt": "Enter the largest base spread, as a fraction (e.g. 0.05 for 5%): ",
            "prompt_on_new": True, "is_updatable": True})

    @field_validator("candles_connector", mode="before")
    @classmethod
    def default_candles_connector(cls, value, info: ValidationInfo):
        return value or info.data.get("connector_name")

    @field_validator("candles_trading_pair", mode="before")
    @classmethod
    def default_candles_trading_pair(cls, value, info: ValidationInfo):
        return value or info.data.get("trading_pair")

    @field_validator("interval")
    @classmethod
    def validate_interval(cls, value: str) -> str:
        if value not in CandlesBase.interval_to_seconds:
            raise ValueError(f"interval {value!r} is not a candle interval; use one of "
                             f"{', '.join(CandlesBase.interval_to_seconds)}.")
        return value

    @field_validator("volatility_length")
    @classmethod
    def validate_volatility_length(cls, value: int) -> int:
        if value < 2:
            raise ValueError(f"volatility_length must be at least 2 returns (got {value}).")
        return value

    @field_validator("volatility_multiplier", "min_spread", "max_spread")
    @classmethod
    def validate_positive(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        if not value > 0:
            raise ValueError(f"{info.field_name} must be a positive number (got {value}).")
        return value

    @model_validator(mode="after")
    def validate_spread_bounds(self):
        if self.max_spread < self.min_spread:
            raise ValueError(f"max_spread ({self.max_spread}) must not be below min_spread ({self.min_spread}).")
        return self

    @property
    def candles_max_records(self) -> int:
        # volatility_length returns need one more closed candle, and the newest candle may still be forming.
        return self.volatility_length + 2


class CandlesVolatilityMaker(MarketMakingControllerBase):
    _logger: Optional[HummingbotLogger] = None

    @classmethod
    def logger(cls) -> HummingbotLogger:
        if cls._logger is None:
            cls._logger = logging.getLogger(__name__)
        return cls._logger

    def __init__(self, config: CandlesVolatilityMakerConfig, *args, **kwargs):
        self.config = config
        super().__init__(config, *args, **kwargs)
        self._logged_estimate: Optional[tuple] = None

    def get_candles_config(self) -> List[CandlesConfig]:
        return [CandlesConfig(connector=self.config.candles_connector, trading_pair=self.config.candles_trading_pair,
                              interval=self.config.interval, max_records=self.config.candles_max_records)]

    def closed_closes(self) -> tuple:
        """The closes of the last volatility_length + 1 closed candles and the open time (s) of the newest one."""
        candles = self.market_data_provider.get_candles_df(
            connector_name=self.config.candles_connector, trading_pair=self.config.candles_trading_pair,
            interval=self.config.interval, max_records=self.config.candles_max_records)
        period = CandlesBase.interval_to_seconds[self.config.interval]
        closed = candles[candles["timestamp"] + period <= self.market_data_provider.time()]
        closes = closed["close"].tail(self.config.volatility_length + 1)
        return closes.to_numpy(dtype=float), int(closed["timestamp"].iloc[-1]) if len(closed) else None

    async def update_processed_data(self):
        closes, last_candle = self.closed_closes()
        mid = Decimal(str(self.market_data_provider.get_price_by_type(
            self.config.connector_name, self.config.trading_pair, PriceType.MidPrice)))
        volatility = (float(np.std(np.diff(np.log(closes)), ddof=1))
                      if len(closes) == self.config.volatility_length + 1 else math.nan)
        # No quotes without a full volatility window (a close at or below zero gives none either) and a two-sided book.
        if not math.isfinite(volatility) or not mid.is_finite() or mid <= 0:
            self.processed_data = {}
            return
        spread = min(max(self.config.volatility_multiplier * Decimal(repr(volatility)), self.config.min_spread),
                     self.config.max_spread)
        self.processed_data = {"reference_price": mid, "spread_multiplier": spread, "volatility": volatility,
                               "last_closed_candle": last_candle}
        if self._logged_estimate != (last_candle, volatility):
            self._logged_estimate = (last_candle, volatility)
            self.logger().info(
                f"{self.config.trading_pair} on {self.config.connector_name}: volatility {volatility!r} over "
                f"{self.config.volatility_length} returns of {self.config.candles_connector} "
                f"{self.config.candles_trading_pair} {self.config.interval} candles closed up to the candle opened at "
                f"{last_candle}; base spread {spread}.")

    def create_actions_proposal(self) -> List[ExecutorAction]:
        return super().create_actions_proposal() if self.processed_data else []

    def get_executor_config(self, level_id: str, price: Decimal, amount: Decimal) -> PositionExecutorConfig:
        return PositionExecutorConfig(
            timestamp=self.market_data_provider.time(), level_id=level_id, connector_name=self.config.connector_name,
            trading_pair=self.config.trading_pair, entry_price=price, amount=amount,
            triple_barrier_config=self.config.triple_barrier_config, leverage=self.config.leverage,
            side=self.get_trade_type_from_level_id(level_id))

    def to_format_status(self) -> List[str]:
        if not self.processed_data:
            return [f"  Waiting for {self.config.volatility_length + 1} closed {self.config.interval} candles of "
                    f"{self.config.candles_trading_pair} and a two-sided book."]
        volatility, spread = self.processed_data["volatility"], self.processed_data["spread_multiplier"]
        buys = ", ".join(f"{spread * Decimal(str(level)):.4%}" for level in self.config.buy_spreads)
        sells = ", ".join(f"{spread * Decimal(str(level)):.4%}" for level in self.config.sell_spreads)
        bounds = f"{self.config.min_spread:.4%}..{self.config.max_spread:.4%}"
        return [f"  Volatility {volatility:.4%} per {self.config.interval} candle ({self.config.volatility_length} "
                f"returns); base spread {spread:.4%} (x{self.config.volatility_multiplier}, within {bounds})",
                f"  Buy spreads {buys}; sell spreads {sells}; mid {self.processed_data['reference_price']}"]
