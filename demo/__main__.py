"""`make demo`: a real Hummingbot strategy trading through lighter_perpetual against the local Lighter exchange.

    python -m demo [--duration 60] [--pair ETH-USDC] [--keep] [--plot demo.png]
    python -m demo --strategy arb [--keep]      # Lighter/Extended arbitrage script, see demo/arbitrage.py
    python -m demo backtest [--days 44]         # its funding decisions over funding history, see demo/backtest.py

Starts the emulator with a live synthetic market, writes Hummingbot's configs (password, encrypted keys, strategy)
into a throwaway Hummingbot home, runs `perpetual_market_making` headless through Hummingbot's own engine, shows
progress from the exchange's side, stops the bot and prints a summary from Hummingbot's trade records, cross-checked
against the exchange's truth. Ctrl-C stops everything.
"""
import argparse
import asyncio
import json
import secrets
import shutil
import signal
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import List, Optional

from demo import records
from demo.arbitrage import ArbitrageDemo
from demo.plot import FillMark, Sample, fill_marks, plot_run, sample
from demo.sandbox import make_sandbox, run_in_sandbox, sandbox_env, stop_engine
from emulator.lighter import LighterEmulator

CONNECTOR = "lighter_perpetual"
MARKETS = {"ETH-USDC": 0, "BTC-USDC": 1}
BOT_NAME = "demo"
COLLATERAL = Decimal("10000")


def strategy_config(pair: str, order_amount: str) -> dict:
    return {
        "template_version": 6, "strategy": "perpetual_market_making", "derivative": CONNECTOR, "market": pair,
        "leverage": 5, "position_mode": "One-way", "bid_spread": 0.02, "ask_spread": 0.02, "minimum_spread": -100,
        "order_refresh_time": 5, "order_refresh_tolerance_pct": 0, "order_amount": order_amount,
        "long_profit_taking_spread": 0.1, "short_profit_taking_spread": 0.1, "stop_loss_spread": 2,
        "time_between_stop_loss_orders": 60, "stop_loss_slippage_buffer": 0.5, "price_ceiling": -1,
        "price_floor": -1, "order_levels": 2, "order_level_amount": 0, "order_level_spread": 0.05,
        "filled_order_delay": 5, "order_optimization_enabled": False, "ask_order_optimization_depth": 0,
        "bid_order_optimization_depth": 0, "price_source": "current_market", "price_type": "mid_price",
        "price_source_derivative": None, "price_source_market": None, "price_source_custom_api": None,
        "custom_api_update_interval": 5, "order_override": None,
    }


