"""Synthetic market participants: makers quoting around the index price, takers crossing the spread,
and a random walk of the index price. Deterministic for a given seed."""
import asyncio
import random
from typing import List, Optional

from emulator.lighter import constants as C
from emulator.lighter.engine import Events
from emulator.lighter.state import MarketState, now_ms

FLOW_COLLATERAL = 10 ** 9
MIN_TICK_INTERVAL_S = 0.005


class SyntheticFlow:
    def __init__(self, emulator, rate_per_s: float, market_ids: Optional[List[int]] = None, seed: int = 7,
                 taker_share: float = 0.25, drift_share: float = 0.1, max_orders_per_side: int = 25,
                 depth_ticks: int = 10, max_size_multiple: int = 5, publish_each: bool = False):
        self.ex = emulator
        self.rate_per_s = rate_per_s
        self.market_ids = market_ids if market_ids is not None else sorted(emulator.state.markets)
        self.rng = random.Random(seed)
        self.taker_share = taker_share
        self.drift_share = drift_share
        self.max_orders_per_side = max_orders_per_side
        self.depth_ticks = depth_ticks
        self.max_size_multiple = max_size_multiple
        # by default a tick's actions go out as one update per market, like a block; publish_each sends one
        # update per action (more frames, used to load-test the fan-out)
        self.publish_each = publish_each
        self.maker_index = emulator.create_account(collateral=FLOW_COLLATERAL, l1_address="0x" + "f1" * 20)
        self.taker_index = emulator.create_account(collateral=FLOW_COLLATERAL, l1_address="0x" + "f2" * 20)
        self.actions = 0
        self._task: Optional[asyncio.Task] = None

    def start(self):
        """Seeds both sides of every flow market with quotes, then runs in the background."""
        events = Events()
        for market_id in self.market_ids:
            market = self.ex.state.markets[market_id]
            for _ in range(self.max_orders_per_side // 2):
                self._quote(market, events, is_ask=True)
                self._quote(market, events, is_ask=False)
        self.ex.hub.publish(events)
        self._task = asyncio.create_task(self._run())

    async def stop(self):
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self):
        interval = max(1.0 / self.rate_per_s, MIN_TICK_INTERVAL_S)
        loop = asyncio.get_running_loop()
        started, done = loop.time(), 0
        while True:
            await asyncio.sleep(interval)
            due = int((loop.time() - started) * self.rate_per_s) - done
            if due <= 0:
                continue
            events = Events()
            for _ in range(due):
                self.step(events)
                if self.publish_each:
                    self.ex.hub.publish(events)
                    events = Events()
            done += due
            self.ex.hub.publish(events)

    def step(self, events: Events):
        """One action: a price move, a taker order, a maker cancel or a maker quote."""
        self.actions += 1
        self.ex.state.block_height += 1
        market = self.ex.state.markets[self.rng.choice(self.market_ids)]
        roll = self.rng.random()
        if roll < self.drift_share:
            self._drift(market, events)
        elif roll < self.drift_share + self.taker_share:
            self._take(market, events)
        else:
            self._quote(market, events)

    @staticmethod
    def _tick(market: MarketState) -> int:
        return max(1, market.index_price // 10_000)

    def _size(self, market: MarketState, price: int) -> int:
        spec = market.spec
        minimum = max(spec.min_base_int, -(-spec.min_quote_micro // spec.quote_micro(1, price)))
        return minimum * self.rng.randint(1, self.max_size_multiple)

    def _drift(self, market: MarketState, events: Events):
        market.index_price = max(self._tick(market), market.index_price + self.rng.choice((-1, 1)) * self._tick(market))
        events.stats_markets.add(market.spec.market_id)

    def _take(self, market: MarketState, events: Events):
        is_ask = self.rng.random() < 0.5
        worst = market.index_price * (98 if is_ask else 102) // 100
        taker = self.ex.state.accounts[self.taker_index]
        order = self.ex.engine.new_order(taker, market, 0, self._size(market, market.index_price), worst, is_ask,
                                         C.ORDER_TYPE_MARKET, C.TIF_IOC, False, 0)
        self.ex.engine.place(taker, order, events)

    def _quote(self, market: MarketState, events: Events, is_ask: Optional[bool] = None):
        maker = self.ex.state.accounts[self.maker_index]
        if is_ask is None:
            is_ask = self.rng.random() < 0.5
        own = [order for order in maker.active_orders.values()
               if order.market_id == market.spec.market_id and order.is_ask == is_ask]
        if len(own) >= self.max_orders_per_side:
            self.ex.engine.cancel(maker, self.rng.choice(own), events)
            return
        tick = self._tick(market)
        offset = (1 + self.rng.randint(0, self.depth_ticks)) * tick
        price = market.index_price + offset if is_ask else market.index_price - offset
        book = self.ex.engine.books[market.spec.market_id]
        best_opposite = book.side(not is_ask).best()
        if best_opposite is not None:
            price = max(price, best_opposite + 1) if is_ask else min(price, best_opposite - 1)
        if price <= 0:
            return
        order = self.ex.engine.new_order(maker, market, 0, self._size(market, price), price, is_ask,
                                         C.ORDER_TYPE_LIMIT, C.TIF_POST_ONLY, False,
                                         now_ms() + C.MAX_ORDER_EXPIRY_PERIOD_MS)
        self.ex.engine.place(maker, order, events)
