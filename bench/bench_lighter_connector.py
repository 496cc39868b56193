"""Our lighter_perpetual against Hummingbot 20260922's built-in one, on the local Lighter emulator.

    python bench/bench_lighter_connector.py [--latency-ms 50] [--orders 20] [--stall-orders 100]
                                            [--nonce-lag-ms 350] [--timeout 150] [--only ours]

The emulator runs in this process and adds the given latency to every REST request and to every WebSocket frame a
client sends (frames on one connection stay in order but do not wait for each other). Its sequencer lag is on: the
exchange's /nextNonce shows a transaction --nonce-lag-ms after the API accepted it, as the real one does (0 turns it
off). Each connector runs in a child process of its own (so the emulator's work never shows up as the connector's
event-loop stall); the children report the time windows of their phases, and the emulator's request log says what
each phase sent.

  P1  N LIMIT orders submitted at once -> time until Hummingbot tracks all of them as OPEN
  P2  cancel those N -> time until all are CANCELED, and the REST look-ups made meanwhile
  P3  rate-limit weight of one place + cancel (Lighter's Premium weights: sendTx 6, nextNonce 6, orders 300/100)
  P4  worst event-loop stall while M orders are placed and confirmed: the loop thread's CPU time between two 1 ms
      ticks (what code on the loop held it for), and the wall-clock gap, which also counts other processes
  signer alone: the official signer signing N orders on one worker thread in the child, before it starts the
      connector: the part of P1 that no connector using the signer avoids

Ours must take at most 1.3 round trips for P1 and P2 up to 20 orders, and at most 2 up to 100: each bound prints
PASS or FAIL, and a FAIL exits 1. Upstream's connector is the copy the installer kept aside
(<site-packages>/.perp_dex_connectors/upstream/); run `make develop` first. When it cannot finish (an error, a phase
over 60 s, the whole run over --timeout), its failure is one line of the table and the rest still runs.
Figures are one run each: compare the ratios, not the absolute times.
"""
import argparse
import asyncio
import contextlib
import json
import logging
import os
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from emulator.lighter import LighterEmulator  # noqa: E402

NEXT_NONCE_PATH = "/api/v1/nextNonce"
LOOKUP_PATHS = ("/api/v1/accountActiveOrders", "/api/v1/accountInactiveOrders", "/api/v1/orders")
PREMIUM_WEIGHTS = {"/api/v1/sendTx": 6, "/api/v1/sendTxBatch": 6, NEXT_NONCE_PATH: 6,
                   "/api/v1/accountInactiveOrders": 100, "/api/v1/trades": 600, "/api/v1/recentTrades": 600}
# WebSocket transactions share sendTx/sendTxBatch's limits.
TX_FRAMES = {"jsonapi/sendtx": "/api/v1/sendTx", "jsonapi/sendtxbatch": "/api/v1/sendTxBatch"}
TRADING_PAIR = "ETH-USDC"
# /nextNonce trails execution by this much by default: lighter-python's ApiNonceManager advises waiting at least
# 350 ms before reusing an API key, above every documented sequencer delay (Standard accounts 200 ms for makers and
# cancels, 300 ms for takers; Premium 0 ms and 140-200 ms). Answers carry predicted_execution_time_ms, but as an
# epoch time in captures that do not say when the request left, so they give no typical delay.
NONCE_LAG_MS = 350
PHASE_TIMEOUT = 60.0
# Ours must place and cancel N orders within this many round trips, for N up to the first figure.
ROUND_TRIP_BOUNDS = ((20, 1.3), (100, 2.0))
RESULT_PREFIX = "BENCH-RESULT "


def upstream_dir() -> Path:
    import hummingbot
    return Path(hummingbot.__file__).resolve().parents[1] / ".perp_dex_connectors" / "upstream" / "lighter_perpetual"


def use_upstream_package():
    """Points the lighter_perpetual package at Hummingbot's own connector, in the folder the installer moved aside.
    Ours' package __init__ already imported some of ours' modules (candles registration): they are dropped so that
    upstream's load in their place."""
    import hummingbot.connector.derivative.lighter_perpetual as package
    package.__path__[:] = [str(upstream_dir())]
    for name in [name for name in sys.modules if name.startswith(package.__name__ + ".")]:
        del sys.modules[name]
        with contextlib.suppress(AttributeError):
            delattr(package, name.rsplit(".", 1)[1])


