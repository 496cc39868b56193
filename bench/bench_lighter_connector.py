"""Our lighter_perpetual against Hummingbot 20260922's built-in one, on the local Lighter emulator.

    python bench/bench_lighter_connector.py [--latency-ms 50] [--orders 20] [--stall-orders 100]

The emulator runs in this process and adds the given latency to every REST request and to every WebSocket frame a
client sends (frames on one connection stay in order but do not wait for each other). Each connector runs in a child
process of its own (so the emulator's work never shows up as the connector's event-loop stall); the children report
the time windows of their phases, and the emulator's request log says what each phase sent.

  P1  N LIMIT orders submitted at once -> time until Hummingbot tracks all of them as OPEN
  P2  cancel those N -> time until all are CANCELED, and the REST look-ups made meanwhile
  P3  rate-limit weight of one place + cancel (Lighter's Premium weights: sendTx 6, nextNonce 6, orders 300/100)
  P4  worst event-loop stall while M orders are placed and confirmed: the loop thread's CPU time between two 1 ms
      ticks (what code on the loop held it for), and the wall-clock gap, which also counts other processes

Upstream's connector is the copy the installer kept aside (<site-packages>/.perp_dex_connectors/upstream/); run
`make develop` first. Figures are whole-run medians of one run each: compare the ratios, not the absolute times.
"""
import argparse
import asyncio
import json
import logging
import os
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from emulator.lighter import LighterEmulator  # noqa: E402

LOOKUP_PATHS = ("/api/v1/accountActiveOrders", "/api/v1/accountInactiveOrders", "/api/v1/orders")
PREMIUM_WEIGHTS = {"/api/v1/sendTx": 6, "/api/v1/sendTxBatch": 6, "/api/v1/nextNonce": 6,
                   "/api/v1/accountInactiveOrders": 100, "/api/v1/trades": 600, "/api/v1/recentTrades": 600}
# WebSocket transactions share sendTx/sendTxBatch's limits.
TX_FRAMES = {"jsonapi/sendtx": "/api/v1/sendTx", "jsonapi/sendtxbatch": "/api/v1/sendTxBatch"}
TRADING_PAIR = "ETH-USDC"


def upstream_dir() -> Path:
    import hummingbot
    return Path(hummingbot.__file__).resolve().parents[1] / ".perp_dex_connectors" / "upstream" / "lighter_perpetual"


def build_connector(impl: str, rest_url: str, ws_url: str, account: int, key_index: int, private_key: str,
                    l1_address: str):
    if impl == "upstream":
        # Load Hummingbot's own connector from the folder the installer moved aside, aimed at the emulator.
        import hummingbot.connector.derivative.lighter_perpetual as package
        package.__path__[:] = [str(upstream_dir())]
        from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as constants
        constants.MAINNET_BASE_URL, constants.MAINNET_WS_URL = rest_url, ws_url
        from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import (
            LighterPerpetualDerivative,
        )
        return LighterPerpetualDerivative(
            lighter_perpetual_l1_address=l1_address, lighter_perpetual_api_key_index=key_index,
            lighter_perpetual_api_private_key=private_key, lighter_perpetual_account_limit="Premium",
            trading_pairs=[TRADING_PAIR])
    os.environ["LIGHTER_PERPETUAL_REST_URL"], os.environ["LIGHTER_PERPETUAL_WS_URL"] = rest_url, ws_url
    from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import (
        LighterPerpetualDerivative,
    )
    return LighterPerpetualDerivative(
        lighter_perpetual_api_private_key=private_key, lighter_perpetual_api_key_index=key_index,
        lighter_perpetual_account_index=account, lighter_perpetual_account_tier="Premium",
        trading_pairs=[TRADING_PAIR])


