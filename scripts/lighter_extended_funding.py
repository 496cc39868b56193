"""Funding history, the entry/exit decisions, the risk limits, the pair state file and the ledger of
scripts/lighter_extended_arbitrage.py.

Kept apart from the strategy so that the same code reads history and decides for any caller (the live strategy and
scripts/lighter_extended_backtest.py): it takes a `get(path, params)` coroutine that returns a venue's JSON answer
(the strategy passes its connectors' own web assistants) and plain numbers for what the markets show.

Units, from the real answers in test/fixtures:
- Lighter GET /api/v1/fundings (lighter_07_funding.txt): `rate` is an hourly rate in PERCENT without a sign and
  `direction` names the side that pays. Proof: the row {"value": "0.02707872", "rate": "0.0012"} has
  value / (rate / 100) = 2256.56, an ETH price, so value = mark x rate / 100 per unit of base; market_stats shows the
  same "0.0012" for the quiet-market baseline of 0.01 % per 8 hours (0.00125 % per hour). Row timestamps are seconds.
- Extended GET /api/v1/info/{market}/funding (extended_13_funding.txt): `f` is an hourly rate as a FRACTION with a
  sign (positive: longs pay). Proof: marketStats.fundingRate "0.000013" is that same baseline, 0.0001 / 8 = 0.0000125
  at six decimals; the docs say the records are the 1-hour rates applied. `T` is milliseconds, just after the hour.
Both are returned here as signed hourly fractions keyed by the hour (epoch seconds at the top of the hour).
"""
import csv
import json
import os
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional

HOUR = 3600
PRICE, FUNDING, ADOPTED = "price", "funding", "adopted"
NAN = Decimal("NaN")
Getter = Callable[[str, Dict[str, Any]], Awaitable[Any]]
# Lighter answers at most 100 rows a call (nautilus_trader's client caps it there; a larger count_back returns 100).
LIGHTER_PAGE_HOURS = 100
# Extended answers up to 10,000 records a call (API docs); pages are followed by cursor all the same.
EXTENDED_PAGE = 1000


def hour_of(timestamp_s: float) -> int:
    return int(timestamp_s) - int(timestamp_s) % HOUR


def parse_lighter_fundings(answer: Dict[str, Any]) -> Dict[int, Decimal]:
    rates = {}
    for row in answer.get("fundings") or []:
        timestamp = int(row["timestamp"])
        timestamp = timestamp // 1000 if timestamp >= 10 ** 12 else timestamp
        # The capture carries unsigned rates with a direction; a signed rate is read by its sign all the same.
        rate = abs(Decimal(str(row["rate"]))) / 100
        rates[hour_of(timestamp)] = -rate if str(row.get("direction", "long")).lower() == "short" else rate
    return rates


def parse_extended_funding(answer: Dict[str, Any]) -> Dict[int, Decimal]:
    return {hour_of(int(row["T"]) / 1000): Decimal(str(row["f"])) for row in answer.get("data") or []}


async def fetch_lighter_fundings(get: Getter, market_id: int, start_s: int, end_s: int) -> Dict[int, Decimal]:
    """Hourly rates in [start_s, end_s], in windows of LIGHTER_PAGE_HOURS hours (timestamps sent in milliseconds)."""
    rates: Dict[int, Decimal] = {}
    window_start = start_s
    while window_start <= end_s:
        window_end = min(end_s, window_start + LIGHTER_PAGE_HOURS * HOUR - 1)
        answer = await get("/fundings", {"market_id": market_id, "resolution": "1h",
                                         "start_timestamp": window_start * 1000, "end_timestamp": window_end * 1000,
                                         "count_back": LIGHTER_PAGE_HOURS})
        rates.update(parse_lighter_fundings(answer))
        window_start = window_end + 1
    return {hour: rate for hour, rate in rates.items() if start_s <= hour <= end_s}


async def fetch_extended_funding(get: Getter, market: str, start_s: int, end_s: int,
                                 page_size: int = EXTENDED_PAGE, max_pages: int = 100) -> Dict[int, Decimal]:
    """Hourly rates in [start_s, end_s], following the cursor. The parameters are startTime and endTime (epoch
    milliseconds), as the x10 SDK (InfoModule.get_funding_rates_history) and the API docs send them; `fromTime`
    appears in no client or answer we have."""
    rates: Dict[int, Decimal] = {}
    params: Dict[str, Any] = {"startTime": start_s * 1000, "endTime": end_s * 1000 + 999, "limit": page_size}
    for _ in range(max_pages):
        answer = await get(f"/info/{market}/funding", params)
        if answer.get("status") != "OK":
            raise IOError(f"Extended refused the funding history of {market}: {answer.get('error')}")
        rows = answer.get("data") or []
        rates.update(parse_extended_funding(answer))
        cursor = (answer.get("pagination") or {}).get("cursor")
        if len(rows) < page_size or cursor is None or cursor == params.get("cursor"):
            break
        params = dict(params, cursor=cursor)
    else:
        raise IOError(f"Extended's funding history of {market} did not end within {max_pages} pages.")
    return {hour: rate for hour, rate in rates.items() if start_s <= hour <= end_s}


