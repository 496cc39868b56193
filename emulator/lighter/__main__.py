"""Runs the emulator standalone: `python -m emulator.lighter --port 8701` (until SIGINT/SIGTERM).

With --api-public-key (from lighter's create_api_key) it also creates a funded account with that key
registered, and prints its index, so a connector can trade against the standalone server. The URLs are printed as
the lines `LIGHTER_PERPETUAL_REST_URL=...` and `LIGHTER_PERPETUAL_WS_URL=...`, the connector's environment overrides.
"""
import argparse
import asyncio
import signal
from decimal import Decimal

from emulator.lighter.server import LighterEmulator


async def serve(args: argparse.Namespace):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with LighterEmulator(port=args.port, latency_ms=args.latency_ms) as ex:
        if args.api_public_key:
            account = ex.create_account(collateral=Decimal(args.collateral), l1_address=args.l1_address)
            ex.register_api_key(account, args.api_key_index, args.api_public_key)
            print(f"ACCOUNT {account} API_KEY_INDEX {args.api_key_index}", flush=True)
        if args.flow_rate > 0:
            await ex.start_flow(rate_per_s=args.flow_rate)
        # As the connector's URL overrides, ready to export: Lighter's REST URL is the host, without /api/v1.
        print(f"LIGHTER_PERPETUAL_REST_URL={ex.rest_url}", flush=True)
        print(f"LIGHTER_PERPETUAL_WS_URL={ex.ws_url}", flush=True)
        await stop.wait()


def main():
    parser = argparse.ArgumentParser(description="Local Lighter (zkLighter) perpetuals exchange emulator")
    parser.add_argument("--port", type=int, default=8701, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every REST request and WebSocket frame")
    parser.add_argument("--flow-rate", type=float, default=0.0, help="synthetic maker/taker actions per second")
    parser.add_argument("--api-public-key", help="register this API public key on a new funded account")
    parser.add_argument("--api-key-index", type=int, default=2)
    parser.add_argument("--collateral", default="10000", help="USDC collateral of that account")
    parser.add_argument("--l1-address", default=None)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