async def child(args) -> dict:
    from hummingbot.core.data_type.common import OrderType, PositionAction
    from hummingbot.core.data_type.in_flight_order import OrderState

    connector = build_connector(args.impl, args.rest_url, args.ws_url, args.account, args.key_index,
                                os.environ["BENCH_LIGHTER_KEY"], args.l1_address)

    async def tick_until(condition, timeout: float = 60.0):
        deadline = time.perf_counter() + timeout
        while not condition():
            connector._set_current_timestamp(time.time())
            if time.perf_counter() > deadline:
                raise TimeoutError("benchmark phase did not complete")
            await asyncio.sleep(0.001)

    await connector.start_network()
    await tick_until(lambda: connector.ready)
    best_bid = Decimal(str(connector.get_price(TRADING_PAIR, False)))

    def place(count: int, offset: int = 0):
        # Resting bids well below the market: nothing fills.
        return [connector.buy(TRADING_PAIR, Decimal("0.01"), OrderType.LIMIT,
                              (best_bid * Decimal("0.9") - offset - i).quantize(Decimal("0.01")),
                              position_action=PositionAction.OPEN) for i in range(count)]

    def all_in(order_ids, states):
        orders = connector.in_flight_orders
        return all(oid in orders and orders[oid].current_state in states for oid in order_ids)

    def all_gone(order_ids):
        return not any(oid in connector.in_flight_orders for oid in order_ids)

    async def cancel(order_ids):
        for oid in order_ids:
            connector.cancel(TRADING_PAIR, oid)
        await tick_until(lambda: all_gone(order_ids))

    result = {}
    window = [time.time() * 1000]
    started = time.perf_counter()
    order_ids = place(args.orders)
    await tick_until(lambda: all_in(order_ids, {OrderState.OPEN}))
    result["p1_s"] = time.perf_counter() - started
    window.append(time.time() * 1000)
    started = time.perf_counter()
    await cancel(order_ids)
    result["p2_s"] = time.perf_counter() - started
    window.append(time.time() * 1000)
    await asyncio.sleep(0.3)

    window.append(time.time() * 1000)
    single = place(1, offset=50)
    await tick_until(lambda: all_in(single, {OrderState.OPEN}))
    await cancel(single)
    window.append(time.time() * 1000)

    stalls, cpu_stalls = [], []

    async def monitor():
        # Wall time between 1 ms ticks also counts the OS running other processes on this shared machine; the
        # loop thread's own CPU time between ticks is what code on the loop held it for.
        while True:
            wall, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.001)
            stalls.append(time.perf_counter() - wall - 0.001)
            cpu_stalls.append(time.thread_time() - cpu - 0.001)

    watcher = asyncio.get_running_loop().create_task(monitor())
    many = place(args.stall_orders, offset=100)
    await tick_until(lambda: all_in(many, {OrderState.OPEN}))
    watcher.cancel()
    result["p4_max_stall_s"] = max(cpu_stalls)
    result["p4_max_wall_stall_s"] = max(stalls)
    result["windows_ms"] = window
    await connector.stop_network()
    return result


def run_child(impl: str, ex: LighterEmulator, account: int, key_index: int, private_key: str, l1_address: str,
              args) -> asyncio.Future:
    command = [sys.executable, __file__, "--child", "--impl", impl, "--rest-url", ex.rest_url, "--ws-url", ex.ws_url,
               "--account", str(account), "--key-index", str(key_index), "--l1-address", l1_address,
               "--orders", str(args.orders), "--stall-orders", str(args.stall_orders)]
    # The key travels in the environment, not on a command line other processes can read.
    env = {**os.environ, "BENCH_LIGHTER_KEY": private_key, "PYTHONPATH": str(REPO)}
    return asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.PIPE,
                                          stderr=None if os.environ.get("BENCH_DEBUG") else asyncio.subprocess.DEVNULL)


def tx_accounts(fields: dict) -> set:
    """Accounts of the transactions in sendTx/sendTxBatch fields (a REST form or a WebSocket frame's data)."""
    infos = [fields["tx_info"]] if "tx_info" in fields else json.loads(fields.get("tx_infos") or "[]")
    return {(json.loads(info) if isinstance(info, str) else info).get("AccountIndex") for info in infos}


def requests_between(ex: LighterEmulator, account: int, start_ms: float, end_ms: float):
    """The account's REST requests and WebSocket transactions (which count against the same limits) in a window."""
    selected = []
    for request in ex.state.requests:
        if not start_ms <= request.received_ms <= end_ms:
            continue
        if request.transport == "ws":
            if request.method in TX_FRAMES and account in tx_accounts(request.form.get("data") or {}):
                selected.append(request)
        elif (request.params.get("account_index") or request.params.get("value")) == str(account) \
                or account in tx_accounts(request.form):
            selected.append(request)
    return selected


