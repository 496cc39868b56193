import copy
import logging
import unittest
from decimal import Decimal

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_parsers as parsers
from hummingbot.core.data_type.in_flight_order import OrderState
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_test_helpers import payload_objects


class MarketParserTests(unittest.TestCase):
    def setUp(self):
        self.response = payload_objects("extended_10_markets.txt")[0]
        self.entry = self.response["data"][0]

    def test_live_market_entry(self):
        spec = parsers.parse_market(self.entry)
        self.assertEqual(("BTC-USD", "BTC-USD", "BTC", "USD"), (spec.name, spec.trading_pair, spec.base, spec.quote))
        self.assertEqual((Decimal("0.0001"), Decimal("0.00001"), Decimal("1")),
                         (spec.min_order_size, spec.min_order_size_change, spec.min_price_change))
        self.assertEqual((Decimal("50"), Decimal("0.05"), Decimal("0.05"), 200),
                         (spec.max_leverage, spec.limit_price_cap, spec.limit_price_floor, spec.max_num_orders))
        self.assertEqual((Decimal("3000000"), Decimal("15000000")),
                         (spec.max_market_order_value, spec.max_limit_order_value))
        self.assertEqual(((Decimal("4000000"), Decimal("0.02")),), spec.risk_factors)
        self.assertEqual(("0x1", "0x4254432d3600000000000000000000", 1_000_000, 1_000_000),
                         (spec.collateral_id, spec.synthetic_id, spec.synthetic_resolution, spec.collateral_resolution))
        self.assertEqual((5, 6), (spec.asset_precision, spec.collateral_asset_precision))
        # The live entry has no "type": every market was a perpetual before spot markets existed.
        self.assertEqual("PERPETUAL", spec.market_type)
        self.assertTrue(spec.is_listed)
        self.assertTrue(spec.opens_positions)
        self.assertEqual(Decimal("77259.680250000004"), spec.stats.mark_price)
        self.assertEqual(Decimal("77299.020412500001"), spec.stats.index_price)
        self.assertEqual(Decimal("0.000013"), spec.stats.funding_rate)
        # nextFundingRate is a time in milliseconds despite its name.
        self.assertEqual(1777442400, spec.stats.next_funding_timestamp)

    def test_trading_rule(self):
        rule = parsers.trading_rule(parsers.parse_market(self.entry))
        self.assertEqual("BTC-USD", rule.trading_pair)
        self.assertEqual((Decimal("0.0001"), Decimal("1"), Decimal("0.00001")),
                         (rule.min_order_size, rule.min_price_increment, rule.min_base_amount_increment))
        self.assertEqual(("USD", "USD"), (rule.buy_order_collateral_token, rule.sell_order_collateral_token))

    def test_listing_follows_status_and_type(self):
        self.assertEqual(("BTC-USD", "BTC-USD"), parsers.market_listing(self.entry))
        for status, listed in (("ACTIVE", True), ("REDUCE_ONLY", True), ("PRELISTED", True), ("DISABLED", False),
                               ("DELISTED", False)):
            entry = dict(self.entry, status=status)
            self.assertEqual(listed, parsers.market_listing(entry) is not None, status)
            self.assertEqual(listed, parsers.parse_market(entry).is_listed, status)
        self.assertIsNone(parsers.market_listing(dict(self.entry, type="SPOT")))
        with self.assertLogs(parsers.__name__, level=logging.WARNING) as logs:
            self.assertIsNone(parsers.market_listing(dict(self.entry, status="AUCTION_ONLY")))
            self.assertIsNone(parsers.market_listing(dict(self.entry, type="OPTION")))
        self.assertIn("AUCTION_ONLY", logs.output[0])
        self.assertIn("OPTION", logs.output[1])
        self.assertFalse(parsers.parse_market(dict(self.entry, status="REDUCE_ONLY")).opens_positions)

    def test_entry_without_trading_config_raises(self):
        entry = copy.deepcopy(self.entry)
        del entry["tradingConfig"]
        with self.assertRaises(KeyError):
            parsers.parse_market(entry)

    def test_market_entries_skips_non_objects(self):
        self.assertEqual([self.entry], parsers.market_entries({"status": "OK", "data": [self.entry, "junk"]}))
        self.assertEqual([], parsers.market_entries({"status": "ERROR", "error": {"code": 1006}}))