def build_connector(impl: str, rest_url: str, ws_url: str, account: int, key_index: int, private_key: str,
                    l1_address: str, pairs=(TRADING_PAIR,), tier: str = "Premium"):
    if impl == "upstream":
        use_upstream_package()
        from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as constants
        constants.MAINNET_BASE_URL, constants.MAINNET_WS_URL = rest_url, ws_url
        from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import (
            LighterPerpetualDerivative,
        )
        return LighterPerpetualDerivative(
            lighter_perpetual_l1_address=l1_address, lighter_perpetual_api_key_index=key_index,
            lighter_perpetual_api_private_key=private_key, lighter_perpetual_account_limit=tier,
            trading_pairs=list(pairs))
    os.environ["LIGHTER_PERPETUAL_REST_URL"], os.environ["LIGHTER_PERPETUAL_WS_URL"] = rest_url, ws_url
    from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import (
        LighterPerpetualDerivative,
    )
    return LighterPerpetualDerivative(
        lighter_perpetual_api_private_key=private_key, lighter_perpetual_api_key_index=key_index,
        lighter_perpetual_account_index=account, lighter_perpetual_account_tier=tier, trading_pairs=list(pairs))


async def child(args):
    """Runs the phases, printing the results so far as each starts (a run that is stopped still reports them and
    the phase it was in); an exception ends the run with its one-line description under "error"."""
    result = {"windows_ms": []}

    def report_so_far():
        print(RESULT_PREFIX + json.dumps(result), flush=True)

    connector = None
    try:
        connector = build_connector(args.impl, args.rest_url, args.ws_url, args.account, args.key_index,
                                    os.environ["BENCH_LIGHTER_KEY"], args.l1_address)
        await phases(connector, args.orders, args.stall_orders, result, report_so_far)
    except Exception as e:
        detail = f"{e.__class__.__name__}: {e}" if str(e) else e.__class__.__name__
        result["error"] = f"{result.get('phase', 'start')}: {detail}".splitlines()[0]
    if connector is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connector.stop_network(), 10)
    report_so_far()


async def phases(connector, orders: int, stall_orders: int, result: dict, report_so_far):
    from hummingbot.core.data_type.common import OrderType, PositionAction
    from hummingbot.core.data_type.in_flight_order import OrderState

    async def tick_until(condition, timeout: float = PHASE_TIMEOUT):
        deadline = time.perf_counter() + timeout
        while not condition():
            connector._set_current_timestamp(time.time())
            if time.perf_counter() > deadline:
                raise TimeoutError(f"not done after {timeout:.0f} s")
            await asyncio.sleep(0.001)

    def enter(phase: str):
        result["phase"] = phase
        report_so_far()

    result["sign_s"] = await signing_time(orders)
    await connector.start_network()
    await tick_until(lambda: connector.ready)
    best_bid = Decimal(str(connector.get_price(TRADING_PAIR, False)))

    def place(count: int, offset: int = 0):
        # Resting bids well below the market: nothing fills.
        return [connector.buy(TRADING_PAIR, Decimal("0.01"), OrderType.LIMIT,
                              (best_bid * Decimal("0.9") - offset - i).quantize(Decimal("0.01")),
                              position_action=PositionAction.OPEN) for i in range(count)]

    def all_in(order_ids, states):
        tracked = connector.in_flight_orders
        return all(oid in tracked and tracked[oid].current_state in states for oid in order_ids)

    def all_gone(order_ids):
        return not any(oid in connector.in_flight_orders for oid in order_ids)

    async def cancel(order_ids):
        for oid in order_ids:
            connector.cancel(TRADING_PAIR, oid)
        await tick_until(lambda: all_gone(order_ids))

    window = result["windows_ms"]
    enter("P1")
    window.append(time.time() * 1000)
    started = time.perf_counter()
    order_ids = place(orders)
    await tick_until(lambda: all_in(order_ids, {OrderState.OPEN}))
    result["p1_s"] = time.perf_counter() - started
    window.append(time.time() * 1000)

    enter("P2")
    started = time.perf_counter()
    await cancel(order_ids)
    result["p2_s"] = time.perf_counter() - started
    window.append(time.time() * 1000)
    await asyncio.sleep(0.3)

    enter("P3")
    window.append(time.time() * 1000)
    single = place(1, offset=50)
    await tick_until(lambda: all_in(single, {OrderState.OPEN}))
    await cancel(single)
    window.append(time.time() * 1000)

    enter("P4")
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
    try:
        many = place(stall_orders, offset=100)
        await tick_until(lambda: all_in(many, {OrderState.OPEN}))
    finally:
        watcher.cancel()
    result["p4_max_stall_s"] = max(cpu_stalls)
    result["p4_max_wall_stall_s"] = max(stalls)


