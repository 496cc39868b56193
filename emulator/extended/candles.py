"""OHLC(V) candles built from the emulator's own trade, mark and index price ticks."""
import bisect
from decimal import Decimal
from typing import List, Optional, Sequence, Tuple

from emulator.extended.fmt import dstr

INTERVALS_MS = {"PT1M": 60_000, "PT5M": 300_000, "PT15M": 900_000, "PT30M": 1_800_000, "PT1H": 3_600_000,
                "PT2H": 7_200_000, "PT4H": 14_400_000, "P1D": 86_400_000}
MAX_CANDLES = 1000


def build_candles(ticks: Sequence[Tuple[int, Decimal, Decimal]], interval_ms: int, limit: int, end_time: int,
                  fallback: Decimal, with_volume: bool) -> List[dict]:
    """Newest candle first [inferred order]; empty periods repeat the previous close with zero volume."""
    ticks = list(ticks)
    times = [t[0] for t in ticks]
    last_start = end_time // interval_ms * interval_ms
    first_start = last_start - (limit - 1) * interval_ms
    index = bisect.bisect_left(times, first_start)
    close: Optional[Decimal] = ticks[index - 1][1] if index > 0 else (ticks[0][1] if ticks else fallback)
    candles = []
    for start in range(first_start, last_start + 1, interval_ms):
        end = bisect.bisect_left(times, start + interval_ms, lo=index)
        window = ticks[index:end]
        index = end
        prices = [p for _, p, _ in window]
        candle = {"o": dstr(prices[0] if prices else close), "l": dstr(min(prices, default=close)),
                  "h": dstr(max(prices, default=close)), "c": dstr(prices[-1] if prices else close), "T": start}
        if with_volume:
            candle["v"] = dstr(sum((q for _, _, q in window), Decimal(0)))
        close = prices[-1] if prices else close
        candles.append(candle)
    candles.reverse()
    return candles
