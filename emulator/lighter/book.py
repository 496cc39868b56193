"""Price-time priority limit order book for one market, tracking which levels changed."""
from bisect import bisect_left, insort
from collections import deque
from typing import Deque, Dict, Iterator, List, Optional, Set, Tuple

from emulator.lighter.state import Order


class _Side:
    def __init__(self, is_ask: bool):
        self.is_ask = is_ask
        self.prices: List[int] = []  # ascending
        self.queues: Dict[int, Deque[Order]] = {}
        self.sizes: Dict[int, int] = {}

    def best(self) -> Optional[int]:
        if not self.prices:
            return None
        return self.prices[0] if self.is_ask else self.prices[-1]

    def prices_best_first(self) -> Iterator[int]:
        return iter(self.prices) if self.is_ask else reversed(self.prices)

    def add(self, order: Order):
        queue = self.queues.get(order.price)
        if queue is None:
            queue = self.queues[order.price] = deque()
            self.sizes[order.price] = 0
            insort(self.prices, order.price)
        queue.append(order)
        self.sizes[order.price] += order.remaining_base

    def remove(self, order: Order, amount: int):
        """Takes `order` out of its level; `amount` is the size it still held there."""
        queue = self.queues[order.price]
        queue.remove(order)
        self._shrink(order.price, amount)

    def reduce(self, price: int, amount: int):
        self._shrink(price, amount)

    def _shrink(self, price: int, amount: int):
        self.sizes[price] -= amount
        if not self.queues[price]:
            del self.queues[price]
            del self.sizes[price]
            del self.prices[bisect_left(self.prices, price)]


class OrderBook:
    def __init__(self, market_id: int):
        self.market_id = market_id
        self.asks = _Side(is_ask=True)
        self.bids = _Side(is_ask=False)
        self.changed: Set[Tuple[bool, int]] = set()

    def side(self, is_ask: bool) -> _Side:
        return self.asks if is_ask else self.bids

    def add(self, order: Order):
        self.side(order.is_ask).add(order)
        self.changed.add((order.is_ask, order.price))

    def remove(self, order: Order):
        self.side(order.is_ask).remove(order, order.remaining_base)
        self.changed.add((order.is_ask, order.price))

    def consume(self, maker: Order, amount: int):
        """Records a fill of `amount` against a resting maker (which stays queued unless done)."""
        side = self.side(maker.is_ask)
        if maker.remaining_base == 0:
            side.queues[maker.price].popleft()
        side.reduce(maker.price, amount)
        self.changed.add((maker.is_ask, maker.price))

    def level_size(self, is_ask: bool, price: int) -> int:
        return self.side(is_ask).sizes.get(price, 0)

    def crosses(self, is_ask: bool, price: int) -> bool:
        """Whether an order on side `is_ask` at `price` would take liquidity."""
        best = self.side(not is_ask).best()
        if best is None:
            return False
        return price <= best if is_ask else price >= best

    def levels(self, is_ask: bool, depth: Optional[int] = None) -> List[Tuple[int, int]]:
        side = self.side(is_ask)
        out = []
        for price in side.prices_best_first():
            out.append((price, side.sizes[price]))
            if depth is not None and len(out) >= depth:
                break
        return out

    def orders(self, is_ask: bool, limit: Optional[int] = None) -> List[Order]:
        side = self.side(is_ask)
        out = []
        for price in side.prices_best_first():
            for order in side.queues[price]:
                out.append(order)
                if limit is not None and len(out) >= limit:
                    return out
        return out

    def take_changes(self) -> Tuple[List[Tuple[int, int]], List[Tuple[int, int]]]:
        """Returns and clears the (price, new size) of every level touched since the last call."""
        asks, bids = [], []
        for is_ask, price in self.changed:
            (asks if is_ask else bids).append((price, self.level_size(is_ask, price)))
        self.changed.clear()
        asks.sort()
        bids.sort(reverse=True)
        return asks, bids
