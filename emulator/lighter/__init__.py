"""Wire-faithful local emulator of the Lighter (zkLighter) perpetuals exchange, for connector tests.

Serves, on 127.0.0.1 only, the REST API under /api/v1 and the WebSocket stream at /stream with the real
paths, parameters, encodings, frames and error codes (see test/fixtures/lighter_*.txt).

Standalone:  python -m emulator.lighter --port 8701 [--latency-ms N] [--flow-rate N]

In-process:

    async with LighterEmulator(port=0, markets=None, latency_ms=0) as ex:      # port 0 = free port
        ex.rest_url                      # "http://127.0.0.1:PORT"  (REST under /api/v1/...)
        ex.ws_url                        # "ws://127.0.0.1:PORT/stream"
        acct = ex.create_account(collateral=Decimal("10000"), l1_address=None)
        ex.register_api_key(acct, api_key_index, public_key, nonce=0)
        acct, key_index, private_key = ex.create_account_with_api_key(collateral=Decimal("10000"),
                                                                       api_key_index=2)
        ex.set_fees(maker=Decimal("0.0002"), taker=Decimal("0.0005"))   # fractions; default 0 / 0
        ex.set_index_price(0, Decimal("2510.00"))                        # mark price for PnL / funding
        ex.place_order(acct, 0, is_ask=False, size=Decimal("0.1"), price=Decimal("2500"))  # unsigned set-up
        ex.submit_taker(0, is_ask=True, size=Decimal("0.1"))             # synthetic taker, trades now
        ex.apply_funding()                                               # settle a funding round now
        await ex.start_flow(rate_per_s=50) / await ex.stop_flow()        # synthetic makers and takers
        ex.state      # truth: markets, accounts (orders, fills, positions, collateral, api keys/nonces),
                      # state.fills, state.requests (every REST request and WS frame received)
        ex.book_levels(0), ex.balance(acct)
        ex.faults     # fault injection, see emulator.lighter.faults
        LighterEmulator(min_cancel_all_period_ms=1000)  # a scheduled cancel-all 1 s ahead is taken (Lighter: 5 min)

Transactions (sendTx, sendTxBatch, jsonapi/sendtx, jsonapi/sendtxbatch) take the tx_info JSON produced by
lighter-sdk's SignerClient.sign_* for tx types 14 (create order), 15 (cancel), 16 (cancel all),
17 (modify) and 20 (update leverage). Signatures are checked for encoding, not verified.
"""
from emulator.lighter.faults import Faults
from emulator.lighter.markets import MarketSpec, default_markets
from emulator.lighter.server import LighterEmulator

__all__ = ["LighterEmulator", "MarketSpec", "Faults", "default_markets"]