class Demo:
    def __init__(self, args):
        self.args = args
        self.market_id = MARKETS[args.pair]
        self.stop = asyncio.Event()
        self.engine = None
        # What --plot draws: the exchange's state once a second, and the account's fills.
        self.samples: List[Sample] = []
        self.fills: List[FillMark] = []

    def progress(self, ex: LighterEmulator, account: int, started: float, running: bool = True) -> str:
        truth = records.exchange_truth(ex, account, self.market_id, COLLATERAL)
        line = (f"[{time.monotonic() - started:5.0f}s] orders placed {truth.orders_placed:3d}"
                f"  open {truth.open_orders:2d}  cancelled {truth.orders_cancelled:3d}  fills {truth.fills:3d}"
                f"  position {truth.position:+.4f}  fees {truth.fees:.4f}  PnL {truth.pnl:+.4f} USDC")
        if running and not truth.orders_placed:
            line += "  (Hummingbot is starting up)"
        elif running and truth.position:
            # perpetual_market_making places no new quotes while it holds a position: only its exit orders (take
            # profit, stop loss) until the position is closed.
            side, size = "long" if truth.position > 0 else "short", abs(truth.position).normalize()
            line += f"  (holding a {side} of {size:f}: PMM places only exit orders until flat)"
        return line

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        summary = await self.run_and_summarize()
        return 0 if summary is not None and summary.consistent else 1

    async def run_and_summarize(self) -> Optional[records.Summary]:
        with tempfile.TemporaryDirectory(prefix="hummingbot-demo-") as home:
            root = make_sandbox(Path(home))
            async with LighterEmulator(port=0) as ex:
                return await self.trade(ex, root)

    async def trade(self, ex: LighterEmulator, root: Path) -> Optional[records.Summary]:
        ex.set_fees(maker=Decimal("0.0002"), taker=Decimal("0.0005"))
        maker = ex.create_account(collateral=Decimal("10000000"))
        mid = Decimal(2500) if self.market_id == 0 else Decimal(60000)
        tick = mid / 10000
        for level in range(1, 11):
            ex.place_order(maker, self.market_id, is_ask=False, size=Decimal(3), price=mid - tick * level * 5)
            ex.place_order(maker, self.market_id, is_ask=True, size=Decimal(3), price=mid + tick * level * 5)
        account, key_index, private_key = ex.create_account_with_api_key(collateral=COLLATERAL, api_key_index=2)
        password = secrets.token_urlsafe(16)
        urls = {"LIGHTER_PERPETUAL_REST_URL": ex.rest_url, "LIGHTER_PERPETUAL_WS_URL": ex.ws_url}
        print(f"Local Lighter exchange at {ex.rest_url}; account {account}, API key index {key_index} "
              f"(generated with lighter-sdk); Hummingbot home {root}")

        keys = json.dumps({"api_private_key": private_key, "api_key_index": key_index, "account_index": account})
        order_amount = "0.05" if self.market_id == 0 else "0.002"
        setup = await asyncio.to_thread(
            run_in_sandbox, root, "demo.hb_setup", CONNECTOR, "-", f"{BOT_NAME}.yml",
            json.dumps(strategy_config(self.args.pair, order_amount)), env={"HBOT_PASSWORD": password}, stdin=keys)
        if setup.returncode != 0:
            print(f"Writing the Hummingbot configuration failed:\n{setup.stderr[-2000:]}", file=sys.stderr)
            return None

        await ex.start_flow(rate_per_s=self.args.flow_rate, market_ids=[self.market_id], taker_share=0.4)
        log = open(root / "logs" / "engine_stdout.log", "w")
        self.engine = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hummingbot.cli.engine", "--name", BOT_NAME, "--config", f"{BOT_NAME}.yml",
            cwd=str(root), env=sandbox_env(root, {**urls, "HBOT_PASSWORD": password}), stdout=log, stderr=log,
            start_new_session=True)
        print(f"Hummingbot {CONNECTOR} perpetual_market_making on {self.args.pair} for {self.args.duration} s "
              f"(Ctrl-C stops early)")
        started, started_ms = time.monotonic(), int(time.time() * 1000)
        taker_sells = True
        try:
            while time.monotonic() - started < self.args.duration and not self.stop.is_set():
                # Besides the random flow, a taker crosses the spread every tick, alternating sides.
                ex.submit_taker(self.market_id, is_ask=taker_sells, size=Decimal(order_amount))
                taker_sells = not taker_sells
                for _ in range(5):
                    try:
                        await asyncio.wait_for(self.stop.wait(), timeout=1)
                    except asyncio.TimeoutError:
                        pass
                    self.samples.append(sample(ex, account, self.market_id, time.monotonic() - started))
                if self.engine.returncode is not None:
                    print(f"The Hummingbot engine exited early (code {self.engine.returncode}):", file=sys.stderr)
                    print((root / "logs" / "engine_stdout.log").read_text()[-3000:], file=sys.stderr)
                    return None
                print(self.progress(ex, account, started), flush=True)
        finally:
            await ex.stop_flow()
            await self.stop_engine()
            log.close()
        print(self.progress(ex, account, started, running=False))
        summary = records.summarize(root / "data" / f"{BOT_NAME}.sqlite", ex, account, self.market_id, COLLATERAL)
        print(summary.text())
        if self.args.plot:
            self.samples.append(sample(ex, account, self.market_id, time.monotonic() - started))
            self.fills = fill_marks(ex, account, self.market_id, started_ms)
            plot_run(self.samples, self.fills, Path(self.args.plot),
                     f"perpetual_market_making on {CONNECTOR} {self.args.pair} (local exchange)")
            print(f"Plot of prices, our quotes, fills and position written to {self.args.plot}")
        if self.args.keep:
            kept = Path(tempfile.mkdtemp(prefix="hummingbot-demo-kept-"))
            for folder in ("conf", "data", "logs"):
                shutil.copytree(root / folder, kept / folder)
            print(f"Configs, trade records and logs kept in {kept}")
        return summary

    async def stop_engine(self):
        if self.engine is not None:
            await stop_engine(self.engine, timeout=30)


def main():
    if sys.argv[1:2] == ["backtest"]:
        from demo.backtest import main as backtest
        sys.exit(backtest(sys.argv[2:]))
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", default="pmm", choices=("pmm", "arb"),
                        help="pmm: perpetual_market_making on Lighter (default); arb: the Lighter/Extended arbitrage "
                             "script against both local exchanges")
    parser.add_argument("--duration", type=int, default=60, help="seconds of trading (default 60)")
    parser.add_argument("--pair", default="ETH-USDC", choices=sorted(MARKETS), help="trading pair")
    parser.add_argument("--flow-rate", type=float, default=8.0, help="synthetic orders per second on the market")
    parser.add_argument("--keep", action="store_true", help="keep the Hummingbot configs, trade records and logs")
    parser.add_argument("--plot", nargs="?", const="demo.png", metavar="PNG",
                        help="pmm only: write a PNG of prices, our quotes, fills and position over time "
                             "(default file demo.png)")
    args = parser.parse_args()
    if args.plot and args.strategy == "arb":
        parser.error("--plot draws the market-making run (--strategy pmm); the arbitrage demo prints its steps.")
    demo = ArbitrageDemo(keep=args.keep) if args.strategy == "arb" else Demo(args)
    sys.exit(asyncio.run(demo.run()))


if __name__ == "__main__":
    main()
