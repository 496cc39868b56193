"""Hummingbot's candles registry with the connectors installed (copied, as users get them) and after uninstall:
importing the connector packages adds `extended_perpetual` and puts ours under `lighter_perpetual`; without them,
and after uninstall, the registry is exactly upstream's."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from test.perp_dex_connectors.test_installer import REPO, _make_hummingbot_tree, _run_installer

PACKAGES = ["hummingbot.connector.derivative.extended_perpetual", "hummingbot.connector.derivative.lighter_perpetual"]

REGISTRY = """
import importlib, json, sys
from hummingbot.data_feed.candles_feed.candles_factory import CandlesFactory
missing = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        missing.append(name)
print(json.dumps({"missing": missing,
                  "map": {k: f"{v.__module__}.{v.__qualname__}" for k, v in CandlesFactory._candles_map.items()}}))
"""

# The factory's feed in a Hummingbot whose only change is the copied connector folders.
LIVE_RUN = """
import asyncio, json, os, time
from decimal import Decimal
import aiohttp
from emulator.extended import ExtendedEmulator
import hummingbot.connector.derivative.extended_perpetual  # noqa: F401
from hummingbot.data_feed.candles_feed.candles_factory import CandlesFactory
from hummingbot.data_feed.candles_feed.data_types import CandlesConfig

async def main():
    ex = await ExtendedEmulator(port=0, hourly_funding=False).start()
    os.environ["EXTENDED_PERPETUAL_REST_URL"], os.environ["EXTENDED_PERPETUAL_WS_URL"] = ex.rest_url, ex.stream_url
    market = ex.state.markets["BTC-USD"]
    if time.time() % 60 > 52:  # keep the run inside one minute
        await asyncio.sleep(60.1 - time.time() % 60)
    first = int(time.time() * 1000) // 60_000 * 60_000 - 20 * 60_000
    for k in range(21):
        market.record_trade(first + k * 60_000 + 500, Decimal(90_000 + k), Decimal("0.5"))
    feed = CandlesFactory.get_candle(CandlesConfig(connector="extended_perpetual", trading_pair="BTC-USD",
                                                   interval="1m", max_records=15))
    await feed.start_network()
    for _ in range(200):
        if feed.ready:
            break
        await asyncio.sleep(0.05)
    ready, feed_rows = feed.ready, feed.candles_df[["timestamp", "close", "volume"]].values.tolist()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{ex.rest_url}/info/candles/BTC-USD/trades",
                               params={"interval": "PT1M", "limit": 15}) as response:
            rows = (await response.json())["data"]
    await feed.stop_network()
    await ex.stop()
    print(json.dumps({"feed": type(feed).__module__, "ready": ready, "feed_rows": feed_rows,
                      "emulator_rows": [[r["T"] / 1000, float(r["c"]), float(r["v"])] for r in reversed(rows)]}))

asyncio.run(main())
"""


class CandlesRegistryInstallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="candles-registry-"))
        self.tree = self.tmp / "hummingbot-src"
        self.package = _make_hummingbot_tree(self.tree)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_python(self, code: str, *args: str) -> dict:
        env = {**os.environ, "PYTHONPATH": f"{self.tree}{os.pathsep}{REPO}"}
        result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                                cwd=str(self.tmp), timeout=300)
        self.assertEqual(0, result.returncode, result.stderr)
        return json.loads(result.stdout.strip().splitlines()[-1])

    def test_install_adds_one_feed_and_replaces_lighter_and_uninstall_restores_upstreams_registry(self):
        upstream = self.run_python(REGISTRY, *PACKAGES)
        self.assertEqual([PACKAGES[0]], upstream["missing"])
        self.assertNotIn("extended_perpetual", upstream["map"])
        self.assertTrue(upstream["map"]["lighter_perpetual"].startswith("hummingbot.data_feed.candles_feed."))

        result = _run_installer("install", "--hummingbot-dir", str(self.tree), "--no-deps")
        self.assertEqual(0, result.returncode, result.stderr)
        # Installing changes nothing until the connectors are imported.
        self.assertEqual(upstream["map"], self.run_python(REGISTRY)["map"])
        installed = self.run_python(REGISTRY, *PACKAGES)
        self.assertEqual([], installed["missing"])
        self.assertEqual(set(upstream["map"]) | {"extended_perpetual"}, set(installed["map"]))
        self.assertEqual("hummingbot.connector.derivative.extended_perpetual.extended_perpetual_candles."
                         "ExtendedPerpetualCandles", installed["map"]["extended_perpetual"])
        self.assertEqual("hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_candles."
                         "LighterPerpetualCandles", installed["map"]["lighter_perpetual"])
        unchanged = {k: v for k, v in installed["map"].items() if k not in ("extended_perpetual", "lighter_perpetual")}
        self.assertEqual({k: v for k, v in upstream["map"].items() if k != "lighter_perpetual"}, unchanged)

        live = self.run_python(LIVE_RUN)
        self.assertEqual("hummingbot.connector.derivative.extended_perpetual.extended_perpetual_candles", live["feed"])
        self.assertTrue(live["ready"])
        self.assertEqual(15, len(live["feed_rows"]))
        self.assertEqual(live["emulator_rows"], live["feed_rows"])

        self.assertEqual(0, _run_installer("uninstall", "--hummingbot-dir", str(self.tree)).returncode)
        self.assertEqual(upstream, self.run_python(REGISTRY, *PACKAGES))
