"""`python -m soak`: see the soak package's docstring. Exits 1 when any invariant fails in any run."""
import argparse
import asyncio
import sys
from pathlib import Path
from typing import Dict, List

from soak import __doc__ as SOAK_DOC
from soak.checks import INVARIANTS
from soak.faults import DEFAULT_RATE, INJECTORS, rates_for
from soak.run import RunResult, run_once

EXCHANGES = tuple(INJECTORS)
TRADES_KIND, POSTS_KIND = "GET /user/trades", "POST /user/order"
SHORT = {"false_failed": "falsefail", "duplicates": "dup", "fills_lost": "f_lost", "fills_extra": "f_extra",
         "position": "pos", "balance": "bal", "cascades": "cascade", "needless_restarts": "needless_rst"}


def fault_overrides(values: List[str]) -> Dict[str, float]:
    known = {name for injector in INJECTORS.values() for name in injector.kind_names()}
    overrides = {}
    for value in values:
        name, _, rate = value.partition("=")
        if name not in known:
            raise SystemExit(f"Unknown fault kind {name!r}: choose among {', '.join(sorted(known))}.")
        try:
            overrides[name] = float(rate)
        except ValueError:
            raise SystemExit(f"--fault {value!r}: the rate after '=' must be a number such as 0.05.")
    return overrides


def fault_kinds() -> str:
    lines = ["fault kinds (event: armed once per step at its rate; spell: on for a step at its rate; setting: on "
             "throughout when its rate is above 0):"]
    for exchange, injector in INJECTORS.items():
        lines.append(f"  {exchange}: " + ", ".join(f"{kind.name} ({kind.style})" for kind in injector.kinds))
    return "\n".join(lines)


def table(results: List[RunResult]) -> str:
    columns = ["exchange", "seed", "orders", "fills", "faults"] + [SHORT.get(n, n) for n in INVARIANTS] + [
        "restarts", "requests", "quiet_s", "dur_s"]
    rows = [columns]
    for r in results:
        rows.append([r.exchange, str(r.seed), str(r.orders), str(r.fills), str(sum(r.injected.values()))]
                    + [str(r.mismatches[name]) for name in INVARIANTS]
                    + [str(r.restarts), str(sum(r.requests.values())), f"{r.quiesce_s:.0f}{'' if r.healed else '!'}",
                       f"{r.duration_s:.0f}"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows)


def details(r: RunResult) -> str:
    lines = [f"{r.exchange} seed {r.seed}:"]
    lines.append("  faults injected: " + (", ".join(f"{k} {v}" for k, v in sorted((+r.injected).items())) or "none"))
    lines.append("  orders on the exchange: " + ", ".join(f"{k} {v}" for k, v in r.outcomes.most_common()))
    if r.refusals:
        lines.append("  refused by the exchange, by code: "
                     + ", ".join(f"{k} {v}" for k, v in r.refusals.most_common()))
    lines.append("  requests: " + ", ".join(f"{k} {v}" for k, v in r.requests.most_common()))
    if r.requests.get(POSTS_KIND):
        lines.append(f"  {TRADES_KIND} per {POSTS_KIND}: {r.requests[TRADES_KIND] / r.requests[POSTS_KIND]:.2f}"
                     f" ({r.requests[TRADES_KIND]} / {r.requests[POSTS_KIND]})")
    lines.append(f"  {r.network}")
    if not r.healed:
        lines.append(f"  not settled within {r.quiesce_s:.0f} s after the faults stopped")
    for name in INVARIANTS:
        for example in r.examples.get(name, []):
            lines.append(f"  {name}: {example}")
    if r.uncovered:
        lines.append(f"  emulator fault switches no soak fault kind uses: {', '.join(r.uncovered)}")
    return "\n".join(lines)


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soak", description=SOAK_DOC, epilog=fault_kinds(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=500, help="orders per run (default 500)")
    parser.add_argument("--seeds", type=int, default=2, help="runs per exchange, seeded 1..N (default 2)")
    parser.add_argument("--exchange", choices=EXCHANGES, action="append",
                        help="repeatable; default both")
    parser.add_argument("--fault-rate", type=float, default=DEFAULT_RATE,
                        help=f"rate of every fault kind (default {DEFAULT_RATE}); 0 turns them off")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME=RATE",
                        help="the rate of one fault kind, over --fault-rate (repeatable)")
    parser.add_argument("--quiesce-timeout", type=float, default=60.0,
                        help="seconds to wait after the faults stop for the connector to settle (default 60)")
    parser.add_argument("--lighter-tier", choices=("Standard", "Premium"), default="Premium")
    parser.add_argument("--check-interval", type=float,
                        help="seconds between Hummingbot's network checks (default: Hummingbot's own, 10 s)")
    parser.add_argument("--log-dir", type=Path, help="keep each run's DEBUG log here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.seeds < 1:
        parser.error("--orders and --seeds must be at least 1")
    if not 0 <= args.fault_rate <= 1:
        parser.error("--fault-rate must be between 0 and 1")
    if args.check_interval is not None and args.check_interval <= 0:
        parser.error("--check-interval must be above 0 seconds")
    overrides = fault_overrides(args.fault)
    if args.log_dir is not None:
        args.log_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for exchange in args.exchange or EXCHANGES:
        rates = rates_for(exchange, args.fault_rate, overrides)
        for seed in range(1, args.seeds + 1):
            result = asyncio.run(run_once(exchange, seed, args.orders, rates, args.quiesce_timeout, args.log_dir,
                                          args.lighter_tier, args.check_interval))
            results.append(result)
            print(details(result), flush=True)
    print()
    print(table(results))
    failed = [r for r in results if r.failed]
    if failed:
        print(f"{len(failed)} of {len(results)} runs broke an invariant.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
