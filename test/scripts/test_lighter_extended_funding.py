"""The arbitrage script's funding history reader against both local exchanges: the real endpoints' parameters and
pages, units read as the captures show them, gaps found, the cache topped up; and the pair state file."""
import json
import tempfile
import time
import unittest
from decimal import Decimal
from pathlib import Path

import aiohttp

from emulator.extended import ExtendedEmulator
from emulator.lighter import LighterEmulator
from scripts.lighter_extended_funding import (
    HOUR,
    FundingHistory,
    Leg,
    PairState,
    fetch_extended_funding,
    fetch_lighter_fundings,
    hour_of,
    missing_hours,
    parse_extended_funding,
    parse_lighter_fundings,
    read_json,
    update_history,
    write_json_atomic,
    zscore,
)
from test.reference_payloads import payload_objects


class Recorder:
    """A `get(path, params)` over HTTP that records what was asked."""

    def __init__(self, session: aiohttp.ClientSession, base: str):
        self.session, self.base, self.calls = session, base.rstrip("/"), []

    async def __call__(self, path, params):
        self.calls.append((path, dict(params)))
        async with self.session.get(self.base + path, params={k: str(v) for k, v in params.items()}) as response:
            return await response.json()


class UnitsFromTheCapturesTest(unittest.TestCase):
    def test_lighter_rates_are_percent_with_a_direction(self):
        answer = next(obj for obj in payload_objects("lighter_07_funding.txt") if "fundings" in obj)
        rates = parse_lighter_fundings(answer)
        # {"timestamp": 1778702400, "rate": "0.0012", "direction": "long"}, {"rate": "0.0002", "direction": "short"}
        self.assertEqual({1778702400: Decimal("0.000012"), 1778706000: Decimal("-0.000002")}, rates)
        row = answer["fundings"][0]
        # value = mark x rate / 100: the rate is a percent (the mark, 2256.56, is an ETH price).
        self.assertEqual(Decimal("2256.56"), (Decimal(row["value"]) / (Decimal(row["rate"]) / 100)).quantize(
            Decimal("0.01")))

    def test_extended_rates_are_fractions_at_millisecond_times(self):
        answer = next(obj for obj in payload_objects("extended_13_funding.txt") if "pagination" in obj
                      and obj["data"] and "f" in obj["data"][0])
        self.assertEqual({hour_of(1777507201028 / 1000): Decimal("0.000008")}, parse_extended_funding(answer))


