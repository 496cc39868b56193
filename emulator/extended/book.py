"""Price-time priority order book of one market, recording level changes for stream deltas."""
from decimal import Decimal
from typing import Dict, Iterator, List, Optional, Tuple

from sortedcontainers import SortedDict

from emulator.extended.fmt import ZERO
from emulator.extended.models import Order


class PriceLevel:
    __slots__ = ("orders", "total")

    def __init__(self):
        self.orders: Dict[int, Order] = {}  # insertion order = time priority
        self.total = ZERO


class OrderBook:
    def __init__(self, market: str):
        self.market = market
        # bids keyed by -price so both sides iterate best-first
        self._sides = {"BUY": SortedDict(), "SELL": SortedDict()}
        self._changed: Dict[Tuple[str, Decimal], Decimal] = {}

    @staticmethod
    def _key(side: str, price: Decimal) -> Decimal:
        return -price if side == "BUY" else price

    def _touch(self, side: str, price: Decimal, level: Optional[PriceLevel]):
        change_key = (side, price)
        if change_key not in self._changed:
            self._changed[change_key] = level.total if level is not None else ZERO

    def add(self, order: Order):
        levels = self._sides[order.side]
        key = self._key(order.side, order.price)
        level = levels.get(key)
        self._touch(order.side, order.price, level)
        if level is None:
            level = levels[key] = PriceLevel()
        level.orders[order.id] = order
        level.total += order.remaining

    def reduce(self, order: Order, qty: Decimal):
        """Account for `qty` of a resting order leaving the book (fill or cancel); drops it when done."""
        levels = self._sides[order.side]
        key = self._key(order.side, order.price)
        level = levels[key]
        self._touch(order.side, order.price, level)
        level.total -= qty
        if not order.is_open or order.remaining <= 0:
            level.orders.pop(order.id, None)
        if not level.orders:
            del levels[key]

    def remove(self, order: Order, remaining: Decimal):
        """Drop a resting order whose unfilled `remaining` quantity is still counted in its level."""
        levels = self._sides[order.side]
        key = self._key(order.side, order.price)
        level = levels.get(key)
        if level is None or order.id not in level.orders:
            return
        self._touch(order.side, order.price, level)
        level.total -= remaining
        del level.orders[order.id]
        if not level.orders:
            del levels[key]

    def best(self, side: str) -> Optional[Decimal]:
        levels = self._sides[side]
        if not levels:
            return None
        return abs(levels.peekitem(0)[0])

    def crosses(self, side: str, price: Optional[Decimal]) -> bool:
        """Would an order on `side` at `price` (None = any price) meet resting liquidity?"""
        opposite = "SELL" if side == "BUY" else "BUY"
        best = self.best(opposite)
        if best is None:
            return False
        if price is None:
            return True
        return price >= best if side == "BUY" else price <= best

    def matching_orders(self, taker_side: str, limit: Optional[Decimal]) -> Iterator[Order]:
        """Resting orders a taker may hit, best price first then oldest first."""
        opposite = "SELL" if taker_side == "BUY" else "BUY"
        levels = self._sides[opposite]
        for key in list(levels.keys()):
            price = abs(key)
            if limit is not None and (price > limit if taker_side == "BUY" else price < limit):
                return
            level = levels.get(key)
            if level is None:
                continue
            for order in list(level.orders.values()):
                if order.is_open and order.id in level.orders:
                    yield order

    def levels(self, side: str, depth: Optional[int] = None) -> List[Tuple[Decimal, Decimal]]:
        result = []
        for key, level in self._sides[side].items():
            if depth is not None and len(result) >= depth:
                break
            result.append((abs(key), level.total))
        return result

    def level_size(self, side: str, price: Decimal) -> Decimal:
        level = self._sides[side].get(self._key(side, price))
        return level.total if level is not None else ZERO

    def take_changes(self) -> List[Tuple[str, Decimal, Decimal, Decimal]]:
        """(side, price, signed change, new absolute size) per level touched since the last call."""
        changes = []
        for (side, price), before in self._changed.items():
            after = self.level_size(side, price)
            if after != before:
                changes.append((side, price, after - before, after))
        self._changed.clear()
        return changes
