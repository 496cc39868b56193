"""Figures for the extended_perpetual connector.

    PYTHONPATH=. .venv/bin/python bench/bench_extended_connector.py [--latency-ms 50] [--orders 20]
                                                                    [--cpu-orders 500] [--deltas 20000]

  1  place -> OPEN: LIMIT orders placed one at a time through Hummingbot against the local emulator, which adds the
     given latency to every REST request and stream message; the time until the order is tracked as OPEN, in
     milliseconds and in round trips of that latency, and the REST requests each placement made.
  2  local CPU per order: the connector's whole placement path (checks, SDK order building and Stark signing on the
     signer thread, posting through Hummingbot's WebAssistant, order tracking) with the HTTP exchange stubbed out,
     so no emulator work is counted; split into the signer thread and the event-loop thread.
  3  order-book deltas applied per second: JSON frames decoded, seq-checked, mirrored and applied to Hummingbot's
     OrderBook as diffs, in this process without a socket.
"""
import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bidict import bidict  # noqa: E402
from fast_stark_crypto import get_public_key  # noqa: E402

from emulator.extended import ExtendedEmulator  # noqa: E402
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS  # noqa: E402
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_api_order_book_data_source import (  # noqa: E402,E501
    BookConnection,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (  # noqa: E402
    ExtendedPerpetualDerivative,
)
from hummingbot.core.data_type.common import OrderType, PositionAction, TradeType  # noqa: E402
from hummingbot.core.data_type.order_book import OrderBook  # noqa: E402

PAIR = "BTC-USD"


async def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.001)


async def bench_place_to_open(latency: float, orders: int):
    async with ExtendedEmulator(port=0, rng_seed=3, hourly_funding=False, rate_limit=None) as ex:
        account = ex.create_account(collateral=Decimal("1000000"))
        os.environ[CONSTANTS.REST_URL_ENV_VAR], os.environ[CONSTANTS.WSS_URL_ENV_VAR] = ex.rest_url, ex.stream_url
        connector = ExtendedPerpetualDerivative(account.api_key, account.stark_private_key, account.stark_public_key,
                                                account.vault, trading_pairs=[PAIR])
        connector._set_current_timestamp(time.time())
        await connector.start_network()
        await wait_for(lambda: connector.ready, timeout=30)
        ex.faults.latency = ex.faults.stream_latency = latency
        before = len(ex.state.requests)
        samples = []
        for i in range(orders):
            price = ex.state.books[PAIR].best("BUY") - 100 - i
            started = time.perf_counter()
            order_id = connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, price,
                                     position_action=PositionAction.OPEN)
            await wait_for(lambda: order_id in connector.in_flight_orders
                           and connector.in_flight_orders[order_id].is_open
                           and connector.in_flight_orders[order_id].exchange_order_id is not None)
            samples.append(time.perf_counter() - started)
        sent = list(ex.state.requests)[before:]
        posts = sum(1 for r in sent if (r.method, r.path) == ("POST", CONSTANTS.ORDER_PATH))
        others = sorted({f"{r.method} {r.path}" for r in sent if (r.method, r.path) != ("POST", CONSTANTS.ORDER_PATH)})
        ex.faults.clear()
        await connector.cancel_all(10)
        await connector.stop_network()
    median = statistics.median(samples)
    p90 = sorted(samples)[int(len(samples) * 0.9) - 1]
    print(f"1  place -> OPEN with {latency * 1e3:.0f} ms injected latency: median {median * 1e3:.1f} ms "
          f"({median / latency:.2f} round trips), p90 {p90 * 1e3:.1f} ms; {posts / orders:.2f} POST /user/order per "
          f"order and no look-up (other requests meanwhile, from background loops: {', '.join(others) or 'none'})")


def _stub_connector() -> ExtendedPerpetualDerivative:
    private_key = secrets.randbelow(2 ** 250) + 1
    connector = ExtendedPerpetualDerivative("bench" * 8, hex(private_key), hex(get_public_key(private_key)), 500001,
                                            trading_pairs=[PAIR])
    connector._set_trading_pair_symbol_map(bidict({PAIR: PAIR}))
    return connector


