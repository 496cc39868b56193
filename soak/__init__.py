"""Soak: a seeded, randomized market-making workload through a connector's public Hummingbot API against its local
emulator, with the emulator's faults injected, then invariants checked against the emulator's truth.

    python -m soak [--orders 500] [--seeds 2] [--exchange lighter_perpetual] [--fault-rate 0.05]
                   [--fault NAME=RATE ...] [--quiesce-timeout 60] [--log-dir DIR]

Per exchange and seed: the emulator runs in this process with a deep maker ladder at +-0.5 % around the mid, an
account with real keys (Lighter: an SDK-generated API key; Extended: a Stark key pair) and the connector run as
Hummingbot runs it, on a clock whose start begins Hummingbot's network check loop. The workload (soak.run) sends
bursts of 1-20 LIMIT / LIMIT_MAKER orders near the mid, random cancels, MARKET reduce-only closes of the position and
leverage changes, while the emulator's taker sweeps the book down to our orders. Every fault kind of soak.faults is
on at its rate. Then the faults stop, the run waits (bounded) until Hummingbot has no order in a transition and the
invariants hold, and reports them.

Invariants (soak.checks), each a count of mismatches:
  state        a submitted order whose final Hummingbot state differs from the exchange's (see checks.ALLOWED)
  false_failed an order Hummingbot reported failed that the exchange accepted (it rested, filled or was cancelled)
  untracked    an order live on the exchange that Hummingbot does not track as open
  duplicates   a client order id placed more than once on the exchange
  fills_lost / fills_extra
               exchange fills of the account missing from Hummingbot's OrderFilledEvents / events without a fill
               (matched on client id, price, amount and fee, exactly)
  position, balance, book
               1 when Hummingbot's position, collateral balance or order book differs from the exchange's
  cascades     an order Hummingbot reported failed, which the exchange never executed, although no injected fault
               hit any request that carried it: it failed because of something that happened to another
               transaction (a fault attributed to a request is one the emulator applied while handling that request;
               the examples say whether the order was ever sent); an order refused unsent because the rate budget
               had no room for it within its maximum age ("Not sent (rate limit)") is the workload's doing, not one
  needless_restarts
               a disconnect and restart by Hummingbot's network check (the connector runs on a Hummingbot clock, so
               its loop checks every 10 s) that began with a failed check no injected fault explains: no fault hit a
               request on the check's endpoint while it ran (see soak.network)
  leaks        a private key or API key found in the DEBUG log of the run or in the emulator's request log

Besides the invariants, the summary gives each run's requests per kind, Extended's GET /user/trades per order posted,
and the network checks: made, failed, timed out, and the restarts they caused (column restarts, needless or not).
"""