def missing_hours(hours, start: Optional[int] = None, end: Optional[int] = None) -> List[int]:
    """Hours between start (default: the first present) and end (default: the last) that have no rate."""
    present = set(hours)
    if not present:
        return []
    first = min(present) if start is None else start
    last = max(present) if end is None else end
    return [hour for hour in range(first, last + 1, HOUR) if hour not in present]


@dataclass
class FundingHistory:
    """Hourly funding rates (signed fractions) of one Lighter market and one Extended market."""
    lighter: Dict[int, Decimal] = field(default_factory=dict)
    extended: Dict[int, Decimal] = field(default_factory=dict)

    def spreads(self, hours: int) -> List[Decimal]:
        """Extended minus Lighter for the last `hours` hours both venues have, oldest first."""
        common = sorted(set(self.lighter) & set(self.extended))[-hours:]
        return [self.extended[hour] - self.lighter[hour] for hour in common]

    def last_hour(self) -> Optional[int]:
        common = set(self.lighter) & set(self.extended)
        return max(common) if common else None

    def prune(self, oldest: int):
        self.lighter = {h: r for h, r in self.lighter.items() if h >= oldest}
        self.extended = {h: r for h, r in self.extended.items() if h >= oldest}

    def to_json(self) -> dict:
        return {"lighter": {str(h): str(r) for h, r in sorted(self.lighter.items())},
                "extended": {str(h): str(r) for h, r in sorted(self.extended.items())}}

    @classmethod
    def from_json(cls, data: dict) -> "FundingHistory":
        return cls(lighter={int(h): Decimal(r) for h, r in (data.get("lighter") or {}).items()},
                   extended={int(h): Decimal(r) for h, r in (data.get("extended") or {}).items()})


async def update_history(history: FundingHistory, lighter_get: Getter, lighter_market_id: int,
                         extended_get: Getter, extended_market: str, days: int, now_s: float) -> List[str]:
    """Tops `history` up to the last settled hour, from the hour after what it holds (or `days` back), drops what is
    older than `days`, and returns one line per venue with missing hours (empty when gap-free)."""
    end = hour_of(now_s) - 1
    oldest = hour_of(now_s) - days * 24 * HOUR
    history.prune(oldest)
    problems = []
    for venue, rates, fetch in (
            ("Lighter", history.lighter, lambda s: fetch_lighter_fundings(lighter_get, lighter_market_id, s, end)),
            ("Extended", history.extended, lambda s: fetch_extended_funding(extended_get, extended_market, s, end))):
        start = max(rates) + HOUR if rates else oldest
        if start <= end:
            rates.update(await fetch(start))
        gaps = missing_hours(rates, start=oldest)
        if gaps:
            span = (max(rates, default=oldest) - oldest) // HOUR + 1
            problems.append(f"{venue} funding history misses {len(gaps)} of {span} hours (first {gaps[0]})")
    return problems


def zscore(history: List[Decimal], current: Decimal, min_samples: int) -> Optional[Decimal]:
    """The z-score of `current` against `history`, or None while it is too short or flat."""
    if len(history) < min_samples:
        return None
    std = statistics.pstdev(history)
    if std == 0:
        return None
    return (current - statistics.mean(history)) / std


def funding_direction(z: Optional[Decimal], spread: Decimal, entry: bool, entry_z: Decimal, exit_z: Decimal,
                      entry_spread: Decimal, exit_spread: Decimal) -> int:
    """+1: short Extended / long Lighter (Extended's longs pay more); -1: the reverse; 0: no signal.

    The z-score when there is one, else the spread itself against a fixed threshold. On exit (entry=False) it says
    whether the signal is still on."""
    if z is not None:
        value, threshold = z, entry_z if entry else exit_z
    else:
        value, threshold = spread, entry_spread if entry else exit_spread
    if value >= threshold:
        return 1
    if value <= -threshold:
        return -1
    return 0


@dataclass(frozen=True)
class Thresholds:
    entry_spread: Decimal  # net price spread (after both taker fees) that opens a pair
    exit_spread: Decimal  # mid spread of the held pair at or below which a price pair closes
    funding_enabled: bool
    funding_entry_z: Decimal
    funding_exit_z: Decimal
    funding_entry_spread: Decimal  # used while there is no z-score
    funding_exit_spread: Decimal