class FundingHistoryFromTheEmulatorsTest(unittest.IsolatedAsyncioTestCase):
    async def test_thirty_days_gap_free_paginated_and_topped_up(self):
        async with LighterEmulator(port=0) as lighter, ExtendedEmulator(port=0) as extended, \
                aiohttp.ClientSession() as session:
            lighter_get = Recorder(session, lighter.rest_url + "/api/v1")
            extended_get = Recorder(session, extended.rest_url)
            now = time.time()
            end = hour_of(now) - 1
            start = hour_of(now) - 30 * 24 * HOUR
            lighter_rates = await fetch_lighter_fundings(lighter_get, 0, start, end)
            extended_rates = await fetch_extended_funding(extended_get, "ETH-USD", start, end, page_size=200)
            self.assertEqual(720, len(lighter_rates))
            self.assertEqual(720, len(extended_rates))
            self.assertEqual([], missing_hours(lighter_rates, start=start, end=hour_of(now) - HOUR))
            self.assertEqual([], missing_hours(extended_rates, start=start, end=hour_of(now) - HOUR))
            # Lighter: windows of 100 hours in milliseconds; Extended: startTime/endTime, then the cursor.
            self.assertEqual(8, len(lighter_get.calls))
            self.assertEqual({"market_id", "resolution", "start_timestamp", "end_timestamp", "count_back"},
                             set(lighter_get.calls[0][1]))
            self.assertEqual(start * 1000, lighter_get.calls[0][1]["start_timestamp"])
            self.assertEqual(4, len(extended_get.calls))
            self.assertNotIn("cursor", extended_get.calls[0][1])
            self.assertIn("cursor", extended_get.calls[1][1])
            self.assertEqual(("startTime", "endTime"), tuple(extended_get.calls[0][1])[:2])
            # Hourly fractions around each market's usual rate: Lighter's 0.0012 % is 0.000012.
            self.assertLess(abs(sum(lighter_rates.values()) / 720 - Decimal("0.000012")), Decimal("0.000005"))
            self.assertLess(abs(sum(extended_rates.values()) / 720 - Decimal("0.000013")), Decimal("0.000005"))

            # A cache that stops three hours early is topped up from where it stops, and a hole is reported.
            history = FundingHistory(lighter=dict(lighter_rates), extended=dict(extended_rates))
            for hour in sorted(lighter_rates)[-3:]:
                del history.lighter[hour]
                del history.extended[hour]
            del history.extended[start + 10 * HOUR]
            lighter_get.calls.clear()
            extended_get.calls.clear()
            problems = await update_history(history, lighter_get, 0, extended_get, "ETH-USD", 30, now)
            self.assertEqual(1, len(lighter_get.calls))
            self.assertEqual((max(lighter_rates) - 2 * HOUR) * 1000, lighter_get.calls[0][1]["start_timestamp"])
            self.assertEqual(lighter_rates, history.lighter)
            self.assertEqual(["Extended funding history misses 1 of 720 hours (first %d)" % (start + 10 * HOUR)],
                             problems)
            spreads = history.spreads(720)
            self.assertEqual(719, len(spreads))
            z = zscore(spreads, Decimal("0.0005"), min_samples=168)
            self.assertGreater(z, 10)

    async def test_extended_requires_its_time_window(self):
        async with ExtendedEmulator(port=0) as extended, aiohttp.ClientSession() as session:
            async with session.get(f"{extended.rest_url}/info/ETH-USD/funding") as response:
                body = await response.json()
            self.assertEqual(("ERROR", 400), (body["status"], response.status))
            with self.assertRaises(IOError):
                await fetch_extended_funding(lambda path, params: _error(), "ETH-USD", 0, 3600)


async def _error():
    return {"status": "ERROR", "error": {"code": 1133, "message": "Invalid startTime"}}


class PairStateFileTest(unittest.TestCase):
    def test_written_atomically_and_restored(self):
        pair = PairState(reason="funding", opened_at=1.0, entry_signal="z 2.5", status="open", legs=[
            Leg("lighter_perpetual", "ETH-USDC", 1, Decimal("0.05"), Decimal("125.01"), fees=Decimal("0.01"),
                funding=Decimal("-0.000125")),
            Leg("extended_perpetual", "ETH-USD", -1, Decimal("0.05"), Decimal("125.02"))])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "state.json"
            write_json_atomic(path, pair.to_json())
            self.assertEqual(["state.json"], [p.name for p in Path(folder).iterdir()])
            restored = PairState.from_json(read_json(path))
            self.assertEqual(pair, restored)
            self.assertEqual("-0.000125", json.loads(path.read_text())["legs"][0]["funding"])
        # Long 0.05 at 2500.2, closed at 2510: +0.49; short 0.05 at 2500.4, closed at 2510: -0.48.
        long_leg = Leg("a", "ETH-USDC", 1, Decimal("0.05"), Decimal("125.01"), Decimal("0.05"), Decimal("125.5"))
        short_leg = Leg("b", "ETH-USD", -1, Decimal("0.05"), Decimal("125.02"), Decimal("0.05"), Decimal("125.5"))
        self.assertEqual(Decimal("0.49"), long_leg.price_pnl())
        self.assertEqual(Decimal("-0.48"), short_leg.price_pnl())


if __name__ == "__main__":
    unittest.main()
