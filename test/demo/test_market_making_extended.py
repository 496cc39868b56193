"""Hummingbot's own headless engine runs perpetual_market_making through extended_perpetual against the local
Extended exchange (synthetic flow plus a taker that crosses the bot's best quote every few seconds); after SIGTERM,
Hummingbot's trade records (data/<bot>.sqlite) are checked against the exchange's truth."""
import asyncio
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Dict, List

from demo.__main__ import strategy_config as pmm_config
from demo.sandbox import make_sandbox, sandbox_env, stop_engine
from emulator.extended import Account, ExtendedEmulator

CONNECTOR = "extended_perpetual"
PAIR = "BTC-USD"
BOT = "pmm_extended"
COLLATERAL = Decimal("10000")
ORDER_AMOUNT = Decimal("0.002")
TRADING_SECONDS = 27
TRADING_SECONDS_MAX = 90
TAKER_INTERVAL = 3.0
# In percent. Holding a position, PMM quotes nothing but its take-profit order (placed only while the best ask is
# above the entry price for a long, or the best bid under it for a short) and its stop loss; the demo's 2 % stop loss
# left the bot idle for minutes whenever the random walk ran against its position. 0.05 % stops out within seconds.
STOP_LOSS_SPREAD = 0.05
FIRST_QUOTES_TIMEOUT = 40.0
# Hummingbot's SqliteDecimal(6) columns hold integers scaled by 10^6.
DB_SCALE = Decimal(10) ** 6
MICRO = Decimal("0.000001")


def strategy_config() -> dict:
    """The demo's perpetual_market_making configuration, on extended_perpetual."""
    return {**pmm_config(PAIR, str(ORDER_AMOUNT)), "derivative": CONNECTOR, "filled_order_delay": 3,
            "stop_loss_spread": STOP_LOSS_SPREAD}


@dataclass
class Records:
    """Hummingbot's side: its Order and TradeFill tables."""
    orders: Dict[str, tuple]      # client order id -> (exchange order id, last status)
    fills: Dict[str, tuple]       # exchange trade id -> (client order id, side, price, amount, fee)

    @classmethod
    def read(cls, db_path: Path) -> "Records":
        with sqlite3.connect(str(db_path)) as db:
            orders = db.execute('SELECT id, exchange_order_id, last_status FROM "Order"').fetchall()
            fills = db.execute("SELECT exchange_trade_id, order_id, trade_type, price, amount, trade_fee "
                               "FROM TradeFill").fetchall()
        return cls(orders={order_id: (exchange_id, status) for order_id, exchange_id, status in orders},
                   fills={trade_id: (order_id, side, Decimal(price) / DB_SCALE, Decimal(amount) / DB_SCALE,
                                     cls._flat_fee(trade_fee))
                          for trade_id, order_id, side, price, amount, trade_fee in fills})

    @staticmethod
    def _flat_fee(trade_fee: str) -> Decimal:
        fee = json.loads(trade_fee)
        return sum((Decimal(flat["amount"]) for flat in fee.get("flat_fees", [])), Decimal(0))

    def position(self) -> Decimal:
        return sum((amount if side == "BUY" else -amount for _, side, _, amount, _ in self.fills.values()),
                   Decimal(0))

    def pnl(self, mark_price: Decimal) -> Decimal:
        """Cash from the fills, less fees, plus the open position at the mark price."""
        cash = sum(((-amount if side == "BUY" else amount) * price - fee
                    for _, side, price, amount, fee in self.fills.values()), Decimal(0))
        return cash + self.position() * mark_price


async def take_best_quote(ex: ExtendedEmulator, account: Account, buy_side: bool) -> bool:
    """The synthetic taker crosses the book down (or up) to the bot's best quote on one side and fills it whole:
    it takes everything priced at or better than that quote, so the fill does not depend on the book's depth."""
    quotes = [order for order in ex.state.account_open_orders(account.account_id, PAIR) if order.is_buy == buy_side]
    if not quotes:
        return False
    price = (max if buy_side else min)(order.price for order in quotes)
    levels = ex.state.book(PAIR)["bid" if buy_side else "ask"]
    qty = sum(q for p, q in levels if (p >= price if buy_side else p <= price))
    ex.synthetic_taker(PAIR, "SELL" if buy_side else "BUY", qty, price)
    return True


class PerpetualMarketMakingOnExtendedTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="hbot-pmm-extended-")
        self.root = make_sandbox(Path(self._tmp.name))
        self.ex = await ExtendedEmulator(port=0, hourly_funding=False).start()
        self.account = self.ex.create_account(collateral=COLLATERAL)
        self.engine = None
        self.log_path = self.root / "logs" / "engine_stdout.log"

    async def asyncTearDown(self):
        await self.stop_engine()
        await self.ex.stop()
        self._tmp.cleanup()

    def write_configs(self, password: str):
        keys = {"api_secret": self.account.api_key, "stark_private_key": self.account.stark_private_key,
                "stark_public_key": self.account.stark_public_key, "vault": self.account.vault}
        setup = subprocess.run(
            [sys.executable, "-m", "demo.hb_setup", CONNECTOR, "-", f"{BOT}.yml", json.dumps(strategy_config())],
            cwd=str(self.root), env=sandbox_env(self.root, {"HBOT_PASSWORD": password}), input=json.dumps(keys),
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, setup.returncode, setup.stderr[-2000:])

    async def start_engine(self, password: str):
        env = {"HBOT_PASSWORD": password, "EXTENDED_PERPETUAL_REST_URL": self.ex.rest_url,
               "EXTENDED_PERPETUAL_WS_URL": self.ex.stream_url}
        with open(self.log_path, "w") as log:
            self.engine = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hummingbot.cli.engine", "--name", BOT, "--config", f"{BOT}.yml",
                cwd=str(self.root), env=sandbox_env(self.root, env), stdout=log, stderr=log, start_new_session=True)

    async def stop_engine(self) -> int:
        return -1 if self.engine is None else await stop_engine(self.engine, timeout=30)

    def engine_log(self) -> str:
        return self.log_path.read_text()[-3000:]

    async def wait_for_first_quotes(self):
        deadline = time.monotonic() + FIRST_QUOTES_TIMEOUT
        while not self.ex.state.account_open_orders(self.account.account_id, PAIR):
            self.assertIsNone(self.engine.returncode, f"the engine exited early:\n{self.engine_log()}")
            self.assertLess(time.monotonic(), deadline, f"no quotes from the bot:\n{self.engine_log()}")
            await asyncio.sleep(0.5)

    def refreshed_and_filled(self, takes: List[bool]) -> bool:
        # More than the first round of 2 levels x 2 sides means the bot has replaced quotes.
        return len(self.ex.state.account_orders(self.account.account_id, PAIR)) > 4 and sum(takes) >= 2

    async def trade(self) -> List[bool]:
        takes = []
        started = time.monotonic()
        # On a loaded machine the bot's cycles take longer: trade on until it has refreshed and been filled.
        while (time.monotonic() - started < TRADING_SECONDS
               or (not self.refreshed_and_filled(takes) and time.monotonic() - started < TRADING_SECONDS_MAX)):
            # Two bids taken for each ask: the position moves both ways without returning to flat by construction.
            # The other side is taken when one side has no quote.
            buy_side = len(takes) % 3 != 2
            took = (await take_best_quote(self.ex, self.account, buy_side)
                    or await take_best_quote(self.ex, self.account, not buy_side))
            takes.append(took)
            await asyncio.sleep(TAKER_INTERVAL)
            self.assertIsNone(self.engine.returncode, f"the engine exited early:\n{self.engine_log()}")
        return takes

    async def test_quotes_refreshes_fills_and_records_match_the_exchange(self):
        password = "pmm-extended-test-password"
        await asyncio.to_thread(self.write_configs, password)
        await self.ex.start_flow(markets=[PAIR], interval=0.25, taker_probability=0.3)
        await self.start_engine(password)
        await self.wait_for_first_quotes()
        takes = await self.trade()
        await self.ex.stop_flow()
        self.assertEqual(0, await self.stop_engine(), self.engine_log())

        state, account_id = self.ex.state, self.account.account_id
        orders = state.account_orders(account_id, PAIR)
        fills = state.account_fills(account_id)
        records = Records.read(self.root / "data" / f"{BOT}.sqlite")

        # Both sides quoted (PMM quotes both levels of both sides while flat, and only its exit order while it holds
        # a position), refreshed (cancelled and replaced), and filled by the takers.
        self.assertGreaterEqual(sum(1 for order in orders if order.is_buy), 2)
        self.assertGreaterEqual(sum(1 for order in orders if not order.is_buy), 2)
        self.assertGreater(len(orders), 4, f"takes {takes}; orders {[(o.side, o.status) for o in orders]}\n"
                                           f"{self.engine_log()}")
        self.assertGreater(sum(1 for order in orders if order.status == "CANCELLED"), 0)
        self.assertGreaterEqual(sum(takes), 2)
        self.assertGreaterEqual(len(fills), sum(takes))
        # Stopping the bot cancelled everything it had on the book.
        self.assertEqual([], state.account_open_orders(account_id))

        # Every order on the exchange is one Hummingbot recorded, under the exchange's order id. (Its last status is
        # not compared: some orders cancelled on the exchange keep "...OrderCreated"/"OrderFilled" in the records.)
        for order in orders:
            self.assertIn(order.external_id, records.orders)
            self.assertEqual(str(order.id), records.orders[order.external_id][0])
        # Every fill, exactly once, with the exchange's order, side, price, size and fee.
        self.assertEqual({str(fill.id): (fill.external_id, fill.side, fill.price, fill.qty, fill.fee)
                          for fill in fills}, records.fills)

        # Position and PnL from Hummingbot's records equal the exchange's (fees included, no funding).
        position = state.positions[account_id][PAIR].size
        self.assertEqual(position, records.position())
        mark = state.markets[PAIR].mark_price
        exchange_pnl = self.account.collateral + state.margin(self.account).unrealised - COLLATERAL
        self.assertLess(abs(exchange_pnl - records.pnl(mark)), MICRO * len(fills))


if __name__ == "__main__":
    unittest.main()