@dataclass
class Signals:
    """What one pair of markets shows at a moment. Edges are NaN when a book cannot fill the amount (and always in a
    backtest, which has no books); `held_mid_spread` is (short mid - long mid) / long mid of the pair held."""
    long_extended_edge: Decimal = NAN
    long_lighter_edge: Decimal = NAN
    funding_spread: Optional[Decimal] = None  # Extended's hourly rate minus Lighter's
    funding_z: Optional[Decimal] = None
    held_mid_spread: Optional[Decimal] = None

    def describe_funding(self) -> str:
        z = "n/a" if self.funding_z is None else f"{self.funding_z:.2f}"
        return f"funding spread {self.funding_spread:.6f}/h, z-score {z}"


@dataclass(frozen=True)
class Entry:
    reason: str  # PRICE or FUNDING
    direction: int  # +1: long Lighter, short Extended; -1: the reverse
    signal: str  # what opened it, kept in the state file and the ledger


def entry_decision(signals: Signals, thresholds: Thresholds) -> Optional[Entry]:
    """The pair to open, if any: a net price spread first, else the funding signal."""
    for direction, edge in ((-1, signals.long_extended_edge), (1, signals.long_lighter_edge)):
        if not edge.is_nan() and edge >= thresholds.entry_spread:
            return Entry(PRICE, direction, f"net price spread {edge:.5f}")
    if thresholds.funding_enabled and signals.funding_spread is not None:
        direction = funding_direction(signals.funding_z, signals.funding_spread, True, thresholds.funding_entry_z,
                                      thresholds.funding_exit_z, thresholds.funding_entry_spread,
                                      thresholds.funding_exit_spread)
        if direction:
            return Entry(FUNDING, direction, signals.describe_funding())
    return None


def exit_decision(reason: str, direction: int, hedged: bool, signals: Signals,
                  thresholds: Thresholds) -> Optional[str]:
    """Why the held pair closes now, or None. A price pair closes when the mid spread reverts; a funding pair when
    the funding signal no longer points its way; an adopted pair by the funding signal (and its price spread) when
    funding is on, else as a price pair. A lone leg (not hedged) closes on the first reason."""
    price_reverted = (not hedged or signals.held_mid_spread is None
                      or signals.held_mid_spread <= thresholds.exit_spread)
    if reason == PRICE or (reason == ADOPTED and not thresholds.funding_enabled):
        return "price spread reverted" if price_reverted else None
    still_on = 0
    if thresholds.funding_enabled and signals.funding_spread is not None:
        still_on = funding_direction(signals.funding_z, signals.funding_spread, False, thresholds.funding_entry_z,
                                     thresholds.funding_exit_z, thresholds.funding_entry_spread,
                                     thresholds.funding_exit_spread)
    if still_on != direction and (reason == FUNDING or price_reverted):
        return "funding spread reverted"
    return None


def cap_refusal(adding: Dict[str, Decimal], held: Dict[str, Decimal], max_per_venue: Decimal,
                max_total: Decimal) -> Optional[str]:
    """Why a pair adding `adding` (notional per venue) to what is `held` would pass a cap (0 = no cap), or None.
    The total is the sum over both venues."""
    for venue, notional in adding.items():
        after = held.get(venue, Decimal(0)) + notional
        if max_per_venue > 0 and after > max_per_venue:
            return (f"it would bring {venue} to {after:.2f} of notional, over max_notional_per_venue "
                    f"{max_per_venue}")
    total = sum(held.values(), Decimal(0)) + sum(adding.values(), Decimal(0))
    if max_total > 0 and total > max_total:
        return f"it would bring both venues to {total:.2f} of notional, over max_total_notional {max_total}"
    return None


def venue_pause(connector: str, trading_pair: str, ready: bool, connected: bool, has_rule: bool,
                market_status: Optional[str], book_age: Optional[float], stale_after: float) -> Optional[str]:
    """Why no new pair may use this market now (maintenance, lost connection, stale book), or None."""
    if not ready:
        return f"{connector} is not ready"
    if not connected:
        return f"{connector}'s network status is not CONNECTED"
    if not has_rule:
        return f"{connector} has no trading rule for {trading_pair} (not active: maintenance or delisted)"
    if market_status is not None and market_status.upper() != "ACTIVE":
        return f"{trading_pair} is {market_status} on {connector}"
    if stale_after > 0 and book_age is not None and book_age > stale_after:
        return f"the {connector} {trading_pair} book had no update for {book_age:.0f} s (book_stale_seconds " \
               f"{stale_after:g})"
    return None


def repair_bound(expected_price: Decimal, is_buy: bool, slippage: Decimal) -> Decimal:
    """The worst price at which a missing leg is still bought (or sold): `slippage` from the price it was expected
    at when the pair was opened."""
    return expected_price * (1 + slippage if is_buy else 1 - slippage)


