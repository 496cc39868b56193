"""Hummingbot's own engine runs the candles_volatility_maker controller (controllers/market_making/) on
lighter_perpetual and on extended_perpetual at once, through scripts/v2_controllers.py, against both local exchanges.

Each exchange holds a known minute-candle history (trades seeded at past timestamps) and a resting book around a fixed
mid. The controllers must read that history through the venues' candles feeds, quote both sides through
PositionExecutors at spreads derived from it, and replace their quotes on time. Checked afterwards: every volatility
the controllers logged against the candles the exchanges serve for that window, every executor's entry price against
the mid and a logged spread, every executor's order against the exchange's order book history.
"""
import asyncio
import json
import math
import random
import re
import secrets
import sqlite3
import sys
import tempfile
import time
import unittest
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import aiohttp
import numpy as np
import yaml

from demo.sandbox import make_sandbox, run_in_sandbox, sandbox_env, stop_engine
from emulator.extended import Account, ExtendedEmulator
from emulator.lighter import LighterEmulator

LIGHTER, EXTENDED = "lighter_perpetual", "extended_perpetual"
LIGHTER_PAIR, LIGHTER_MARKET, LIGHTER_TICK = "ETH-USDC", 0, Decimal("0.01")
EXTENDED_PAIR, EXTENDED_TICK = "ETH-USD", Decimal("0.1")
BOT = "ctl"
COLLATERAL = Decimal("10000")
MINUTE_MS = 60_000
VOLATILITY_LENGTH = 12
MULTIPLIER, MIN_SPREAD, MAX_SPREAD = Decimal("1.5"), Decimal("0.0005"), Decimal("0.05")
LEVELS = (1, 2)
REFRESH_SECONDS = 8
# Seeded closes sit around the mid with this relative spread: a volatility of about 0.28 % a minute.
SEEDED_DEVIATION = 0.002
RUN_TIMEOUT = 90.0
# Lighter's resting book: 10 levels each side, 1.25 apart, around the mid (a mid of exactly MID).
LIGHTER_MID, LIGHTER_STEP = Decimal("2500.00"), Decimal("1.25")
LOG_LINE = re.compile(r"^(\S+ \S+) - \d+ - controllers\.market_making\.candles_volatility_maker - INFO - "
                      r"(\S+) on (\S+): volatility (\S+) over (\d+) returns of .* candles closed up to the candle "
                      r"opened at (\d+); base spread (\S+)\.$")
# Hummingbot's CloseType.EARLY_STOP: how the controller's refresh stops an unfilled executor.
EARLY_STOP = 5


@dataclass
class Estimate:
    logged_at: float  # s
    connector: str
    volatility: float
    last_candle: int
    spread: Decimal


def seeded_closes(mid: Decimal, tick: Decimal, rng: random.Random) -> List[Decimal]:
    """Closes of the VOLATILITY_LENGTH + 1 minutes before this one, around `mid`, on the tick."""
    return [(mid * Decimal(1 + SEEDED_DEVIATION * rng.gauss(0, 1))).quantize(tick)
            for _ in range(VOLATILITY_LENGTH + 1)]


def controller_config(connector: str, pair: str) -> dict:
    return {
        "id": f"{connector}_maker", "controller_name": "candles_volatility_maker", "controller_type": "market_making",
        "connector_name": connector, "trading_pair": pair, "total_amount_quote": "400",
        "buy_spreads": ",".join(map(str, LEVELS)), "sell_spreads": ",".join(map(str, LEVELS)),
        "executor_refresh_time": REFRESH_SECONDS, "cooldown_time": 5, "leverage": 5, "position_mode": "ONEWAY",
        "stop_loss": "0.05", "take_profit": "0.02", "time_limit": 3600, "take_profit_order_type": "LIMIT",
        "interval": "1m", "volatility_length": VOLATILITY_LENGTH, "volatility_multiplier": str(MULTIPLIER),
        "min_spread": str(MIN_SPREAD), "max_spread": str(MAX_SPREAD),
    }


def estimates(log_path: Path) -> List[Estimate]:
    found = []
    for line in log_path.read_text().splitlines():
        match = LOG_LINE.search(line)
        if match:
            logged_at = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()  # Hummingbot logs local time
            found.append(Estimate(logged_at=logged_at, connector=match[3], volatility=float(match[4]),
                                  last_candle=int(match[6]), spread=Decimal(match[7])))
            assert int(match[5]) == VOLATILITY_LENGTH, line
    return found


