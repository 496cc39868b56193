"""The arbitrage script's shared decision code (used live and by the backtest): entries, exits, notional caps, the
maintenance/stale-book pause, the leg repair bound, the pairs setting, and the backtest's funding arithmetic, chart
and offline command."""
import os
import subprocess
import sys
import tempfile
import time
import unittest
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from scripts.lighter_extended_arbitrage import LighterExtendedArbitrageConfig
from scripts.lighter_extended_backtest import chart, run_backtest
from scripts.lighter_extended_funding import (
    ADOPTED,
    FUNDING,
    HOUR,
    NAN,
    PRICE,
    FundingHistory,
    Signals,
    Thresholds,
    cap_refusal,
    entry_decision,
    exit_decision,
    repair_bound,
    venue_pause,
    within_bound,
)

D = Decimal
THRESHOLDS = Thresholds(entry_spread=D("0.003"), exit_spread=D("0.0005"), funding_enabled=True,
                        funding_entry_z=D(2), funding_exit_z=D("0.5"), funding_entry_spread=D("0.0002"),
                        funding_exit_spread=D("0.00005"))


class EntryTest(unittest.TestCase):
    def test_a_price_spread_wins_and_names_its_direction(self):
        entry = entry_decision(Signals(long_extended_edge=D("0.004"), long_lighter_edge=D("-0.01"),
                                       funding_spread=D("0.001"), funding_z=D(5)), THRESHOLDS)
        self.assertEqual((PRICE, -1, "net price spread 0.00400"), (entry.reason, entry.direction, entry.signal))
        entry = entry_decision(Signals(long_lighter_edge=D("0.003")), THRESHOLDS)
        self.assertEqual((PRICE, 1), (entry.reason, entry.direction))

    def test_the_funding_signal_decides_without_a_price_spread(self):
        self.assertEqual((FUNDING, 1), (lambda e: (e.reason, e.direction))(
            entry_decision(Signals(funding_spread=D("0.00001"), funding_z=D("2.1")), THRESHOLDS)))
        self.assertEqual(-1, entry_decision(Signals(funding_spread=D("-0.0003")), THRESHOLDS).direction)
        self.assertIsNone(entry_decision(Signals(long_extended_edge=D("0.0029"), funding_spread=D("0.00001"),
                                                 funding_z=D("1.9")), THRESHOLDS))
        off = Thresholds(**{**THRESHOLDS.__dict__, "funding_enabled": False})
        self.assertIsNone(entry_decision(Signals(funding_spread=D(1), funding_z=D(9)), off))
        self.assertIsNone(entry_decision(Signals(long_extended_edge=NAN, long_lighter_edge=NAN), THRESHOLDS))


class ExitTest(unittest.TestCase):
    def test_a_price_pair_closes_when_the_mid_spread_reverts(self):
        self.assertIsNone(exit_decision(PRICE, -1, True, Signals(held_mid_spread=D("0.006")), THRESHOLDS))
        self.assertEqual("price spread reverted",
                         exit_decision(PRICE, -1, True, Signals(held_mid_spread=D("0.0005")), THRESHOLDS))
        # A lone leg has no spread to wait for.
        self.assertEqual("price spread reverted",
                         exit_decision(PRICE, 1, False, Signals(held_mid_spread=None), THRESHOLDS))

    def test_a_funding_pair_closes_when_its_signal_is_off(self):
        self.assertIsNone(exit_decision(FUNDING, 1, True, Signals(funding_spread=D(0), funding_z=D("0.6")),
                                        THRESHOLDS))
        self.assertEqual("funding spread reverted", exit_decision(
            FUNDING, 1, True, Signals(funding_spread=D(0), funding_z=D("0.4")), THRESHOLDS))
        self.assertEqual("funding spread reverted", exit_decision(
            FUNDING, -1, True, Signals(funding_spread=D(0), funding_z=D("0.6")), THRESHOLDS))

    def test_an_adopted_pair_waits_for_its_price_spread_too(self):
        off_signal = Signals(funding_spread=D(0), funding_z=D(0), held_mid_spread=D("0.01"))
        self.assertIsNone(exit_decision(ADOPTED, 1, True, off_signal, THRESHOLDS))
        off_signal.held_mid_spread = D(0)
        self.assertEqual("funding spread reverted", exit_decision(ADOPTED, 1, True, off_signal, THRESHOLDS))


class RiskTest(unittest.TestCase):
    def test_caps_per_venue_and_in_total(self):
        adding = {"lighter": D(120), "extended": D(120)}
        self.assertIsNone(cap_refusal(adding, {"lighter": D(80), "extended": D(80)}, D(200), D(400)))
        refusal = cap_refusal(adding, {"lighter": D(81), "extended": D(50)}, D(200), D(0))
        self.assertEqual("it would bring lighter to 201.00 of notional, over max_notional_per_venue 200", refusal)
        refusal = cap_refusal(adding, {"lighter": D(80), "extended": D(81)}, D(0), D(400))
        self.assertEqual("it would bring both venues to 401.00 of notional, over max_total_notional 400", refusal)
        self.assertIsNone(cap_refusal(adding, {"lighter": D(10 ** 9)}, D(0), D(0)))

    def test_pause_reasons(self):
        fine = dict(connector="extended_perpetual", trading_pair="ETH-USD", ready=True, connected=True, has_rule=True,
                    market_status="ACTIVE", book_age=5.0, stale_after=60)
        self.assertIsNone(venue_pause(**fine))
        self.assertEqual("extended_perpetual is not ready", venue_pause(**{**fine, "ready": False}))
        self.assertEqual("extended_perpetual's network status is not CONNECTED",
                         venue_pause(**{**fine, "connected": False}))
        self.assertIn("no trading rule for ETH-USD", venue_pause(**{**fine, "has_rule": False}))
        self.assertEqual("ETH-USD is REDUCE_ONLY on extended_perpetual",
                         venue_pause(**{**fine, "market_status": "REDUCE_ONLY"}))
        self.assertEqual("the extended_perpetual ETH-USD book had no update for 61 s (book_stale_seconds 60)",
                         venue_pause(**{**fine, "book_age": 61.0}))
        self.assertIsNone(venue_pause(**{**fine, "book_age": 61.0, "stale_after": 0}))
        self.assertIsNone(venue_pause(**{**fine, "book_age": None, "market_status": None}))

    def test_repair_bound(self):
        self.assertEqual(D("2505.000"), repair_bound(D(2500), True, D("0.002")))
        self.assertEqual(D("2495.000"), repair_bound(D(2500), False, D("0.002")))
        self.assertTrue(within_bound(D("2505"), D("2505"), True))
        self.assertFalse(within_bound(D("2505.1"), D("2505"), True))
        self.assertTrue(within_bound(D("2496"), D("2495"), False))
        self.assertFalse(within_bound(D("2494"), D("2495"), False))
        self.assertFalse(within_bound(NAN, D("2495"), False))
        self.assertFalse(within_bound(D(0), D("2505"), True))


