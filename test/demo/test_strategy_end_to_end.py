"""Hummingbot's own engine runs perpetual_market_making through lighter_perpetual against the local exchange."""
import argparse
import asyncio
import unittest

from demo.__main__ import Demo


class PerpetualMarketMakingOnLighterTest(unittest.TestCase):
    def test_market_making_trades_and_hummingbot_agrees_with_the_exchange(self):
        args = argparse.Namespace(duration=35, pair="ETH-USDC", flow_rate=12.0, keep=False, plot=None)
        summary = asyncio.run(asyncio.wait_for(Demo(args).run_and_summarize(), timeout=150))

        self.assertIsNotNone(summary, "the engine did not run")
        truth = summary.truth
        # Both sides quoted, and refreshed (PMM cancels and replaces every 5 s).
        self.assertGreater(truth.bids_placed, 1)
        self.assertGreater(truth.asks_placed, 1)
        self.assertGreater(truth.orders_cancelled, 0)
        # Filled by the synthetic takers, and Hummingbot's records match the exchange's.
        self.assertGreater(truth.fills, 0)
        self.assertEqual([], summary.mismatches)
        self.assertEqual(truth.fills, summary.fills)
        self.assertEqual(truth.position, summary.position)
        # Stopping the bot cancelled everything it had on the book.
        self.assertEqual(0, truth.open_orders)


if __name__ == "__main__":
    unittest.main()
