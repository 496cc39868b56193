"""`make demo DEMO_ARGS="--strategy arb"`: the Lighter/Extended arbitrage script (scripts/lighter_extended_arbitrage.py)
run by Hummingbot's own engine against both local exchanges.

Starts both emulators with a resting book on ETH, creates an account on each (a Lighter API key from lighter-sdk, an
Extended API key with Stark keys), writes Hummingbot's configuration for both connectors and the script's config into
a throwaway Hummingbot home, and starts the engine with `--script-config`. It then plays a scenario and checks each
step against the exchanges' own positions:

1. Lighter's book moves 1% above Extended's: the bot goes long on Extended and short on Lighter, the same size.
2. Lighter's book comes back: the bot closes both legs.
3. Extended's funding rate jumps above Lighter's: the bot goes long on Lighter and short on Extended.
4. A funding round on both exchanges: the bot books each leg's payment, to the micro-USDC the exchanges paid.
5. The funding rate comes back: the bot closes both legs.

Finally it stops the bot, compares Hummingbot's trade records with the fills on both exchanges, and prints the
script's ledger (price PnL, funding collected, fees, net) next to the funding the exchanges paid.
"""
import asyncio
import csv
import json
import secrets
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable, Dict, List, Optional

import yaml

from demo.sandbox import make_sandbox, run_in_sandbox, sandbox_env, stop_engine
from emulator.extended import Account, ExtendedEmulator
from emulator.lighter import LighterEmulator

LIGHTER, EXTENDED = "lighter_perpetual", "extended_perpetual"
LIGHTER_PAIR, LIGHTER_MARKET = "ETH-USDC", 0
EXTENDED_PAIR = "ETH-USD"
BOT_NAME = "arb"
SCRIPT = "lighter_extended_arbitrage"
COLLATERAL = Decimal("10000")
MID = Decimal("2500")
ORDER_AMOUNT = Decimal("0.05")
# Extended's ETH size step (0.001) is the coarser of the two venues' steps (Lighter's is 0.0001).
SIZE_STEP = Decimal("0.001")
PHASE_TIMEOUT = 60.0
SCRIPT_LOGGER = "hummingbot.strategy.strategy_v2_base"
MICRO = Decimal("0.000001")
STATE_FILE = f"{SCRIPT}_{LIGHTER_PAIR}_{EXTENDED_PAIR}.json"
LEDGER_FILE = f"{SCRIPT}_{LIGHTER_PAIR}_{EXTENDED_PAIR}_ledger.csv"


def script_config() -> dict:
    return {
        "script_file_name": f"{SCRIPT}.py", "controllers_config": [],
        "lighter_connector": LIGHTER, "extended_connector": EXTENDED, "pairs": [f"{LIGHTER_PAIR}:{EXTENDED_PAIR}"],
        "order_amount": str(ORDER_AMOUNT), "leverage": 5, "entry_spread": "0.003", "exit_spread": "0.0005",
        # 30 days of hourly funding from both exchanges' history give the funding z-score from the first tick.
        "funding_enabled": True, "funding_history_days": 30, "funding_min_history_hours": 168,
        "funding_entry_z": "2", "funding_exit_z": "0.5", "cooldown": 2,
        # The connectors poll funding payments every 120 s; the script asks every 2 s here.
        "funding_payment_poll_interval": 2,
    }


@dataclass
class Phase:
    name: str
    reached: bool
    seconds: float
    lighter_position: Decimal
    extended_position: Decimal


