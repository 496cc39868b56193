"""Hummingbot's own engine runs scripts/lighter_extended_arbitrage.py against the local Lighter and Extended
exchanges: a price spread and then a funding spread each open a hedged pair, and their reversal closes it."""
import asyncio
import os
import threading
import time
import unittest
from decimal import Decimal
from pathlib import Path
from typing import List, Set, Tuple
from unittest.mock import patch

from demo.arbitrage import EXTENDED, LIGHTER, ORDER_AMOUNT, SIZE_STEP, ArbitrageDemo
from emulator.extended import ExtendedEmulator
from emulator.lighter import LighterEmulator
from scripts.lighter_extended_funding import funding_direction, zscore


class ChildCommandLines:
    """The command line of every descendant of this process, read from /proc while it runs (what `ps` shows any
    local user)."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.seen: Set[Tuple[int, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    @staticmethod
    def descendants() -> Set[int]:
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    # The parent pid follows the state, after the parenthesised command name.
                    parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        found, frontier = set(), {os.getpid()}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
            found |= frontier
        return found

    def _poll(self):
        while not self._stop.is_set():
            for pid in self.descendants():
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if cmdline:
                    self.seen.add((pid, cmdline.replace(b"\0", b" ").decode(errors="replace")))
            self._stop.wait(self.interval)


class ArbitrageOnLighterAndExtendedTest(unittest.TestCase):
    def test_spreads_open_hedged_pairs_and_reversals_close_them(self):
        # The keys the demo gets from the exchanges, recorded as the emulators hand them out.
        secrets: List[str] = []
        lighter_account_with_key, extended_account = (LighterEmulator.create_account_with_api_key,
                                                      ExtendedEmulator.create_account)

        def record_lighter_key(emulator, *args, **kwargs):
            account = lighter_account_with_key(emulator, *args, **kwargs)
            secrets.append(account[2])
            return account

        def record_extended_keys(emulator, *args, **kwargs):
            account = extended_account(emulator, *args, **kwargs)
            secrets.extend([account.api_key, account.stark_private_key])
            return account

        started = time.monotonic()
        with patch.object(LighterEmulator, "create_account_with_api_key", record_lighter_key), \
                patch.object(ExtendedEmulator, "create_account", record_extended_keys), \
                ChildCommandLines() as children:
            result = asyncio.run(asyncio.wait_for(ArbitrageDemo(verbose=False).run_and_summarize(), timeout=150))
        self.assertLess(time.monotonic() - started, 120)

        # No key on any child's command line: the configuration writers (one per connector) got theirs on stdin.
        self.assertEqual(3, len(secrets))
        command_lines = [cmdline for _, cmdline in children.seen]
        self.assertEqual(2, len({pid for pid, cmdline in children.seen if "demo.hb_setup" in cmdline}), command_lines)
        self.assertTrue(any("hummingbot.cli.engine" in cmdline for cmdline in command_lines), command_lines)
        for secret in secrets:
            for cmdline in command_lines:
                self.assertNotIn(secret.removeprefix("0x"), cmdline)

        self.assertIsNotNone(result, "the engine did not run")
        self.assertEqual(5, len(result.phases), result.text())
        price_open, price_close, funding_open, funding_paid, funding_close = result.phases
        for phase in result.phases:
            self.assertTrue(phase.reached, result.text())
        # Lighter dearer: short Lighter, long Extended, the configured size on both (on the coarser size step).
        self.assertEqual(-ORDER_AMOUNT, price_open.lighter_position)
        self.assertEqual(ORDER_AMOUNT, price_open.extended_position)
        self.assertLessEqual(abs(price_open.lighter_position + price_open.extended_position), SIZE_STEP)
        self.assertEqual((0, 0), (price_close.lighter_position, price_close.extended_position))
        # Extended's longs pay more funding: long Lighter, short Extended.
        self.assertEqual(ORDER_AMOUNT, funding_open.lighter_position)
        self.assertEqual(-ORDER_AMOUNT, funding_open.extended_position)
        self.assertEqual((0, 0), (funding_close.lighter_position, funding_close.extended_position))
        # The funding round: both legs' payments booked as the exchanges paid them, and the ledger carries them.
        self.assertTrue(all(result.exchange_funding.values()), result.exchange_funding)
        self.assertEqual(sum(result.exchange_funding.values()), result.ledger_total("funding"))
        self.assertEqual(["price", "funding"], [row["reason"] for row in result.ledger])
        self.assertIn("funding collected", result.text())
        # The script says why it traded, and Hummingbot's trade records match both exchanges' fills.
        self.assertTrue(any(line.startswith("Price signal on ETH-USDC/ETH-USD: net price spread")
                            for line in result.decisions), result.decisions)
        self.assertTrue(any(line.startswith("Funding signal on ETH-USDC/ETH-USD: funding spread")
                            for line in result.decisions), result.decisions)
        self.assertIn("Closing the hedged pair ETH-USDC/ETH-USD (price): price spread reverted.", result.decisions)
        self.assertIn("Closing the hedged pair ETH-USDC/ETH-USD (funding): funding spread reverted.", result.decisions)
        # Every decision, up to the last pair's close, is in the list the demo prints.
        self.assertIn("Hedged pair ETH-USDC/ETH-USD (price) closed.", result.decisions)
        self.assertEqual("Hedged pair ETH-USDC/ETH-USD (funding) closed.", result.decisions[-1])
        self.assertGreaterEqual(result.exchange_fills[LIGHTER], 4)
        self.assertGreaterEqual(result.exchange_fills[EXTENDED], 4)
        self.assertEqual(result.exchange_fills, result.recorded_fills)
        self.assertTrue(result.consistent)


class FundingSignalTest(unittest.TestCase):
    def test_z_score_needs_enough_varying_history(self):
        self.assertIsNone(zscore([Decimal("0.0001")] * 3, Decimal("0.0004"), min_samples=4))
        self.assertIsNone(zscore([Decimal("0.0001")] * 5, Decimal("0.0004"), min_samples=4))
        history = [Decimal(0), Decimal(0), Decimal(0), Decimal("0.0004")]
        # mean 0.0001, population deviation 0.0001 * sqrt(3)
        self.assertAlmostEqual(3 ** 0.5, float(zscore(history, Decimal("0.0004"), min_samples=4)), places=9)

    def test_without_a_z_score_the_spread_thresholds_apply(self):
        thresholds = dict(entry_z=Decimal(2), exit_z=Decimal("0.5"), entry_spread=Decimal("0.0002"),
                          exit_spread=Decimal("0.00005"))
        self.assertEqual(1, funding_direction(None, Decimal("0.0003"), True, **thresholds))
        self.assertEqual(-1, funding_direction(None, Decimal("-0.0003"), True, **thresholds))
        self.assertEqual(0, funding_direction(None, Decimal("0.0001"), True, **thresholds))
        # Still on for an open pair until the spread falls below the exit threshold.
        self.assertEqual(1, funding_direction(None, Decimal("0.0001"), False, **thresholds))
        self.assertEqual(0, funding_direction(None, Decimal("0.00001"), False, **thresholds))

    def test_a_z_score_decides_when_there_is_one(self):
        thresholds = dict(entry_z=Decimal("1.5"), exit_z=Decimal("0.5"), entry_spread=Decimal(1),
                          exit_spread=Decimal(1))
        # z = 1.7 > 1.5 although the spread is far below the fallback threshold.
        self.assertEqual(1, funding_direction(Decimal("1.7"), Decimal("0.0004"), True, **thresholds))
        self.assertEqual(-1, funding_direction(Decimal("-1.7"), Decimal("-0.0004"), True, **thresholds))
        self.assertEqual(0, funding_direction(Decimal("1.2"), Decimal("0.0004"), True, **thresholds))
        self.assertEqual(1, funding_direction(Decimal("0.6"), Decimal("0"), False, **thresholds))


if __name__ == "__main__":
    unittest.main()
