"""``python -m emulator.extended --port N``: serve the emulator until SIGINT/SIGTERM.

It prints its URLs as ``EXTENDED_PERPETUAL_REST_URL=...`` and ``EXTENDED_PERPETUAL_WS_URL=...`` lines, the connector's
environment overrides."""
import argparse
import asyncio
import json
import os
import signal
from decimal import Decimal

from emulator.extended.server import ExtendedEmulator


def _write_accounts(path: str, accounts):
    """Credentials go to a private file, never to the console."""
    rows = [{"account_id": a.account_id, "api_key": a.api_key, "stark_private_key": a.stark_private_key,
             "stark_public_key": a.stark_public_key, "vault": a.vault} for a in accounts]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(rows, handle, indent=2)


async def _serve(args):
    emulator = ExtendedEmulator(port=args.port, rate_limit=args.rate_limit or None, rng_seed=args.seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with emulator:
        if args.accounts_file:
            accounts = [emulator.create_account(Decimal(args.collateral)) for _ in range(args.accounts)]
            _write_accounts(args.accounts_file, accounts)
            print(f"{len(accounts)} account(s) written to {args.accounts_file}", flush=True)
        if args.flow:
            await emulator.start_flow(interval=args.flow_interval)
        # In the form of the connector's URL overrides, ready to export: Extended's REST URL includes /api/v1.
        print(f"EXTENDED_PERPETUAL_REST_URL={emulator.rest_url}", flush=True)
        print(f"EXTENDED_PERPETUAL_WS_URL={emulator.stream_url}", flush=True)
        await stop.wait()


def main():
    parser = argparse.ArgumentParser(description="Local Extended perpetuals exchange emulator (127.0.0.1 only)")
    parser.add_argument("--port", type=int, default=8702)
    parser.add_argument("--flow", action="store_true", help="run synthetic maker/taker flow")
    parser.add_argument("--flow-interval", type=float, default=0.25)
    parser.add_argument("--accounts", type=int, default=1, help="accounts to create with --accounts-file")
    parser.add_argument("--accounts-file", help="write created accounts' credentials (mode 0600) to this JSON file")
    parser.add_argument("--collateral", default="10000")
    parser.add_argument("--rate-limit", type=int, default=1000, help="requests per minute per IP, 0 = unlimited")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the synthetic flow")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