@dataclass
class ArbitrageResult:
    phases: List[Phase] = field(default_factory=list)
    recorded_fills: Dict[str, int] = field(default_factory=dict)
    # The script's own account of its decisions, from Hummingbot's log.
    decisions: List[str] = field(default_factory=list)
    exchange_fills: Dict[str, int] = field(default_factory=dict)
    lighter_position: Decimal = Decimal(0)
    extended_position: Decimal = Decimal(0)
    # The script's ledger (one row per closed pair) and the funding both exchanges paid the account.
    ledger: List[Dict[str, str]] = field(default_factory=list)
    exchange_funding: Dict[str, Decimal] = field(default_factory=dict)

    def ledger_total(self, key: str) -> Decimal:
        return sum((Decimal(row[key]) for row in self.ledger), Decimal(0))

    @property
    def consistent(self) -> bool:
        return (bool(self.phases) and all(phase.reached for phase in self.phases)
                and self.recorded_fills == self.exchange_fills and not self.lighter_position
                and not self.extended_position
                and self.ledger_total("funding") == sum(self.exchange_funding.values(), Decimal(0)))

    def text(self) -> str:
        lines = ["", "The script's decisions (Hummingbot's log):"] + [f"  {line}" for line in self.decisions]
        lines += ["", "Summary (positions from the exchanges; fills from Hummingbot's trade records)"]
        for phase in self.phases:
            lines.append(f"  {phase.name:<34} {'yes' if phase.reached else 'NO ':3} after {phase.seconds:5.1f} s"
                         f"   Lighter {phase.lighter_position:+.4f}  Extended {phase.extended_position:+.4f}")
        for connector in (LIGHTER, EXTENDED):
            lines.append(f"  fills on {connector:<19} {self.recorded_fills.get(connector, 0)} recorded, "
                         f"{self.exchange_fills.get(connector, 0)} on the exchange")
        lines.append(f"  final positions: Lighter {self.lighter_position:+.4f}, Extended {self.extended_position:+.4f}")
        lines.append(f"  ledger ({len(self.ledger)} pairs closed): price {self.ledger_total('price_pnl'):+.6f}, "
                     f"funding collected {self.ledger_total('funding'):+.6f}, fees {-self.ledger_total('fees'):+.6f}, "
                     f"net {self.ledger_total('net'):+.6f} USD")
        lines.append("  funding paid by the exchanges: " + ", ".join(
            f"{connector} {amount:+.6f}" for connector, amount in self.exchange_funding.items()))
        lines.append(f"  consistent with the exchanges: {'yes' if self.consistent else 'NO'}")
        return "\n".join(lines)


