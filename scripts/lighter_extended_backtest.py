"""Backtest of scripts/lighter_extended_arbitrage.py's funding trades over both venues' funding history.

It reads hourly funding history with the same fetchers the live script uses (scripts/lighter_extended_funding.py,
paginated and gap-checked), then walks it hour by hour through the same decision code (`entry_decision`,
`exit_decision`, `zscore` with the script's thresholds): at each hour the spread of that hour, now settled, is scored
against the hours before it; a pair opened there collects funding from the next hour on, as a live pair would.
It prints the trades, the funding each leg collected, the taker fees of both legs on entry and exit, and the net
result, and writes a PNG chart of the spread, its z-score and the entries and exits.

What it does not model: price PnL (a hedged pair of equal sizes on both venues gains what the basis moves, which
hourly funding history does not carry) and price-spread entries (no historical order books): it is a backtest of the
funding signal. Each leg is valued at one reference price (Extended's mark price when the history is read).

    python -m demo backtest                      # against the local emulators (offline)
    LIGHTER_PERPETUAL_REST_URL=https://mainnet.zklighter.elliot.ai \\
    EXTENDED_PERPETUAL_REST_URL=https://api.starknet.extended.exchange/api/v1 python -m demo backtest
"""
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from scripts.lighter_extended_funding import (
    FUNDING,
    FundingHistory,
    Getter,
    Signals,
    Thresholds,
    entry_decision,
    exit_decision,
    update_history,
    zscore,
)


@dataclass
class Trade:
    opened: int  # hour (epoch seconds) of the decision; funding is collected from the next hour on
    direction: int  # +1: long Lighter, short Extended; -1: the reverse
    signal: str
    closed: Optional[int] = None  # None: still open at the end of the history
    why: str = ""
    hours: int = 0
    lighter_funding: Decimal = Decimal(0)
    extended_funding: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)

    @property
    def funding(self) -> Decimal:
        return self.lighter_funding + self.extended_funding

    @property
    def net(self) -> Decimal:
        return self.funding - self.fees


@dataclass
class Backtest:
    hours: List[int] = field(default_factory=list)
    spreads: List[Decimal] = field(default_factory=list)
    zscores: List[Optional[Decimal]] = field(default_factory=list)
    trades: List[Trade] = field(default_factory=list)
    notional: Decimal = Decimal(0)

    def total(self, key: str) -> Decimal:
        return sum((getattr(trade, key) for trade in self.trades), Decimal(0))


def run_backtest(history: FundingHistory, thresholds: Thresholds, window_hours: int, min_hours: int,
                 amount: Decimal, price: Decimal, lighter_taker: Decimal, extended_taker: Decimal) -> Backtest:
    """Hour by hour over the hours both venues have, with the live script's decisions."""
    result = Backtest(notional=amount * price)
    hours = sorted(set(history.lighter) & set(history.extended))
    spreads = [history.extended[hour] - history.lighter[hour] for hour in hours]
    trade: Optional[Trade] = None
    fee_per_side = result.notional * (lighter_taker + extended_taker)
    for i, hour in enumerate(hours):
        spread = spreads[i]
        z = zscore(spreads[max(0, i - window_hours):i], spread, min_hours)
        result.hours.append(hour)
        result.spreads.append(spread)
        result.zscores.append(z)
        if trade is not None:
            # Held through this hour: long Lighter pays Lighter's rate, short Extended receives Extended's.
            trade.hours += 1
            trade.lighter_funding -= trade.direction * history.lighter[hour] * result.notional
            trade.extended_funding += trade.direction * history.extended[hour] * result.notional
        signals = Signals(funding_spread=spread, funding_z=z)
        if trade is None:
            entry = entry_decision(signals, thresholds)
            if entry is not None:
                trade = Trade(opened=hour, direction=entry.direction, signal=entry.signal, fees=fee_per_side)
                result.trades.append(trade)
        else:
            why = exit_decision(FUNDING, trade.direction, True, signals, thresholds)
            if why is not None:
                trade.closed, trade.why = hour, why
                trade.fees += fee_per_side
                trade = None
    return result


