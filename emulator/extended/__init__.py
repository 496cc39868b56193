"""Local, wire-faithful emulator of the Extended (ex-X10, Starknet) perpetuals exchange.

Run it standalone with ``python -m emulator.extended --port 8702`` or in-process::

    async with ExtendedEmulator(port=0, markets=None) as ex:
        ex.rest_url        # "http://127.0.0.1:PORT/api/v1"  (x10 EndpointsConfig.api_base_url)
        ex.stream_url      # "ws://127.0.0.1:PORT/stream.extended.exchange/v1"  (EndpointsConfig.stream_url)
        ex.client_config() # x10 ClientConfig pointing here, mainnet signing domain unless told otherwise
        acct = ex.create_account(collateral=Decimal("10000"))
        acct.api_key, acct.stark_private_key, acct.stark_public_key, acct.vault, acct.stark_account()
        ex.synthetic_taker("BTC-USD", "SELL", Decimal("0.01"))     # trades against resting orders
        ex.trigger_funding("BTC-USD")                              # settle a funding period now
        ex.faults.fail_next(503, "/user/order", "POST")           # see Faults for latency, 429, closes, gaps
        ex.state.book("BTC-USD"), ex.state.account_fills(acct.account_id), ex.state.requests
        await ex.start_flow(interval=0.2); await ex.stop_flow()

REST lives under /api/v1 with the exchange's envelope ``{status, data, error{code, message}, pagination}`` and
X-Api-Key auth; orders are Stark-signature checked with the x10 SDK's own hashing and fast_stark_crypto. Streams
live under /stream.extended.exchange/v1 (orderbooks, publicTrades, funding, prices/mark, prices/index, account).
Every socket binds 127.0.0.1 only.
"""
from emulator.extended.accounts import Account
from emulator.extended.markets import MarketSpec, default_markets
from emulator.extended.server import ExtendedEmulator

__all__ = ["Account", "ExtendedEmulator", "MarketSpec", "default_markets"]