class ArbitrageDemo:
    def __init__(self, verbose: bool = True, keep: bool = False):
        self.verbose = verbose
        self.keep = keep
        self.stop = asyncio.Event()
        self.engine: Optional[asyncio.subprocess.Process] = None
        self.lighter_maker_orders_by_market: Dict[int, List[int]] = {}

    def say(self, text: str):
        if self.verbose:
            print(text, flush=True)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        result = await self.run_and_summarize()
        return 0 if result is not None and result.consistent else 1

    async def run_and_summarize(self) -> Optional[ArbitrageResult]:
        with tempfile.TemporaryDirectory(prefix="hummingbot-arb-") as home:
            root = make_sandbox(Path(home))
            async with LighterEmulator(port=0) as lighter, \
                    ExtendedEmulator(port=0, funding_stream_interval=1.0, hourly_funding=False) as extended:
                return await self.trade(lighter, extended, root)

    # ---- the two markets ---------------------------------------------------------------------------------

    def quote_lighter(self, lighter: LighterEmulator, maker: int, mid: Decimal, market_id: int = LIGHTER_MARKET):
        """Replaces the maker's ladder on a Lighter market around `mid` (levels 0.05% apart, 7,500 USD each) and
        moves that market's mark price there."""
        orders = self.lighter_maker_orders_by_market.setdefault(market_id, [])
        for order_index in orders:
            if order_index in lighter.state.accounts[maker].active_orders:
                lighter.cancel_order(order_index)
        tick = Decimal(1).scaleb(-lighter.state.markets[market_id].spec.price_decimals)
        step, size = (mid / 2000).quantize(tick), (Decimal(7500) / mid).quantize(Decimal("0.001"))
        orders[:] = [
            lighter.place_order(maker, market_id, is_ask=is_ask, size=size,
                                price=mid + step * level if is_ask else mid - step * level).order_index
            for level in range(1, 11) for is_ask in (False, True)]
        lighter.set_index_price(market_id, mid)

    @staticmethod
    def quote_extended(extended: ExtendedEmulator, mid: Decimal, pair: str = EXTENDED_PAIR):
        extended.set_prices(pair, mark=mid, index=mid)
        extended.flow.requote(pair)

    @staticmethod
    def positions(lighter: LighterEmulator, lighter_account: int, extended: ExtendedEmulator,
                  extended_account: Account, market_id: int = LIGHTER_MARKET, pair: str = EXTENDED_PAIR) -> tuple:
        market = lighter.state.markets[market_id]
        position = lighter.state.accounts[lighter_account].positions.get(market_id)
        lighter_size = Decimal(position.size if position else 0).scaleb(-market.spec.size_decimals)
        extended_position = extended.state.position(extended_account.account_id, pair)
        return lighter_size, extended_position.size if extended_position else Decimal(0)

    @staticmethod
    def exchange_funding(lighter: LighterEmulator, lighter_account: int, extended: ExtendedEmulator,
                         extended_account: Account) -> Dict[str, Decimal]:
        """What each exchange paid the account in funding (negative: the account paid), in USD(C)."""
        lighter_paid = sum((Decimal(p.change) for p in lighter.state.accounts[lighter_account].fundings), Decimal(0))
        extended_paid = sum((-p.funding_fee.quantize(MICRO)
                             for p in extended.state.funding_payments[extended_account.account_id]), Decimal(0))
        return {LIGHTER: lighter_paid * MICRO, EXTENDED: extended_paid}

    # ---- the run -----------------------------------------------------------------------------------------

    async def trade(self, lighter: LighterEmulator, extended: ExtendedEmulator, root: Path
                    ) -> Optional[ArbitrageResult]:
        maker = lighter.create_account(collateral=Decimal("10000000"))
        self.quote_lighter(lighter, maker, MID)
        self.quote_extended(extended, MID)
        lighter_account, key_index, lighter_key = lighter.create_account_with_api_key(collateral=COLLATERAL)
        extended_account = extended.create_account(collateral=COLLATERAL)
        self.say(f"Local Lighter at {lighter.rest_url} (account {lighter_account}), local Extended at "
                 f"{extended.rest_url} (vault {extended_account.vault}); Hummingbot home {root}")

        password = secrets.token_urlsafe(16)
        keys = {
            LIGHTER: {"api_private_key": lighter_key, "api_key_index": key_index, "account_index": lighter_account},
            EXTENDED: {"api_secret": extended_account.api_key, "stark_private_key": extended_account.stark_private_key,
                       "stark_public_key": extended_account.stark_public_key, "vault": extended_account.vault},
        }
        for connector, connector_keys in keys.items():
            setup = await asyncio.to_thread(run_in_sandbox, root, "demo.hb_setup", connector, "-",
                                            env={"HBOT_PASSWORD": password}, stdin=json.dumps(connector_keys))
            if setup.returncode != 0:
                print(f"Writing the {connector} configuration failed:\n{setup.stderr[-2000:]}", file=sys.stderr)
                return None
        with open(root / "conf" / "scripts" / f"{BOT_NAME}.yml", "w") as f:
            yaml.safe_dump(script_config(), f, sort_keys=False)

        urls = {"LIGHTER_PERPETUAL_REST_URL": lighter.rest_url, "LIGHTER_PERPETUAL_WS_URL": lighter.ws_url,
                "EXTENDED_PERPETUAL_REST_URL": extended.rest_url, "EXTENDED_PERPETUAL_WS_URL": extended.stream_url}
        log = open(root / "logs" / "engine_stdout.log", "w")
        self.engine = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hummingbot.cli.engine", "--name", BOT_NAME, "--script-config", f"{BOT_NAME}.yml",
            cwd=str(root), env=sandbox_env(root, {**urls, "HBOT_PASSWORD": password}), stdout=log, stderr=log,
            start_new_session=True)
        self.say(f"Hummingbot runs {SCRIPT} on {LIGHTER} {LIGHTER_PAIR} and {EXTENDED} {EXTENDED_PAIR} "
                 f"(Ctrl-C stops early)")
        result = ArbitrageResult()

        def truth() -> tuple:
            return self.positions(lighter, lighter_account, extended, extended_account)

        def hedged(long_lighter: bool) -> bool:
            lighter_size, extended_size = truth()
            long_size, short_size = (lighter_size, extended_size) if long_lighter else (extended_size, lighter_size)
            return long_size > 0 > short_size and abs(long_size + short_size) <= SIZE_STEP

        def flat() -> bool:
            return truth() == (0, 0)

        def booked_funding() -> Dict[str, Decimal]:
            state_path = root / "data" / STATE_FILE
            legs = json.loads(state_path.read_text())["legs"] if state_path.exists() else []
            return {leg["connector"]: Decimal(leg["funding"]) for leg in legs}

        def funding_round():
            lighter.apply_funding([LIGHTER_MARKET])
            extended.trigger_funding(EXTENDED_PAIR)

        usual_funding = extended.state.market(EXTENDED_PAIR).funding_rate
        scenario = [
            ("Lighter 1% dearer: hedged", lambda: self.quote_lighter(lighter, maker, MID * Decimal("1.01")),
             lambda: hedged(long_lighter=False)),
            ("Lighter back: both legs closed", lambda: self.quote_lighter(lighter, maker, MID), flat),
            ("Extended funding higher: hedged", lambda: self.set_extended_funding(lighter, extended, Decimal("0.0005")),
             lambda: hedged(long_lighter=True)),
            ("a funding round: booked per leg", funding_round,
             lambda: booked_funding() == self.exchange_funding(lighter, lighter_account, extended, extended_account)),
            ("funding back: both legs closed", lambda: self.set_extended_funding(lighter, extended, usual_funding),
             flat),
        ]
        try:
            for name, action, reached in scenario:
                self.quote_extended(extended, MID)
                action()
                phase = await self.wait_for(name, reached, truth, root)
                result.phases.append(phase)
                if not phase.reached or self.stop.is_set():
                    break
            else:
                await self.wait_for_closed_pairs(root / "logs" / f"logs_{BOT_NAME}.log")
        finally:
            await self.stop_engine()
            log.close()
        result.lighter_position, result.extended_position = truth()
        result.exchange_fills = {LIGHTER: len(lighter.state.accounts[lighter_account].fills),
                                 EXTENDED: len(extended.state.account_fills(extended_account.account_id))}
        result.recorded_fills = recorded_fills(root / "data" / f"{BOT_NAME}.sqlite")
        result.decisions = decisions(root / "logs" / f"logs_{BOT_NAME}.log")
        result.ledger = read_ledger(root / "data" / LEDGER_FILE)
        result.exchange_funding = self.exchange_funding(lighter, lighter_account, extended, extended_account)
        self.say(result.text())
        if self.keep:
            kept = Path(tempfile.mkdtemp(prefix="hummingbot-arb-kept-"))
            for folder in ("conf", "data", "logs"):
                shutil.copytree(root / folder, kept / folder)
            self.say(f"Configs, trade records and logs kept in {kept}")
        return result

    @staticmethod
    def set_extended_funding(lighter: LighterEmulator, extended: ExtendedEmulator, rate: Decimal):
        extended.set_funding_rate(EXTENDED_PAIR, rate)
        # Lighter's market stats (and its funding rate with them) go out when its index price moves.
        lighter.set_index_price(LIGHTER_MARKET, MID)

    async def wait_for(self, name: str, reached: Callable[[], bool], truth: Callable[[], tuple], root: Path) -> Phase:
        started = time.monotonic()
        last_report = started
        while not reached() and time.monotonic() - started < PHASE_TIMEOUT and not self.stop.is_set():
            if self.engine.returncode is not None:
                print(f"The Hummingbot engine exited early (code {self.engine.returncode}):", file=sys.stderr)
                print((root / "logs" / "engine_stdout.log").read_text()[-3000:], file=sys.stderr)
                break
            await self.sleep_or_stop(0.5)
            if time.monotonic() - last_report >= 5:
                last_report = time.monotonic()
                lighter_size, extended_size = truth()
                self.say(f"  waiting: {name} ({last_report - started:.0f} s)  positions: Lighter {lighter_size:+.4f}, "
                         f"Extended {extended_size:+.4f}")
        lighter_size, extended_size = truth()
        phase = Phase(name, reached(), time.monotonic() - started, lighter_size, extended_size)
        self.say(f"{name}: {'yes' if phase.reached else 'NO'} after {phase.seconds:.1f} s "
                 f"(Lighter {lighter_size:+.4f}, Extended {extended_size:+.4f})")
        return phase

    async def wait_for_closed_pairs(self, log_path: Path, timeout: float = 10):
        """The script logs a pair as closed on a tick after both legs are flat on the exchanges: waits for that line
        (for every pair it decided to close) before the bot is stopped, so that the last decision is in the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop.is_set():
            lines = decisions(log_path)
            closing = sum(1 for line in lines if line.startswith("Closing the hedged pair"))
            if sum(1 for line in lines if line.startswith("Hedged pair") and line.endswith("closed.")) >= closing:
                return
            await self.sleep_or_stop(0.5)

    async def sleep_or_stop(self, seconds: float):
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def stop_engine(self):
        # The script closes any open leg before it exits: it gets longer than the market-making demo.
        if self.engine is not None:
            await stop_engine(self.engine, timeout=45)


def recorded_fills(db_path: Path) -> Dict[str, int]:
    """Fills per connector in Hummingbot's own trade records."""
    if not db_path.exists():
        return {}
    with sqlite3.connect(str(db_path)) as db:
        return dict(db.execute("SELECT market, COUNT(*) FROM TradeFill GROUP BY market").fetchall())


def read_ledger(path: Path) -> List[Dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def decisions(log_path: Path) -> List[str]:
    """The script's open, close, refusal and repair decisions, as it logged them."""
    if not log_path.exists():
        return []
    markers = ("spread", "Closing the hedged pair", "Hedged pair", "Adopted the hedged pair", "Not opening",
               "Repairing", "did not fill", "repair bound")
    return [line.split(" - ")[-1].strip() for line in log_path.read_text().splitlines()
            if any(marker in line for marker in markers) and SCRIPT_LOGGER in line]
