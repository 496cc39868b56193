"""Hummingbot's engine runs scripts/lighter_extended_arbitrage.py against both local exchanges, is killed while it
holds a hedged pair, and started again: it adopts the pair from the venues' positions and its state file (no second
pair on top), books both venues' funding payments to the micro-USDC, and closes the pair when the spread reverts,
writing the ledger."""
import asyncio
import csv
import json
import os
import secrets
import signal
import sys
import tempfile
import time
import unittest
from decimal import Decimal
from pathlib import Path

import yaml

from demo.arbitrage import (
    BOT_NAME,
    COLLATERAL,
    EXTENDED,
    EXTENDED_PAIR,
    LIGHTER,
    LIGHTER_MARKET,
    MID,
    ORDER_AMOUNT,
    ArbitrageDemo,
    decisions,
    script_config,
)
from demo.sandbox import make_sandbox, run_in_sandbox, sandbox_env, stop_engine
from emulator.extended import ExtendedEmulator
from emulator.lighter import LighterEmulator

MICRO = Decimal("0.000001")


class ArbitrageRestartTest(unittest.TestCase):
    def test_killed_engine_adopts_its_pair_books_funding_and_closes_it(self):
        started = time.monotonic()
        asyncio.run(asyncio.wait_for(self.scenario(), timeout=85))
        self.assertLess(time.monotonic() - started, 90)

    async def scenario(self):
        demo = ArbitrageDemo(verbose=False)
        with tempfile.TemporaryDirectory(prefix="hummingbot-arb-restart-") as home:
            root = make_sandbox(Path(home))
            async with LighterEmulator(port=0) as lighter, \
                    ExtendedEmulator(port=0, funding_stream_interval=1.0, hourly_funding=False) as extended:
                maker = lighter.create_account(collateral=Decimal("10000000"))
                demo.quote_lighter(lighter, maker, MID)
                demo.quote_extended(extended, MID)
                lighter_account, key_index, lighter_key = lighter.create_account_with_api_key(collateral=COLLATERAL)
                extended_account = extended.create_account(collateral=COLLATERAL)
                password = secrets.token_urlsafe(16)
                keys = {LIGHTER: {"api_private_key": lighter_key, "api_key_index": key_index,
                                  "account_index": lighter_account},
                        EXTENDED: {"api_secret": extended_account.api_key,
                                   "stark_private_key": extended_account.stark_private_key,
                                   "stark_public_key": extended_account.stark_public_key,
                                   "vault": extended_account.vault}}
                for connector, connector_keys in keys.items():
                    setup = await asyncio.to_thread(run_in_sandbox, root, "demo.hb_setup", connector, "-",
                                                    env={"HBOT_PASSWORD": password}, stdin=json.dumps(connector_keys))
                    self.assertEqual(0, setup.returncode, setup.stderr[-2000:])
                (root / "conf" / "scripts" / f"{BOT_NAME}.yml").write_text(yaml.safe_dump(script_config(),
                                                                                          sort_keys=False))
                env = sandbox_env(root, {"LIGHTER_PERPETUAL_REST_URL": lighter.rest_url,
                                         "LIGHTER_PERPETUAL_WS_URL": lighter.ws_url,
                                         "EXTENDED_PERPETUAL_REST_URL": extended.rest_url,
                                         "EXTENDED_PERPETUAL_WS_URL": extended.stream_url, "HBOT_PASSWORD": password})
                log_path = root / "logs" / f"logs_{BOT_NAME}.log"
                state_path = root / "data" / "lighter_extended_arbitrage_ETH-USDC_ETH-USD.json"
                ledger_path = root / "data" / "lighter_extended_arbitrage_ETH-USDC_ETH-USD_ledger.csv"

                def positions():
                    return demo.positions(lighter, lighter_account, extended, extended_account)

                async def start():
                    out = open(root / "logs" / "engine_stdout.log", "a")
                    engine = await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "hummingbot.cli.engine", "--name", BOT_NAME, "--script-config",
                        f"{BOT_NAME}.yml", cwd=str(root), env=env, stdout=out, stderr=out, start_new_session=True)
                    out.close()
                    return engine

                async def until(condition, what, timeout=30):
                    deadline = time.monotonic() + timeout
                    while not condition():
                        if time.monotonic() > deadline:
                            tail = log_path.read_text()[-3000:] if log_path.exists() else ""
                            self.fail(f"{what}: not within {timeout} s; positions {positions()}\n{tail}")
                        await asyncio.sleep(0.25)

                # 1. Lighter 1% dearer: long Extended, short Lighter; then the engine dies without stopping.
                engine = await start()
                try:
                    demo.quote_lighter(lighter, maker, MID * Decimal("1.01"))
                    await until(lambda: positions() == (-ORDER_AMOUNT, ORDER_AMOUNT), "the price pair", 45)
                    await until(lambda: state_path.exists() and json.loads(state_path.read_text())["status"] == "open",
                                "the saved pair")
                finally:
                    os.killpg(engine.pid, signal.SIGKILL)
                    await engine.wait()
                saved = json.loads(state_path.read_text())
                self.assertEqual(("price", ["extended_perpetual", "lighter_perpetual"]),
                                 (saved["reason"], [leg["connector"] for leg in saved["legs"]]))

                # 2. Started again (Lighter still dearer, which alone would open a pair): adopted, none on top.
                engine = await start()
                try:
                    await until(lambda: any(line.startswith("Adopted the hedged pair ETH-USDC/ETH-USD (price)")
                                            for line in decisions(log_path)), "the adoption")
                    await asyncio.sleep(3)
                    self.assertEqual((-ORDER_AMOUNT, ORDER_AMOUNT), positions())

                    # 3. A funding round on each venue: Lighter at 0.01 %/h, Extended at 0.0001 an hour.
                    lighter.set_funding_rate(LIGHTER_MARKET, Decimal("0.01"))
                    lighter.apply_funding([LIGHTER_MARKET])
                    lighter.set_funding_rate(LIGHTER_MARKET, Decimal("0.0012"))
                    lighter.set_index_price(LIGHTER_MARKET, MID * Decimal("1.01"))
                    extended.trigger_funding(EXTENDED_PAIR, rate=Decimal("0.0001"))
                    lighter_paid = sum(Decimal(p.change) for p in lighter.state.accounts[lighter_account].fundings)
                    extended_paid = sum(-p.funding_fee.quantize(MICRO)
                                        for p in extended.state.funding_payments[extended_account.account_id])
                    expected = {LIGHTER: lighter_paid * MICRO, EXTENDED: extended_paid}
                    self.assertTrue(all(expected.values()), expected)

                    def booked():
                        legs = json.loads(state_path.read_text())["legs"] if state_path.exists() else []
                        return {leg["connector"]: Decimal(leg["funding"]) for leg in legs}

                    await until(lambda: booked() == expected, "the funding payments")

                    # 4. Lighter back: the adopted pair closes and its ledger row carries the funding.
                    demo.quote_lighter(lighter, maker, MID)
                    await until(lambda: positions() == (0, 0), "the close")
                    await until(lambda: ledger_path.exists(), "the ledger")
                finally:
                    self.assertEqual(0, await stop_engine(engine, timeout=45))
                with open(ledger_path, newline="") as f:
                    rows = list(csv.DictReader(f))
                self.assertEqual(1, len(rows), rows)
                row = rows[0]
                self.assertEqual(("price", "extended_perpetual ETH-USD", "lighter_perpetual ETH-USDC"),
                                 (row["reason"], row["long"], row["short"]))
                self.assertEqual(sum(expected.values()), Decimal(row["funding"]))
                self.assertEqual(Decimal(row["price_pnl"]) + Decimal(row["funding"]) - Decimal(row["fees"]),
                                 Decimal(row["net"]))
                self.assertGreater(Decimal(row["fees"]), 0)
                self.assertFalse(state_path.exists())
                lines = decisions(log_path)
                self.assertEqual(1, sum(line.startswith("Price signal on") for line in lines), lines)
                self.assertIn("Closing the hedged pair ETH-USDC/ETH-USD (price): price spread reverted.", lines)
                self.assertEqual("Hedged pair ETH-USDC/ETH-USD (price) closed.", lines[-1])


if __name__ == "__main__":
    unittest.main()
