"""GET /api/v1/fundings: hourly funding history of a market, generated (seeded) for the days before the emulator
started, followed by the rounds the emulator settled itself.

Shape of the real answer (test/fixtures/lighter_07_funding.txt, nautilus_trader http_fundings.json):
{"code": 200, "resolution": "1h", "fundings": [{"timestamp": <seconds>, "value": "0.02707872", "rate": "0.0012",
"direction": "long"}]}. `rate` is the hourly rate in percent without a sign, `direction` says which side pays
("long": longs pay) and `value` is what one unit of the base asset pays or receives:
0.02707872 = 2256.56 x 0.0012 / 100, an ETH mark price. At most 100 rows a call (the most recent `count_back` within
the window), oldest first.
Inferred: start_timestamp and end_timestamp are milliseconds (lighter-sdk bounds them to 5e12, nautilus_trader sends
milliseconds); values below 1e12 are read as seconds, as the candles endpoint here does.
"""
import random
from decimal import Decimal
from typing import Dict, List

from aiohttp import web

from emulator.lighter import constants as C
from emulator.lighter.errors import LighterError
from emulator.lighter.state import now_ms

HOUR_S = 3600
MAX_ROWS = 100
HISTORY_DAYS = 45
SEED = 13
# Hourly percent: a mean-reverting walk around the market's rate, as real funding wanders around its baseline
# (0.0012 %/h, the usual 0.01 % per 8 hours, is what market_stats shows on a quiet market).
NOISE_PERCENT = 0.0005
REVERSION = 0.2


def _param(request: web.Request, name: str, choices=None) -> str:
    value = request.query.get(name)
    if value in (None, "") or (choices is not None and value not in choices):
        raise LighterError(C.INVALID_PARAM, detail=name)
    return value


def _int_param(request: web.Request, name: str) -> int:
    raw = _param(request, name)
    if not raw.isdigit():
        raise LighterError(C.INVALID_PARAM, detail=name)
    return int(raw)


def _seconds(timestamp: int) -> int:
    return timestamp // 1000 if timestamp >= 10 ** 12 else timestamp


class FundingHistory:
    def __init__(self, emulator, days: int = HISTORY_DAYS):
        self.state = emulator.state
        self.days = days
        self.started_s = now_ms() // 1000
        self._generated: Dict[int, List[dict]] = {}

    def generated(self, market_id: int) -> List[dict]:
        if market_id not in self._generated:
            spec = self.state.markets[market_id].spec
            rng = random.Random(f"{SEED}:{spec.symbol}")
            last = self.started_s - self.started_s % HOUR_S - HOUR_S
            base = float(spec.funding_rate)
            rate, rows = base, []
            for hour in range(last - (self.days * 24 - 1) * HOUR_S, last + HOUR_S, HOUR_S):
                rate += REVERSION * (base - rate) + rng.gauss(0.0, NOISE_PERCENT)
                value = Decimal(f"{rate:.4f}")
                rows.append({"timestamp": hour, "value": f"{abs(value) * spec.initial_price / 100:.8f}",
                             "rate": f"{abs(value):.4f}", "direction": "short" if value < 0 else "long"})
            self._generated[market_id] = rows
        return self._generated[market_id]

    async def fundings(self, request: web.Request) -> web.Response:
        market_id = _int_param(request, "market_id")
        if market_id not in self.state.markets:
            raise LighterError(C.INVALID_PARAM, detail="market_id")
        resolution = _param(request, "resolution", choices=("1h", "1d"))
        start = _seconds(_int_param(request, "start_timestamp"))
        end = _seconds(_int_param(request, "end_timestamp"))
        count_back = _int_param(request, "count_back")
        rows = self.generated(market_id) + self.state.markets[market_id].funding_history
        rows = [row for row in rows if start <= row["timestamp"] <= end]
        if resolution == "1d":
            rows = [row for row in rows if row["timestamp"] % 86400 == 0]
        rows = rows[-count_back:] if count_back else rows
        return web.json_response({"code": C.OK_CODE, "resolution": resolution, "fundings": rows[-MAX_ROWS:]})