async def bench_cpu_per_order(orders: int):
    async with ExtendedEmulator(port=0, rng_seed=3) as ex:
        # Only the markets answer is taken from the emulator, to give the connector real trading rules.
        entry = ex.state.market_json(PAIR)
    connector = _stub_connector()
    rules = connector._register_markets({"status": "OK", "data": [entry]})
    connector._trading_rules = {rule.trading_pair: rule for rule in rules}
    connector._set_current_timestamp(time.time())
    transactions = connector._transactions
    signer_cpu = []
    sign = transactions.sign_order

    def timed_sign(order):
        started = time.thread_time()
        body = sign(order)
        signer_cpu.append(time.thread_time() - started)
        return body

    ids = iter(range(10 ** 18, 10 ** 19))

    async def instant_call(method, path, **kwargs):
        return {"status": "OK", "data": {"id": next(ids), "externalId": kwargs["data"]["id"]}}

    transactions.sign_order = timed_sign
    transactions.call = instant_call
    price = Decimal(entry["marketStats"]["bidPrice"]) - 100
    await connector._create_order(TradeType.BUY, "warm-up", PAIR, Decimal("0.001"), OrderType.LIMIT, price,
                                  position_action=PositionAction.OPEN)
    signer_cpu.clear()
    loop_thread = threading.get_ident()
    started_process, started_loop = time.process_time(), time.thread_time()
    for i in range(orders):
        await connector._create_order(TradeType.BUY, f"HB{i}", PAIR, Decimal("0.001"), OrderType.LIMIT, price - i,
                                      position_action=PositionAction.OPEN)
    process_cpu = (time.process_time() - started_process) / orders
    loop_cpu = (time.thread_time() - started_loop) / orders
    assert threading.get_ident() == loop_thread and len(signer_cpu) == orders
    opened = sum(order.is_open for order in connector.in_flight_orders.values())
    print(f"2  local CPU per order: {process_cpu * 1e3:.3f} ms in all ({orders} orders, {opened} tracked OPEN); "
          f"signing thread {statistics.mean(signer_cpu) * 1e3:.3f} ms, event-loop thread {loop_cpu * 1e3:.3f} ms")


def _book_frames(deltas: int):
    levels = 20
    bids = [{"q": "1.5", "p": str(70000 - i)} for i in range(levels)]
    asks = [{"q": "1.5", "p": str(70001 + i)} for i in range(levels)]
    frames = [json.dumps({"type": "SNAPSHOT", "data": {"t": "SNAPSHOT", "m": PAIR, "b": bids, "a": asks},
                          "ts": 1, "seq": 1})]
    for seq in range(2, deltas + 2):
        i = seq % levels
        size = "0" if seq % 7 == 0 else f"{1 + seq % 13}.{seq % 1000:03d}"
        frames.append(json.dumps({"type": "DELTA", "seq": seq, "ts": seq, "data": {
            "t": "DELTA", "m": PAIR, "d": "f",
            "b": [{"q": "0.1", "p": str(70000 - i), "c": size}],
            "a": [{"q": "-0.1", "p": str(70001 + i), "c": size}]}}))
    return frames


async def bench_deltas(deltas: int):
    connector = _stub_connector()
    data_source = connector._orderbook_ds
    frames = _book_frames(deltas)
    connection = BookConnection(PAIR)
    await data_source._track(PAIR)
    data_source._on_book_frame(connection, json.loads(frames[0]))
    snapshot = await data_source._order_book_snapshot(PAIR)
    book = OrderBook()
    book.apply_snapshot(snapshot.bids, snapshot.asks, snapshot.update_id)
    queue = data_source._message_queue[data_source._diff_messages_queue_key]
    output = asyncio.Queue()
    started = time.perf_counter()
    for raw in frames[1:]:
        data_source._on_book_frame(connection, json.loads(raw))
        await data_source._parse_order_book_diff_message(queue.get_nowait(), output)
        diff = output.get_nowait()
        book.apply_diffs(diff.bids, diff.asks, diff.update_id)
    elapsed = time.perf_counter() - started
    mirror = data_source._books[PAIR]
    assert [(Decimal(str(row.price)), Decimal(str(row.amount))) for row in book.bid_entries()] == sorted(
        mirror.bids.items(), reverse=True) and data_source.resync_count == 0
    print(f"3  order-book deltas applied: {deltas / elapsed:,.0f} per second ({deltas} frames decoded, seq-checked "
          f"and applied in {elapsed:.2f} s; book equal to the stream's)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--cpu-orders", type=int, default=500)
    parser.add_argument("--deltas", type=int, default=20000)
    args = parser.parse_args()
    asyncio.run(bench_place_to_open(args.latency_ms / 1e3, args.orders))
    asyncio.run(bench_cpu_per_order(args.cpu_orders))
    asyncio.run(bench_deltas(args.deltas))


if __name__ == "__main__":
    main()
