"""Hedged arbitrage between Lighter and Extended perpetuals.

Watches both order books and both (hourly) funding rates. When the price spread net of taker fees, or the funding
spread, passes its threshold, it opens a hedged pair: long on the cheaper venue, short on the dearer one, the same
size on both. The pair is closed when the spread that opened it reverts, and when the strategy stops.

Each leg is a PositionExecutor with a market entry and no barriers; stopping it closes its position with a market
order. The ArbitrageExecutor does not fit perpetual hedging: it checks for a base-asset balance on the selling venue
(a perpetual account holds only collateral), places its orders without a position action and has no way to unwind
the pair later, since it completes as soon as both orders fill.
"""
import os
import statistics
from collections import deque
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Deque, Dict, List, Optional, Tuple

from pydantic import Field

from hummingbot.connector.connector_base import ConnectorBase
from hummingbot.core.data_type.common import MarketDict, OrderType, PositionAction, PositionMode, TradeType
from hummingbot.strategy.strategy_v2_base import StrategyV2Base, StrategyV2ConfigBase
from hummingbot.strategy_v2.executors.position_executor.data_types import PositionExecutorConfig, TripleBarrierConfig
from hummingbot.strategy_v2.models.executor_actions import CreateExecutorAction, StopExecutorAction
from hummingbot.strategy_v2.models.executors_info import ExecutorInfo

PRICE, FUNDING = "price", "funding"


class LighterExtendedArbitrageConfig(StrategyV2ConfigBase):
    script_file_name: str = os.path.basename(__file__)
    lighter_connector: str = "lighter_perpetual"
    lighter_trading_pair: str = "ETH-USDC"
    extended_connector: str = "extended_perpetual"
    extended_trading_pair: str = "ETH-USD"
    order_amount: Decimal = Field(default=Decimal("0.05"), json_schema_extra={
        "prompt": "Base amount of each leg (rounded down to both venues' size steps)", "prompt_on_new": True})
    leverage: int = 5
    # Price spread, as a fraction of the cheaper venue's price, after both legs' taker fees.
    entry_spread: Decimal = Field(default=Decimal("0.003"), json_schema_extra={
        "prompt": "Net price spread that opens a pair (0.003 = 0.3%)", "prompt_on_new": True})
    exit_spread: Decimal = Decimal("0.0005")
    funding_enabled: bool = True
    # Funding spread (Extended's hourly rate minus Lighter's), sampled every funding_sample_interval seconds.
    funding_sample_interval: int = 60
    funding_window: int = 168
    funding_min_samples: int = 24
    funding_entry_z: Decimal = Decimal("2")
    funding_exit_z: Decimal = Decimal("0.5")
    # Used while the window holds fewer than funding_min_samples samples (hourly fractions).
    funding_entry_spread: Decimal = Decimal("0.0002")
    funding_exit_spread: Decimal = Decimal("0.00005")
    cooldown: int = 10

    def update_markets(self, markets: MarketDict) -> MarketDict:
        markets = markets.add_or_update(self.lighter_connector, self.lighter_trading_pair)
        return markets.add_or_update(self.extended_connector, self.extended_trading_pair)


@dataclass
class Hedge:
    reason: str  # PRICE or FUNDING
    long_leg: Tuple[str, str]
    short_leg: Tuple[str, str]
    executor_ids: List[str]
    closing: bool = False


def funding_signal(spreads: List[Decimal], min_samples: int) -> Optional[Decimal]:
    """The z-score of the latest funding spread over the window, or None while the window is too short or flat."""
    if len(spreads) < min_samples:
        return None
    std = statistics.pstdev(spreads)
    if std == 0:
        return None
    return (spreads[-1] - statistics.mean(spreads)) / std