def executors(db_path: Path) -> List[dict]:
    with sqlite3.connect(str(db_path)) as db:
        rows = db.execute("SELECT controller_id, type, close_type, timestamp, config FROM Executors").fetchall()
    return [{"controller_id": controller_id, "type": kind, "close_type": close_type, "timestamp": timestamp,
             "config": json.loads(config)} for controller_id, kind, close_type, timestamp, config in rows]


@dataclass(frozen=True)
class ExchangeOrder:
    created: float  # s
    is_sell: bool
    price: Decimal
    cancelled: bool


def exchange_orders(orders: Dict[str, list]) -> Dict[str, List[ExchangeOrder]]:
    return {LIGHTER: [ExchangeOrder(o.created_us / 1e6, o.is_ask, Decimal(o.price) * LIGHTER_TICK,
                                    o.status.startswith("canceled")) for o in orders[LIGHTER]],
            EXTENDED: [ExchangeOrder(o.created_time / 1000, o.side == "SELL", o.price, o.status == "CANCELLED")
                       for o in orders[EXTENDED]]}


def volatility(closes: List[float]) -> float:
    return float(np.std(np.diff(np.log(closes)), ddof=1))


class ControllerOnCandlesTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="hbot-controller-candles-")
        self.root = make_sandbox(Path(self._tmp.name))
        self.lighter = await LighterEmulator(port=0).start()
        self.extended = await ExtendedEmulator(port=0, hourly_funding=False).start()
        self.engine = None
        self.log_path = self.root / "logs" / "engine_stdout.log"
        self.rng = random.Random(14)

    async def asyncTearDown(self):
        if self.engine is not None:
            await stop_engine(self.engine, timeout=30)
        await self.lighter.stop()
        await self.extended.stop()
        self._tmp.cleanup()

    # ---- the two markets ---------------------------------------------------------------------------------

    def seed_lighter(self, now_ms: int) -> Decimal:
        """A trade in each of the last VOLATILITY_LENGTH + 1 minutes and in this one (matched by the exchange,
        timestamps moved into the past), then the resting book. Returns the price the trickle trades at."""
        maker = self.lighter.create_account(collateral=Decimal(10 ** 7))
        market = self.lighter.state.markets[LIGHTER_MARKET]
        trickle_price = LIGHTER_MID - LIGHTER_STEP
        # This minute trades at the best bid from now on, so its close is the same whenever it is read.
        closes = seeded_closes(LIGHTER_MID, LIGHTER_TICK, self.rng) + [trickle_price]
        first = now_ms - now_ms % MINUTE_MS - VOLATILITY_LENGTH * MINUTE_MS - MINUTE_MS
        for k, price in enumerate(closes):
            self.lighter.place_order(maker, LIGHTER_MARKET, is_ask=True, size=Decimal("0.01"), price=price)
            before = len(market.recent_fills)
            self.lighter.submit_taker(LIGHTER_MARKET, is_ask=False, size=Decimal("0.01"), worst_price=price)
            for fill in list(market.recent_fills)[before:]:
                fill.timestamp_ms = min(first + k * MINUTE_MS + 1_000, now_ms)
        for level in range(1, 11):
            for is_ask in (False, True):
                price = LIGHTER_MID + LIGHTER_STEP * level * (1 if is_ask else -1)
                self.lighter.place_order(maker, LIGHTER_MARKET, is_ask=is_ask, size=Decimal(3), price=price)
        return trickle_price

    def seed_extended(self, now_ms: int) -> Decimal:
        """Trades in each of the last VOLATILITY_LENGTH + 1 minutes and in this one; the exchange repeats the last
        close for a minute without trades. Returns the mid of its resting book (quoted around the mark price)."""
        market = self.extended.state.markets[EXTENDED_PAIR]
        mid = market.mark_price
        closes = seeded_closes(mid, EXTENDED_TICK, self.rng) + [mid]
        first = now_ms - now_ms % MINUTE_MS - VOLATILITY_LENGTH * MINUTE_MS - MINUTE_MS
        for k, price in enumerate(closes):
            market.record_trade(min(first + k * MINUTE_MS + 1_000, now_ms), price, Decimal("0.05"))
        self.extended.flow.requote(EXTENDED_PAIR)
        return mid

    async def trickle(self, price: Decimal):
        """A small sale into Lighter's best bid every 2 s, so that every minute has a candle there (Lighter serves
        none for a minute without trades); the level is deep enough that the best bid never moves."""
        while True:
            self.lighter.submit_taker(LIGHTER_MARKET, is_ask=True, size=Decimal("0.005"), worst_price=price)
            await asyncio.sleep(2)

    async def exchange_candles(self, connector: str, last_candle: int) -> List[Tuple[int, float]]:
        """(open time s, close) of the VOLATILITY_LENGTH + 1 candles up to the one opened at `last_candle`, as the
        exchange serves them."""
        count = VOLATILITY_LENGTH + 1
        async with aiohttp.ClientSession() as session:
            if connector == LIGHTER:
                params = {"market_id": LIGHTER_MARKET, "resolution": "1m",
                          "start_timestamp": (last_candle - VOLATILITY_LENGTH * 60) * 1000,
                          "end_timestamp": last_candle * 1000 + MINUTE_MS - 1, "count_back": count}
                async with session.get(f"{self.lighter.rest_url}/api/v1/candles", params=params) as response:
                    rows = (await response.json())["c"] or []
                return [(row["t"] // 1000, float(row["c"])) for row in rows]
            params = {"interval": "PT1M", "limit": count, "endTime": last_candle * 1000}
            async with session.get(f"{self.extended.rest_url}/info/candles/{EXTENDED_PAIR}/trades",
                                   params=params) as response:
                rows = (await response.json())["data"]
            return [(row["T"] // 1000, float(row["c"])) for row in reversed(rows)]

    # ---- the bot -----------------------------------------------------------------------------------------

    async def write_configs(self, password: str, lighter_keys: dict, extended_account: Account):
        keys = {
            LIGHTER: lighter_keys,
            EXTENDED: {"api_secret": extended_account.api_key, "stark_private_key": extended_account.stark_private_key,
                       "stark_public_key": extended_account.stark_public_key, "vault": extended_account.vault},
        }
        for connector, connector_keys in keys.items():
            setup = await asyncio.to_thread(run_in_sandbox, self.root, "demo.hb_setup", connector, "-",
                                            env={"HBOT_PASSWORD": password}, stdin=json.dumps(connector_keys))
            self.assertEqual(0, setup.returncode, setup.stderr[-2000:])
        files = []
        for connector, pair in ((LIGHTER, LIGHTER_PAIR), (EXTENDED, EXTENDED_PAIR)):
            files.append(f"{connector}_maker.yml")
            with open(self.root / "conf" / "controllers" / files[-1], "w") as f:
                yaml.safe_dump(controller_config(connector, pair), f, sort_keys=False)
        with open(self.root / "conf" / "scripts" / f"{BOT}.yml", "w") as f:
            yaml.safe_dump({"script_file_name": "v2_controllers.py", "controllers_config": files}, f, sort_keys=False)

    async def start_engine(self, password: str):
        env = {"HBOT_PASSWORD": password,
               "LIGHTER_PERPETUAL_REST_URL": self.lighter.rest_url, "LIGHTER_PERPETUAL_WS_URL": self.lighter.ws_url,
               "EXTENDED_PERPETUAL_REST_URL": self.extended.rest_url,
               "EXTENDED_PERPETUAL_WS_URL": self.extended.stream_url}
        with open(self.log_path, "w") as log:
            self.engine = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hummingbot.cli.engine", "--name", BOT, "--script-config", f"{BOT}.yml",
                cwd=str(self.root), env=sandbox_env(self.root, env), stdout=log, stderr=log, start_new_session=True)

    def engine_log(self) -> str:
        hummingbot_log = self.root / "logs" / f"logs_{BOT}.log"
        tail = hummingbot_log.read_text()[-6000:] if hummingbot_log.exists() else ""
        return self.log_path.read_text()[-3000:] + tail

    async def wait_until(self, condition: Callable[[], bool], deadline: float, what: str):
        while not condition():
            self.assertIsNone(self.engine.returncode, f"the engine exited early:\n{self.engine_log()}")
            self.assertLess(time.monotonic(), deadline, f"{what}:\n{self.engine_log()}")
            await asyncio.sleep(0.5)

    # ---- the test ----------------------------------------------------------------------------------------

    async def test_controllers_quote_from_candles_volatility_and_refresh_on_both_venues(self):
        started = time.monotonic()
        now_ms = int(time.time() * 1000)
        trickle_price = self.seed_lighter(now_ms)
        extended_mid = self.seed_extended(now_ms)
        mids = {LIGHTER: LIGHTER_MID, EXTENDED: extended_mid}
        ticks = {LIGHTER: LIGHTER_TICK, EXTENDED: EXTENDED_TICK}
        lighter_account, key_index, lighter_key = self.lighter.create_account_with_api_key(collateral=COLLATERAL)
        extended_account = self.extended.create_account(collateral=COLLATERAL)
        password = secrets.token_urlsafe(16)
        await self.write_configs(password, {"api_private_key": lighter_key, "api_key_index": key_index,
                                            "account_index": lighter_account}, extended_account)
        trickle = asyncio.create_task(self.trickle(trickle_price))
        try:
            await self.start_engine(password)

            def our_orders() -> Dict[str, list]:
                return {LIGHTER: [order for order in self.lighter.state.orders.values()
                                  if order.account_index == lighter_account],
                        EXTENDED: self.extended.state.account_orders(extended_account.account_id, EXTENDED_PAIR)}

            # Two rounds of quotes on each venue: 2 levels x 2 sides, then all four replaced after the refresh time.
            deadline = started + RUN_TIMEOUT
            await self.wait_until(lambda: all(len(orders) >= 8 for orders in our_orders().values()), deadline,
                                  "no second round of quotes on both venues")
            self.assertEqual(0, await stop_engine(self.engine, timeout=30), self.engine_log())
        finally:
            trickle.cancel()
        elapsed = time.monotonic() - started

        # The volatility each controller computed is that of the candles the exchange serves for its window, and its
        # spread is the multiple of it, within the bounds.
        found = estimates(self.root / "logs" / f"logs_{BOT}.log")
        for connector in (LIGHTER, EXTENDED):
            self.assertTrue([e for e in found if e.connector == connector], f"no estimate on {connector}")
        for estimate in found:
            # Its window ends with the newest closed candle: the forming one is left out.
            self.assertLessEqual(estimate.last_candle + 60, estimate.logged_at, estimate)
            self.assertLess(estimate.logged_at - 1, estimate.last_candle + 120, estimate)
            candles = await self.exchange_candles(estimate.connector, estimate.last_candle)
            window = [estimate.last_candle - 60 * (VOLATILITY_LENGTH - k) for k in range(VOLATILITY_LENGTH + 1)]
            self.assertEqual(window, [t for t, _ in candles], estimate)
            expected = volatility([close for _, close in candles])
            self.assertTrue(math.isclose(expected, estimate.volatility, rel_tol=1e-9), (expected, estimate))
            self.assertEqual(min(max(MULTIPLIER * Decimal(repr(expected)), MIN_SPREAD), MAX_SPREAD), estimate.spread)
            self.assertLess(MIN_SPREAD, estimate.spread)  # the seeded history sets it, not the floor

        records = executors(self.root / "data" / f"{BOT}.sqlite")
        orders = exchange_orders(our_orders())
        for connector in (LIGHTER, EXTENDED):
            spreads = {e.spread for e in found if e.connector == connector}
            mine = [r for r in records if r["controller_id"] == f"{connector}_maker"]
            self.assertEqual({"position_executor"}, {r["type"] for r in mine})
            # Every level quoted at least twice (placed, then replaced by the refresh), each executor stopped early
            # (by the refresh or the bot's stop) without a fill.
            levels = [r["config"]["level_id"] for r in mine]
            self.assertEqual({"buy_0", "buy_1", "sell_0", "sell_1"}, set(levels), connector)
            self.assertTrue(all(levels.count(level) >= 2 for level in levels), levels)
            self.assertEqual({EARLY_STOP}, {r["close_type"] for r in mine})
            matched = set()
            for record in mine:
                config = record["config"]
                side = -1 if config["side"] == 1 else 1  # TradeType.BUY is 1
                level = LEVELS[int(config["level_id"].split("_")[1])]
                entry = Decimal(str(config["entry_price"]))
                # mid x (1 -/+ level x base spread), for one of the spreads the controller logged.
                self.assertTrue(any(abs(entry - mids[connector] * (1 + side * Decimal(level) * spread))
                                    < Decimal("1e-9") for spread in spreads), (connector, config, spreads))
                # Its order on the exchange: placed as the executor started, same side, the entry price on the tick.
                placed = [order for order in orders[connector]
                          if order.is_sell == (side > 0) and abs(order.price - entry) < ticks[connector]
                          and record["timestamp"] - 0.5 <= order.created <= record["timestamp"] + 3]
                self.assertEqual(1, len(placed), (connector, config, orders[connector]))
                matched.add(placed[0])
            # No order but the executors', all cancelled (by the refresh, or at the bot's stop).
            self.assertEqual(set(orders[connector]), matched)
            self.assertTrue(all(order.cancelled for order in orders[connector]), orders[connector])
        self.assertLess(elapsed, 120)


if __name__ == "__main__":
    unittest.main()
