import importlib
import inspect
import unittest
from pathlib import Path

from hummingbot.client.settings import AllConnectorSettings, ConnectorType

REPO = Path(__file__).resolve().parents[3]


class ConnectorDiscoveryTest(unittest.TestCase):
    """Hummingbot's own discovery finds both connectors, loaded from this working tree."""

    @classmethod
    def setUpClass(cls):
        cls.settings = AllConnectorSettings.create_connector_settings()

    def test_both_connectors_and_testnets_are_derivatives(self):
        for name in ("lighter_perpetual", "extended_perpetual"):
            main, testnet = self.settings[name], self.settings[f"{name}_testnet"]
            self.assertEqual(ConnectorType.Derivative, main.type)
            self.assertFalse(main.is_sub_domain)
            self.assertFalse(main.centralised)
            self.assertEqual(ConnectorType.Derivative, testnet.type)
            self.assertTrue(testnet.is_sub_domain)
            self.assertEqual(name, testnet.parent_name)
            self.assertEqual(f"{name}_testnet", testnet.domain_parameter)

    def test_example_pairs_use_each_exchange_quote_asset(self):
        self.assertEqual("ETH-USDC", self.settings["lighter_perpetual"].example_pair)
        self.assertEqual("BTC-USD", self.settings["extended_perpetual"].example_pair)
        self.assertEqual("BTC-USD", self.settings["extended_perpetual_testnet"].example_pair)

    def test_utils_modules_come_from_the_working_tree(self):
        for name in ("lighter_perpetual", "extended_perpetual"):
            module = importlib.import_module(f"hummingbot.connector.derivative.{name}.{name}_utils")
            expected = REPO / "hummingbot" / "connector" / "derivative" / name / f"{name}_utils.py"
            self.assertEqual(str(expected), inspect.getfile(module))

    def test_upstream_lighter_modules_are_not_importable(self):
        for module in ("lighter_perpetual_api_utils", "lighter_perpetual_order_book"):
            with self.assertRaises(ModuleNotFoundError):
                importlib.import_module(f"hummingbot.connector.derivative.lighter_perpetual.{module}")


if __name__ == "__main__":
    unittest.main()