class LighterExtendedArbitrage(StrategyV2Base):
    def __init__(self, connectors: Dict[str, ConnectorBase], config: LighterExtendedArbitrageConfig):
        super().__init__(connectors, config)
        self.config = config
        self.funding_spreads: Deque[Decimal] = deque(maxlen=config.funding_window)
        self.hedge: Optional[Hedge] = None
        self._last_funding_sample = 0.0
        self._last_close = 0.0
        self._warned_size = False
        self._leg_settings_applied = False

    @property
    def legs(self) -> List[Tuple[str, str]]:
        return [(self.config.lighter_connector, self.config.lighter_trading_pair),
                (self.config.extended_connector, self.config.extended_trading_pair)]

    def apply_leg_settings(self):
        # Once the connectors are ready: a venue's leverage call needs its markets loaded.
        self._leg_settings_applied = True
        for connector, pair in self.legs:
            self.set_position_mode(connector, PositionMode.ONEWAY)
            self.set_leverage(connector, pair, self.config.leverage)

    # ---- market views ------------------------------------------------------------------------------------

    def executable_price(self, leg: Tuple[str, str], is_buy: bool, amount: Decimal) -> Decimal:
        return self.connectors[leg[0]].get_price_for_volume(leg[1], is_buy, amount).result_price

    def taker_fee(self, leg: Tuple[str, str], is_buy: bool, amount: Decimal, price: Decimal) -> Decimal:
        base, quote = leg[1].split("-")
        side = TradeType.BUY if is_buy else TradeType.SELL
        fee = self.connectors[leg[0]].get_fee(base, quote, OrderType.MARKET, side, PositionAction.OPEN, amount, price,
                                              is_maker=False)
        return fee.percent

    def price_edge(self, long_leg: Tuple[str, str], short_leg: Tuple[str, str], amount: Decimal) -> Decimal:
        """Buying `amount` on long_leg and selling it on short_leg: the spread over the buy price, after fees."""
        buy = self.executable_price(long_leg, True, amount)
        sell = self.executable_price(short_leg, False, amount)
        if not buy or not sell or buy.is_nan() or sell.is_nan():
            return Decimal("NaN")
        fees = self.taker_fee(long_leg, True, amount, buy) + self.taker_fee(short_leg, False, amount, sell)
        return (sell - buy) / buy - fees

    def mid_spread(self, long_leg: Tuple[str, str], short_leg: Tuple[str, str]) -> Decimal:
        long_mid = self.connectors[long_leg[0]].get_mid_price(long_leg[1])
        short_mid = self.connectors[short_leg[0]].get_mid_price(short_leg[1])
        return (short_mid - long_mid) / long_mid

    def funding_spread(self) -> Decimal:
        """Extended's hourly funding rate minus Lighter's (both venues fund hourly)."""
        (lighter, lighter_pair), (extended, extended_pair) = self.legs
        return (self.connectors[extended].get_funding_info(extended_pair).rate
                - self.connectors[lighter].get_funding_info(lighter_pair).rate)

    def trade_amount(self) -> Optional[Decimal]:
        """The configured amount on the coarser size step of the two venues, if it meets both venues' minimums."""
        rules = [self.connectors[c].trading_rules[p] for c, p in self.legs]
        step = max(rule.min_base_amount_increment for rule in rules)
        amount = (self.config.order_amount / step).to_integral_value(rounding=ROUND_DOWN) * step
        price = self.connectors[self.legs[0][0]].get_mid_price(self.legs[0][1])
        fits = all(amount >= rule.min_order_size and amount * price >= rule.min_notional_size for rule in rules)
        fits = fits and all(self.connectors[c].quantize_order_amount(p, amount) == amount for c, p in self.legs)
        if not fits:
            if not self._warned_size:
                self.logger().warning(f"order_amount {self.config.order_amount} is below a venue's minimum or off "
                                      f"its size step (step {step}); no pair is opened.")
                self._warned_size = True
            return None
        return amount

    # ---- decisions ---------------------------------------------------------------------------------------

    def on_tick(self):
        if not self._leg_settings_applied:
            self.apply_leg_settings()
        self.update_executors_info()
        self.sample_funding()
        if self._is_stop_triggered:
            return
        if self.hedge is None:
            if self.current_timestamp - self._last_close >= self.config.cooldown:
                self.maybe_open()
        else:
            self.manage_hedge()

    def sample_funding(self):
        if self.config.funding_enabled and \
                self.current_timestamp - self._last_funding_sample >= self.config.funding_sample_interval:
            self._last_funding_sample = self.current_timestamp
            self.funding_spreads.append(self.funding_spread())

    def funding_direction(self, entry: bool) -> int:
        """+1: short Extended / long Lighter (Extended's longs pay more); -1: the reverse; 0: no signal.

        A z-score of the funding spread over the rolling window when it is long enough, otherwise the spread itself
        against a fixed threshold. On exit (entry=False) it says whether the signal is still on."""
        if not self.config.funding_enabled or not self.funding_spreads:
            return 0
        spreads = list(self.funding_spreads)
        z = funding_signal(spreads, self.config.funding_min_samples)
        if z is not None:
            value, threshold = z, self.config.funding_entry_z if entry else self.config.funding_exit_z
        else:
            value = spreads[-1]
            threshold = self.config.funding_entry_spread if entry else self.config.funding_exit_spread
        if value >= threshold:
            return 1
        if value <= -threshold:
            return -1
        return 0

    def maybe_open(self):
        amount = self.trade_amount()
        if amount is None:
            return
        lighter, extended = self.legs
        for long_leg, short_leg in ((extended, lighter), (lighter, extended)):
            edge = self.price_edge(long_leg, short_leg, amount)
            if edge >= self.config.entry_spread:
                self.logger().info(f"Price spread {edge:.5f} net of fees: long {long_leg[0]}, short {short_leg[0]}")
                self.open_hedge(PRICE, long_leg, short_leg, amount)
                return
        direction = self.funding_direction(entry=True)
        if direction:
            long_leg, short_leg = (lighter, extended) if direction > 0 else (extended, lighter)
            self.logger().info(f"Funding spread {self.funding_spreads[-1]:.6f}/h: long {long_leg[0]}, "
                               f"short {short_leg[0]}")
            self.open_hedge(FUNDING, long_leg, short_leg, amount)

    def open_hedge(self, reason: str, long_leg: Tuple[str, str], short_leg: Tuple[str, str], amount: Decimal):
        actions = [CreateExecutorAction(executor_config=PositionExecutorConfig(
            timestamp=self.current_timestamp, connector_name=connector, trading_pair=pair, side=side, amount=amount,
            leverage=self.config.leverage, triple_barrier_config=TripleBarrierConfig(open_order_type=OrderType.MARKET),
        )) for (connector, pair), side in ((long_leg, TradeType.BUY), (short_leg, TradeType.SELL))]
        self.hedge = Hedge(reason=reason, long_leg=long_leg, short_leg=short_leg,
                           executor_ids=[action.executor_config.id for action in actions])
        self.executor_orchestrator.execute_actions(actions)

    def hedge_executors(self) -> List[ExecutorInfo]:
        return [info for info in self.get_all_executors() if info.id in self.hedge.executor_ids]

    def manage_hedge(self):
        executors = self.hedge_executors()
        if executors and all(info.is_done for info in executors):
            self.logger().info(f"Hedged pair ({self.hedge.reason}) closed.")
            self.hedge = None
            self._last_close = self.current_timestamp
            return
        if self.hedge.closing:
            return
        # A leg that ended on its own (e.g. its entry failed) leaves the other unhedged: close both.
        if any(info.is_done for info in executors):
            self.close_hedge("a leg stopped")
        elif self.hedge.reason == PRICE:
            if self.mid_spread(self.hedge.long_leg, self.hedge.short_leg) <= self.config.exit_spread:
                self.close_hedge("price spread reverted")
        else:
            direction = 1 if self.hedge.long_leg == self.legs[0] else -1
            if self.funding_direction(entry=False) != direction:
                self.close_hedge("funding spread reverted")

    def close_hedge(self, why: str):
        self.logger().info(f"Closing the hedged pair ({self.hedge.reason}): {why}.")
        self.hedge.closing = True
        self.executor_orchestrator.execute_actions(
            [StopExecutorAction(executor_id=executor_id) for executor_id in self.hedge.executor_ids])

    def format_status(self) -> str:
        if not self.ready_to_trade:
            return "Market connectors are not ready."
        lines = [super().format_status(), ""]
        amount = self.trade_amount() or self.config.order_amount
        lighter, extended = self.legs
        lines.append(f"  Net price spread: long Extended {self.price_edge(extended, lighter, amount):+.5f}, "
                     f"long Lighter {self.price_edge(lighter, extended, amount):+.5f}")
        if self.funding_spreads:
            z = funding_signal(list(self.funding_spreads), self.config.funding_min_samples)
            lines.append(f"  Funding spread (Extended - Lighter): {self.funding_spreads[-1]:+.6f}/h, "
                         f"z-score {'n/a' if z is None else f'{z:+.2f}'} ({len(self.funding_spreads)} samples)")
        if self.hedge is None:
            lines.append("  No hedged pair open.")
        else:
            lines.append(f"  Hedged pair ({self.hedge.reason}{', closing' if self.hedge.closing else ''}): "
                         f"long {self.hedge.long_leg[0]}, short {self.hedge.short_leg[0]}")
            for info in self.hedge_executors():
                lines.append(f"    {info.config.connector_name} {info.config.side.name} {info.status.name} "
                             f"filled {info.filled_amount_quote:.2f} pnl {info.net_pnl_quote:+.4f}")
        return "\n".join(lines)
