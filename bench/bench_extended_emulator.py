"""Throughput of the Extended emulator: signed orders accepted per second (each one hash-recomputed and
Stark-verified) over HTTP, and order-book stream messages delivered per second.

Server and clients share one process and event loop, so the figures are a floor for a separate client.
Run from the repository root: PYTHONPATH=. .venv/bin/python bench/bench_extended_emulator.py [--orders N] [--deltas N]
"""
import argparse
import asyncio
import json
import time
from dataclasses import replace
from decimal import Decimal

import aiohttp
from x10.models.order import OrderSide
from x10.signing.order_object import create_order_object

from emulator.extended import ExtendedEmulator, default_markets
from emulator.extended.signature import order_msg_hash, signature_valid

CONCURRENCY = 16
STREAM_CLIENTS = 4
QUEUE_HIGH_WATER = 2_000


def sign_orders(ex: ExtendedEmulator, account, count: int, crossing: bool) -> list:
    """Pre-signed BUY orders: resting below the touch, or crossing a synthetic ask so each one fills."""
    market = ex.state.market_model("BTC-USD")
    stark = account.stark_account()
    bodies = []
    for i in range(count):
        price = Decimal(77300) if crossing else Decimal(70000 + i % 5000)
        order = create_order_object(account=stark, market=market, amount_of_synthetic=Decimal("0.001"), price=price,
                                    side=OrderSide.BUY, starknet_domain=ex.state.domain)
        bodies.append(order.to_api_request_json(exclude_none=True))
    return bodies


async def post_all(ex: ExtendedEmulator, api_key: str, bodies: list) -> float:
    queue = list(reversed(bodies))
    headers = {"X-Api-Key": api_key}

    async def worker(session):
        while queue:
            async with session.post(f"{ex.rest_url}/user/order", json=queue.pop(), headers=headers) as response:
                if response.status != 200:
                    raise RuntimeError(f"order rejected: {await response.text()}")
                await response.read()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
        return time.perf_counter() - started


def verify_cost(ex: ExtendedEmulator, account, body: dict, rounds: int = 500) -> float:
    market = ex.state.market_model("BTC-USD")
    signature = body["settlement"]["signature"]
    started = time.perf_counter()
    for _ in range(rounds):
        msg_hash = order_msg_hash(market=market, side=body["side"], qty=Decimal(body["qty"]),
                                  price=Decimal(body["price"]), fee=Decimal(body["fee"]), builder_fee=None,
                                  nonce=int(body["nonce"]), vault=account.vault,
                                  expiry_epoch_millis=body["expiryEpochMillis"], public_key=account.public_key_int,
                                  domain=ex.state.domain)
        assert signature_valid(account.public_key_int, msg_hash, int(signature["r"], 16), int(signature["s"], 16))
    return (time.perf_counter() - started) / rounds


async def bench_orders(count: int):
    markets = [replace(spec, max_num_orders=count + 10) for spec in default_markets()]
    async with ExtendedEmulator(markets=markets, rate_limit=None, seed_book=False) as ex:
        account = ex.create_account(collateral=Decimal("100000000"))
        resting = sign_orders(ex, account, count, crossing=False)
        crossing = sign_orders(ex, account, count, crossing=True)
        print(f"verify only (hash + stark verify, in-process): {verify_cost(ex, account, resting[0]) * 1e3:.3f} ms")
        elapsed = await post_all(ex, account.api_key, resting)
        print(f"orders accepted, resting:  {count / elapsed:8.0f} orders/s  ({count} in {elapsed:.2f} s)")
        ex.synthetic_maker("BTC-USD", "SELL", Decimal("0.001") * count, Decimal(77300))
        elapsed = await post_all(ex, account.api_key, crossing)
        fills = len(ex.state.account_fills(account.account_id))
        print(f"orders accepted, filled:   {count / elapsed:8.0f} orders/s  ({fills} fills in {elapsed:.2f} s)")


async def bench_stream(deltas: int):
    async with ExtendedEmulator(rate_limit=None, seed_book=False) as ex:
        async with aiohttp.ClientSession() as session:
            sockets = [await session.ws_connect(f"{ex.stream_url}/orderbooks/BTC-USD") for _ in range(STREAM_CLIENTS)]
            for ws in sockets:
                await ws.receive()  # snapshot

            async def consume(ws):
                last_seq = 1
                while last_seq < deltas + 1:
                    seq = json.loads((await ws.receive()).data)["seq"]
                    if seq != last_seq + 1:
                        raise RuntimeError(f"seq jumped from {last_seq} to {seq}")
                    last_seq = seq

            consumers = [asyncio.create_task(consume(ws)) for ws in sockets]
            subscribers = ex.hub.subscribers("orderbooks", "BTC-USD")
            started = time.perf_counter()
            order = None
            for i in range(deltas):  # one book change, hence one DELTA, per step: place, cancel, place, ...
                if order is None:
                    order = ex.synthetic_maker("BTC-USD", "BUY", Decimal("0.001"), Decimal(70000 + i % 100))
                else:
                    ex.engine.cancel(order)
                    order = None
                while max(s.queue.qsize() for s in subscribers) > QUEUE_HIGH_WATER:
                    await asyncio.sleep(0.001)
                if i % 50 == 0:
                    await asyncio.sleep(0)
            await asyncio.gather(*consumers)
            elapsed = time.perf_counter() - started
            for ws in sockets:
                await ws.close()
        total = deltas * STREAM_CLIENTS
        print(f"order-book stream:         {total / elapsed:8.0f} messages/s  "
              f"({deltas} deltas x {STREAM_CLIENTS} clients in {elapsed:.2f} s, seq contiguous)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--deltas", type=int, default=20000)
    args = parser.parse_args()
    asyncio.run(bench_orders(args.orders))
    asyncio.run(bench_stream(args.deltas))


if __name__ == "__main__":
    main()
