"""Responses and stream frames have the field names and JSON types of the reference payloads."""
import time
from decimal import Decimal

from test.emulator.extended.extended_emulator_helpers import (
    EmulatorTestCase,
    payload_objects,
    shape_differences,
    signed_order,
)

# keys the exchange only sends when set (TP/SL on a position, ADL rank)
POSITION_OPTIONAL = frozenset({"tpTriggerPrice", "tpLimitPrice", "slTriggerPrice", "slLimitPrice", "adl"})


class ShapeHelperTests(EmulatorTestCase):
    async def test_shape_helper_reports_missing_keys_and_type_mismatches(self):
        problems = shape_differences({"a": "1", "b": {"c": 1}, "d": None}, {"a": 1, "b": {}})
        self.assertEqual(["$.a: expected string, got number", "$.b.c: missing"], problems)


class RestShapeTests(EmulatorTestCase):
    collateral = Decimal("1000")

    async def _open_long(self):
        await self.open_position("BUY", "0.1", "77259")

    def assertShape(self, reference, actual, optional=frozenset()):
        self.assertEqual([], shape_differences(reference, actual, optional=optional))

    async def test_markets(self):
        status, body = await self.get("/info/markets", auth=False)
        self.assertEqual(200, status)
        self.assertEqual(["BTC-USD", "ETH-USD"], [m["name"] for m in body["data"]])
        self.assertShape(payload_objects("extended_10_markets.txt")[0], body)

    async def test_markets_filter_by_repeated_market_param(self):
        _, body = await self.get("/info/markets?market=ETH-USD", auth=False)
        self.assertEqual(["ETH-USD"], [m["name"] for m in body["data"]])

    async def test_orderbook(self):
        status, body = await self.get("/info/markets/BTC-USD/orderbook", auth=False)
        self.assertEqual(200, status)
        self.assertShape(payload_objects("extended_11_orderbook.txt")[0], body)
        bids = [Decimal(level["price"]) for level in body["data"]["bid"]]
        asks = [Decimal(level["price"]) for level in body["data"]["ask"]]
        self.assertEqual(sorted(bids, reverse=True), bids)
        self.assertEqual(sorted(asks), asks)
        self.assertLess(bids[0], asks[0])

    async def test_public_trades(self):
        self.ex.synthetic_taker("BTC-USD", "BUY", Decimal("0.001"))
        _, body = await self.get("/info/markets/BTC-USD/trades", auth=False)
        self.assertShape(payload_objects("extended_12_trades.txt")[2], body)
        self.assertEqual("BUY", body["data"][0]["S"])

    async def test_funding_rate_history(self):
        self.ex.trigger_funding("BTC-USD")
        now = int(time.time() * 1000)
        _, body = await self.get(f"/info/BTC-USD/funding?startTime={now - 60_000}&endTime={now}", auth=False)
        self.assertShape(payload_objects("extended_13_funding.txt")[1], body)
        self.assertEqual(1, body["pagination"]["count"])

    async def test_balance(self):
        _, body = await self.get("/user/balance")
        self.assertShape(payload_objects("extended_17_account_rest.txt")[0], body)

    async def test_positions(self):
        await self._open_long()
        _, body = await self.get("/user/positions")
        self.assertEqual(1, len(body["data"]))
        self.assertShape(payload_objects("extended_17_account_rest.txt")[1], body, POSITION_OPTIONAL)

    async def test_open_orders(self):
        await self.place("BUY", "0.001", "70000")
        _, body = await self.get("/user/orders")
        self.assertShape(payload_objects("extended_17_account_rest.txt")[2], body)

    async def test_trades(self):
        await self._open_long()
        _, body = await self.get("/user/trades")
        self.assertShape(payload_objects("extended_17_account_rest.txt")[3], body)

    async def test_fees_and_leverage(self):
        _, fees = await self.get("/user/fees?market=BTC-USD")
        self.assertShape(payload_objects("extended_17_account_rest.txt")[4], fees)
        _, leverage = await self.get("/user/leverage?market=BTC-USD")
        self.assertShape(payload_objects("extended_17_account_rest.txt")[5], leverage)

    async def test_account_funding_history(self):
        await self._open_long()
        self.ex.trigger_funding("BTC-USD")
        _, body = await self.get("/user/funding/history?market=BTC-USD")
        self.assertShape(payload_objects("extended_13_funding.txt")[2], body)

    async def test_create_order_request_and_response(self):
        request = signed_order(self.ex.state, self.stark, "BTC-USD", "SELL", "0.001", "78000")
        self.assertShape(payload_objects("extended_15_create_order.txt")[0], request)
        status, body = await self.post_order(request)
        self.assertEqual(200, status)
        self.assertShape(payload_objects("extended_15_create_order.txt")[1], body)

    async def test_order_cost_error(self):
        status, body = await self.post_order(signed_order(self.ex.state, self.stark, "BTC-USD", "BUY", "1", "77000"))
        self.assertEqual(400, status)
        self.assertShape(payload_objects("extended_18_errors.txt")[0], body)
        self.assertEqual(1140, body["error"]["code"])


class StreamShapeTests(EmulatorTestCase):
    def assertShape(self, reference, actual, optional=frozenset()):
        self.assertEqual([], shape_differences(reference, actual, optional=optional))

    async def test_orderbook_snapshot_and_delta(self):
        reference = payload_objects("extended_11_orderbook.txt")
        async with await self.connect("/orderbooks/BTC-USD") as ws:
            snapshot = await self.recv(ws)
            await self.place("BUY", "0.001", "70000")
            delta = await self.recv(ws)
        self.assertShape(reference[1], snapshot)
        self.assertShape(reference[2], delta)
        self.assertEqual({"q": "0.001", "p": "70000", "c": "0.001"}, delta["data"]["b"][0])

    async def test_public_trades_frame(self):
        async with await self.connect("/publicTrades/BTC-USD") as ws:
            self.ex.synthetic_taker("BTC-USD", "SELL", Decimal("0.0001"))
            frame = await self.recv(ws)
        self.assertShape(payload_objects("extended_12_trades.txt")[0], frame)
        self.assertNotIn("type", frame)

    async def test_funding_and_price_frames(self):
        reference = payload_objects("extended_13_funding.txt")
        async with await self.connect("/funding/BTC-USD") as ws:
            self.assertShape(reference[0], await self.recv(ws))
        async with await self.connect("/prices/mark/BTC-USD") as ws:
            self.assertShape(reference[3], await self.recv(ws))
        async with await self.connect("/prices/index/BTC-USD") as ws:
            self.assertShape(reference[4], await self.recv(ws))

    async def test_account_snapshots_and_updates(self):
        reference = payload_objects("extended_14_account_stream.txt")
        async with await self.connect("/account", headers=self.headers()) as ws:
            snapshots = [await self.recv(ws) for _ in range(3)]
            price = self.inside_price("BUY")
            await self.place("BUY", "0.001", price)
            order_update = await self.recv_until(ws, lambda f: f["type"] == "ORDER")
            self.ex.synthetic_taker("BTC-USD", "SELL", Decimal("0.001"), Decimal(price))
            trade_update = await self.recv_until(ws, lambda f: f["type"] == "TRADE")
        for ref, frame in zip(reference[:3], snapshots):
            self.assertShape(ref, frame)
        self.assertEqual([1, 2, 3], [f["seq"] for f in snapshots])
        self.assertShape(reference[3], order_update)
        self.assertShape(reference[4], trade_update)