async def signing_time(orders: int) -> float:
    """What the official signer alone takes for N create-order transactions on one worker thread, in this process: a
    part of P1 that no connector using it avoids (signing is serial: a second thread gives no speed-up)."""
    from lighter.signer_client import SignerClient, create_api_key

    key, _, _ = create_api_key()
    signer = SignerClient(url="http://127.0.0.1:9", account_index=1, api_private_keys={3: key})

    def sign_all() -> float:
        started = time.perf_counter()
        for i in range(orders):
            signer.sign_create_order(0, i, 100, 250000, 0, 0, 1, nonce=i, api_key_index=3)
        return time.perf_counter() - started

    try:
        return await asyncio.get_running_loop().run_in_executor(None, sign_all)
    finally:
        await signer.close()


async def run_child(impl: str, ex: LighterEmulator, account: int, key_index: int, private_key: str,
                    l1_address: str, args, timeout: float) -> dict:
    """The child's last reported results; "error" says why it did not finish (it is stopped after `timeout` s)."""
    command = [sys.executable, __file__, "--child", "--impl", impl, "--rest-url", ex.rest_url, "--ws-url", ex.ws_url,
               "--account", str(account), "--key-index", str(key_index), "--l1-address", l1_address,
               "--orders", str(args.orders), "--stall-orders", str(args.stall_orders)]
    # The key travels in the environment, not on a command line other processes can read.
    env = {**os.environ, "BENCH_LIGHTER_KEY": private_key, "PYTHONPATH": str(REPO)}
    process = await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=None if os.environ.get("BENCH_DEBUG") else
                                                   asyncio.subprocess.PIPE)
    result = {"windows_ms": []}
    errors = asyncio.get_running_loop().create_task(process.stderr.read()) if process.stderr else None

    async def read_results():
        nonlocal result
        async for line in process.stdout:
            text = line.decode(errors="replace")
            if text.startswith(RESULT_PREFIX):
                result = json.loads(text[len(RESULT_PREFIX):])
        await process.wait()

    try:
        await asyncio.wait_for(read_results(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        result["error"] = f"{result.get('phase', 'start')}: not finished after {timeout:.0f} s, stopped"
    stderr = (await errors).decode(errors="replace").strip().splitlines() if errors else []
    if "error" not in result and process.returncode != 0:
        last = stderr[-1] if stderr else "no output"
        result["error"] = f"{result.get('phase', 'start')}: exit {process.returncode}: {last}"
    return result


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
        ex.faults.next_nonce_lag_ms = args.nonce_lag_ms
        maker = ex.create_account(collateral=Decimal("1000000"))
        for level in range(10):
            ex.place_order(maker, 0, is_ask=False, size=Decimal("5"), price=Decimal(2500 - level))
            ex.place_order(maker, 0, is_ask=True, size=Decimal("5"), price=Decimal(2501 + level))
        for impl in args.impls:
            l1_address = "0x" + secrets.token_hex(20)
            account = ex.create_account(collateral=Decimal("1000000"), l1_address=l1_address)
            private_key, public_key, error = create_api_key()
            ex.register_api_key(account, 3, public_key)
            result = await run_child(impl, ex, account, 3, private_key, l1_address, args, args.timeout)
            windows = result["windows_ms"]
            # Emulator timestamps are whole milliseconds: widen each window by one.
            if len(windows) >= 3:
                cancel_requests = requests_between(ex, account, windows[1] - 1, windows[2] + 1)
                result["p2_lookups"] = sum(1 for r in cancel_requests if r.path in LOOKUP_PATHS)
                # With the sequencer lag on, a connector that waits for /nextNonce shows it here.
                result["nonce_reads"] = sum(1 for r in requests_between(ex, account, windows[0] - 1, windows[2] + 1)
                                            if r.path == NEXT_NONCE_PATH)
            if len(windows) >= 5:
                single = requests_between(ex, account, windows[3] - 1, windows[4] + 1)
                result["p3_weight"] = sum(weight(r) for r in single)
                result["p3_paths"] = [label(r) for r in single]
            results[impl] = result
    return results


def round_trip_bound(orders: int) -> Optional[float]:
    return next((bound for most, bound in ROUND_TRIP_BOUNDS if orders <= most), None)


def report(results: dict, args) -> bool:
    """Prints the table and ours' bounds; False when ours did not finish or missed a bound."""
    rtt = args.latency_ms / 1000
    up, ours = results.get("upstream", {}), results.get("ours", {})
    figures = [
        ("P1 place N -> all OPEN (round trips)", "p1_s", 1 / rtt),
        ("P2 cancel N -> all CANCELED (round trips)", "p2_s", 1 / rtt),
        ("signer alone, N orders (round trips)", "sign_s", 1 / rtt),
        ("P2 REST look-ups during cancels", "p2_lookups", None),
        ("P1+P2 /nextNonce reads", "nonce_reads", None),
        ("P3 weight per place+cancel", "p3_weight", 1),
        ("P4 worst loop stall, loop-thread CPU (ms)", "p4_max_stall_s", 1e3),
        ("P4 worst loop stall, wall clock (ms)", "p4_max_wall_stall_s", 1e3),
    ]

    def cell(result: dict, key: str, scale: Optional[float]) -> str:
        return f"{result[key] * (scale or 1):10.1f}" if key in result else f"{'-':>10}"

    print(f"{'figure':44} {'upstream':>10} {'ours':>10} {'upstream/ours':>14}")
    for name, key, scale in figures:
        ratio = up[key] / ours[key] if scale and key in up and ours.get(key) else None
        print(f"{name:44} {cell(up, key, scale)} {cell(ours, key, scale)} "
              f"{('%.1fx' % ratio) if ratio is not None else '':>14}")
    for impl, result in (("upstream", up), ("ours", ours)):
        if "error" in result:
            print(f"{impl} did not finish: {result['error']}")
        elif "p3_paths" in result:
            print(f"P3 requests  {impl + ':':9} {' '.join(result['p3_paths'])}")
    if "ours" not in results:
        return True
    passed = "error" not in ours
    bound = round_trip_bound(args.orders)
    if bound is None:
        print(f"no round-trip bound for ours above {ROUND_TRIP_BOUNDS[-1][0]} orders")
        return passed
    for phase, key in (("P1", "p1_s"), ("P2", "p2_s")):
        measured = ours[key] / rtt if key in ours else None
        verdict = "PASS" if measured is not None and measured <= bound else "FAIL"
        passed = passed and verdict == "PASS"
        shown = f"{measured:.2f}" if measured is not None else "not measured"
        if measured is not None and "sign_s" in ours:
            # The official signer signs one transaction at a time (a second thread gives no speed-up), and the last
            # order can leave only once it is signed: no connector using it in one process goes below this.
            shown += (f" (the signer alone takes {ours['sign_s'] / rtt:.2f} of them: with one round trip, at least "
                      f"{1 + ours['sign_s'] / rtt:.2f})")
        print(f"{verdict}  ours {phase} <= {bound} round trips at {args.orders} orders: {shown}")
    return passed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--stall-orders", type=int, default=100)
    parser.add_argument("--nonce-lag-ms", type=int, default=NONCE_LAG_MS,
                        help="how long after execution /nextNonce shows a transaction (0: at once)")
    parser.add_argument("--timeout", type=float, default=150.0,
                        help="seconds a connector's whole run may take before it is stopped and reported as failed")
    parser.add_argument("--only", choices=("ours", "upstream"), help="run one connector only")
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
        asyncio.run(child(args))
        return
    if args.orders < 1 or args.stall_orders < 1:
        parser.error("--orders and --stall-orders need at least 1 order.")
    args.impls = (args.only,) if args.only else ("upstream", "ours")
    lag = f"/nextNonce {args.nonce_lag_ms} ms behind execution" if args.nonce_lag_ms else "no /nextNonce lag"
    print(f"Lighter connector benchmark: {args.orders} orders, {args.stall_orders} for P4, "
          f"{args.latency_ms} ms added to every REST request and WebSocket frame, {lag}")
    if not report(asyncio.run(parent(args)), args):
        sys.exit(1)


if __name__ == "__main__":
    main()
