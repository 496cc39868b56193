"""Capacity of the Lighter emulator on this machine (a benchmark, not a test).

    .venv/bin/python bench/bench_lighter_emulator.py [--txs 4800] [--keys 16] [--ws-clients 20] [--seconds 5]

1. sendTx/s: pre-signed lighter-sdk create/cancel pairs posted with aiohttp, one sequential sender per API
   key (nonces must arrive in order per key), all keys concurrently.
2. order-book WS messages/s: `--ws-clients` connections subscribed to order_book/0 and order_book/1 while
   synthetic flow changes the books; counts update/order_book frames received by all of them.

Each emulator runs in its own process (started by this script with --serve), so client and server do not
share an interpreter. Targets: >= 2,000 tx/s and >= 20,000 book msgs/s.
"""
import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Tuple

import aiohttp

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

TX_TARGET = 2_000
BOOK_TARGET = 20_000


# ---- server side (child process) -----------------------------------------------------------------------------

async def serve(public_keys: List[str], flow_rate: float):
    from decimal import Decimal

    from emulator.lighter import LighterEmulator

    async with LighterEmulator(port=0) as ex:
        account = ex.create_account(collateral=Decimal("1000000000"))
        for index, public_key in enumerate(public_keys):
            ex.register_api_key(account, index, public_key)
        if flow_rate:
            await ex.start_flow(rate_per_s=flow_rate, seed=11, taker_share=0.3, publish_each=True)
        print(json.dumps({"rest": ex.rest_url, "ws": ex.ws_url, "account": account}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def start_server(public_keys: List[str], flow_rate: float = 0.0):
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", "--flow-rate", str(flow_rate), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    process.stdin.write((json.dumps(public_keys) + "\n").encode())
    await process.stdin.drain()
    info = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
    return process, info


async def stop_server(process):
    process.stdin.close()
    await asyncio.wait_for(process.wait(), 10)


# ---- sendTx throughput ---------------------------------------------------------------------------------------

def presign(rest_url: str, account: int, private_keys: List[str], per_key: int) -> List[List[Tuple[int, str]]]:
    """Create/cancel pairs per key, signed offline with explicit nonces (a worker thread signs fastest)."""
    from lighter import SignerClient

    async def sign_all() -> List[List[Tuple[int, str]]]:
        client = SignerClient(url=rest_url, account_index=account,
                              api_private_keys={index: key for index, key in enumerate(private_keys)})
        try:
            return [sign_key(client, key_index) for key_index in range(len(private_keys))]
        finally:
            await client.close()

    def sign_key(client, key_index: int) -> List[Tuple[int, str]]:
        txs = []
        for nonce in range(per_key):
            client_index = key_index * 1_000_000 + nonce // 2 + 1
            if nonce % 2 == 0:
                is_ask = (nonce // 2) % 2 == 1
                price = 260000 + nonce if is_ask else 240000 - nonce
                tx_type, tx_info, _, error = client.sign_create_order(
                    0, client_index, 100, price, is_ask, 0, 1, nonce=nonce, api_key_index=key_index)
            else:
                tx_type, tx_info, _, error = client.sign_cancel_order(0, client_index, nonce=nonce,
                                                                      api_key_index=key_index)
            if error is not None:
                raise RuntimeError(error)
            txs.append((tx_type, tx_info))
        return txs

    batches = asyncio.run(sign_all())
    return batches


async def bench_send_tx(total: int, keys: int) -> dict:
    from lighter.signer_client import create_api_key

    pairs = [create_api_key()[:2] for _ in range(keys)]
    process, info = await start_server([public for _, public in pairs])
    try:
        per_key = max(2, total // keys // 2 * 2)
        with ThreadPoolExecutor(max_workers=1) as pool:
            batches = await asyncio.get_running_loop().run_in_executor(
                pool, presign, info["rest"], info["account"], [private for private, _ in pairs], per_key)
        url = info["rest"] + "/api/v1/sendTx"
        latencies: List[float] = []
        failures = []
        connector = aiohttp.TCPConnector(limit=keys)

        async def sender(session: aiohttp.ClientSession, txs):
            for tx_type, tx_info in txs:
                started = time.perf_counter()
                async with session.post(url, data={"tx_type": str(tx_type), "tx_info": tx_info}) as response:
                    body = await response.read()
                latencies.append(time.perf_counter() - started)
                if response.status != 200:
                    failures.append(body[:200])

        async with aiohttp.ClientSession(connector=connector) as session:
            started = time.perf_counter()
            await asyncio.gather(*(sender(session, txs) for txs in batches))
            elapsed = time.perf_counter() - started
    finally:
        await stop_server(process)
    sent = sum(len(txs) for txs in batches)
    latencies.sort()
    return {"txs": sent, "seconds": elapsed, "tx_per_s": sent / elapsed, "failures": len(failures),
            "first_failure": failures[0] if failures else None,
            "p50_ms": statistics.median(latencies) * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000}


# ---- order-book fan-out ----------------------------------------------------------------------------------------

async def bench_book_fanout(clients: int, seconds: float, flow_rate: float) -> dict:
    process, info = await start_server([], flow_rate=flow_rate)
    counts = [0] * clients
    try:
        async with aiohttp.ClientSession() as session:
            sockets = []
            for _ in range(clients):
                ws = await session.ws_connect(info["ws"], max_msg_size=0)
                await ws.receive()
                for market in (0, 1):
                    await ws.send_str(json.dumps({"type": "subscribe", "channel": f"order_book/{market}"}))
                sockets.append(ws)
            measuring = asyncio.Event()

            async def reader(index: int, ws):
                async for message in ws:
                    if measuring.is_set() and '"update/order_book"' in message.data:
                        counts[index] += 1

            readers = [asyncio.create_task(reader(i, ws)) for i, ws in enumerate(sockets)]
            await asyncio.sleep(0.5)
            measuring.set()
            started = time.perf_counter()
            await asyncio.sleep(seconds)
            measuring.clear()
            elapsed = time.perf_counter() - started
            for task in readers:
                task.cancel()
            for ws in sockets:
                await ws.close()
    finally:
        await stop_server(process)
    delivered = sum(counts)
    return {"clients": clients, "seconds": elapsed, "messages": delivered, "msgs_per_s": delivered / elapsed,
            "per_client_per_s": delivered / elapsed / clients}


async def run(args):
    tx = await bench_send_tx(args.txs, args.keys)
    print(f"sendTx: {tx['txs']} pre-signed txs over {args.keys} keys in {tx['seconds']:.2f}s = "
          f"{tx['tx_per_s']:,.0f} tx/s (p50 {tx['p50_ms']:.2f} ms, p99 {tx['p99_ms']:.2f} ms, "
          f"failures {tx['failures']}) target {TX_TARGET:,}: {'OK' if tx['tx_per_s'] >= TX_TARGET else 'BELOW'}")
    if tx["failures"]:
        print(f"  first failure: {tx['first_failure']}")
    book = await bench_book_fanout(args.ws_clients, args.seconds, args.flow_rate)
    print(f"order book WS: {book['messages']:,} update/order_book frames to {book['clients']} clients in "
          f"{book['seconds']:.2f}s = {book['msgs_per_s']:,.0f} msgs/s ({book['per_client_per_s']:,.0f} per client) "
          f"target {BOOK_TARGET:,}: {'OK' if book['msgs_per_s'] >= BOOK_TARGET else 'BELOW'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=4800)
    parser.add_argument("--keys", type=int, default=16)
    parser.add_argument("--ws-clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--flow-rate", type=float, default=3000.0, help="synthetic actions/s feeding the books")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(json.loads(sys.stdin.readline()), args.flow_rate))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
