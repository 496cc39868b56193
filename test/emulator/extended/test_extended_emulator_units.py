"""Unit tests of the emulator's parts that need no server: book, hashing, candles, margin, limiter, CLI."""
import os
import signal
import socket
import subprocess
import sys
import unittest
import urllib.request
from decimal import Decimal
from pathlib import Path

from emulator.extended.book import OrderBook
from emulator.extended.candles import build_candles
from emulator.extended.hub import StreamHub
from emulator.extended.margin import MarginView, liquidation_price
from emulator.extended.markets import MarketState, default_markets
from emulator.extended.models import Order, Position
from emulator.extended.ratelimit import RateLimiter
from emulator.extended.signature import DEFAULT_DOMAIN, order_msg_hash
from emulator.extended.state import ExchangeState
from test.emulator.extended.extended_emulator_helpers import signed_order

REPO = Path(__file__).resolve().parents[3]


def make_order(order_id: int, side: str, price: str, qty: str) -> Order:
    return Order(id=order_id, account_id=1, client_id=1, external_id=str(order_id), market="BTC-USD", type="LIMIT",
                 side=side, qty=Decimal(qty), price=Decimal(price), time_in_force="GTT", post_only=False,
                 reduce_only=False, expire_time=0, max_fee=Decimal("0.0005"), self_trade_protection="ACCOUNT",
                 created_time=0, updated_time=0)


class OrderBookTests(unittest.TestCase):
    def test_priority_and_level_changes(self):
        book = OrderBook("BTC-USD")
        orders = [make_order(1, "BUY", "100", "1"), make_order(2, "BUY", "101", "2"), make_order(3, "BUY", "100", "3"),
                  make_order(4, "SELL", "103", "1")]
        for order in orders:
            book.add(order)
        self.assertEqual([2, 1, 3], [o.id for o in book.matching_orders("SELL", Decimal("100"))])
        self.assertEqual([2], [o.id for o in book.matching_orders("SELL", Decimal("101"))])
        self.assertEqual([(Decimal("101"), Decimal("2")), (Decimal("100"), Decimal("4"))], book.levels("BUY"))
        self.assertEqual(3, len(book.take_changes()))
        book.remove(orders[1], orders[1].remaining)
        self.assertEqual([("BUY", Decimal("101"), Decimal("-2"), Decimal("0"))], book.take_changes())
        self.assertTrue(book.crosses("SELL", Decimal("100")))
        self.assertFalse(book.crosses("BUY", Decimal("102")))


class HashTests(unittest.TestCase):
    def test_recomputed_hash_equals_the_hash_the_sdk_signed(self):
        state = ExchangeState(default_markets(), DEFAULT_DOMAIN, StreamHub())
        account = state.create_account(Decimal("1000"))
        body = signed_order(state, account.stark_account(), "ETH-USD", "SELL", "0.123", "2950.7")
        recomputed = order_msg_hash(market=state.market_model("ETH-USD"), side="SELL", qty=Decimal(body["qty"]),
                                    price=Decimal(body["price"]), fee=Decimal(body["fee"]), builder_fee=None,
                                    nonce=int(body["nonce"]), vault=account.vault,
                                    expiry_epoch_millis=body["expiryEpochMillis"], public_key=account.public_key_int,
                                    domain=DEFAULT_DOMAIN)
        self.assertEqual(int(body["id"]), recomputed)  # the SDK's default external id is the order hash


class CandleTests(unittest.TestCase):
    def test_ohlcv_buckets_newest_first(self):
        ticks = [(60_000, Decimal("10"), Decimal("1")), (90_000, Decimal("12"), Decimal("2")),
                 (100_000, Decimal("9"), Decimal("1")), (200_000, Decimal("11"), Decimal("1"))]
        candles = build_candles(ticks, 60_000, 3, 200_000, Decimal("5"), with_volume=True)
        self.assertEqual([180_000, 120_000, 60_000], [c["T"] for c in candles])
        self.assertEqual({"o": "10", "l": "9", "h": "12", "c": "9", "v": "4", "T": 60_000}, candles[2])
        self.assertEqual({"o": "9", "l": "9", "h": "9", "c": "9", "v": "0", "T": 120_000}, candles[1])
        self.assertEqual("11", candles[0]["c"])


class MarginTests(unittest.TestCase):
    def test_liquidation_price_of_long_and_short(self):
        market = MarketState.from_spec(default_markets()[0])
        view = MarginView(collateral=Decimal("1000"), unrealised=Decimal(0), initial_margin=Decimal(0),
                          maintenance=Decimal("100"), exposure=Decimal(0))
        long = Position(id=1, account_id=1, market="BTC-USD", created_at=0, updated_at=0, size=Decimal("0.1"))
        short = Position(id=2, account_id=1, market="BTC-USD", created_at=0, updated_at=0, size=Decimal("-0.1"))
        self.assertEqual(market.mark_price - 9000, liquidation_price(view, long, market))
        self.assertEqual(market.mark_price + 9000, liquidation_price(view, short, market))
        long.size = Decimal("0.001")
        self.assertIsNone(liquidation_price(view, long, market))

    def test_max_leverage_by_position_value(self):
        market = MarketState.from_spec(default_markets()[0])
        self.assertEqual(Decimal(50), market.max_leverage_for_value(Decimal("1000")))
        self.assertEqual(Decimal(25), market.max_leverage_for_value(Decimal("5000000")))
        self.assertEqual(Decimal(0), market.max_leverage_for_value(Decimal("70000000")))


class RateLimiterTests(unittest.TestCase):
    def test_window(self):
        limiter = RateLimiter(2, window=0.05)
        self.assertEqual([True, True, False], [limiter.allow("ip") for _ in range(3)])
        self.assertTrue(limiter.allow("other"))
        self.assertTrue(RateLimiter(None).allow("ip"))


class CommandLineTests(unittest.TestCase):
    def test_serves_markets_until_sigterm(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = dict(os.environ, PYTHONPATH=str(REPO))
        proc = subprocess.Popen([sys.executable, "-m", "emulator.extended", "--port", str(port)], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            lines = [proc.stdout.readline().strip() for _ in range(2)]
            # The connector's environment overrides, as they are to be set: Extended's REST URL includes /api/v1.
            self.assertEqual([f"EXTENDED_PERPETUAL_REST_URL=http://127.0.0.1:{port}/api/v1",
                              f"EXTENDED_PERPETUAL_WS_URL=ws://127.0.0.1:{port}/stream.extended.exchange/v1"], lines)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/info/markets", timeout=5) as response:
                self.assertIn(b'"BTC-USD"', response.read())
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(0, proc.wait(timeout=10))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
