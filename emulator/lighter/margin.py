"""Cross-margin accounting: position updates, PnL, margin requirements and available balance.

All values are integers (base units, price ticks, micro-USDC); see `markets`.
"""
from dataclasses import dataclass
from typing import Dict, Optional

from emulator.lighter.constants import MARGIN_FRACTION_TICK
from emulator.lighter.state import Account, MarketState, Order, Position


def sign(value: int) -> int:
    return (value > 0) - (value < 0)


def mark_price(market: MarketState) -> int:
    return market.index_price


def unrealized_pnl(pos: Position, market: MarketState) -> int:
    return pos.size * mark_price(market) * market.spec.quote_multiplier - sign(pos.size) * pos.entry_quote


def avg_entry_price(pos: Position, market: MarketState) -> int:
    """Average entry price in price ticks, rounded half up."""
    denominator = abs(pos.size) * market.spec.quote_multiplier
    if denominator == 0:
        return 0
    return (2 * pos.entry_quote + denominator) // (2 * denominator)


def apply_fill(pos: Position, delta: int, price: int, market: MarketState) -> int:
    """Moves a position by `delta` base units traded at `price`; returns the realized PnL."""
    quote = abs(delta) * price * market.spec.quote_multiplier
    old = pos.size
    if old == 0 or sign(old) == sign(delta):
        pos.entry_quote += quote
        pos.size += delta
        return 0
    closed = min(abs(delta), abs(old))
    entry_part = pos.entry_quote * closed // abs(old)
    close_quote = closed * price * market.spec.quote_multiplier
    pnl = close_quote - entry_part if old > 0 else entry_part - close_quote
    pos.entry_quote -= entry_part
    pos.size += delta
    if pos.size == 0:
        pos.entry_quote = 0
    elif sign(pos.size) != sign(old):
        pos.entry_quote = abs(pos.size) * price * market.spec.quote_multiplier
    pos.realized_pnl += pnl
    return pnl


@dataclass
class MarginSummary:
    collateral: int
    unrealized: int
    initial_requirement: int
    maintenance_requirement: int
    position_value: int

    @property
    def total_value(self) -> int:
        return self.collateral + self.unrealized

    @property
    def available(self) -> int:
        return max(0, self.total_value - self.initial_requirement)


def _market_requirement(pos_notional: int, bids: int, asks: int, imf: int) -> int:
    worst = max(abs(pos_notional + bids), abs(pos_notional - asks))
    return worst * imf // MARGIN_FRACTION_TICK


def summarize(account: Account, markets: Dict[int, MarketState],
              extra: Optional[Order] = None, without: Optional[Order] = None) -> MarginSummary:
    """Margin figures for `account`, optionally as if `extra` were resting and `without` were not."""
    order_quotes: Dict[int, list] = {}
    orders = list(account.active_orders.values())
    if extra is not None:
        orders.append(extra)
    for order in orders:
        if order is without or order.reduce_only:
            continue
        market = markets[order.market_id]
        sides = order_quotes.setdefault(order.market_id, [0, 0])
        sides[1 if order.is_ask else 0] += order.remaining_base * order.price * market.spec.quote_multiplier
    unrealized = initial = maintenance = value = 0
    market_ids = set(account.positions) | set(order_quotes)
    for market_id in market_ids:
        market = markets[market_id]
        pos = account.positions.get(market_id)
        size = pos.size if pos is not None else 0
        imf = pos.initial_margin_fraction if pos is not None else market.spec.default_initial_margin_fraction
        notional = size * mark_price(market) * market.spec.quote_multiplier
        if pos is not None:
            unrealized += unrealized_pnl(pos, market)
        bids, asks = order_quotes.get(market_id, (0, 0))
        initial += _market_requirement(notional, bids, asks, imf)
        maintenance += abs(notional) * market.spec.maintenance_margin_fraction // MARGIN_FRACTION_TICK
        value += abs(notional)
    return MarginSummary(collateral=account.collateral, unrealized=unrealized, initial_requirement=initial,
                         maintenance_requirement=maintenance, position_value=value)


def order_allowed(account: Account, markets: Dict[int, MarketState], order: Order,
                  replacing: Optional[Order] = None) -> bool:
    """Lighter rejects an order that leaves the account short of initial margin, unless it lowers risk."""
    after = summarize(account, markets, extra=order, without=replacing)
    if after.initial_requirement <= after.total_value:
        return True
    before = summarize(account, markets)
    return after.initial_requirement <= before.initial_requirement


def liquidation_price(account: Account, markets: Dict[int, MarketState], market_id: int) -> Optional[float]:
    """Mark price of `market_id` at which the account would hit maintenance margin (others fixed);
    None when flat or when no positive price liquidates it."""
    pos = account.positions.get(market_id)
    if pos is None or pos.size == 0:
        return None
    market = markets[market_id]
    mult = market.spec.quote_multiplier
    summary = summarize(account, markets)
    own_upnl = unrealized_pnl(pos, market)
    own_mm = abs(pos.size) * mark_price(market) * mult * market.spec.maintenance_margin_fraction
    other_value = summary.total_value - own_upnl
    other_mm = summary.maintenance_requirement - own_mm // MARGIN_FRACTION_TICK
    mmf = market.spec.maintenance_margin_fraction / MARGIN_FRACTION_TICK
    # other_value + size*p*mult - sign*entry = other_mm + |size|*p*mult*mmf, solved for p (in ticks)
    slope = (pos.size - abs(pos.size) * mmf) * mult
    if slope == 0:
        return None
    price_ticks = (other_mm - other_value + sign(pos.size) * pos.entry_quote) / slope
    if price_ticks <= 0:
        return None
    return price_ticks / (10 ** market.spec.price_decimals)