class PairsSettingTest(unittest.TestCase):
    def test_pairs_are_read_from_a_list_or_a_comma_separated_line(self):
        config = LighterExtendedArbitrageConfig(pairs="ETH-USDC:ETH-USD, BTC-USDC:BTC-USD:0.002",
                                                order_amount=D("0.05"))
        self.assertEqual([("ETH-USDC", "ETH-USD", D("0.05")), ("BTC-USDC", "BTC-USD", D("0.002"))],
                         config.pair_specs())
        self.assertEqual(["ETH-USDC:ETH-USD"], LighterExtendedArbitrageConfig(pairs=["ETH-USDC:ETH-USD"]).pairs)

    def test_bad_entries_are_refused_with_a_sentence(self):
        for value, words in (("ETH-USDC", "is not LIGHTER_PAIR:EXTENDED_PAIR"),
                             ("ETH-USDC:ETH-USD:-1", "is not a positive number"),
                             ("ETH-USDC:ETH-USD,ETH-USDC:BTC-USD", "in more than one entry"), ("", "at least one")):
            with self.assertRaises(ValidationError) as raised:
                LighterExtendedArbitrageConfig(pairs=value)
            self.assertIn(words, str(raised.exception))


class BacktestTest(unittest.TestCase):
    def history(self) -> FundingHistory:
        """200 quiet hours (spread +/-0.00001 alternating), then Extended's rate jumps for 3 hours, then quiet."""
        start = 1_700_000_000 - 1_700_000_000 % HOUR
        history = FundingHistory()
        for i in range(210):
            hour = start + i * HOUR
            history.lighter[hour] = D("0.00001")
            jump = 200 <= i < 203
            history.extended[hour] = D("0.0003") if jump else D("0.00001") + (D("0.00001") if i % 2 else D("-0.00001"))
        return history

    def test_a_funding_trade_collects_from_the_hour_after_its_entry(self):
        history = self.history()
        result = run_backtest(history, THRESHOLDS, window_hours=720, min_hours=168, amount=D("0.1"), price=D(2000),
                              lighter_taker=D(0), extended_taker=D("0.0005"))
        self.assertEqual(1, len(result.trades))
        trade = result.trades[0]
        hours = sorted(history.lighter)
        # Entered on the jump's first hour (z far above 2), long Lighter / short Extended; held through the next two
        # jump hours and the first quiet one, at which the z-score is back under 0.5 and it exits.
        self.assertEqual((hours[200], hours[203], 1, 3), (trade.opened, trade.closed, trade.direction, trade.hours))
        notional = D(200)
        self.assertEqual(notional, result.notional)
        self.assertEqual(-3 * D("0.00001") * notional, trade.lighter_funding)
        self.assertEqual((2 * D("0.0003") + history.extended[hours[203]]) * notional, trade.extended_funding)
        self.assertEqual(2 * notional * D("0.0005"), trade.fees)
        self.assertEqual(trade.funding - trade.fees, result.total("net"))

    def test_the_chart_is_a_png(self):
        result = run_backtest(self.history(), THRESHOLDS, 720, 168, D("0.1"), D(2000), D(0), D("0.0005"))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "chart.png"
            chart(result, THRESHOLDS, path, "test")
            self.assertEqual(b"\x89PNG\r\n\x1a\n", path.read_bytes()[:8])
            self.assertGreater(path.stat().st_size, 20_000)

    def test_python_m_demo_backtest_runs_offline_and_writes_its_chart(self):
        with tempfile.TemporaryDirectory() as folder:
            png = Path(folder) / "backtest.png"
            started = time.monotonic()
            env = {key: value for key, value in os.environ.items() if not key.endswith("_PERPETUAL_REST_URL")}
            done = subprocess.run([sys.executable, "-m", "demo", "backtest", "--png", str(png)], capture_output=True,
                                  text=True, timeout=60, env=env, cwd=str(Path(__file__).resolve().parents[2]))
            self.assertLess(time.monotonic() - started, 60)
            self.assertEqual(0, done.returncode, done.stderr[-3000:])
            self.assertIn("Lighter: local emulator; Extended: local emulator", done.stdout)
            self.assertRegex(done.stdout, r"\d+ trades: funding collected [+-]\d+\.\d{4}, fees -\d+\.\d{4}, net ")
            self.assertEqual(b"\x89PNG\r\n\x1a\n", png.read_bytes()[:8])


if __name__ == "__main__":
    unittest.main()
