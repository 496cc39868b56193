"""The Extended emulator's mainnet market list (emulator/extended/mainnet_markets.txt) for the scale bench."""
import unittest

from emulator.extended.markets import default_markets, mainnet_markets, synthetic_id
from emulator.extended.server import ExtendedEmulator


class MainnetMarketsTest(unittest.TestCase):
    def test_the_list_holds_every_market_once_with_btc_and_eth_as_captured(self):
        markets = mainnet_markets()
        names = [market.name for market in markets]
        self.assertEqual(68, len(names))
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue(all(name.endswith("-USD") for name in names), names)
        captured = {market.name: market for market in default_markets()}
        for name in ("BTC-USD", "ETH-USD"):
            self.assertEqual(captured[name], next(market for market in markets if market.name == name))
        self.assertEqual(len(markets), len({market.synthetic_id for market in markets}))

    def test_synthetic_ids_follow_the_captured_ones(self):
        self.assertEqual("0x4254432d3600000000000000000000", synthetic_id("BTC"))
        self.assertEqual("0x4554482d3600000000000000000000", synthetic_id("ETH"))

    def test_every_market_is_served_in_the_sdk_shape(self):
        emulator = ExtendedEmulator(port=0, markets=mainnet_markets())
        for name in emulator.state.markets:
            # The x10 SDK's MarketModel validates each market's answer, as a client reading /info/markets would.
            self.assertEqual(name, emulator.state.market_model(name).name)


if __name__ == "__main__":
    unittest.main()
