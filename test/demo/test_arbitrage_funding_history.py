"""Hummingbot's engine runs scripts/lighter_extended_arbitrage.py against both local exchanges, which serve 45 days of
hourly funding history: the funding z-score is computed from the 30 days the script reads at start, so a funding pair
opens on the first tick when that history says the live spread is extreme, and none opens when the history says the
spread is ordinary, even though it is above the fixed threshold used without history."""
import asyncio
import json
import re
import signal
import statistics
import time
import unittest
from datetime import datetime
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

import aiohttp

from test.demo.arbitrage_run import ETH, ArbitrageRun

HOUR = 3600
ORDER_AMOUNT = Decimal("0.05")
CONFIG = {"funding_enabled": True, "funding_history_days": 30, "funding_min_history_hours": 168,
          "funding_entry_z": "2", "funding_exit_z": "0.5", "funding_entry_spread": "0.0002",
          "funding_exit_spread": "0.00005"}
FIXED_ENTRY_SPREAD = Decimal(CONFIG["funding_entry_spread"])
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - \d+ - [\w.]+ - \w+ - (.*)$")


def script_lines(run: ArbitrageRun) -> List[Tuple[float, str]]:
    """(epoch seconds, message) of every line the script logged."""
    lines = []
    if not run.log_path.exists():
        return lines
    for line in run.log_path.read_text().splitlines():
        match = LOG_LINE.match(line)
        if match and "strategy_v2_base" in line:
            stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            lines.append((stamp, match.group(2)))
    return lines


def said(run: ArbitrageRun, prefix: str) -> Optional[str]:
    return next((message for _, message in script_lines(run) if message.startswith(prefix)), None)