def within_bound(price: Decimal, bound: Decimal, is_buy: bool) -> bool:
    if not price or price.is_nan():
        return False
    return price <= bound if is_buy else price >= bound


# ---- the pair's state and ledger ----------------------------------------------------------------------------------

@dataclass
class Leg:
    connector: str
    trading_pair: str
    side: int  # +1 long, -1 short
    amount: Decimal = Decimal(0)  # base held
    entry_quote: Decimal = Decimal(0)  # quote paid (long) or received (short) to open
    exit_amount: Decimal = Decimal(0)
    exit_quote: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)  # positive when received
    expected_price: Decimal = Decimal(0)  # the book's price for the leg when the pair was opened

    @property
    def entry_price(self) -> Decimal:
        return self.entry_quote / self.amount if self.amount else Decimal(0)

    def price_pnl(self, mark: Optional[Decimal] = None) -> Decimal:
        """Realised on what was closed, plus (with `mark`) unrealised on what is still open."""
        closed = self.exit_quote - self.entry_price * self.exit_amount
        open_amount = self.amount - self.exit_amount
        unrealised = (mark - self.entry_price) * open_amount if mark is not None and open_amount > 0 else Decimal(0)
        return self.side * (closed + unrealised)


@dataclass
class PairState:
    reason: str  # price, funding or adopted
    opened_at: float
    entry_signal: str  # what opened it: the net price spread or the funding z-score/spread
    legs: List[Leg]
    status: str = "open"  # opening, open or closing

    def leg(self, connector: str, trading_pair: str) -> Optional[Leg]:
        return next((leg for leg in self.legs if (leg.connector, leg.trading_pair) == (connector, trading_pair)),
                    None)

    def totals(self, marks: Optional[Dict[str, Decimal]] = None) -> Dict[str, Decimal]:
        price = sum((leg.price_pnl((marks or {}).get(leg.connector)) for leg in self.legs), Decimal(0))
        fees = sum((leg.fees for leg in self.legs), Decimal(0))
        funding = sum((leg.funding for leg in self.legs), Decimal(0))
        return {"price_pnl": price, "fees": fees, "funding": funding, "net": price + funding - fees}

    def to_json(self) -> dict:
        data = asdict(self)
        for leg in data["legs"]:
            for key, value in leg.items():
                if isinstance(value, Decimal):
                    leg[key] = str(value)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "PairState":
        legs = [Leg(**{key: Decimal(value) if key not in ("connector", "trading_pair", "side") else value
                       for key, value in leg.items()}) for leg in data["legs"]]
        return cls(reason=data["reason"], opened_at=float(data["opened_at"]), entry_signal=data["entry_signal"],
                   legs=legs, status=data.get("status", "open"))


def write_json_atomic(path: Path, data: dict):
    """Written to a temporary file in the same folder, flushed to disk, then renamed over `path`: a crash leaves
    either the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_json(path: Path) -> Optional[dict]:
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)


LEDGER_FIELDS = ["closed_at", "reason", "entry_signal", "opened_at", "long", "short", "amount", "long_entry",
                 "long_exit", "short_entry", "short_exit", "price_pnl", "fees", "funding", "net"]


def ledger_row(pair: PairState, closed_at: float) -> Dict[str, str]:
    # A leg that never filled (a pair whose missing leg was not repaired) is not named.
    long_leg = next((leg for leg in pair.legs if leg.side > 0 and leg.amount), None)
    short_leg = next((leg for leg in pair.legs if leg.side < 0 and leg.amount), None)

    def exit_price(leg: Optional[Leg]) -> str:
        return f"{leg.exit_quote / leg.exit_amount:f}" if leg is not None and leg.exit_amount else ""

    totals = pair.totals()
    return {"closed_at": f"{closed_at:.0f}", "reason": pair.reason, "entry_signal": pair.entry_signal,
            "opened_at": f"{pair.opened_at:.0f}",
            "long": f"{long_leg.connector} {long_leg.trading_pair}" if long_leg else "",
            "short": f"{short_leg.connector} {short_leg.trading_pair}" if short_leg else "",
            "amount": f"{max((leg.amount for leg in pair.legs), default=Decimal(0)):f}",
            "long_entry": f"{long_leg.entry_price:f}" if long_leg else "", "long_exit": exit_price(long_leg),
            "short_entry": f"{short_leg.entry_price:f}" if short_leg else "", "short_exit": exit_price(short_leg),
            **{key: f"{value:f}" for key, value in totals.items()}}


def append_ledger(path: Path, row: Dict[str, str]):
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LEDGER_FIELDS)
        if new:
            writer.writeheader()
        writer.writerow(row)
        f.flush()
        os.fsync(f.fileno())
