"""`python -m demo backtest`: the arbitrage script's funding decisions over both venues' funding history.

Reads N days of hourly funding from both venues with the script's own fetchers, runs the same decision code as the
live strategy (scripts/lighter_extended_backtest.py), prints the trades, funding collected, fees and net result, and
writes a PNG chart of the spread, its z-score and the entries and exits.

The history comes from local emulators started for the run (offline, seeded), or, for a venue whose URL override is
set (LIGHTER_PERPETUAL_REST_URL, EXTENDED_PERPETUAL_REST_URL, as for the connectors), from that host: the real venues
when pointed there. Thresholds come from the script's defaults or from a script config file (--config).
"""
import argparse
import asyncio
import os
import sys
from contextlib import AsyncExitStack
from decimal import Decimal
from pathlib import Path
from typing import List, Optional

import aiohttp
import yaml

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as EXTENDED_CONSTANTS,
    extended_perpetual_web_utils as extended_web_utils,
)
from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as LIGHTER_CONSTANTS,
    lighter_perpetual_web_utils as lighter_web_utils,
)
from scripts.lighter_extended_arbitrage import LighterExtendedArbitrageConfig
from scripts.lighter_extended_backtest import chart, fee_rates, read_history, report, run_backtest

TIMEOUT = aiohttp.ClientTimeout(total=30)


def getter(session: aiohttp.ClientSession, url_of):
    async def get(path, params):
        async with session.get(url_of(path), params={k: str(v) for k, v in params.items()}) as response:
            answer = await response.json(content_type=None)
            if response.status >= 400 and not isinstance(answer, dict):
                raise IOError(f"GET {path} answered HTTP {response.status}")
            return answer
    return get


async def backtest(args) -> int:
    data = yaml.safe_load(Path(args.config).read_text()) if args.config else {}
    if args.pair:
        data["pairs"] = [args.pair]
    config = LighterExtendedArbitrageConfig(**data)
    lighter_pair, extended_pair, amount = config.pair_specs()[0]
    thresholds = config.thresholds()
    fees = fee_rates()
    async with AsyncExitStack() as stack:
        lighter_url, extended_url = lighter_web_utils.public_rest_url, extended_web_utils.public_rest_url
        sources = []
        if not os.environ.get(LIGHTER_CONSTANTS.REST_URL_ENV_VAR):
            from emulator.lighter import LighterEmulator
            lighter = await stack.enter_async_context(LighterEmulator(port=0))
            lighter_url = (lambda base: lambda path: f"{base}{LIGHTER_CONSTANTS.API_VERSION}{path}")(lighter.rest_url)
            sources.append("Lighter: local emulator")
        else:
            sources.append(f"Lighter: {lighter_web_utils.rest_base_url()}")
        if not os.environ.get(EXTENDED_CONSTANTS.REST_URL_ENV_VAR):
            from emulator.extended import ExtendedEmulator
            extended = await stack.enter_async_context(ExtendedEmulator(port=0))
            extended_url = (lambda base: lambda path: f"{base}{path}")(extended.rest_url)
            sources.append("Extended: local emulator")
        else:
            sources.append(f"Extended: {extended_web_utils.rest_base_url()}")
        session = await stack.enter_async_context(aiohttp.ClientSession(timeout=TIMEOUT))
        print(f"Reading {args.days} days of hourly funding ({'; '.join(sources)})", flush=True)
        history, problems, price = await read_history(getter(session, lighter_url), lighter_pair,
                                                      getter(session, extended_url), extended_pair, args.days)
    result = run_backtest(history, thresholds, config.funding_history_days * 24, config.funding_min_history_hours,
                          amount, args.price or price, fees["lighter"], fees["extended"])
    label = f"{lighter_pair}/{extended_pair}"
    print(report(result, label, thresholds, problems))
    if not result.hours:
        print("No hour with funding on both venues: nothing to chart.", file=sys.stderr)
        return 1
    chart(result, thresholds, Path(args.png), f"{label} funding backtest")
    print(f"Chart of the spread, its z-score and the entries/exits written to {args.png}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo backtest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="a script config of lighter_extended_arbitrage (YAML) for its thresholds")
    parser.add_argument("--pair", help="LIGHTER_PAIR:EXTENDED_PAIR[:AMOUNT] (default: the config's first pair)")
    parser.add_argument("--days", type=int, default=44, help="days of hourly history to read (default 44)")
    parser.add_argument("--price", type=Decimal, help="reference price of a leg (default: Extended's mark price)")
    parser.add_argument("--png", default="backtest.png", help="chart file (default backtest.png)")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1.")
    try:
        return asyncio.run(backtest(args))
    except (ValueError, IOError, aiohttp.ClientError) as e:
        print(f"The backtest could not read the funding history: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