def weight(request) -> int:
    return PREMIUM_WEIGHTS.get(request.path if request.transport == "rest" else TX_FRAMES[request.method], 300)


def label(request) -> str:
    return request.path.rsplit("/", 1)[-1] if request.transport == "rest" else f"ws:{request.method}"


async def parent(args):
    from lighter.signer_client import create_api_key
    results = {}
    async with LighterEmulator(port=0, latency_ms=args.latency_ms) as ex:
        maker = ex.create_account(collateral=Decimal("1000000"))
        for level in range(10):
            ex.place_order(maker, 0, is_ask=False, size=Decimal("5"), price=Decimal(2500 - level))
            ex.place_order(maker, 0, is_ask=True, size=Decimal("5"), price=Decimal(2501 + level))
        for impl in ("upstream", "ours"):
            l1_address = "0x" + secrets.token_hex(20)
            account = ex.create_account(collateral=Decimal("1000000"), l1_address=l1_address)
            private_key, public_key, error = create_api_key()
            ex.register_api_key(account, 3, public_key)
            process = await run_child(impl, ex, account, 3, private_key, l1_address, args)
            output, _ = await process.communicate()
            if process.returncode != 0:
                raise SystemExit(f"the {impl} run failed (exit {process.returncode})")
            result = json.loads(output.decode().strip().splitlines()[-1])
            windows = result["windows_ms"]
            # Emulator timestamps are whole milliseconds: widen each window by one.
            cancel_requests = requests_between(ex, account, windows[1] - 1, windows[2] + 1)
            result["p2_lookups"] = sum(1 for r in cancel_requests if r.path in LOOKUP_PATHS)
            single = requests_between(ex, account, windows[3] - 1, windows[4] + 1)
            result["p3_weight"] = sum(weight(r) for r in single)
            result["p3_paths"] = [label(r) for r in single]
            results[impl] = result
    return results


def report(results: dict, latency_ms: int):
    rtt = latency_ms / 1000
    up, ours = results["upstream"], results["ours"]
    rows = [
        ("P1 place N -> all OPEN (round trips)", up["p1_s"] / rtt, ours["p1_s"] / rtt, up["p1_s"] / ours["p1_s"]),
        ("P2 cancel N -> all CANCELED (round trips)", up["p2_s"] / rtt, ours["p2_s"] / rtt, up["p2_s"] / ours["p2_s"]),
        ("P2 REST look-ups during cancels", up["p2_lookups"], ours["p2_lookups"], None),
        ("P3 weight per place+cancel", up["p3_weight"], ours["p3_weight"], up["p3_weight"] / ours["p3_weight"]),
        ("P4 worst loop stall, loop-thread CPU (ms)", up["p4_max_stall_s"] * 1e3, ours["p4_max_stall_s"] * 1e3,
         up["p4_max_stall_s"] / ours["p4_max_stall_s"]),
        ("P4 worst loop stall, wall clock (ms)", up["p4_max_wall_stall_s"] * 1e3, ours["p4_max_wall_stall_s"] * 1e3,
         up["p4_max_wall_stall_s"] / ours["p4_max_wall_stall_s"]),
    ]
    print(f"{'figure':44} {'upstream':>10} {'ours':>10} {'upstream/ours':>14}")
    for name, a, b, ratio in rows:
        print(f"{name:44} {a:10.1f} {b:10.1f} {('%.1fx' % ratio) if ratio else '':>14}")
    print(f"P3 requests  upstream: {' '.join(up['p3_paths'])}")
    print(f"P3 requests  ours:     {' '.join(ours['p3_paths'])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--stall-orders", type=int, default=100)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--impl", choices=("ours", "upstream"), help=argparse.SUPPRESS)
    parser.add_argument("--rest-url", help=argparse.SUPPRESS)
    parser.add_argument("--ws-url", help=argparse.SUPPRESS)
    parser.add_argument("--account", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--key-index", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--l1-address", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        logging.disable(logging.NOTSET if os.environ.get("BENCH_DEBUG") else logging.WARNING)
        print(json.dumps(asyncio.run(child(args))))
        return
    print(f"Lighter connector benchmark: {args.orders} orders, {args.stall_orders} for P4, "
          f"{args.latency_ms} ms added to every REST request and WebSocket frame")
    report(asyncio.run(parent(args)), args.latency_ms)


if __name__ == "__main__":
    main()
