"""Hummingbot's engine runs scripts/lighter_extended_arbitrage.py against both local exchanges while Extended refuses
an opening order: the missing leg is bought again within the slippage bound and the pair is hedged; when Extended's
price has moved beyond the bound, the lone Lighter leg is closed once the repair time is over."""
import asyncio
import time
import unittest
from decimal import Decimal

from test.demo.arbitrage_run import ETH, ArbitrageRun

AMOUNT = Decimal("0.05")
CONFIG = {"funding_enabled": False, "leg_repair_slippage": "0.002", "leg_repair_seconds": 6}
LABEL = "ETH-USDC/ETH-USD"


class LegRepairTest(unittest.TestCase):
    def test_a_refused_leg_is_repaired_then_one_beyond_the_bound_is_flattened(self):
        started = time.monotonic()
        asyncio.run(asyncio.wait_for(self.scenario(), timeout=88))
        self.assertLess(time.monotonic() - started, 90)

    async def scenario(self):
        mid = ETH[3]
        async with ArbitrageRun(self, CONFIG) as run:
            # 1. Extended refuses the next order (its long leg); Lighter's short fills. The repair buys it again.
            run.extended.faults.fail_next(400, path="/user/order", method="POST", count=1)
            run.quote(ETH[0], lighter_mid=mid * Decimal("1.01"))
            await run.until(lambda: run.said(f"Hedged pair {LABEL} (price) open (its missing leg repaired)"),
                            "the repaired pair", 45)
            self.assertEqual((-AMOUNT, AMOUNT), run.positions())
            lines = run.decisions()
            self.assertTrue(any(line.startswith(f"One leg of the price pair on {LABEL} did not fill")
                                for line in lines), lines)
            self.assertTrue(any(line.startswith(f"Repairing the {LABEL} pair: buying {AMOUNT} on extended_perpetual")
                                for line in lines), lines)
            # 2. Lighter back: closed.
            run.quote(ETH[0], lighter_mid=mid)
            await run.until(lambda: run.positions() == (0, 0) and len(run.ledger()) == 1, "the close")

            # 3. Extended refuses every order; once the repair has started its price moves 1.2% up, beyond the
            # 0.2% bound: nothing more is bought there and the Lighter leg is closed after the 6 s.
            run.extended.faults.fail_next(400, path="/user/order", method="POST", count=None)
            repairs = sum(line.startswith("One leg of the price pair") for line in run.decisions())
            run.quote(ETH[0], lighter_mid=mid * Decimal("1.01"))
            await run.until(lambda: sum(line.startswith("One leg of the price pair") for line in run.decisions())
                            > repairs, "the second repair", 30)
            run.quote(ETH[0], extended_mid=mid * Decimal("1.012"))
            run.extended.faults.clear()
            await run.until(lambda: run.said(f"Closing the hedged pair {LABEL} (price): its missing leg was not "
                                             f"repaired within 6 s."), "the flatten", 30)
            await run.until(lambda: run.positions() == (0, 0) and len(run.ledger()) == 2, "the flat account")
            self.assertTrue(run.said("The extended_perpetual price"), run.decisions())
            # The flattened pair's ledger row: the Lighter short alone, opened and closed.
            flattened = run.ledger()[1]
            self.assertEqual(("", "lighter_perpetual ETH-USDC", AMOUNT),
                             (flattened["long"], flattened["short"], Decimal(flattened["amount"])))
            self.assertTrue(flattened["short_exit"])
            price, funding, fees = (Decimal(flattened[key]) for key in ("price_pnl", "funding", "fees"))
            self.assertEqual(price + funding - fees, Decimal(flattened["net"]))
        self.assertEqual(0, run.stop_code)


if __name__ == "__main__":
    unittest.main()
