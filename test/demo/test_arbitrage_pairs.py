"""Hummingbot's engine runs scripts/lighter_extended_arbitrage.py on two pairs of markets (ETH and BTC) against both
local exchanges: both hedges open at once; then, with a cap on each venue's notional, only the one that fits opens,
with an INFO line naming the cap, and the other opens once the first has closed."""
import asyncio
import time
import unittest
from decimal import Decimal

from test.demo.arbitrage_run import BTC, ETH, ArbitrageRun

TWO_PAIRS = {"pairs": ["ETH-USDC:ETH-USD", "BTC-USDC:BTC-USD:0.002"], "funding_enabled": False}
ETH_AMOUNT, BTC_AMOUNT = Decimal("0.05"), Decimal("0.002")
DEARER = Decimal("1.01")


class TwoPairsTest(unittest.TestCase):
    def run_scenario(self, scenario):
        started = time.monotonic()
        asyncio.run(asyncio.wait_for(scenario(), timeout=70))
        self.assertLess(time.monotonic() - started, 72)

    def test_two_pairs_open_and_close_at_once(self):
        async def scenario():
            async with ArbitrageRun(self, TWO_PAIRS, markets=(ETH, BTC)) as run:
                # Lighter 1% dearer on both markets: short Lighter, long Extended, on both pairs.
                run.quote(ETH[0], lighter_mid=ETH[3] * DEARER)
                run.quote(BTC[0], lighter_mid=BTC[3] * DEARER)
                await run.until(lambda: run.positions(ETH) == (-ETH_AMOUNT, ETH_AMOUNT)
                                and run.positions(BTC) == (-BTC_AMOUNT, BTC_AMOUNT), "both pairs", 40)
                run.quote(ETH[0], lighter_mid=ETH[3])
                run.quote(BTC[0], lighter_mid=BTC[3])
                await run.until(lambda: run.positions(ETH) == (0, 0) and run.positions(BTC) == (0, 0), "both closes")
                await run.until(lambda: run.ledger(ETH) and run.ledger(BTC), "both ledgers")
                lines = run.decisions()
                amounts = [run.ledger(m)[0]["amount"] for m in (ETH, BTC)]
            self.assertEqual(0, run.stop_code)
            for label in ("ETH-USDC/ETH-USD", "BTC-USDC/BTC-USD"):
                self.assertEqual(1, sum(line.startswith(f"Price signal on {label}") for line in lines), lines)
                self.assertIn(f"Hedged pair {label} (price) closed.", lines)
            self.assertEqual([ETH_AMOUNT, BTC_AMOUNT], [Decimal(amount) for amount in amounts])

        self.run_scenario(scenario)

    def test_a_notional_cap_keeps_the_second_pair_out_until_the_first_closes(self):
        # ETH 0.05 x 2,525 = 126 and BTC 0.002 x 60,600 = 121 on Lighter: one fits under 200, both do not.
        config = dict(TWO_PAIRS, max_notional_per_venue="200")

        async def scenario():
            async with ArbitrageRun(self, config, markets=(ETH, BTC)) as run:
                run.quote(ETH[0], lighter_mid=ETH[3] * DEARER)
                run.quote(BTC[0], lighter_mid=BTC[3] * DEARER)
                await run.until(lambda: run.positions(ETH) == (-ETH_AMOUNT, ETH_AMOUNT), "the ETH pair", 40)
                await run.until(lambda: run.said("Not opening a pair on BTC-USDC/BTC-USD"), "the refusal")
                await asyncio.sleep(3)
                self.assertEqual((0, 0), run.positions(BTC))
                refusal = next(line for line in run.decisions() if line.startswith("Not opening"))
                self.assertIn("over max_notional_per_venue 200", refusal)
                self.assertIn("long extended_perpetual, short lighter_perpetual", refusal)
                # The ETH pair closes: the BTC pair now fits and opens.
                run.quote(ETH[0], lighter_mid=ETH[3])
                await run.until(lambda: run.positions(ETH) == (0, 0)
                                and run.positions(BTC) == (-BTC_AMOUNT, BTC_AMOUNT), "the BTC pair after the ETH close")
                stop_code = await run.stop()
                # close_on_stop closed the BTC pair when the engine stopped.
                self.assertEqual((0, 0), run.positions(BTC))
                self.assertEqual(1, len(run.ledger(BTC)))
            self.assertEqual(0, stop_code)

        self.run_scenario(scenario)


if __name__ == "__main__":
    unittest.main()