class OrderBookParserTests(unittest.TestCase):
    def setUp(self):
        self.frames = payload_objects("extended_11_orderbook.txt")

    def test_rest_book_uses_long_names(self):
        bids, asks = parsers.parse_rest_order_book(self.frames[0]["data"])
        self.assertEqual([(Decimal("76214"), Decimal("14.46084"))], bids)
        self.assertEqual([(Decimal("76215"), Decimal("0.11585"))], asks)

    def test_stream_snapshot_and_delta(self):
        snapshot, delta = self.frames[1], self.frames[2]
        self.assertEqual("SNAPSHOT", parsers.book_frame_kind(snapshot))
        # A snapshot's "q" is the level's size.
        self.assertEqual([(Decimal("63720"), Decimal("14.79329"), None)],
                         parsers.book_levels(snapshot["data"]["b"], snapshot=True))
        self.assertEqual("DELTA", parsers.book_frame_kind(delta))
        # A delta's "q" is the signed change, "c" the size the level is left with: with "c" the change is not read.
        self.assertEqual([(Decimal("63717"), Decimal("0.85928"), None)],
                         parsers.book_levels(delta["data"]["b"], snapshot=False))
        self.assertEqual([], parsers.book_levels(delta["data"]["a"], snapshot=False))

    def test_delta_removing_levels_and_empty_snapshot(self):
        delta = self.frames[4]
        self.assertEqual("DELTA", parsers.book_frame_kind(delta))
        self.assertEqual([Decimal(0), Decimal(0)],
                         [size for _, size, _ in parsers.book_levels(delta["data"]["b"], snapshot=False)])
        self.assertEqual([Decimal(0), Decimal("17.90")],
                         [size for _, size, _ in parsers.book_levels(delta["data"]["a"], snapshot=False)])
        empty = self.frames[3]
        self.assertEqual("SNAPSHOT", parsers.book_frame_kind(empty))
        self.assertEqual(([], []), (parsers.book_levels(empty["data"]["b"], snapshot=True),
                                    parsers.book_levels(empty["data"].get("a"), snapshot=True)))
        self.assertEqual([], parsers.book_levels(None, snapshot=False))

    def test_sdk_snapshot_frame_without_inner_type(self):
        snapshot = self.frames[5]
        self.assertEqual("SNAPSHOT", parsers.book_frame_kind(snapshot))
        self.assertEqual([Decimal("43547.00"), Decimal("43548.00")],
                         [price for price, _, _ in parsers.book_levels(snapshot["data"]["b"], snapshot=True)])

    def test_frame_kind_from_the_inner_type(self):
        self.assertEqual("DELTA", parsers.book_frame_kind({"data": {"t": "DELTA", "m": "BTC-USD"}, "seq": 2}))

    def test_delta_without_resulting_size(self):
        levels = parsers.book_levels([{"q": "-0.5", "p": "100"}], snapshot=False)
        self.assertEqual([(Decimal("100"), None, Decimal("-0.5"))], levels)

    def test_unknown_frame_type_is_skipped_and_logged(self):
        with self.assertLogs(parsers.__name__, level=logging.WARNING) as logs:
            self.assertIsNone(parsers.book_frame_kind({"type": "HEARTBEAT_V2", "data": {}, "ts": 1, "seq": 1}))
        self.assertIn("HEARTBEAT_V2", logs.output[0])


