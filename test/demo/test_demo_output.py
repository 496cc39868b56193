"""What the market-making demo prints and draws, from the local exchange's state, without running Hummingbot."""
import argparse
import struct
import tempfile
import time
import unittest
from decimal import Decimal
from pathlib import Path

import numpy
from matplotlib.image import imread

from demo.__main__ import Demo
from demo.plot import fill_marks, plot_run, sample
from emulator.lighter import LighterEmulator

ETH = 0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class MarketMakingRun(unittest.IsolatedAsyncioTestCase):
    """A book, our two quotes, and takers that fill one of them, then the other: long 0.05, then flat."""

    async def asyncSetUp(self):
        self.ex = LighterEmulator(port=0)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        for level in range(2, 6):
            self.ex.place_order(maker, ETH, is_ask=False, size=Decimal(3), price=Decimal(2500) - level)
            self.ex.place_order(maker, ETH, is_ask=True, size=Decimal(3), price=Decimal(2500) + level)
        self.account = self.ex.create_account(collateral=Decimal(10000))
        self.started_ms = int(time.time() * 1000)

    def quote(self):
        self.ex.place_order(self.account, ETH, is_ask=False, size=Decimal("0.05"), price=Decimal("2499.5"))
        self.ex.place_order(self.account, ETH, is_ask=True, size=Decimal("0.05"), price=Decimal("2500.5"))


class ProgressLineTest(MarketMakingRun):
    def demo(self) -> Demo:
        return Demo(argparse.Namespace(pair="ETH-USDC", duration=60, flow_rate=8.0, keep=False, plot=None))

    async def test_holding_a_position_explains_why_pmm_stops_quoting(self):
        demo = self.demo()
        self.assertTrue(demo.progress(self.ex, self.account, time.monotonic()).endswith("(Hummingbot is starting up)"))
        self.quote()
        flat = demo.progress(self.ex, self.account, time.monotonic())
        self.assertIn("position +0.0000", flat)
        self.assertTrue(flat.endswith("USDC"), flat)

        self.ex.submit_taker(ETH, is_ask=True, size=Decimal("0.05"))
        line = demo.progress(self.ex, self.account, time.monotonic())
        self.assertIn("position +0.0500", line)
        self.assertTrue(line.endswith("(holding a long of 0.05: PMM places only exit orders until flat)"), line)
        self.assertNotIn("Decimal", line)
        # The last line, after the bot has stopped, gives the figures only.
        self.assertTrue(demo.progress(self.ex, self.account, time.monotonic(), running=False).endswith("USDC"))

        # Our second ask: a taker buying 0.1 takes both, from long 0.05 to short 0.05.
        self.ex.place_order(self.account, ETH, is_ask=True, size=Decimal("0.05"), price=Decimal("2500.5"))
        self.ex.submit_taker(ETH, is_ask=False, size=Decimal("0.1"))
        self.assertTrue(demo.progress(self.ex, self.account, time.monotonic())
                        .endswith("(holding a short of 0.05: PMM places only exit orders until flat)"))


class PlotTest(MarketMakingRun):
    async def test_plot_writes_a_png_of_prices_quotes_fills_and_position(self):
        samples = [sample(self.ex, self.account, ETH, 0.0)]
        self.quote()
        samples.append(sample(self.ex, self.account, ETH, 1.0))
        self.ex.submit_taker(ETH, is_ask=True, size=Decimal("0.05"))
        samples.append(sample(self.ex, self.account, ETH, 2.0))
        self.ex.submit_taker(ETH, is_ask=False, size=Decimal("0.05"))
        samples.append(sample(self.ex, self.account, ETH, 3.0))
        fills = fill_marks(self.ex, self.account, ETH, self.started_ms)

        # The recorded samples: the book's top, our quotes while they rest, the position as the takers fill them.
        self.assertEqual([Decimal("2499.5")], samples[1].our_bids)
        self.assertEqual([Decimal("2500.5")], samples[1].our_asks)
        self.assertEqual((Decimal("2499.5"), Decimal("2500.5")), (samples[1].best_bid, samples[1].best_ask))
        self.assertEqual([], samples[2].our_bids)
        self.assertEqual([Decimal("0"), Decimal("0"), Decimal("0.05"), Decimal("0")],
                         [s.position for s in samples])
        self.assertEqual([(True, Decimal("2499.5")), (False, Decimal("2500.5"))],
                         [(f.is_buy, f.price) for f in fills])
        self.assertTrue(all(0 <= f.seconds < 60 for f in fills))

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "run.png"
            plot_run(samples, fills, path, "test run")
            data = path.read_bytes()
            image = imread(path)
        self.assertEqual(PNG_SIGNATURE, data[:8])
        self.assertEqual(b"IHDR", data[12:16])
        self.assertEqual((1100, 700), struct.unpack(">II", data[16:24]))
        self.assertEqual((700, 1100), image.shape[:2])
        pixels = {tuple(p) for p in numpy.round(image[..., :3] * 255).astype(int).reshape(-1, 3)}
        # Drawn, not blank: the position line (tab:purple) and the filled buy marker (darkgreen) are there.
        self.assertIn((148, 103, 189), pixels)
        self.assertIn((0, 100, 0), pixels)


if __name__ == "__main__":
    unittest.main()
