"""Hedged arbitrage between Lighter and Extended perpetuals, restart-safe, with a funding signal seeded from history
and a ledger of what each pair earned.

Watches both order books and both (hourly) funding rates. When the price spread net of taker fees, or the funding
spread (Extended's hourly rate minus Lighter's) passes its threshold, it opens a hedged pair: long on one venue,
short on the other, the same size on both, with market orders. The pair is closed when the spread that opened it
reverts, and, with `close_on_stop`, when the strategy stops.

- Restart-safe: what a pair is (why and at what signal it was opened, its fills, fees and funding) is kept in a JSON
  file in Hummingbot's data folder, rewritten atomically at every change. At start the script reads both venues'
  positions: a hedged pair (same size, opposite sides) is adopted, with its saved record when it matches; an
  unmatched leg is closed (`unmatched_leg_policy: flatten`) or adopted (`adopt`). It never opens a pair while one is
  held.
- Funding signal: `funding_history_days` of hourly funding from both venues' REST history (gap-checked, paginated,
  cached on disk and topped up every hour) give the mean and deviation of the spread; the live spread's z-score
  against them is usable from the first tick. Without enough history the fixed spread thresholds apply.
- Ledger: price PnL from the pair's own fills, fees, and funding from the connectors' funding payment events, per
  leg; shown in `status` and appended to a CSV in the data folder when a pair closes.

The decision and bookkeeping code is in scripts/lighter_extended_funding.py (copy both files into `scripts/`).
"""
import asyncio
import csv
import os
import time
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from pydantic import Field, field_validator

from hummingbot import data_path
from hummingbot.connector.connector_base import ConnectorBase
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as EXTENDED_CONSTANTS
from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as LIGHTER_CONSTANTS
from hummingbot.core.data_type.common import (
    MarketDict,
    OrderType,
    PositionAction,
    PositionMode,
    PositionSide,
    TradeType,
)
from hummingbot.core.event.events import FundingPaymentCompletedEvent, OrderFilledEvent
from hummingbot.core.utils.async_utils import safe_ensure_future
from hummingbot.strategy.strategy_v2_base import StrategyV2Base, StrategyV2ConfigBase
from scripts.lighter_extended_funding import (
    HOUR,
    FundingHistory,
    Leg,
    PairState,
    append_ledger,
    funding_direction,
    hour_of,
    ledger_row,
    read_json,
    update_history,
    write_json_atomic,
    zscore,
)

