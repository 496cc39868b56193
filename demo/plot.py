"""`make demo DEMO_ARGS="--plot FILE"`: a picture of the market-making run, drawn from what the exchange saw: the book's
best bid and ask, our quotes, our fills and our position over time."""
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import List, Optional

from matplotlib.figure import Figure

from emulator.lighter import LighterEmulator


@dataclass
class Sample:
    seconds: float
    best_bid: Optional[Decimal]
    best_ask: Optional[Decimal]
    our_bids: List[Decimal]
    our_asks: List[Decimal]
    position: Decimal


@dataclass
class FillMark:
    seconds: float
    price: Decimal
    size: Decimal
    is_buy: bool


def sample(ex: LighterEmulator, account_index: int, market_id: int, seconds: float) -> Sample:
    """The book's top and the account's open orders and position at `seconds` into the run."""
    market = ex.state.markets[market_id]
    book = ex.engine.books[market_id]

    def price(ticks: Optional[int]) -> Optional[Decimal]:
        return None if ticks is None else Decimal(ticks).scaleb(-market.spec.price_decimals)

    account = ex.state.accounts[account_index]
    orders = [order for order in account.active_orders.values() if order.market_id == market_id]
    position = account.positions.get(market_id)
    return Sample(seconds=seconds, best_bid=price(book.bids.best()), best_ask=price(book.asks.best()),
                  our_bids=sorted(price(order.price) for order in orders if not order.is_ask),
                  our_asks=sorted(price(order.price) for order in orders if order.is_ask),
                  position=Decimal(position.size if position else 0).scaleb(-market.spec.size_decimals))


def fill_marks(ex: LighterEmulator, account_index: int, market_id: int, started_ms: int) -> List[FillMark]:
    """The account's fills, timed from `started_ms` (epoch milliseconds) like the samples."""
    market = ex.state.markets[market_id]
    return [FillMark(seconds=(fill.timestamp_ms - started_ms) / 1000,
                     price=Decimal(fill.price).scaleb(-market.spec.price_decimals),
                     size=Decimal(fill.size).scaleb(-market.spec.size_decimals),
                     is_buy=fill.bid.account_index == account_index)
            for fill in ex.state.accounts[account_index].fills if fill.market_id == market_id]


def plot_run(samples: List[Sample], fills: List[FillMark], path: Path, title: str):
    """Writes a PNG: prices with our quotes and fills above, our position below, on one time axis."""
    figure = Figure(figsize=(11, 7), layout="constrained")
    prices, positions = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    seconds = [s.seconds for s in samples]
    for attribute, label, color in (("best_bid", "book's best bid", "tab:green"),
                                    ("best_ask", "book's best ask", "tab:red")):
        values = [float(getattr(s, attribute)) if getattr(s, attribute) is not None else float("nan") for s in samples]
        prices.step(seconds, values, where="post", color=color, linewidth=1, alpha=0.6, label=label)
    for attribute, label, color in (("our_bids", "our bids", "tab:blue"), ("our_asks", "our asks", "tab:orange")):
        points = [(s.seconds, float(p)) for s in samples for p in getattr(s, attribute)]
        if points:
            prices.scatter(*zip(*points), s=8, color=color, label=label)
    for is_buy, label, marker, color in ((True, "our buys (filled)", "^", "darkgreen"),
                                         (False, "our sells (filled)", "v", "darkred")):
        points = [(f.seconds, float(f.price)) for f in fills if f.is_buy == is_buy]
        if points:
            prices.scatter(*zip(*points), s=60, marker=marker, color=color, edgecolors="black", zorder=3,
                           label=label)
    prices.set_ylabel("price")
    prices.set_title(title)
    prices.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    prices.grid(alpha=0.3)
    positions.step(seconds, [float(s.position) for s in samples], where="post", color="tab:purple")
    positions.axhline(0, color="gray", linewidth=0.8)
    positions.set_ylabel("position")
    positions.set_xlabel("seconds since the bot started")
    positions.grid(alpha=0.3)
    figure.savefig(path, format="png", dpi=100)
