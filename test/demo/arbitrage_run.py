"""One run of scripts/lighter_extended_arbitrage.py by Hummingbot's engine against both local exchanges, for the
engine-level tests: emulators with a resting book on each market, an account with keys on each, Hummingbot's
encrypted connector configs written through `demo.hb_setup`, the script config, and the engine started with
`--script-config` in a throwaway Hummingbot home."""
import asyncio
import json
import secrets
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import yaml

from demo.arbitrage import BOT_NAME, COLLATERAL, EXTENDED, LIGHTER, ArbitrageDemo, decisions, read_ledger, script_config
from demo.sandbox import make_sandbox, run_in_sandbox, sandbox_env, stop_engine
from emulator.extended import ExtendedEmulator
from emulator.lighter import LighterEmulator

# (Lighter market id, Lighter trading pair, Extended market, mid price)
ETH = (0, "ETH-USDC", "ETH-USD", Decimal("2500"))
BTC = (1, "BTC-USDC", "BTC-USD", Decimal("60000"))


class ArbitrageRun:
    def __init__(self, test, config: dict, markets: Tuple[tuple, ...] = (ETH,),
                 prepare: Optional[Callable[["ArbitrageRun"], None]] = None):
        """`prepare` sets the exchanges up (funding rates, say) after the books are quoted, before the engine starts."""
        self.test = test
        self.prepare = prepare
        self.config = dict(script_config(), **config)
        self.markets = markets
        self.demo = ArbitrageDemo(verbose=False)
        self.engine = None
        self.stop_code = None

    async def __aenter__(self) -> "ArbitrageRun":
        self._home = tempfile.TemporaryDirectory(prefix="hummingbot-arb-run-")
        self.root = make_sandbox(Path(self._home.name))
        self.lighter = await LighterEmulator(port=0).__aenter__()
        self.extended = await ExtendedEmulator(port=0, funding_stream_interval=1.0, hourly_funding=False).__aenter__()
        self.maker = self.lighter.create_account(collateral=Decimal("10000000"))
        for market_id, _, extended_pair, mid in self.markets:
            self.quote(market_id, lighter_mid=mid, extended_mid=mid)
        if self.prepare is not None:
            self.prepare(self)
        self.lighter_account, key_index, lighter_key = self.lighter.create_account_with_api_key(collateral=COLLATERAL)
        self.extended_account = self.extended.create_account(collateral=COLLATERAL)
        password = secrets.token_urlsafe(16)
        keys = {LIGHTER: {"api_private_key": lighter_key, "api_key_index": key_index,
                          "account_index": self.lighter_account},
                EXTENDED: {"api_secret": self.extended_account.api_key,
                           "stark_private_key": self.extended_account.stark_private_key,
                           "stark_public_key": self.extended_account.stark_public_key,
                           "vault": self.extended_account.vault}}
        for connector, connector_keys in keys.items():
            setup = await asyncio.to_thread(run_in_sandbox, self.root, "demo.hb_setup", connector, "-",
                                            env={"HBOT_PASSWORD": password}, stdin=json.dumps(connector_keys))
            self.test.assertEqual(0, setup.returncode, setup.stderr[-2000:])
        (self.root / "conf" / "scripts" / f"{BOT_NAME}.yml").write_text(yaml.safe_dump(self.config, sort_keys=False))
        env = sandbox_env(self.root, {
            "LIGHTER_PERPETUAL_REST_URL": self.lighter.rest_url, "LIGHTER_PERPETUAL_WS_URL": self.lighter.ws_url,
            "EXTENDED_PERPETUAL_REST_URL": self.extended.rest_url,
            "EXTENDED_PERPETUAL_WS_URL": self.extended.stream_url, "HBOT_PASSWORD": password})
        with open(self.root / "logs" / "engine_stdout.log", "a") as out:
            self.engine = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hummingbot.cli.engine", "--name", BOT_NAME, "--script-config",
                f"{BOT_NAME}.yml", cwd=str(self.root), env=env, stdout=out, stderr=out, start_new_session=True)
        return self

    async def stop(self) -> int:
        """Stops the engine (the script closes what it holds first) and returns its exit code."""
        if self.stop_code is None and self.engine is not None:
            self.stop_code = await stop_engine(self.engine, timeout=45)
        return self.stop_code

    async def __aexit__(self, *exc_info):
        try:
            await self.stop()
        finally:
            await self.extended.__aexit__(None, None, None)
            await self.lighter.__aexit__(None, None, None)
            self._home.cleanup()

    def quote(self, market_id: int, lighter_mid: Decimal = None, extended_mid: Decimal = None):
        extended_pair = next(m[2] for m in self.markets if m[0] == market_id)
        if lighter_mid is not None:
            self.demo.quote_lighter(self.lighter, self.maker, lighter_mid, market_id=market_id)
        if extended_mid is not None:
            self.demo.quote_extended(self.extended, extended_mid, pair=extended_pair)

    def positions(self, market: tuple = ETH) -> Tuple[Decimal, Decimal]:
        """(Lighter size, Extended size) on the exchanges; negative: short."""
        return self.demo.positions(self.lighter, self.lighter_account, self.extended, self.extended_account,
                                   market_id=market[0], pair=market[2])

    @property
    def log_path(self) -> Path:
        return self.root / "logs" / f"logs_{BOT_NAME}.log"

    def decisions(self) -> List[str]:
        return decisions(self.log_path)

    def ledger(self, market: tuple = ETH) -> List[Dict[str, str]]:
        return read_ledger(self.root / "data" / f"lighter_extended_arbitrage_{market[1]}_{market[2]}_ledger.csv")

    def said(self, prefix: str) -> bool:
        return any(line.startswith(prefix) for line in self.decisions())

    async def until(self, condition: Callable[[], bool], what: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while not condition():
            if self.engine.returncode is not None:
                self.test.fail(f"{what}: the engine exited ({self.engine.returncode})\n"
                               f"{(self.root / 'logs' / 'engine_stdout.log').read_text()[-3000:]}")
            if time.monotonic() > deadline:
                tail = self.log_path.read_text()[-4000:] if self.log_path.exists() else ""
                self.test.fail(f"{what}: not within {timeout} s; positions "
                               f"{[self.positions(m) for m in self.markets]}\n{tail}")
            await asyncio.sleep(0.25)