async def read_history(lighter_get: Getter, lighter_pair: str, extended_get: Getter, extended_market: str,
                       days: int) -> Tuple[FundingHistory, List[str], Decimal]:
    """Both venues' hourly funding for `days` days (the live script's fetchers), the gap lines, and Extended's mark
    price as the reference price."""
    base = lighter_pair.split("-")[0]
    books = await lighter_get("/orderBooks", {})
    market_id = next((int(book["market_id"]) for book in books.get("order_books") or [] if book.get("symbol") == base),
                     None)
    if market_id is None:
        raise ValueError(f"Lighter lists no {base} market for {lighter_pair}.")
    stats = await extended_get(f"/info/markets/{extended_market}/stats", {})
    if stats.get("status") != "OK":
        raise ValueError(f"Extended has no market {extended_market}: {stats.get('error')}")
    history = FundingHistory()
    problems = await update_history(history, lighter_get, market_id, extended_get, extended_market, days, time.time())
    return history, problems, Decimal(str(stats["data"]["markPrice"]))


def utc(hour: int) -> str:
    return datetime.fromtimestamp(hour, timezone.utc).strftime("%Y-%m-%d %H:%M")


def report(result: Backtest, label: str, thresholds: Thresholds, problems: List[str]) -> str:
    lines = [f"Funding backtest of {label}: {len(result.hours)} hours "
             f"({utc(result.hours[0]) if result.hours else '-'} to {utc(result.hours[-1]) if result.hours else '-'} "
             f"UTC), notional {result.notional:.2f} per leg, entry z {thresholds.funding_entry_z}, exit z "
             f"{thresholds.funding_exit_z}"]
    lines += [f"  {problem}" for problem in problems]
    lines.append(f"  {'opened (UTC)':<17} {'closed (UTC)':<17} {'side':<22} {'hours':>5} {'Lighter':>11} "
                 f"{'Extended':>11} {'fees':>10} {'net':>11}")
    for trade in result.trades:
        side = "long Lighter/short Ext" if trade.direction > 0 else "long Ext/short Lighter"
        lines.append(f"  {utc(trade.opened):<17} {utc(trade.closed) if trade.closed else 'open':<17} {side:<22} "
                     f"{trade.hours:>5} {trade.lighter_funding:>+11.4f} {trade.extended_funding:>+11.4f} "
                     f"{-trade.fees:>+10.4f} {trade.net:>+11.4f}")
    lines.append(f"  {len(result.trades)} trades: funding collected {result.total('funding'):+.4f}, fees "
                 f"{-result.total('fees'):+.4f}, net {result.total('net'):+.4f} USD (price PnL not modelled)")
    return "\n".join(lines)


def chart(result: Backtest, thresholds: Thresholds, path: Path, title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = [datetime.fromtimestamp(hour, timezone.utc) for hour in result.hours]
    index = {hour: i for i, hour in enumerate(result.hours)}
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(11, 6.5))
    top.plot(times, [float(s) * 1e4 for s in result.spreads], color="tab:blue", linewidth=0.9,
             label="Extended - Lighter (bp/h)")
    bottom.plot(times, [float(z) if z is not None else float("nan") for z in result.zscores], color="tab:purple",
                linewidth=0.9, label="z-score")
    for level, style in ((thresholds.funding_entry_z, "--"), (thresholds.funding_exit_z, ":")):
        for sign in (1, -1):
            bottom.axhline(sign * float(level), color="grey", linestyle=style, linewidth=0.8)
    for axis, values in ((top, [float(s) * 1e4 for s in result.spreads]),
                         (bottom, [float(z) if z is not None else 0.0 for z in result.zscores])):
        entries = [index[t.opened] for t in result.trades]
        exits = [index[t.closed] for t in result.trades if t.closed is not None]
        axis.scatter([times[i] for i in entries], [values[i] for i in entries], marker="^", color="tab:green",
                     zorder=3, label="entry")
        axis.scatter([times[i] for i in exits], [values[i] for i in exits], marker="v", color="tab:red", zorder=3,
                     label="exit")
        axis.grid(alpha=0.3)
        axis.legend(loc="upper left", fontsize=8)
    top.set_ylabel("funding spread, bp per hour")
    bottom.set_ylabel("z-score")
    top.set_title(f"{title}: {len(result.trades)} trades, funding {result.total('funding'):+.2f}, fees "
                  f"{-result.total('fees'):+.2f}, net {result.total('net'):+.2f} USD", fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fee_rates() -> Dict[str, Decimal]:
    """The connectors' default taker fees (Lighter's Standard accounts pay none; Extended's default tier 0.05%)."""
    from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_utils
    from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_utils
    return {"lighter": lighter_perpetual_utils.DEFAULT_FEES.taker_percent_fee_decimal,
            "extended": extended_perpetual_utils.DEFAULT_FEES.taker_percent_fee_decimal}