class TradeAndFundingParserTests(unittest.TestCase):
    def test_public_trades(self):
        live, documented, rest = payload_objects("extended_12_trades.txt")
        trade = parsers.parse_public_trades(live["data"])[0]
        # A 64-bit id must survive exactly (it does not fit a double).
        self.assertEqual("2084331146732113920", trade.trade_id)
        self.assertEqual(("ETH-USD", True, Decimal("63709"), Decimal("0.00481"), 1785778245.038),
                         (trade.market, trade.taker_is_buyer, trade.price, trade.amount, trade.timestamp))
        self.assertEqual("25124", parsers.parse_public_trades(documented["data"])[0].trade_id)
        sold = parsers.parse_public_trades(rest["data"])[0]
        self.assertFalse(sold.taker_is_buyer)
        self.assertEqual(Decimal("0.00165"), sold.amount)

    def test_unknown_trade_side_or_type_is_skipped(self):
        trades = [{"i": 1, "m": "BTC-USD", "S": "BOTH", "tT": "TRADE", "T": 1, "p": "1", "q": "1"},
                  {"i": 2, "m": "BTC-USD", "S": "BUY", "tT": "AUCTION", "T": 1, "p": "1", "q": "1"},
                  {"i": 3, "m": "BTC-USD", "S": "SELL", "tT": "LIQUIDATION", "T": 1, "p": "1", "q": "1"}]
        with self.assertLogs(parsers.__name__, level=logging.WARNING):
            parsed = parsers.parse_public_trades(trades)
        self.assertEqual(["3"], [trade.trade_id for trade in parsed])

    def test_funding_frame_and_prices(self):
        frames = payload_objects("extended_13_funding.txt")
        funding = parsers.parse_funding_frame(frames[0])
        self.assertEqual(("BTC-USD", Decimal("0.001")), (funding.market, funding.rate))
        # 1701563440000 ms is 00:30:40 UTC; the next settlement is on the next hour.
        self.assertEqual(1701565200, funding.next_funding_timestamp)
        mark = parsers.parse_price_frame(frames[3])
        index = parsers.parse_price_frame(frames[4])
        self.assertEqual((True, Decimal("80988.400408625006")), (mark.is_mark, mark.price))
        self.assertEqual((False, Decimal("81061.372849012506")), (index.is_mark, index.price))

    def test_funding_payments_sign(self):
        payment = parsers.parse_funding_payments(payload_objects("extended_13_funding.txt")[2]["data"])[0]
        self.assertEqual(("BNB-USD", 1723147241.346, Decimal(0), Decimal(0)),
                         (payment.market, payment.timestamp, payment.rate, payment.amount))
        paid, received = parsers.parse_funding_payments([
            {"market": "BTC-USD", "fundingFee": "1.25", "fundingRate": "0.0001", "paidTime": 1000},
            {"market": "BTC-USD", "fundingFee": "-0.5", "fundingRate": "-0.0001", "paidTime": 2000}])
        self.assertEqual(Decimal("-1.25"), paid.amount)
        self.assertEqual(Decimal("0.5"), received.amount)

    def test_market_stats_endpoint(self):
        stats = parsers.parse_market_stats(payload_objects("extended_10_markets.txt")[0]["data"][0]["marketStats"])
        self.assertEqual(Decimal("77259"), stats.last_price)


