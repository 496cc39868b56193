"""Hedged arbitrage between Lighter and Extended perpetuals on one or more pairs of markets, restart-safe, with a
funding signal seeded from history, risk limits, repair of a missing leg and a ledger of what each pair earned.

For each configured pair of markets (`pairs`: a Lighter trading pair and an Extended one, e.g. ETH-USDC:ETH-USD) it
watches both order books and both (hourly) funding rates. When the price spread net of taker fees, or the funding
spread (Extended's hourly rate minus Lighter's) passes its threshold, it opens a hedged pair: long on one venue,
short on the other, the same size on both, with market orders. At most one hedged pair is held per pair of markets.
The pair is closed when the spread that opened it reverts, and, with `close_on_stop`, when the strategy stops.

- Risk limits: no pair is opened that would bring a venue's notional (size x mid of the legs held there) over
  `max_notional_per_venue`, or both venues' together over `max_total_notional` (0: no cap); an INFO line names the
  cap. No pair is opened while a venue is not ready, its network status is not CONNECTED, the market has no trading
  rule or is not ACTIVE (maintenance, delisting), or its book had no update for `book_stale_seconds`.
- Leg repair: when one leg filled and the other did not (refused, failed or partly filled), the missing amount is
  bought or sold again with a market order while the book's price for it is within `leg_repair_slippage` of the
  price expected when the pair was opened, for up to `leg_repair_seconds`; then what is held is closed.
- Restart-safe: what a pair is (why and at what signal it was opened, its fills, fees and funding) is kept in a JSON
  file per pair of markets in Hummingbot's data folder, rewritten atomically at every change. At start the script
  reads both venues' positions: a hedged pair (same size, opposite sides) is adopted, with its saved record when it
  matches; an unmatched leg is closed (`unmatched_leg_policy: flatten`) or adopted (`adopt`). It never opens a pair
  while one is held.
- Funding signal: `funding_history_days` of hourly funding from both venues' REST history (gap-checked, paginated,
  cached on disk and topped up every hour) give the mean and deviation of the spread; the live spread's z-score
  against them is usable from the first tick. Without enough history the fixed spread thresholds apply.
- Ledger: price PnL from the pair's own fills, fees, and funding from the connectors' funding payment events, per
  leg; shown in `status` and appended to a CSV in the data folder when a pair closes.

The decision and bookkeeping code is in scripts/lighter_extended_funding.py (copy both files into `scripts/`); the
backtest (scripts/lighter_extended_backtest.py) runs the same decisions over funding history.
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
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.core.utils.async_utils import safe_ensure_future
from hummingbot.strategy.strategy_v2_base import StrategyV2Base, StrategyV2ConfigBase
from scripts.lighter_extended_funding import (
    ADOPTED,
    HOUR,
    PRICE,
    Entry,
    FundingHistory,
    Leg,
    PairState,
    Signals,
    Thresholds,
    append_ledger,
    cap_refusal,
    entry_decision,
    exit_decision,
    hour_of,
    ledger_row,
    read_json,
    repair_bound,
    update_history,
    venue_pause,
    within_bound,
    write_json_atomic,
    zscore,
)

ENTRY, EXIT = "entry", "exit"
OPENING, REPAIRING, OPEN, CLOSING = "opening", "repairing", "open", "closing"
CLOSE_RETRY_SECONDS = 5
REPAIR_RETRY_SECONDS = 2
STOP_CLOSE_TIMEOUT = 30
Market = Tuple[str, str]  # (connector, trading pair)


class LighterExtendedArbitrageConfig(StrategyV2ConfigBase):
    script_file_name: str = os.path.basename(__file__)
    lighter_connector: str = "lighter_perpetual"
    extended_connector: str = "extended_perpetual"
    # LIGHTER_PAIR:EXTENDED_PAIR[:AMOUNT], one hedge each; AMOUNT (base) overrides order_amount for that pair.
    pairs: List[str] = Field(default=["ETH-USDC:ETH-USD"], json_schema_extra={
        "prompt": "Pairs of markets, Lighter:Extended[:amount], comma-separated (e.g. ETH-USDC:ETH-USD,"
                  "BTC-USDC:BTC-USD:0.002)", "prompt_on_new": True})
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
    # Caps on the notional held (size x mid, in the venues' USD collateral); 0: no cap.
    max_notional_per_venue: Decimal = Decimal(0)
    max_total_notional: Decimal = Decimal(0)
    # No new pair while a book has had no update (diff or snapshot) for this long; 0: not checked.
    book_stale_seconds: float = 60
    # A missing leg is retried while its price is within this fraction of the expected one, for this long.
    leg_repair_slippage: Decimal = Decimal("0.002")
    leg_repair_seconds: float = 30
    # At start, a position on one venue without its hedge on the other: "flatten" closes it, "adopt" holds it.
    unmatched_leg_policy: str = "flatten"
    close_on_stop: bool = True
    cooldown: int = 10

    @field_validator("pairs", mode="before")
    @classmethod
    def _pairs(cls, value) -> List[str]:
        entries = [part.strip() for part in value.split(",")] if isinstance(value, str) else list(value or [])
        entries = [str(entry).strip() for entry in entries if str(entry).strip()]
        if not entries:
            raise ValueError("pairs needs at least one LIGHTER_PAIR:EXTENDED_PAIR entry, e.g. ETH-USDC:ETH-USD.")
        seen = set()
        for entry in entries:
            parts = entry.split(":")
            if len(parts) not in (2, 3) or not all(parts[:2]) or any("-" not in part for part in parts[:2]):
                raise ValueError(f"pairs entry {entry!r} is not LIGHTER_PAIR:EXTENDED_PAIR[:AMOUNT], "
                                 f"e.g. ETH-USDC:ETH-USD:0.05.")
            if len(parts) == 3:
                try:
                    if Decimal(parts[2]) <= 0:
                        raise ValueError
                except (ArithmeticError, ValueError):
                    raise ValueError(f"pairs entry {entry!r}: the amount {parts[2]!r} is not a positive number.")
            for market in parts[:2]:
                if market in seen:
                    raise ValueError(f"pairs: {market} is in more than one entry; one hedge per market.")
                seen.add(market)
        return entries

    @field_validator("unmatched_leg_policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        if value not in ("flatten", "adopt"):
            raise ValueError(f"unmatched_leg_policy must be flatten or adopt, not {value!r}.")
        return value

    def pair_specs(self) -> List[Tuple[str, str, Decimal]]:
        """(Lighter trading pair, Extended trading pair, base amount) of each configured pair."""
        specs = []
        for entry in self.pairs:
            parts = entry.split(":")
            specs.append((parts[0], parts[1], Decimal(parts[2]) if len(parts) == 3 else self.order_amount))
        return specs

    def thresholds(self) -> Thresholds:
        return Thresholds(self.entry_spread, self.exit_spread, self.funding_enabled, self.funding_entry_z,
                          self.funding_exit_z, self.funding_entry_spread, self.funding_exit_spread)

    def update_markets(self, markets: MarketDict) -> MarketDict:
        for lighter_pair, extended_pair, _ in self.pair_specs():
            markets = markets.add_or_update(self.lighter_connector, lighter_pair)
            markets = markets.add_or_update(self.extended_connector, extended_pair)
        return markets


class Hedge:
    """One configured pair of markets, its files, its funding history and the hedged pair held on it (at most one)."""

    def __init__(self, lighter: Market, extended: Market, order_amount: Decimal, folder: Path):
        self.legs: List[Market] = [lighter, extended]
        self.label = f"{lighter[1]}/{extended[1]}"
        self.order_amount = order_amount
        self.pair: Optional[PairState] = None
        self.history = FundingHistory()
        self.history_problems: List[str] = []
        self.history_task: Optional[asyncio.Task] = None
        self.next_history_update = 0.0
        self.target_amount = Decimal(0)
        self.last_close = 0.0
        self.last_close_attempt = 0.0
        self.repair_started = 0.0
        self.last_repair_attempt = 0.0
        self.repair_waiting = False  # the missing leg's price is beyond the bound: said once
        self.warned_size = False
        self.refusal: Optional[str] = None  # the last reason logged for not opening, said once until it changes
        slug = f"{lighter[1]}_{extended[1]}".replace("/", "-")
        self.state_path = folder / f"lighter_extended_arbitrage_{slug}.json"
        self.ledger_path = folder / f"lighter_extended_arbitrage_{slug}_ledger.csv"
        self.history_path = folder / f"lighter_extended_arbitrage_{slug}_funding.json"

    def held_direction(self) -> int:
        """+1 when the pair is long Lighter (or short Extended), -1 the reverse."""
        lighter = self.pair.leg(*self.legs[0])
        extended = self.pair.leg(*self.legs[1])
        return lighter.side if lighter is not None else -extended.side

    def side_markets(self) -> Tuple[Optional[Market], Optional[Market]]:
        """(long market, short market) of the held pair; None for a side without a leg."""
        long_leg = next(((leg.connector, leg.trading_pair) for leg in self.pair.legs if leg.side > 0), None)
        short_leg = next(((leg.connector, leg.trading_pair) for leg in self.pair.legs if leg.side < 0), None)
        return long_leg, short_leg


class LighterExtendedArbitrage(StrategyV2Base):
    def __init__(self, connectors: Dict[str, ConnectorBase], config: LighterExtendedArbitrageConfig):
        super().__init__(connectors, config)
        self.config = config
        self.thresholds = config.thresholds()
        folder = Path(data_path())
        self.hedges: List[Hedge] = [
            Hedge((config.lighter_connector, lighter_pair), (config.extended_connector, extended_pair), amount, folder)
            for lighter_pair, extended_pair, amount in config.pair_specs()]
        # order id -> (hedge, connector, trading pair, entry/exit)
        self.orders: Dict[str, Tuple[Hedge, str, str, str]] = {}
        self.closed_totals: Dict[str, Decimal] = {}
        self.closed_pairs = 0
        self._started = False
        self._startup_task: Optional[asyncio.Task] = None
        self._last_funding_poll = 0.0
        self._leg_settings_applied = False

    def apply_leg_settings(self):
        # Once the connectors are ready: a venue's leverage call needs its markets loaded.
        self._leg_settings_applied = True
        for hedge in self.hedges:
            for connector, pair in hedge.legs:
                self.set_position_mode(connector, PositionMode.ONEWAY)
                self.set_leverage(connector, pair, self.config.leverage)

    # ---- market views ------------------------------------------------------------------------------------

    def executable_price(self, leg: Market, is_buy: bool, amount: Decimal) -> Decimal:
        return self.connectors[leg[0]].get_price_for_volume(leg[1], is_buy, amount).result_price

    def taker_fee(self, leg: Market, is_buy: bool, amount: Decimal, price: Decimal) -> Decimal:
        base, quote = leg[1].split("-")
        side = TradeType.BUY if is_buy else TradeType.SELL
        fee = self.connectors[leg[0]].get_fee(base, quote, OrderType.MARKET, side, PositionAction.OPEN, amount, price,
                                              is_maker=False)
        return fee.percent

    def price_edge(self, long_leg: Market, short_leg: Market, amount: Decimal) -> Decimal:
        """Buying `amount` on long_leg and selling it on short_leg: the spread over the buy price, after fees."""
        buy = self.executable_price(long_leg, True, amount)
        sell = self.executable_price(short_leg, False, amount)
        if not buy or not sell or buy.is_nan() or sell.is_nan():
            return Decimal("NaN")
        fees = self.taker_fee(long_leg, True, amount, buy) + self.taker_fee(short_leg, False, amount, sell)
        return (sell - buy) / buy - fees

    def mid(self, leg: Market) -> Decimal:
        return self.connectors[leg[0]].get_mid_price(leg[1])

    def mid_spread(self, long_leg: Market, short_leg: Market) -> Decimal:
        return (self.mid(short_leg) - self.mid(long_leg)) / self.mid(long_leg)

    def funding_spread(self, hedge: Hedge) -> Decimal:
        """Extended's hourly funding rate minus Lighter's (both venues fund hourly; both connectors give fractions)."""
        (lighter, lighter_pair), (extended, extended_pair) = hedge.legs
        return (self.connectors[extended].get_funding_info(extended_pair).rate
                - self.connectors[lighter].get_funding_info(lighter_pair).rate)

    def funding_z(self, hedge: Hedge) -> Tuple[Decimal, Optional[Decimal]]:
        spread = self.funding_spread(hedge)
        history = hedge.history.spreads(self.config.funding_history_days * 24)
        return spread, zscore(history, spread, self.config.funding_min_history_hours)

    def signals(self, hedge: Hedge, amount: Optional[Decimal] = None) -> Signals:
        """What the books and funding rates show now; edges only with an amount to price them."""
        signals = Signals()
        lighter, extended = hedge.legs
        if amount is not None:
            signals.long_extended_edge = self.price_edge(extended, lighter, amount)
            signals.long_lighter_edge = self.price_edge(lighter, extended, amount)
        if self.config.funding_enabled:
            signals.funding_spread, signals.funding_z = self.funding_z(hedge)
        if hedge.pair is not None:
            long_leg, short_leg = hedge.side_markets()
            if long_leg is not None and short_leg is not None:
                signals.held_mid_spread = self.mid_spread(long_leg, short_leg)
        return signals

    def trade_amount(self, hedge: Hedge) -> Optional[Decimal]:
        """The pair's amount on the coarser size step of the two venues, if it meets both venues' minimums."""
        rules = [self.connectors[c].trading_rules[p] for c, p in hedge.legs]
        step = max(rule.min_base_amount_increment for rule in rules)
        amount = (hedge.order_amount / step).to_integral_value(rounding=ROUND_DOWN) * step
        price = self.mid(hedge.legs[0])
        fits = all(amount >= rule.min_order_size and amount * price >= rule.min_notional_size for rule in rules)
        fits = fits and all(self.connectors[c].quantize_order_amount(p, amount) == amount for c, p in hedge.legs)
        if not fits:
            if not hedge.warned_size:
                self.logger().warning(f"The amount {hedge.order_amount} of {hedge.label} is below a venue's minimum "
                                      f"or off its size step (step {step}); no pair is opened there.")
                hedge.warned_size = True
            return None
        return amount

    def venue_position(self, leg: Market) -> Tuple[Decimal, Decimal]:
        """(signed size, entry price) of the venue's position on this leg, (0, 0) without one."""
        for position in self.connectors[leg[0]].account_positions.values():
            if position.trading_pair == leg[1] and position.amount:
                sign = -1 if position.position_side == PositionSide.SHORT else 1
                return sign * abs(position.amount), position.entry_price
        return Decimal(0), Decimal(0)

    def book_age(self, leg: Market) -> Optional[float]:
        """Seconds since the order book tracker last routed a diff or a snapshot of this market (None: not known).
        Hummingbot's tracker stamps them with time.perf_counter()."""
        tracker = getattr(self.connectors[leg[0]], "order_book_tracker", None)
        metrics = getattr(getattr(tracker, "metrics", None), "per_pair_metrics", {}).get(leg[1])
        if metrics is None:
            return None
        last = max(metrics.last_diff_timestamp, metrics.last_snapshot_timestamp, metrics.tracking_start_time)
        return time.perf_counter() - last if last else None

    def pause_reason(self, hedge: Hedge) -> Optional[str]:
        for leg in hedge.legs:
            connector = self.connectors[leg[0]]
            # Extended keeps each listed market's status (ACTIVE, REDUCE_ONLY, DISABLED...); Lighter drops an inactive
            # market from its trading rules.
            status = getattr(connector, "_market_status", {}).get(leg[1])
            reason = venue_pause(leg[0], leg[1], connector.ready, connector.network_status == NetworkStatus.CONNECTED,
                                 leg[1] in connector.trading_rules, status, self.book_age(leg),
                                 self.config.book_stale_seconds)
            if reason is not None:
                return reason
        return None

    def notional_held(self) -> Dict[str, Decimal]:
        """Per venue, size x mid of every leg held or being opened (a pair being opened counts at its target)."""
        held: Dict[str, Decimal] = {}
        for hedge in self.hedges:
            if hedge.pair is None:
                continue
            for leg in hedge.pair.legs:
                size = leg.amount - leg.exit_amount
                if hedge.pair.status in (OPENING, REPAIRING):
                    size = max(size, hedge.target_amount)
                held[leg.connector] = held.get(leg.connector, Decimal(0)) + size * self.mid(
                    (leg.connector, leg.trading_pair))
        return held

    # ---- start: history, the venues' positions, the saved pairs -----------------------------------------

    async def startup(self):
        try:
            self.closed_pairs, self.closed_totals = 0, {}
            for hedge in self.hedges:
                for row in self.read_ledger(hedge):
                    self.closed_pairs += 1
                    for key in ("price_pnl", "fees", "funding", "net"):
                        self.closed_totals[key] = self.closed_totals.get(key, Decimal(0)) + Decimal(row[key])
                if self.config.funding_enabled:
                    cached = read_json(hedge.history_path)
                    if cached:
                        hedge.history = FundingHistory.from_json(cached)
                    await self.update_funding_history(hedge)
            connectors = {c for hedge in self.hedges for c, _ in hedge.legs}
            await asyncio.gather(*(self.connectors[c]._update_positions() for c in connectors))
            for hedge in self.hedges:
                self.adopt_positions(hedge)
        except Exception:
            self.logger().error("Starting the arbitrage failed; it retries in 10 s.", exc_info=True)
            await asyncio.sleep(10)
            self._startup_task = None
            return
        self._started = True
        history = ", funding history read" if self.config.funding_enabled else ""
        self.logger().info(f"Started on {len(self.hedges)} pair(s) of markets at tick {self.current_timestamp:.0f} "
                           f"(positions read{history}); decisions from the next tick.")

    @staticmethod
    def read_ledger(hedge: Hedge) -> List[Dict[str, str]]:
        if not hedge.ledger_path.exists():
            return []
        with open(hedge.ledger_path, newline="") as f:
            return list(csv.DictReader(f))

    async def update_funding_history(self, hedge: Hedge):
        lighter, extended = (self.connectors[c] for c, _ in hedge.legs)
        market_id = int(await lighter.exchange_symbol_associated_to_pair(trading_pair=hedge.legs[0][1]))
        market = await extended.exchange_symbol_associated_to_pair(trading_pair=hedge.legs[1][1])

        async def lighter_get(path, params):
            return await lighter._api_get(path_url=path, params=params, limit_id=LIGHTER_CONSTANTS.ALL_ENDPOINTS_LIMIT)

        async def extended_get(path, params):
            return await extended._api_get(path_url=path, params=params,
                                           limit_id=EXTENDED_CONSTANTS.ALL_ENDPOINTS_LIMIT)

        now = self.current_timestamp or time.time()
        try:
            problems = await update_history(hedge.history, lighter_get, market_id, extended_get, market,
                                            self.config.funding_history_days, now)
        except Exception as e:
            self.logger().warning(f"Could not read the funding history of {hedge.label} ({e}); the fixed funding "
                                  f"thresholds apply until it can.", exc_info=True)
            hedge.next_history_update = now + 300
            return
        hedge.next_history_update = hour_of(now) + HOUR + 60
        write_json_atomic(hedge.history_path, hedge.history.to_json())
        if problems != hedge.history_problems:
            for problem in problems:
                self.logger().warning(problem)
        hedge.history_problems = problems
        spreads = hedge.history.spreads(self.config.funding_history_days * 24)
        self.logger().info(f"Funding history of {hedge.label}: {len(spreads)} hours on both venues up to "
                           f"{hedge.history.last_hour()} (gaps: {'none' if not problems else '; '.join(problems)}).")

    def adopt_positions(self, hedge: Hedge):
        lighter_leg, extended_leg = hedge.legs
        (lighter_size, lighter_entry), (extended_size, extended_entry) = (self.venue_position(leg)
                                                                          for leg in hedge.legs)
        saved = read_json(hedge.state_path)
        saved = PairState.from_json(saved) if saved else None
        if not lighter_size and not extended_size:
            if saved is not None:
                self.logger().info(f"The saved {hedge.label} pair ({saved.reason}) is no longer held on the venues; "
                                   f"forgotten.")
                hedge.state_path.unlink()
            return
        found = [(leg, size, entry) for leg, size, entry in ((lighter_leg, lighter_size, lighter_entry),
                                                             (extended_leg, extended_size, extended_entry)) if size]
        hedged = len(found) == 2 and lighter_size == -extended_size
        matches = saved is not None and all(
            (saved_leg := saved.leg(*leg)) is not None and saved_leg.side * (saved_leg.amount - saved_leg.exit_amount)
            == size for leg, size, _ in found) and len(saved.legs) == len(found)
        if matches:
            pair = saved
            pair.status = OPEN
        else:
            pair = PairState(reason=ADOPTED, opened_at=self.current_timestamp, entry_signal="unknown", legs=[
                Leg(connector=leg[0], trading_pair=leg[1], side=1 if size > 0 else -1, amount=abs(size),
                    entry_quote=abs(size) * entry) for leg, size, entry in found])
        hedge.pair = pair
        described = ", ".join(f"{'long' if size > 0 else 'short'} {abs(size)} on {leg[0]}" for leg, size, _ in found)
        if hedged or self.config.unmatched_leg_policy == "adopt":
            self.logger().info(f"Adopted the {'hedged pair' if hedged else 'unmatched position'} {hedge.label} "
                               f"({pair.reason}): {described}.")
            self.save_pair(hedge)
        else:
            self.logger().warning(f"Unmatched position at start on {hedge.label}: {described}; closing it "
                                  f"(unmatched_leg_policy flatten).")
            self.close_pair(hedge, "unmatched leg at start")

    # ---- decisions ---------------------------------------------------------------------------------------

    def on_tick(self):
        if not self._leg_settings_applied:
            self.apply_leg_settings()
        if not self._started:
            if self._startup_task is None:
                self._startup_task = safe_ensure_future(self.startup())
            return
        for hedge in self.hedges:
            if (self.config.funding_enabled and self.current_timestamp >= hedge.next_history_update
                    and (hedge.history_task is None or hedge.history_task.done())):
                hedge.history_task = safe_ensure_future(self.update_funding_history(hedge))
        self.poll_funding_payments()
        if self._is_stop_triggered:
            return
        for hedge in self.hedges:
            if hedge.pair is None:
                if self.current_timestamp - hedge.last_close >= self.config.cooldown:
                    self.maybe_open(hedge)
            else:
                self.manage_pair(hedge)

    def poll_funding_payments(self):
        """Asks the connectors' own funding payment loop to look now (it emits FundingPaymentCompletedEvent)."""
        interval = self.config.funding_payment_poll_interval
        held = {leg.connector for hedge in self.hedges if hedge.pair is not None for leg in hedge.pair.legs}
        if interval and held and self.current_timestamp - self._last_funding_poll >= interval:
            self._last_funding_poll = self.current_timestamp
            for connector in held:
                self.connectors[connector]._funding_fee_poll_notifier.set()

    def refuse(self, hedge: Hedge, reason: Optional[str]):
        """Says once (until it changes) why a pair that would be opened is not."""
        if reason is not None and reason != hedge.refusal:
            self.logger().info(f"Not opening a pair on {hedge.label}: {reason}.")
        hedge.refusal = reason

    def maybe_open(self, hedge: Hedge):
        pause = self.pause_reason(hedge)
        if pause is not None:
            self.refuse(hedge, pause)
            return
        amount = self.trade_amount(hedge)
        if amount is None:
            return
        entry = entry_decision(self.signals(hedge, amount), self.thresholds)
        if entry is None:
            self.refuse(hedge, None)
            return
        lighter, extended = hedge.legs
        long_leg, short_leg = (lighter, extended) if entry.direction > 0 else (extended, lighter)
        adding = {leg[0]: amount * self.mid(leg) for leg in hedge.legs}
        refusal = cap_refusal(adding, self.notional_held(), self.config.max_notional_per_venue,
                              self.config.max_total_notional)
        if refusal is not None:
            self.refuse(hedge, f"{entry.signal} (long {long_leg[0]}, short {short_leg[0]}), but {refusal}")
            return
        hedge.refusal = None
        kind = "Price" if entry.reason == PRICE else "Funding"
        self.logger().info(f"{kind} signal on {hedge.label}: {entry.signal}: long {long_leg[0]}, short "
                           f"{short_leg[0]}")
        self.open_pair(hedge, entry, long_leg, short_leg, amount)

    def place(self, hedge: Hedge, leg: Leg, amount: Decimal, action: PositionAction, phase: str):
        buy = (leg.side > 0) == (phase == ENTRY)
        order = self.buy if buy else self.sell
        order_id = order(leg.connector, leg.trading_pair, amount, OrderType.MARKET, position_action=action)
        self.orders[order_id] = (hedge, leg.connector, leg.trading_pair, phase)

    def open_pair(self, hedge: Hedge, entry: Entry, long_leg: Market, short_leg: Market, amount: Decimal):
        hedge.pair = PairState(reason=entry.reason, opened_at=self.current_timestamp, entry_signal=entry.signal,
                               status=OPENING, legs=[
                                   Leg(connector=long_leg[0], trading_pair=long_leg[1], side=1,
                                       expected_price=self.executable_price(long_leg, True, amount)),
                                   Leg(connector=short_leg[0], trading_pair=short_leg[1], side=-1,
                                       expected_price=self.executable_price(short_leg, False, amount))])
        hedge.target_amount = amount
        self.save_pair(hedge)
        for leg in hedge.pair.legs:
            self.place(hedge, leg, amount, PositionAction.OPEN, ENTRY)

    def has_orders(self, hedge: Hedge) -> bool:
        return any(tracked[0] is hedge for tracked in self.orders.values())

    def missing(self, hedge: Hedge) -> List[Tuple[Leg, Decimal]]:
        """The legs short of the target amount, with what they miss on their venue's size step."""
        found = []
        for leg in hedge.pair.legs:
            short = self.connectors[leg.connector].quantize_order_amount(leg.trading_pair,
                                                                         hedge.target_amount - leg.amount)
            if short > 0:
                found.append((leg, short))
        return found

    def manage_pair(self, hedge: Hedge):
        pair = hedge.pair
        if self.has_orders(hedge):
            return
        if pair.status in (OPENING, REPAIRING):
            missing = self.missing(hedge)
            if not missing:
                repaired = " (its missing leg repaired)" if pair.status == REPAIRING else ""
                pair.status = OPEN
                self.save_pair(hedge)
                self.logger().info(f"Hedged pair {hedge.label} ({pair.reason}) open{repaired}: {hedge.target_amount} "
                                   f"on both venues.")
            elif not any(leg.amount for leg in pair.legs):
                self.logger().warning(f"Neither leg of the {pair.reason} pair on {hedge.label} filled; nothing is "
                                      f"held.")
                self.forget_pair(hedge)
            elif pair.status == OPENING:
                self.start_repair(hedge, missing)
            elif self.current_timestamp - hedge.repair_started >= self.config.leg_repair_seconds:
                self.close_pair(hedge, f"its missing leg was not repaired within {self.config.leg_repair_seconds:g} s")
            else:
                self.repair(hedge, missing)
        elif pair.status == CLOSING:
            if all(leg.exit_amount >= leg.amount for leg in pair.legs):
                self.finish_pair(hedge)
            elif self.current_timestamp - hedge.last_close_attempt >= CLOSE_RETRY_SECONDS:
                self.logger().warning(f"A closing order of {hedge.label} did not fill completely; closing the rest "
                                      f"again.")
                self.close_pair(hedge, "retry")
        else:
            why = exit_decision(pair.reason, hedge.held_direction(), len(pair.legs) == 2, self.signals(hedge),
                                self.thresholds)
            if why is not None:
                self.close_pair(hedge, why)

    def start_repair(self, hedge: Hedge, missing: List[Tuple[Leg, Decimal]]):
        pair = hedge.pair
        pair.status = REPAIRING
        hedge.repair_started = self.current_timestamp
        hedge.last_repair_attempt = 0.0
        hedge.repair_waiting = False
        self.save_pair(hedge)
        held = ", ".join(f"{leg.amount.normalize():f} on {leg.connector}" for leg in pair.legs)
        wanted = ", ".join(f"{amount.normalize():f} on {leg.connector}" for leg, amount in missing)
        self.logger().warning(f"One leg of the {pair.reason} pair on {hedge.label} did not fill ({held} of "
                              f"{hedge.target_amount}): retrying {wanted} within {self.config.leg_repair_slippage} of "
                              f"the expected price for up to {self.config.leg_repair_seconds:g} s, then closing what "
                              f"is held.")
        if self.config.leg_repair_seconds <= 0:
            self.close_pair(hedge, "leg repair is off (leg_repair_seconds 0)")
        else:
            self.repair(hedge, missing)

    def repair(self, hedge: Hedge, missing: List[Tuple[Leg, Decimal]]):
        if self.current_timestamp - hedge.last_repair_attempt < REPAIR_RETRY_SECONDS:
            return
        hedge.last_repair_attempt = self.current_timestamp
        if self.pause_reason(hedge) is not None:
            return
        for leg, amount in missing:
            is_buy = leg.side > 0
            market = (leg.connector, leg.trading_pair)
            price = self.executable_price(market, is_buy, amount)
            bound = repair_bound(leg.expected_price, is_buy, self.config.leg_repair_slippage)
            if within_bound(price, bound, is_buy):
                self.logger().info(f"Repairing the {hedge.label} pair: {'buying' if is_buy else 'selling'} "
                                   f"{amount.normalize():f} on {leg.connector} at about {price} (bound {bound:.6f}).")
                self.place(hedge, leg, amount, PositionAction.OPEN, ENTRY)
            elif not hedge.repair_waiting:
                hedge.repair_waiting = True
                self.logger().info(f"The {leg.connector} price {price} for the missing {amount.normalize():f} of "
                                   f"{hedge.label} is beyond the repair bound {bound:.6f}; waiting.")

    def close_pair(self, hedge: Hedge, why: str):
        pair = hedge.pair
        if why != "retry":
            self.logger().info(f"Closing the hedged pair {hedge.label} ({pair.reason}): {why}.")
        pair.status = CLOSING
        hedge.last_close_attempt = self.current_timestamp
        self.save_pair(hedge)
        for leg in pair.legs:
            remaining = leg.amount - leg.exit_amount
            if remaining > 0:
                self.place(hedge, leg, remaining, PositionAction.CLOSE, EXIT)

    def finish_pair(self, hedge: Hedge):
        pair = hedge.pair
        row = ledger_row(pair, self.current_timestamp)
        append_ledger(hedge.ledger_path, row)
        for key in ("price_pnl", "fees", "funding", "net"):
            self.closed_totals[key] = self.closed_totals.get(key, Decimal(0)) + Decimal(row[key])
        self.closed_pairs += 1
        self.logger().info(f"Net {row['net']} (price {row['price_pnl']}, funding {row['funding']}, fees "
                           f"{row['fees']}) for the {pair.reason} pair on {hedge.label}.")
        self.logger().info(f"Hedged pair {hedge.label} ({pair.reason}) closed.")
        self.forget_pair(hedge)
        hedge.last_close = self.current_timestamp

    def forget_pair(self, hedge: Hedge):
        hedge.pair = None
        if hedge.state_path.exists():
            hedge.state_path.unlink()

    @staticmethod
    def save_pair(hedge: Hedge):
        write_json_atomic(hedge.state_path, hedge.pair.to_json())

    # ---- events: fills, order ends, funding --------------------------------------------------------------

    def did_fill_order(self, event: OrderFilledEvent):
        tracked = self.orders.get(event.order_id)
        if tracked is None or tracked[0].pair is None:
            return
        hedge, connector, trading_pair, phase = tracked
        leg = hedge.pair.leg(connector, trading_pair)
        quote = event.price * event.amount
        if phase == ENTRY:
            leg.amount += event.amount
            leg.entry_quote += quote
        else:
            leg.exit_amount += event.amount
            leg.exit_quote += quote
        # Both venues charge fees in their collateral: the percent of the fill's value plus any flat amount.
        leg.fees += quote * event.trade_fee.percent + sum((fee.amount for fee in event.trade_fee.flat_fees), Decimal(0))
        self.save_pair(hedge)

    def order_ended(self, order_id: str):
        self.orders.pop(order_id, None)

    def did_complete_buy_order(self, event):
        self.order_ended(event.order_id)

    def did_complete_sell_order(self, event):
        self.order_ended(event.order_id)

    def did_fail_order(self, event):
        if event.order_id in self.orders:
            hedge, connector, _, _ = self.orders[event.order_id]
            self.logger().warning(f"Order {event.order_id} of {hedge.label} on {connector} failed.")
        self.order_ended(event.order_id)

    def did_cancel_order(self, event):
        self.order_ended(event.order_id)

    def did_expire_order(self, event):
        self.order_ended(event.order_id)

    def did_complete_funding_payment(self, event: FundingPaymentCompletedEvent):
        for hedge in self.hedges:
            leg = hedge.pair.leg(event.market, event.trading_pair) if hedge.pair is not None else None
            if leg is None:
                continue
            leg.funding += event.amount
            self.save_pair(hedge)
            self.logger().info(f"Funding {event.amount:+f} on {event.market} {event.trading_pair} (rate "
                               f"{event.funding_rate}); the {hedge.label} pair's funding is now "
                               f"{hedge.pair.totals()['funding']:+f}.")

    # ---- stop --------------------------------------------------------------------------------------------

    async def on_stop(self):
        held = [hedge for hedge in self.hedges if hedge.pair is not None]
        if held and self.config.close_on_stop and self._started:
            missing = [c for c in self.connectors.values() if c not in set(self.active_markets)]
            if missing:
                self.add_markets(missing)
            for hedge in held:
                if hedge.pair.status != CLOSING or not self.has_orders(hedge):
                    self.close_pair(hedge, "the strategy stops")
            for _ in range(STOP_CLOSE_TIMEOUT * 2):
                for hedge in [hedge for hedge in held if hedge.pair is not None and not self.has_orders(hedge)]:
                    if all(leg.exit_amount >= leg.amount for leg in hedge.pair.legs):
                        self.finish_pair(hedge)
                    else:
                        self.close_pair(hedge, "retry")
                if all(hedge.pair is None for hedge in held):
                    break
                await asyncio.sleep(0.5)
        else:
            for hedge in held:
                self.logger().info(f"The {hedge.label} pair ({hedge.pair.reason}) stays open (close_on_stop is off); "
                                   f"the next start adopts it.")
        await super().on_stop()

    # ---- status ------------------------------------------------------------------------------------------

    def format_status(self) -> str:
        if not self.ready_to_trade:
            return "Market connectors are not ready."
        lines = [super().format_status(), ""]
        held = self.notional_held()
        lines.append("  Notional held: " + ", ".join(f"{venue} {value:.2f}" for venue, value in held.items())
                     if held else "  Notional held: none")
        for hedge in self.hedges:
            lines.append(f"  {hedge.label}:")
            amount = (self.trade_amount(hedge) if hedge.legs[0][1] in self.connectors[hedge.legs[0][0]].trading_rules
                      and hedge.legs[1][1] in self.connectors[hedge.legs[1][0]].trading_rules else None)
            lighter, extended = hedge.legs
            if amount is not None:
                lines.append(f"    Net price spread: long Extended {self.price_edge(extended, lighter, amount):+.5f}, "
                             f"long Lighter {self.price_edge(lighter, extended, amount):+.5f}")
            pause = self.pause_reason(hedge)
            if pause is not None:
                lines.append(f"    Paused: {pause}")
            if self.config.funding_enabled:
                spread, z = self.funding_z(hedge)
                hours = len(hedge.history.spreads(self.config.funding_history_days * 24))
                lines.append(f"    Funding spread (Extended - Lighter): {spread:+.6f}/h, z-score "
                             f"{'n/a' if z is None else f'{z:+.2f}'} over {hours} hours of history")
                lines += [f"    {problem}" for problem in hedge.history_problems]
            if hedge.pair is None:
                lines.append("    No hedged pair open.")
                continue
            pair = hedge.pair
            lines.append(f"    Hedged pair ({pair.reason}, {pair.status}; opened on {pair.entry_signal}):")
            marks = {}
            for leg in pair.legs:
                marks[leg.connector] = self.mid((leg.connector, leg.trading_pair))
                side = "long" if leg.side > 0 else "short"
                lines.append(f"      {leg.connector} {side} {leg.amount - leg.exit_amount} {leg.trading_pair} entry "
                             f"{leg.entry_price:.4f}: price {leg.price_pnl(marks[leg.connector]):+.6f}, "
                             f"funding {leg.funding:+.6f}, fees {-leg.fees:+.6f}")
            totals = pair.totals(marks)
            lines.append(f"      pair: price {totals['price_pnl']:+.6f} + funding {totals['funding']:+.6f} - fees "
                         f"{totals['fees']:.6f} = net {totals['net']:+.6f}")
        if self.closed_pairs:
            totals = self.closed_totals
            lines.append(f"  Closed pairs ({self.closed_pairs}, in the ledgers): price {totals['price_pnl']:+.6f} + "
                         f"funding {totals['funding']:+.6f} - fees {totals['fees']:.6f} = net {totals['net']:+.6f}")
        return "\n".join(lines)