PRICE, FUNDING, ADOPTED = "price", "funding", "adopted"
ENTRY, EXIT = "entry", "exit"
CLOSE_RETRY_SECONDS = 5
STOP_CLOSE_TIMEOUT = 30


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
    # Hourly history of both venues' funding; the z-score needs at least funding_min_history_hours common hours.
    funding_history_days: int = 30
    funding_min_history_hours: int = 168
    funding_entry_z: Decimal = Decimal("2")
    funding_exit_z: Decimal = Decimal("0.5")
    # Used while there is not enough history (hourly fractions).
    funding_entry_spread: Decimal = Decimal("0.0002")
    funding_exit_spread: Decimal = Decimal("0.00005")
    # 0: funding payments arrive when the connectors poll for them (every 120 s); N: the script asks every N s.
    funding_payment_poll_interval: int = 0
    # At start, a position on one venue without its hedge on the other: "flatten" closes it, "adopt" holds it.
    unmatched_leg_policy: str = "flatten"
    close_on_stop: bool = True
    cooldown: int = 10

    @field_validator("unmatched_leg_policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        if value not in ("flatten", "adopt"):
            raise ValueError(f"unmatched_leg_policy must be flatten or adopt, not {value!r}.")
        return value

    def update_markets(self, markets: MarketDict) -> MarketDict:
        markets = markets.add_or_update(self.lighter_connector, self.lighter_trading_pair)
        return markets.add_or_update(self.extended_connector, self.extended_trading_pair)


class LighterExtendedArbitrage(StrategyV2Base):
    def __init__(self, connectors: Dict[str, ConnectorBase], config: LighterExtendedArbitrageConfig):
        super().__init__(connectors, config)
        self.config = config
        self.pair: Optional[PairState] = None
        self.orders: Dict[str, Tuple[str, str, str]] = {}  # order id -> (connector, trading pair, entry/exit)
        self.history = FundingHistory()
        self.history_problems: List[str] = []
        self.closed_totals: Dict[str, Decimal] = {}
        self.closed_pairs = 0
        self._started = False
        self._startup_task: Optional[asyncio.Task] = None
        self._history_task: Optional[asyncio.Task] = None
        self._next_history_update = 0.0
        self._last_close = 0.0
        self._last_close_attempt = 0.0
        self._last_funding_poll = 0.0
        self._warned_size = False
        self._leg_settings_applied = False
        self.target_amount = Decimal(0)
        slug = f"{config.lighter_trading_pair}_{config.extended_trading_pair}".replace("/", "-")
        folder = Path(data_path())
        self.state_path = folder / f"lighter_extended_arbitrage_{slug}.json"
        self.ledger_path = folder / f"lighter_extended_arbitrage_{slug}_ledger.csv"
        self.history_path = folder / f"lighter_extended_arbitrage_{slug}_funding.json"

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

    def mid(self, leg: Tuple[str, str]) -> Decimal:
        return self.connectors[leg[0]].get_mid_price(leg[1])

    def mid_spread(self, long_leg: Tuple[str, str], short_leg: Tuple[str, str]) -> Decimal:
        return (self.mid(short_leg) - self.mid(long_leg)) / self.mid(long_leg)

    def funding_spread(self) -> Decimal:
        """Extended's hourly funding rate minus Lighter's (both venues fund hourly; both connectors give fractions)."""
        (lighter, lighter_pair), (extended, extended_pair) = self.legs
        return (self.connectors[extended].get_funding_info(extended_pair).rate
                - self.connectors[lighter].get_funding_info(lighter_pair).rate)

    def funding_z(self) -> Tuple[Decimal, Optional[Decimal]]:
        spread = self.funding_spread()
        history = self.history.spreads(self.config.funding_history_days * 24)
        return spread, zscore(history, spread, self.config.funding_min_history_hours)

    def trade_amount(self) -> Optional[Decimal]:
        """The configured amount on the coarser size step of the two venues, if it meets both venues' minimums."""
        rules = [self.connectors[c].trading_rules[p] for c, p in self.legs]
        step = max(rule.min_base_amount_increment for rule in rules)
        amount = (self.config.order_amount / step).to_integral_value(rounding=ROUND_DOWN) * step
        price = self.mid(self.legs[0])
        fits = all(amount >= rule.min_order_size and amount * price >= rule.min_notional_size for rule in rules)
        fits = fits and all(self.connectors[c].quantize_order_amount(p, amount) == amount for c, p in self.legs)
        if not fits:
            if not self._warned_size:
                self.logger().warning(f"order_amount {self.config.order_amount} is below a venue's minimum or off "
                                      f"its size step (step {step}); no pair is opened.")
                self._warned_size = True
            return None
        return amount

    def venue_position(self, leg: Tuple[str, str]) -> Tuple[Decimal, Decimal]:
        """(signed size, entry price) of the venue's position on this leg, (0, 0) without one."""
        for position in self.connectors[leg[0]].account_positions.values():
            if position.trading_pair == leg[1] and position.amount:
                sign = -1 if position.position_side == PositionSide.SHORT else 1
                return sign * abs(position.amount), position.entry_price
        return Decimal(0), Decimal(0)

    # ---- start: history, the venues' positions, the saved pair ------------------------------------------

    async def startup(self):
        try:
            for row in self.read_ledger():
                self.closed_pairs += 1
                for key in ("price_pnl", "fees", "funding", "net"):
                    self.closed_totals[key] = self.closed_totals.get(key, Decimal(0)) + Decimal(row[key])
            if self.config.funding_enabled:
                cached = read_json(self.history_path)
                if cached:
                    self.history = FundingHistory.from_json(cached)
                await self.update_funding_history()
            await asyncio.gather(*(self.connectors[c]._update_positions() for c in {c for c, _ in self.legs}))
            self.adopt_positions()
        except Exception:
            self.logger().error("Starting the arbitrage failed; it retries in 10 s.", exc_info=True)
            await asyncio.sleep(10)
            self._startup_task = None
            return
        self._started = True

    def read_ledger(self) -> List[Dict[str, str]]:
        if not self.ledger_path.exists():
            return []
        with open(self.ledger_path, newline="") as f:
            return list(csv.DictReader(f))

    async def update_funding_history(self):
        lighter, extended = (self.connectors[c] for c, _ in self.legs)
        market_id = int(await lighter.exchange_symbol_associated_to_pair(trading_pair=self.legs[0][1]))
        market = await extended.exchange_symbol_associated_to_pair(trading_pair=self.legs[1][1])

        async def lighter_get(path, params):
            return await lighter._api_get(path_url=path, params=params, limit_id=LIGHTER_CONSTANTS.ALL_ENDPOINTS_LIMIT)

        async def extended_get(path, params):
            return await extended._api_get(path_url=path, params=params,
                                           limit_id=EXTENDED_CONSTANTS.ALL_ENDPOINTS_LIMIT)

        now = self.current_timestamp or time.time()
        try:
            problems = await update_history(self.history, lighter_get, market_id, extended_get, market,
                                            self.config.funding_history_days, now)
        except Exception as e:
            self.logger().warning(f"Could not read the funding history ({e}); the fixed funding thresholds apply "
                                  f"until it can.", exc_info=True)
            self._next_history_update = now + 300
            return
        self._next_history_update = hour_of(now) + HOUR + 60
        write_json_atomic(self.history_path, self.history.to_json())
        if problems != self.history_problems:
            for problem in problems:
                self.logger().warning(problem)
        self.history_problems = problems
        spreads = self.history.spreads(self.config.funding_history_days * 24)
        self.logger().info(f"Funding history: {len(spreads)} hours on both venues up to "
                           f"{self.history.last_hour()} (gaps: {'none' if not problems else '; '.join(problems)}).")

    def adopt_positions(self):
        (lighter_size, lighter_entry), (extended_size, extended_entry) = (self.venue_position(leg) for leg in self.legs)
        saved = read_json(self.state_path)
        saved = PairState.from_json(saved) if saved else None
        if not lighter_size and not extended_size:
            if saved is not None:
                self.logger().info(f"The saved pair ({saved.reason}) is no longer held on the venues; forgotten.")
                self.state_path.unlink()
            return
        found = [(leg, size, entry) for leg, size, entry in ((self.legs[0], lighter_size, lighter_entry),
                                                             (self.legs[1], extended_size, extended_entry)) if size]
        hedged = len(found) == 2 and lighter_size == -extended_size
        matches = saved is not None and all(
            (saved_leg := saved.leg(*leg)) is not None and saved_leg.side * (saved_leg.amount - saved_leg.exit_amount)
            == size for leg, size, _ in found) and len(saved.legs) == len(found)
        if matches:
            pair = saved
            pair.status = "open"
        else:
            pair = PairState(reason=ADOPTED, opened_at=self.current_timestamp, entry_signal="unknown", legs=[
                Leg(connector=leg[0], trading_pair=leg[1], side=1 if size > 0 else -1, amount=abs(size),
                    entry_quote=abs(size) * entry) for leg, size, entry in found])
        self.pair = pair
        described = ", ".join(f"{'long' if size > 0 else 'short'} {abs(size)} on {leg[0]}" for leg, size, _ in found)
        if hedged or self.config.unmatched_leg_policy == "adopt":
            self.logger().info(f"Adopted the {'hedged pair' if hedged else 'unmatched position'} ({pair.reason}): "
                               f"{described}.")
            self.save_pair()
        else:
            self.logger().warning(f"Unmatched position at start: {described}; closing it (unmatched_leg_policy "
                                  f"flatten).")
            self.close_pair("unmatched leg at start")

    # ---- decisions ---------------------------------------------------------------------------------------

    def on_tick(self):
        if not self._leg_settings_applied:
            self.apply_leg_settings()
        if not self._started:
            if self._startup_task is None:
                self._startup_task = safe_ensure_future(self.startup())
            return
        if (self.config.funding_enabled and self.current_timestamp >= self._next_history_update
                and (self._history_task is None or self._history_task.done())):
            self._history_task = safe_ensure_future(self.update_funding_history())
        self.poll_funding_payments()
        if self._is_stop_triggered:
            return
        if self.pair is None:
            if self.current_timestamp - self._last_close >= self.config.cooldown:
                self.maybe_open()
        else:
            self.manage_pair()

    def poll_funding_payments(self):
        """Asks the connectors' own funding payment loop to look now (it emits FundingPaymentCompletedEvent)."""
        interval = self.config.funding_payment_poll_interval
        if interval and self.pair is not None and self.current_timestamp - self._last_funding_poll >= interval:
            self._last_funding_poll = self.current_timestamp
            for connector in {leg.connector for leg in self.pair.legs}:
                self.connectors[connector]._funding_fee_poll_notifier.set()

    def funding_signal(self, entry: bool) -> int:
        if not self.config.funding_enabled:
            return 0
        spread, z = self.funding_z()
        return funding_direction(z, spread, entry, self.config.funding_entry_z, self.config.funding_exit_z,
                                 self.config.funding_entry_spread, self.config.funding_exit_spread)

    def maybe_open(self):
        amount = self.trade_amount()
        if amount is None:
            return
        lighter, extended = self.legs
        for long_leg, short_leg in ((extended, lighter), (lighter, extended)):
            edge = self.price_edge(long_leg, short_leg, amount)
            if edge >= self.config.entry_spread:
                self.logger().info(f"Price spread {edge:.5f} net of fees: long {long_leg[0]}, short {short_leg[0]}")
                self.open_pair(PRICE, f"net price spread {edge:.5f}", long_leg, short_leg, amount)
                return
        direction = self.funding_signal(entry=True)
        if direction:
            spread, z = self.funding_z()
            long_leg, short_leg = (lighter, extended) if direction > 0 else (extended, lighter)
            signal = f"funding spread {spread:.6f}/h, z-score {'n/a' if z is None else f'{z:.2f}'}"
            self.logger().info(f"Funding spread {spread:.6f}/h (z-score {'n/a' if z is None else f'{z:.2f}'}): "
                               f"long {long_leg[0]}, short {short_leg[0]}")
            self.open_pair(FUNDING, signal, long_leg, short_leg, amount)

    def place(self, leg: Leg, amount: Decimal, action: PositionAction, phase: str):
        buy = (leg.side > 0) == (phase == ENTRY)
        order = self.buy if buy else self.sell
        order_id = order(leg.connector, leg.trading_pair, amount, OrderType.MARKET, position_action=action)
        self.orders[order_id] = (leg.connector, leg.trading_pair, phase)

    def open_pair(self, reason: str, signal: str, long_leg: Tuple[str, str], short_leg: Tuple[str, str],
                  amount: Decimal):
        self.pair = PairState(reason=reason, opened_at=self.current_timestamp, entry_signal=signal, status="opening",
                              legs=[Leg(connector=long_leg[0], trading_pair=long_leg[1], side=1),
                                    Leg(connector=short_leg[0], trading_pair=short_leg[1], side=-1)])
        self.target_amount = amount
        self.save_pair()
        for leg in self.pair.legs:
            self.place(leg, amount, PositionAction.OPEN, ENTRY)

    def held_direction(self) -> int:
        """+1 when the pair is long Lighter (or short Extended), -1 the reverse."""
        lighter = self.pair.leg(*self.legs[0])
        extended = self.pair.leg(*self.legs[1])
        return lighter.side if lighter is not None else -extended.side

    def manage_pair(self):
        pair = self.pair
        if self.orders:
            return
        if pair.status == "opening":
            if all(leg.amount == self.target_amount for leg in pair.legs):
                pair.status = "open"
                self.save_pair()
                self.logger().info(f"Hedged pair ({pair.reason}) open: {self.target_amount} on both venues.")
            elif not any(leg.amount for leg in pair.legs):
                self.logger().warning(f"Neither leg of the {pair.reason} pair filled; nothing is held.")
                self.forget_pair()
            else:
                self.close_pair("a leg did not fill")
        elif pair.status == "closing":
            if all(leg.exit_amount >= leg.amount for leg in pair.legs):
                self.finish_pair()
            elif self.current_timestamp - self._last_close_attempt >= CLOSE_RETRY_SECONDS:
                self.logger().warning("A closing order did not fill completely; closing the rest again.")
                self.close_pair("retry")
        elif pair.reason == PRICE or (pair.reason == ADOPTED and not self.config.funding_enabled):
            long_leg = next((leg.connector, leg.trading_pair) for leg in pair.legs if leg.side > 0) \
                if len(pair.legs) == 2 else None
            short_leg = next((leg.connector, leg.trading_pair) for leg in pair.legs if leg.side < 0) \
                if len(pair.legs) == 2 else None
            if long_leg is None or self.mid_spread(long_leg, short_leg) <= self.config.exit_spread:
                self.close_pair("price spread reverted")
        elif self.funding_signal(entry=False) != self.held_direction():
            if pair.reason == FUNDING or len(pair.legs) < 2 or self.price_reverted():
                self.close_pair("funding spread reverted")

    def price_reverted(self) -> bool:
        long_leg = next((leg.connector, leg.trading_pair) for leg in self.pair.legs if leg.side > 0)
        short_leg = next((leg.connector, leg.trading_pair) for leg in self.pair.legs if leg.side < 0)
        return self.mid_spread(long_leg, short_leg) <= self.config.exit_spread

    def close_pair(self, why: str):
        pair = self.pair
        if why != "retry":
            self.logger().info(f"Closing the hedged pair ({pair.reason}): {why}.")
        pair.status = "closing"
        self._last_close_attempt = self.current_timestamp
        self.save_pair()
        for leg in pair.legs:
            remaining = leg.amount - leg.exit_amount
            if remaining > 0:
                self.place(leg, remaining, PositionAction.CLOSE, EXIT)

    def finish_pair(self):
        pair = self.pair
        row = ledger_row(pair, self.current_timestamp)
        append_ledger(self.ledger_path, row)
        for key in ("price_pnl", "fees", "funding", "net"):
            self.closed_totals[key] = self.closed_totals.get(key, Decimal(0)) + Decimal(row[key])
        self.closed_pairs += 1
        self.logger().info(f"Net {row['net']} (price {row['price_pnl']}, funding {row['funding']}, fees {row['fees']})"
                           f" for the {pair.reason} pair.")
        self.logger().info(f"Hedged pair ({pair.reason}) closed.")
        self.forget_pair()
        self._last_close = self.current_timestamp

    def forget_pair(self):
        self.pair = None
        if self.state_path.exists():
            self.state_path.unlink()

    def save_pair(self):
        write_json_atomic(self.state_path, self.pair.to_json())

    # ---- events: fills, order ends, funding --------------------------------------------------------------

    def did_fill_order(self, event: OrderFilledEvent):
        tracked = self.orders.get(event.order_id)
        if tracked is None or self.pair is None:
            return
        connector, trading_pair, phase = tracked
        leg = self.pair.leg(connector, trading_pair)
        quote = event.price * event.amount
        if phase == ENTRY:
            leg.amount += event.amount
            leg.entry_quote += quote
        else:
            leg.exit_amount += event.amount
            leg.exit_quote += quote
        # Both venues charge fees in their collateral: the percent of the fill's value plus any flat amount.
        leg.fees += quote * event.trade_fee.percent + sum((fee.amount for fee in event.trade_fee.flat_fees), Decimal(0))
        self.save_pair()

    def order_ended(self, order_id: str):
        self.orders.pop(order_id, None)

    def did_complete_buy_order(self, event):
        self.order_ended(event.order_id)

    def did_complete_sell_order(self, event):
        self.order_ended(event.order_id)

    def did_fail_order(self, event):
        if event.order_id in self.orders:
            self.logger().warning(f"Order {event.order_id} on {self.orders[event.order_id][0]} failed.")
        self.order_ended(event.order_id)

    def did_cancel_order(self, event):
        self.order_ended(event.order_id)

    def did_expire_order(self, event):
        self.order_ended(event.order_id)

    def did_complete_funding_payment(self, event: FundingPaymentCompletedEvent):
        leg = self.pair.leg(event.market, event.trading_pair) if self.pair is not None else None
        if leg is None:
            return
        leg.funding += event.amount
        self.save_pair()
        self.logger().info(f"Funding {event.amount:+f} on {event.market} {event.trading_pair} (rate "
                           f"{event.funding_rate}); the pair's funding is now {self.pair.totals()['funding']:+f}.")

    # ---- stop --------------------------------------------------------------------------------------------

    async def on_stop(self):
        if self.pair is not None and self.config.close_on_stop and self._started:
            missing = [c for c in self.connectors.values() if c not in set(self.active_markets)]
            if missing:
                self.add_markets(missing)
            if self.pair.status != "closing" or not self.orders:
                self.close_pair("the strategy stops")
            for _ in range(STOP_CLOSE_TIMEOUT * 2):
                if self.orders:
                    await asyncio.sleep(0.5)
                    continue
                if all(leg.exit_amount >= leg.amount for leg in self.pair.legs):
                    self.finish_pair()
                    break
                self.close_pair("retry")
                await asyncio.sleep(0.5)
        elif self.pair is not None:
            self.logger().info(f"The {self.pair.reason} pair stays open (close_on_stop is off); the next start adopts "
                               f"it.")
        await super().on_stop()

    # ---- status ------------------------------------------------------------------------------------------

    def format_status(self) -> str:
        if not self.ready_to_trade:
            return "Market connectors are not ready."
        lines = [super().format_status(), ""]
        amount = self.trade_amount() or self.config.order_amount
        lighter, extended = self.legs
        lines.append(f"  Net price spread: long Extended {self.price_edge(extended, lighter, amount):+.5f}, "
                     f"long Lighter {self.price_edge(lighter, extended, amount):+.5f}")
        if self.config.funding_enabled:
            spread, z = self.funding_z()
            hours = len(self.history.spreads(self.config.funding_history_days * 24))
            lines.append(f"  Funding spread (Extended - Lighter): {spread:+.6f}/h, z-score "
                         f"{'n/a' if z is None else f'{z:+.2f}'} over {hours} hours of history")
            lines += [f"  {problem}" for problem in self.history_problems]
        if self.pair is None:
            lines.append("  No hedged pair open.")
        else:
            pair = self.pair
            lines.append(f"  Hedged pair ({pair.reason}, {pair.status}; opened on {pair.entry_signal}):")
            marks = {}
            for leg in pair.legs:
                marks[leg.connector] = self.mid((leg.connector, leg.trading_pair))
                side = "long" if leg.side > 0 else "short"
                lines.append(f"    {leg.connector} {side} {leg.amount - leg.exit_amount} {leg.trading_pair} entry "
                             f"{leg.entry_price:.4f}: price {leg.price_pnl(marks[leg.connector]):+.6f}, "
                             f"funding {leg.funding:+.6f}, fees {-leg.fees:+.6f}")
            totals = pair.totals(marks)
            lines.append(f"    pair: price {totals['price_pnl']:+.6f} + funding {totals['funding']:+.6f} - fees "
                         f"{totals['fees']:.6f} = net {totals['net']:+.6f}")
        if self.closed_pairs:
            totals = self.closed_totals
            lines.append(f"  Closed pairs ({self.closed_pairs}, {self.ledger_path.name}): price "
                         f"{totals['price_pnl']:+.6f} + funding {totals['funding']:+.6f} - fees {totals['fees']:.6f} = "
                         f"net {totals['net']:+.6f}")
        return "\n".join(lines)
