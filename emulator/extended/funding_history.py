"""GET /api/v1/info/{market}/funding: hourly funding rates, generated (seeded) for the days before the emulator first
answered, followed by the periods it settled itself.

Shape of the real answer (test/fixtures/extended_13_funding.txt, ccxt fetchFundingRateHistory, live):
{"status": "OK", "data": [{"m": "BTC-USD", "f": "0.000008", "T": 1777507201028}],
"pagination": {"cursor": ..., "count": 1}}.
`f` is the hourly rate as a fraction (marketStats.fundingRate "0.000013" is the usual 0.01 % per 8 hours, per hour),
`T` milliseconds just after the hour it was applied. The API docs: startTime and endTime (epoch milliseconds) are
required, records are sorted newest first, `cursor` from the previous page continues it. Inferred: the cursor is
opaque to clients (here the T of the page's last row).
"""
import random
from decimal import Decimal
from typing import Dict, List, Tuple
from weakref import WeakKeyDictionary

from aiohttp import web

from emulator.extended.app_keys import STATE
from emulator.extended.errors import ExchangeError
from emulator.extended.fmt import dstr, now_ms
from emulator.extended.responses import ok, paginate, query_int

HOUR_MS = 3_600_000
HISTORY_DAYS = 45
SEED = 13
NOISE = 0.000005
REVERSION = 0.2

_generated: "WeakKeyDictionary[object, Dict[str, List[Tuple[int, Decimal]]]]" = WeakKeyDictionary()


def generated(state, market: str, first_answer_ms: int) -> List[Tuple[int, Decimal]]:
    """(T, rate) oldest first, one an hour up to the hour before `first_answer_ms`."""
    per_state = _generated.setdefault(state, {})
    if market not in per_state:
        rng = random.Random(f"{SEED}:{market}")
        base = float(state.markets[market].spec.funding_rate)
        last = first_answer_ms - first_answer_ms % HOUR_MS - HOUR_MS
        rate, rows = base, []
        for hour in range(last - (HISTORY_DAYS * 24 - 1) * HOUR_MS, last + HOUR_MS, HOUR_MS):
            rate += REVERSION * (base - rate) + rng.gauss(0.0, NOISE)
            rows.append((hour + rng.randint(900, 1500), Decimal(f"{rate:.6f}")))
        per_state[market] = rows
    return per_state[market]


async def funding_history(request: web.Request) -> web.Response:
    state = request.app[STATE]
    name = request.match_info["market"]
    state.market(name)
    start, end = query_int(request, "startTime"), query_int(request, "endTime")
    if start is None or end is None:
        raise ExchangeError(1133, "Invalid startTime" if start is None else "Invalid endTime")
    rows = generated(state, name, now_ms()) + list(state.funding_history[name])
    rows = [(ts, rate) for ts, rate in reversed(rows) if start <= ts <= end]
    page, pagination = paginate(request, rows, key=lambda row: row[0])
    return ok([{"m": name, "f": dstr(rate), "T": ts} for ts, rate in page], pagination)
