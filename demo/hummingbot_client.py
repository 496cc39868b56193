"""`make hummingbot EMULATOR=1`: Hummingbot's interactive client against the local Lighter and Extended exchanges.

    python -m demo.hummingbot_client [--home DIR]      (default: ~/.perp-dex-hummingbot-emulator)

Starts both emulators (a resting ETH book on each, synthetic flow on Lighter's), opens a funded account on each (a
Lighter API key generated with lighter-sdk, an Extended API key with Stark keys) and runs the client of
perp_dex_connectors.client in DIR with both connectors pointed at them. Once Hummingbot has accepted the password, the
two accounts' keys are stored in DIR, encrypted with it, as `connect` would store them, and a perpetual_market_making
configuration for lighter_perpetual is written to conf/strategies/emulator_pmm.yml. So, at the `>>>` prompt:

    balance                      both accounts' collateral
    import emulator_pmm.yml      then `start`, `status`, `stop`

The accounts live as long as the client; each start opens new ones and replaces the stored keys, which is why DIR is
reserved to this mode.
"""
import argparse
import asyncio
import os
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Dict

from emulator.extended import ExtendedEmulator
from emulator.lighter import LighterEmulator
from perp_dex_connectors.client import ClientError, enter_home, run_client

LIGHTER, EXTENDED = "lighter_perpetual", "extended_perpetual"
DEFAULT_HOME = Path("~/.perp-dex-hummingbot-emulator")
MARKER = ".emulator-home"
LIGHTER_COLLATERAL = Decimal("10000")
EXTENDED_COLLATERAL = Decimal("10000")
LIGHTER_MARKET, LIGHTER_PAIR = 0, "ETH-USDC"
EXTENDED_PAIR = "ETH-USD"
MID = Decimal("2500")
STRATEGY_FILE = "emulator_pmm.yml"
START_TIMEOUT = 60


@dataclass
class Venues:
    urls: Dict[str, str]
    # {connector: {config field suffix: value}}, as demo.hb_setup.store_keys takes them.
    keys: Dict[str, dict]


class LocalExchanges:
    """Both emulators on their own event loop in a background thread, for as long as the `with` block lasts."""

    def __init__(self):
        self._opened: Future = Future()
        self._loop = None
        self._stop = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="local-exchanges",
                                        daemon=True)

    def __enter__(self) -> Venues:
        self._thread.start()
        return self._opened.result(timeout=START_TIMEOUT)

    def __exit__(self, *exc_info):
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=START_TIMEOUT)

    async def _serve(self):
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            async with LighterEmulator(port=0) as lighter, ExtendedEmulator(port=0, hourly_funding=False) as extended:
                self._opened.set_result(await self._open(lighter, extended))
                await self._stop.wait()
                await lighter.stop_flow()
        except BaseException as e:
            if not self._opened.done():
                self._opened.set_exception(e)
            raise

    @staticmethod
    async def _open(lighter: LighterEmulator, extended: ExtendedEmulator) -> Venues:
        # The arbitrage demo's ladder; Extended's emulator starts with a resting book of its own.
        from demo.arbitrage import ArbitrageDemo

        ArbitrageDemo().quote_lighter(lighter, lighter.create_account(collateral=Decimal("10000000")), MID)
        await lighter.start_flow(rate_per_s=4, market_ids=[LIGHTER_MARKET], taker_share=0.4)
        account, key_index, private_key = lighter.create_account_with_api_key(collateral=LIGHTER_COLLATERAL)
        extended_account = extended.create_account(collateral=EXTENDED_COLLATERAL)
        return Venues(
            urls={"LIGHTER_PERPETUAL_REST_URL": lighter.rest_url, "LIGHTER_PERPETUAL_WS_URL": lighter.ws_url,
                  "EXTENDED_PERPETUAL_REST_URL": extended.rest_url,
                  "EXTENDED_PERPETUAL_WS_URL": extended.stream_url},
            keys={LIGHTER: {"api_private_key": private_key, "api_key_index": key_index, "account_index": account},
                  EXTENDED: {"api_secret": extended_account.api_key,
                             "stark_private_key": extended_account.stark_private_key,
                             "stark_public_key": extended_account.stark_public_key,
                             "vault": extended_account.vault}})


def claim_home(home: Path):
    """Refuses a folder this mode did not create: its stored keys would be replaced by the emulators' throwaway ones."""
    if home.exists() and any(home.iterdir()) and not (home / MARKER).exists():
        raise ClientError(f"{home} is not empty and was not made by `make hummingbot EMULATOR=1`, whose keys would "
                          f"replace the ones stored there: choose another home.")
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / MARKER).touch()


def store_venues(venues: Venues):
    # Imported once `hummingbot` resolves to the home's (perp_dex_connectors.client.enter_home).
    from demo.__main__ import strategy_config
    from demo.hb_setup import store_keys, write_strategy

    for connector, keys in venues.keys.items():
        store_keys(connector, keys)
    write_strategy(STRATEGY_FILE, strategy_config(LIGHTER_PAIR, "0.05"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="make hummingbot EMULATOR=1", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME,
                        help=f"folder for Hummingbot's conf/, logs/ and data/ (default: {DEFAULT_HOME})")
    home = parser.parse_args(argv).home.expanduser().resolve()
    try:
        claim_home(home)
        enter_home(home)
    except ClientError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with LocalExchanges() as venues:
        # Read by the connectors when Hummingbot builds them, in this process only.
        os.environ.update(venues.urls)
        return run_client(after_login=lambda: store_venues(venues))


if __name__ == "__main__":
    sys.exit(main())