class AccountParserTests(unittest.TestCase):
    def setUp(self):
        self.stream = payload_objects("extended_14_account_stream.txt")
        self.rest = payload_objects("extended_17_account_rest.txt")

    def test_balance_from_rest_and_stream(self):
        for balance in (self.rest[0]["data"], self.stream[1]["data"]["balance"]):
            parsed = parsers.parse_balance(balance)
            self.assertEqual(("USD", Decimal("7.667333"), Decimal("7.667333")),
                             (parsed.asset, parsed.total, parsed.available))
        parsed = parsers.parse_balance({"collateralName": "USD", "balance": "168.5", "equity": "7524.08",
                                        "availableForTrade": "5008.43"})
        self.assertEqual((Decimal("7524.08"), Decimal("5008.43")), (parsed.total, parsed.available))

    def test_positions(self):
        position = parsers.parse_position(self.rest[1]["data"][0])
        self.assertEqual(("BTC-USD", True, Decimal("0.1"), Decimal("39000"), Decimal("1000"), Decimal("10")),
                         (position.market, position.is_long, position.amount, position.entry_price,
                          position.unrealized_pnl, position.leverage))
        short = parsers.parse_position(dict(self.rest[1]["data"][0], side="SHORT"))
        self.assertEqual(Decimal("-0.1"), short.amount)
        closed = parsers.parse_position(dict(self.rest[1]["data"][0], status="CLOSED"))
        self.assertEqual(Decimal(0), closed.amount)
        with self.assertLogs(parsers.__name__, level=logging.WARNING):
            self.assertIsNone(parsers.parse_position(dict(self.rest[1]["data"][0], side="FLAT")))

    def test_orders(self):
        rest_order = parsers.parse_order(self.rest[2]["data"][0])
        self.assertEqual(("1775511783722512384", "ETH-USD", OrderState.PARTIALLY_FILLED, Decimal("0.1")),
                         (rest_order.exchange_order_id, rest_order.market, rest_order.state,
                          rest_order.filled_amount))
        stream_order = parsers.parse_order(self.stream[3]["data"]["orders"][0])
        # NEW with a fill reads as partially filled.
        self.assertEqual(("-1771812132822291885", OrderState.PARTIALLY_FILLED, 1715885888.571),
                         (stream_order.external_id, stream_order.state, stream_order.update_timestamp))
        self.assertEqual([], self.stream[0]["data"]["orders"])

    def test_order_states(self):
        order = self.rest[2]["data"][0]
        cases = [
            ({"status": "NEW", "filledQty": "0"}, OrderState.OPEN),
            ({"status": "UNTRIGGERED", "filledQty": None}, OrderState.OPEN),
            ({"status": "FILLED", "filledQty": "0.2"}, OrderState.FILLED),
            ({"status": "CANCELLED", "filledQty": "0"}, OrderState.CANCELED),
            ({"status": "EXPIRED", "filledQty": "0.1"}, OrderState.CANCELED),
            ({"status": "CANCELLED", "filledQty": "0", "statusReason": "POST_ONLY_FAILED"}, OrderState.FAILED),
            ({"status": "REJECTED", "filledQty": "0", "statusReason": "POST_ONLY_FAILED"}, OrderState.FAILED),
            ({"status": "REJECTED", "filledQty": "0.1", "statusReason": "SELF_TRADE_PROTECTION"}, OrderState.CANCELED),
            ({"status": "CANCELLED", "filledQty": "0", "statusReason": "ORDER_REPLACED"}, OrderState.CANCELED),
        ]
        for change, state in cases:
            self.assertEqual(state, parsers.parse_order(dict(order, **change)).state, change)
        with self.assertLogs(parsers.__name__, level=logging.WARNING) as logs:
            self.assertIsNone(parsers.parse_order(dict(order, status="PENDING_REVIEW")))
        self.assertIn("PENDING_REVIEW", logs.output[0])

    def test_fills_with_fee(self):
        stream_fill = parsers.parse_account_trade(self.stream[4]["data"]["trades"][0])
        self.assertEqual(("1811328331296018432", "1811328331287359488", None),
                         (stream_fill.trade_id, stream_fill.exchange_order_id, stream_fill.external_id))
        self.assertEqual((True, Decimal("58249.8000000000000000"), Decimal("0.0010000000000000"),
                          Decimal("0.0291240000000000"), True, 1720689301.691),
                         (stream_fill.is_buy, stream_fill.price, stream_fill.amount, stream_fill.fee,
                          stream_fill.is_taker, stream_fill.timestamp))
        rest_fill = parsers.parse_account_trade(self.rest[3]["data"][0])
        self.assertEqual(("ExtId-1", Decimal("1.3")), (rest_fill.external_id, rest_fill.fee))
        # The account stream names the client order id `externalOrderId`.
        named = parsers.parse_account_trade(dict(self.stream[4]["data"]["trades"][0], externalOrderId="HB1"))
        self.assertEqual("HB1", named.external_id)
        with self.assertLogs(parsers.__name__, level=logging.WARNING):
            self.assertIsNone(parsers.parse_account_trade(dict(self.rest[3]["data"][0], side="HOLD")))

    def test_fees(self):
        rates = parsers.parse_fees(self.rest[4]["data"])
        self.assertEqual((Decimal("0"), Decimal("0.00025")), (rates["BTC-USD"].maker, rates["BTC-USD"].taker))


class ErrorParserTests(unittest.TestCase):
    def test_error_envelopes(self):
        codes = [parsers.envelope_error(body) for body in payload_objects("extended_18_errors.txt")]
        self.assertEqual([1140, 1006, 1001], [code for code, _ in codes])
        self.assertEqual("Market not found.", codes[2][1])
        self.assertEqual(1140, parsers.envelope_error(payload_objects("extended_15_create_order.txt")[2])[0])

    def test_word_and_numeric_string_codes(self):
        self.assertEqual(("NOT_FOUND", "Order not found"), parsers.envelope_error(
            {"status": "ERROR", "error": {"code": "NOT_FOUND", "message": "Order not found"}}))
        self.assertEqual((1140, ""), parsers.envelope_error({"status": "ERROR", "error": {"code": "1140"}}))
        self.assertEqual((None, "m"),
                         parsers.envelope_error({"status": "ERROR", "error": {"code": None, "message": "m"}}))

    def test_success_and_stream_frames(self):
        self.assertIsNone(parsers.envelope_error(payload_objects("extended_15_create_order.txt")[1]))
        # Stream frames carry "error": null when all is well, a string when not.
        self.assertIsNone(parsers.envelope_error(payload_objects("extended_14_account_stream.txt")[4]))
        self.assertEqual((None, "bad market"),
                         parsers.envelope_error({"type": "SNAPSHOT", "error": "bad market", "ts": 1, "seq": 0}))
        self.assertIsNone(parsers.envelope_error("not an object"))


if __name__ == "__main__":
    unittest.main()