async def served_history(run: ArbitrageRun, first_hour: int, last_hour: int) -> Dict[int, Decimal]:
    """Extended's hourly rate minus Lighter's for each hour in [first_hour, last_hour], read from the exchanges' own
    history endpoints and parsed here from their documented units (Lighter: unsigned percent with the paying side;
    Extended: a signed fraction, T in milliseconds)."""
    lighter: Dict[int, Decimal] = {}
    extended: Dict[int, Decimal] = {}
    async with aiohttp.ClientSession() as session:
        start = first_hour
        while start <= last_hour:
            end = min(last_hour, start + 99 * HOUR)
            async with session.get(f"{run.lighter.rest_url}/api/v1/fundings", params={
                    "market_id": ETH[0], "resolution": "1h", "start_timestamp": start * 1000,
                    "end_timestamp": end * 1000, "count_back": 100}) as response:
                for row in (await response.json())["fundings"]:
                    rate = Decimal(row["rate"]) / 100
                    lighter[int(row["timestamp"])] = -rate if row["direction"] == "short" else rate
            start = end + HOUR
        async with session.get(f"{run.extended.rest_url}/info/{ETH[2]}/funding", params={
                "startTime": first_hour * 1000, "endTime": last_hour * 1000 + HOUR * 1000 - 1,
                "limit": 1000}) as response:
            for row in (await response.json())["data"]:
                extended[int(row["T"]) // 1000 // HOUR * HOUR] = Decimal(row["f"])
    hours = [hour for hour in range(first_hour, last_hour + 1, HOUR) if hour in lighter and hour in extended]
    return {hour: extended[hour] - lighter[hour] for hour in hours}


def live_spread(run: ArbitrageRun) -> Decimal:
    """Extended's live hourly rate (a fraction) minus Lighter's (market_stats shows percent)."""
    return run.extended.state.market(ETH[2]).funding_rate - run.lighter.state.markets[ETH[0]].spec.funding_rate / 100


async def expected_z(run: ArbitrageRun) -> Tuple[int, Decimal, Decimal]:
    """(hours, spread, z-score) from the history window the script says it read."""
    loaded = said(run, f"Funding history of {ETH[1]}/{ETH[2]}:")
    match = re.match(r".*: (\d+) hours on both venues up to (\d+) \(gaps: none\)", loaded or "")
    run.test.assertIsNotNone(match, loaded)
    hours, last_hour = int(match.group(1)), int(match.group(2))
    spreads = await served_history(run, last_hour - (hours - 1) * HOUR, last_hour)
    run.test.assertEqual(hours, len(spreads))
    history = list(spreads.values())
    spread = live_spread(run)
    return hours, spread, (spread - statistics.mean(history)) / statistics.pstdev(history)


def open_pair_state(run: ArbitrageRun) -> dict:
    return json.loads((run.root / "data" / f"lighter_extended_arbitrage_{ETH[1]}_{ETH[2]}.json").read_text())


def started_tick(run: ArbitrageRun) -> int:
    started = said(run, "Started on 1 pair(s) of markets at tick ")
    run.test.assertIsNotNone(started)
    return int(re.search(r"at tick (\d+)", started).group(1))


class HistorySeededFundingSignalTest(unittest.TestCase):
    def run_scenario(self, scenario, timeout: float = 75):
        started = time.monotonic()
        asyncio.run(asyncio.wait_for(scenario(), timeout=timeout))
        self.assertLess(time.monotonic() - started, timeout + 2)

    def test_an_extreme_spread_against_30_days_of_history_opens_a_pair_on_the_first_tick(self):
        def extended_longs_pay_more(run: ArbitrageRun):
            # 0.0001/h above Extended's usual rate: half the fixed threshold, many deviations of the history.
            usual = run.extended.state.market(ETH[2]).spec.funding_rate
            run.extended.set_funding_rate(ETH[2], usual + Decimal("0.0001"))

        async def scenario():
            async with ArbitrageRun(self, CONFIG, prepare=extended_longs_pay_more) as run:
                await run.until(lambda: run.positions() == (ORDER_AMOUNT, -ORDER_AMOUNT), "the funding pair", 45)
                hours, spread, z = await expected_z(run)
                signal_line = said(run, f"Funding signal on {ETH[1]}/{ETH[2]}:")
                state = open_pair_state(run)
                first_tick = started_tick(run) + 1
            self.assertEqual(0, run.stop_code)
            # 30 days of hourly history on both venues (the current hour may not have settled yet).
            self.assertGreaterEqual(hours, 30 * 24 - 1)
            # Without history the fixed threshold would not have opened it.
            self.assertLess(spread, FIXED_ENTRY_SPREAD)
            self.assertGreater(z, 2)
            self.assertEqual(f"Funding signal on {ETH[1]}/{ETH[2]}: funding spread {spread:.6f}/h, z-score {z:.2f}: "
                             f"long lighter_perpetual, short extended_perpetual", signal_line)
            # Opened at the first tick after start-up (ticks are whole seconds, one a second).
            self.assertEqual("funding", state["reason"])
            self.assertEqual(first_tick, state["opened_at"])

        self.run_scenario(scenario)

    def test_an_ordinary_spread_against_its_history_opens_nothing_until_it_becomes_extreme(self):
        def extended_usually_higher(run: ArbitrageRun):
            # Extended's rate has been 0.00025/h above Lighter's for 45 days (its history is generated around it) and
            # is so now: above the fixed threshold, but ordinary for this market.
            market = run.extended.state.market(ETH[2])
            market.spec.funding_rate = run.lighter.state.markets[ETH[0]].spec.funding_rate / 100 + Decimal("0.00025")
            run.extended.set_funding_rate(ETH[2], market.spec.funding_rate)

        async def scenario():
            async with ArbitrageRun(self, CONFIG, prepare=extended_usually_higher) as run:
                await run.until(lambda: said(run, "Started on ") is not None, "the start", 45)
                first_tick = started_tick(run) + 1
                # Three ticks of decisions.
                await run.until(lambda: time.time() >= first_tick + 3, "three ticks")
                hours, spread, z = await expected_z(run)
                self.assertEqual((0, 0), run.positions())
                self.assertIsNone(said(run, "Funding signal"))
                # What `status` shows: the z-score from the same history.
                status_path = run.root / "data" / "bot" / "status.json"
                asked = time.time()
                run.engine.send_signal(signal.SIGUSR1)
                await run.until(lambda: status_path.exists() and json.loads(status_path.read_text())["updated_at"]
                                > asked, "the status snapshot", 10)
                status = json.loads(status_path.read_text())["format_status"]
                # The spread jumps 0.0001/h: extreme for this history, so the pair opens.
                run.extended.set_funding_rate(ETH[2], run.extended.state.market(ETH[2]).funding_rate
                                              + Decimal("0.0001"))
                await run.until(lambda: run.positions() == (ORDER_AMOUNT, -ORDER_AMOUNT), "the funding pair")
                _, jumped_spread, jumped_z = await expected_z(run)
                signal_line = said(run, f"Funding signal on {ETH[1]}/{ETH[2]}:")
            self.assertEqual(0, run.stop_code)
            self.assertGreaterEqual(hours, 30 * 24 - 1)
            self.assertGreaterEqual(spread, FIXED_ENTRY_SPREAD)
            self.assertLess(abs(z), 2)
            self.assertIn(f"Funding spread (Extended - Lighter): {spread:+.6f}/h, z-score {z:+.2f} over {hours} hours "
                          f"of history", status)
            self.assertGreater(jumped_z, 2)
            self.assertEqual(f"Funding signal on {ETH[1]}/{ETH[2]}: funding spread {jumped_spread:.6f}/h, z-score "
                             f"{jumped_z:.2f}: long lighter_perpetual, short extended_perpetual", signal_line)

        self.run_scenario(scenario)


if __name__ == "__main__":
    unittest.main()
