"""Synthetic participants: a maker quoting around a random-walking mark price and a taker crossing the spread,
so prices move, the book changes and resting orders (the user's included) get filled."""
import asyncio
import random
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import List, Optional

from emulator.extended.accounts import Account
from emulator.extended.engine import Engine
from emulator.extended.fmt import now_ms
from emulator.extended.models import Fill, Order
from emulator.extended.state import ExchangeState

SYNTHETIC_EXPIRY_MS = 365 * 24 * 3_600_000
PRICE_QUANT = Decimal("0.000001")


def _to_tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding=rounding) * tick


class SyntheticFlow:
    def __init__(self, state: ExchangeState, engine: Engine, maker: Account, taker: Account, rng: random.Random,
                 levels: int = 10, spread_bps: Decimal = Decimal("1"), level_step_bps: Decimal = Decimal("1"),
                 volatility_bps: float = 2.0, taker_probability: float = 0.5, max_lots: int = 20):
        self.state = state
        self.engine = engine
        self.maker = maker
        self.taker = taker
        self.rng = rng
        self.levels = levels
        self.spread_bps = spread_bps
        self.level_step_bps = level_step_bps
        self.volatility_bps = volatility_bps
        self.taker_probability = taker_probability
        self.max_lots = max_lots
        self._task: Optional[asyncio.Task] = None

    # ----- single actions -----
    def _order(self, account: Account, market: str, side: str, qty: Decimal, price: Decimal, tif: str) -> Order:
        now = now_ms()
        order_id = self.state.ids.next()
        return Order(id=order_id, account_id=account.account_id, client_id=account.client_id,
                     external_id=f"synthetic-{order_id}", market=market, type="LIMIT", side=side, qty=qty, price=price,
                     time_in_force=tif, post_only=False, reduce_only=False, expire_time=now + SYNTHETIC_EXPIRY_MS,
                     max_fee=Decimal(1), self_trade_protection="DISABLED", created_time=now, updated_time=now)

    def quote(self, market: str, side: str, qty: Decimal, price: Decimal, flush: bool = True) -> Order:
        """Rest a synthetic maker order (it trades first if it crosses)."""
        return self.engine.place(self.maker, self._order(self.maker, market, side, qty, price, "GTT"), flush=flush)

    def take(self, market: str, side: str, qty: Decimal, price: Optional[Decimal] = None,
             flush: bool = True) -> List[Fill]:
        """Synthetic IOC taker; without a price it may sweep up to the market's limit-price band."""
        state = self.state.markets[market]
        spec = state.spec
        if price is None:
            band = state.mark_price * (spec.limit_price_cap if side == "BUY" else -spec.limit_price_floor)
            price = _to_tick(state.mark_price + band, spec.min_price_change,
                             ROUND_FLOOR if side == "BUY" else ROUND_CEILING)
        before = len(self.state.fills[self.taker.account_id])
        self.engine.place(self.taker, self._order(self.taker, market, side, qty, price, "IOC"), flush=flush)
        return self.state.fills[self.taker.account_id][before:]

    def requote(self, market: str, flush: bool = True):
        """Replace the synthetic maker's quotes with a fresh ladder around the mark price."""
        state = self.state.markets[market]
        spec = state.spec
        mark = state.mark_price
        tick = spec.min_price_change
        half_spread = max(tick, mark * self.spread_bps / 20000)
        step = max(tick, _to_tick(mark * self.level_step_bps / 10000, tick, ROUND_FLOOR))
        best_bid = _to_tick(mark - half_spread, tick, ROUND_FLOOR)
        best_ask = _to_tick(mark + half_spread, tick, ROUND_CEILING)
        self.engine.cancel_many(self.state.account_open_orders(self.maker.account_id, market), flush=False)
        for i in range(self.levels):
            for side, price in (("BUY", best_bid - step * i), ("SELL", best_ask + step * i)):
                if price > 0:
                    self.quote(market, side, self._lots(spec), price, flush=False)
        if flush:
            self.state.flush()

    def _lots(self, spec) -> Decimal:
        return spec.min_order_size * self.rng.randint(1, self.max_lots)

    # ----- the flow -----
    def step(self, markets: List[str]):
        for name in markets:
            market = self.state.markets[name]
            move = Decimal(str(self.rng.gauss(0.0, self.volatility_bps / 10000)))
            index = (market.index_price * (1 + move)).quantize(PRICE_QUANT)
            premium = Decimal(str(self.rng.gauss(0.0, 0.00005)))
            market.set_prices(mark=(index * (1 + premium)).quantize(PRICE_QUANT), index=index)
            cap = market.spec.hourly_funding_rate_cap / 100
            drift = Decimal(str(self.rng.gauss(0.0, 0.000002))).quantize(Decimal("0.000001"))
            market.funding_rate = max(-cap, min(cap, market.funding_rate + drift))
            self.requote(name, flush=False)
            if self.rng.random() < self.taker_probability:
                side = self.rng.choice(("BUY", "SELL"))
                self.take(name, side, self._lots(market.spec) * 2, flush=False)
        self.state.flush()

    async def _run(self, markets: List[str], interval: float, duration: Optional[float]):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration if duration is not None else None
        while deadline is None or loop.time() < deadline:
            self.step(markets)
            await asyncio.sleep(interval)

    def start(self, markets: List[str], interval: float, duration: Optional[float]):
        self.stop_nowait()
        self._task = asyncio.get_running_loop().create_task(self._run(markets, interval, duration))

    def stop_nowait(self):
        if self._task is not None:
            self._task.cancel()

    async def stop(self):
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()
