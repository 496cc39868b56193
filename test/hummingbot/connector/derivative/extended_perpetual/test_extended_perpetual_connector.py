"""Connector behaviour beyond Hummingbot's conformance suite, with REST mocked at the wire."""
import asyncio
import json
import re
from decimal import Decimal
from typing import Any, Dict, List
from unittest import IsolatedAsyncioTestCase
from unittest.mock import AsyncMock

from aioresponses import aioresponses
from bidict import bidict
from x10.config import MAINNET_CONFIG

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_transactions import (
    UNAUTHORIZED_MESSAGE,
    ExtendedKeyError,
)
from hummingbot.connector.derivative.position import Position
from hummingbot.core.data_type.common import OrderType, PositionAction, PositionSide, TradeType
from hummingbot.core.data_type.funding_info import FundingInfo
from hummingbot.core.data_type.limit_order import LimitOrder
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_row import OrderBookRow
from hummingbot.core.data_type.trade_fee import AddedToCostTradeFee, TokenAmount
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from test.hummingbot.connector.derivative.extended_perpetual import extended_perpetual_test_helpers as helpers

PAIR = "BTC-USD"


def url(path: str) -> str:
    return web_utils.public_rest_url(path)


def prefix(path: str) -> re.Pattern:
    return re.compile("^" + re.escape(url(path)))


class ConnectorTestCase(helpers.IsolatedConnections, IsolatedAsyncioTestCase):
    level = 0
    trading_required = True

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.connector = ExtendedPerpetualDerivative(
            helpers.API_KEY, helpers.STARK_PRIVATE_KEY, helpers.STARK_PUBLIC_KEY, helpers.VAULT,
            trading_pairs=[PAIR], trading_required=self.trading_required)
        self.connector._set_trading_pair_symbol_map(bidict({PAIR: PAIR}))
        self.load_market()
        self.connector._set_current_timestamp(1640780000)
        self.log_records = []
        for logger in (self.connector.logger(), self.connector._order_tracker.logger()):
            logger.setLevel(1)
            logger.addHandler(self)
        self.events: Dict[MarketEvent, EventLogger] = {}
        for event in (MarketEvent.OrderFailure, MarketEvent.OrderFilled, MarketEvent.BuyOrderCreated,
                      MarketEvent.OrderCancelled, MarketEvent.BuyOrderCompleted):
            self.events[event] = EventLogger()
            self.connector.add_listener(event, self.events[event])

    async def asyncTearDown(self):
        for logger in (self.connector.logger(), self.connector._order_tracker.logger()):
            logger.removeHandler(self)
        await super().asyncTearDown()

    def handle(self, record):
        self.log_records.append(record)

    def logged(self, level: str, text: str) -> bool:
        return any(r.levelname == level and text in r.getMessage() for r in self.log_records)

    def load_market(self, **kwargs):
        entry = helpers.market_entry(PAIR, "BTC", "USD", **kwargs)
        rules = self.connector._register_markets({"status": "OK", "data": [entry]})
        self.connector._trading_rules = {rule.trading_pair: rule for rule in rules}
        return entry

    def set_mark(self, mark: str):
        self.connector._perpetual_trading._funding_info[PAIR] = FundingInfo(
            PAIR, index_price=Decimal(mark), mark_price=Decimal(mark), next_funding_utc_timestamp=0, rate=Decimal(0))

    def set_book(self, bids: List[tuple], asks: List[tuple]):
        book = OrderBook()
        book.apply_snapshot([OrderBookRow(p, q, 1) for p, q in bids], [OrderBookRow(p, q, 1) for p, q in asks], 1)
        self.connector.order_book_tracker._order_books[PAIR] = book

    @staticmethod
    def posted_orders(mock_api: aioresponses) -> List[Dict[str, Any]]:
        return [json.loads(call.kwargs["data"]) for (method, request_url), calls in mock_api.requests.items()
                if method == "POST" and str(request_url) == url(CONSTANTS.ORDER_PATH) for call in calls]

    def mock_order_post(self, mock_api: aioresponses, exchange_id: int = 1882453652615987200):
        mock_api.post(url(CONSTANTS.ORDER_PATH), body=json.dumps({"status": "OK", "data": {
            "id": exchange_id, "externalId": "x"}}), repeat=True)

    def track(self, order_id: str = "HB1", exchange_order_id: str = "777", amount: str = "0.01",
              position_action: PositionAction = PositionAction.OPEN):
        self.connector.start_tracking_order(order_id=order_id, exchange_order_id=exchange_order_id,
                                            trading_pair=PAIR, trade_type=TradeType.BUY, price=Decimal("76000"),
                                            amount=Decimal(amount), order_type=OrderType.LIMIT,
                                            position_action=position_action)
        return self.connector.in_flight_orders[order_id]

    async def run_stream(self, *events: Dict[str, Any]):
        queue = AsyncMock()
        queue.get.side_effect = [*events, asyncio.CancelledError]
        self.connector._user_stream_tracker._user_stream = queue
        try:
            await self.connector._user_stream_event_listener()
        except asyncio.CancelledError:
            pass
        await asyncio.sleep(0.05)


class OrderPlacementTests(ConnectorTestCase):
    @aioresponses()
    async def test_limit_maker_is_post_only_and_a_crossing_one_fails_with_its_reason(self, mock_api):
        self.mock_order_post(mock_api)
        order_id = self.connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT_MAKER, Decimal("76000"),
                                      position_action=PositionAction.OPEN)
        await asyncio.sleep(0.1)
        [body] = self.posted_orders(mock_api)
        self.assertEqual((True, "GTT", "LIMIT"), (body["postOnly"], body["timeInForce"], body["type"]))
        self.assertTrue(helpers.order_signature_valid(body, helpers.sdk_market_model(helpers.market_entry(
            PAIR, "BTC", "USD")), helpers.STARK_PUBLIC_KEY, helpers.VAULT, MAINNET_CONFIG.signing.starknet_domain))

        rejected = {"id": 1882453652615987200, "accountId": 3001, "externalId": order_id, "market": PAIR,
                    "type": "LIMIT", "side": "BUY", "status": "REJECTED", "statusReason": "POST_ONLY_FAILED",
                    "price": "76000", "averagePrice": "0", "qty": "0.001", "filledQty": "0", "payedFee": "0",
                    "reduceOnly": False, "postOnly": True, "createdTime": 1, "updatedTime": 2, "timeInForce": "GTT"}
        await self.run_stream({"type": "ORDER", "data": {"orders": [rejected]}, "ts": 2, "seq": 9})

        [failure] = self.events[MarketEvent.OrderFailure].event_log
        self.assertEqual((order_id, "POST_ONLY_FAILED"), (failure.order_id, failure.error_type))
        self.assertIn("post-only order would have taken liquidity", failure.error_message)
        self.assertNotIn(order_id, self.connector.in_flight_orders)

    @aioresponses()
    async def test_market_orders_are_ioc_bounded_by_the_book_and_the_price_cap(self, mock_api):
        self.mock_order_post(mock_api)
        self.set_book(bids=[(77200, 1)], asks=[(77300, 1)])
        self.set_mark("77000")
        self.connector.buy(PAIR, Decimal("0.001"), OrderType.MARKET, position_action=PositionAction.OPEN)
        self.connector.sell(PAIR, Decimal("0.001"), OrderType.MARKET, position_action=PositionAction.OPEN)
        await asyncio.sleep(0.1)
        self.set_mark("74000")  # the buy bound 77300 x 1.0075 now exceeds the 5% cap over the mark
        self.connector.buy(PAIR, Decimal("0.001"), OrderType.MARKET, position_action=PositionAction.OPEN)
        await asyncio.sleep(0.1)

        buy, sell, capped = self.posted_orders(mock_api)
        self.assertEqual(("MARKET", "IOC", "BUY", Decimal("77879")),
                         (buy["type"], buy["timeInForce"], buy["side"], Decimal(buy["price"])))
        self.assertEqual(("SELL", Decimal("76621")), (sell["side"], Decimal(sell["price"])))
        self.assertEqual(Decimal("77700"), Decimal(capped["price"]))

    async def test_market_order_without_book_or_mark_fails_clearly(self):
        self.connector._markets[PAIR] = self.connector._markets[PAIR].__class__(
            **{**self.connector._markets[PAIR].__dict__, "stats": None})
        with self.assertRaises(ValueError) as error:
            await self.connector._place_order("HB1", PAIR, Decimal("0.001"), TradeType.BUY, OrderType.MARKET,
                                              Decimal("NaN"), PositionAction.OPEN)
        self.assertIn("No order book and no mark price for BTC-USD yet", str(error.exception))

    @aioresponses()
    async def test_local_checks_refuse_before_signing(self, mock_api):
        self.mock_order_post(mock_api)
        self.set_mark("77000")
        cases = [
            (Decimal("0.000105"), Decimal("76000"), TradeType.BUY, "not a multiple of the size step 0.00001"),
            (Decimal("0.00005"), Decimal("76000"), TradeType.BUY, "below the minimum order size 0.0001"),
            (Decimal("0.001"), Decimal("76000.5"), TradeType.BUY, "not a multiple of the price tick 1"),
            (Decimal("200"), Decimal("76000"), TradeType.BUY, "above the maximum order value 15000000"),
            (Decimal("0.001"), Decimal("80851"), TradeType.BUY, "above the limit price cap of BTC-USD"),
            (Decimal("0.001"), Decimal("73149"), TradeType.SELL, "below the limit price floor of BTC-USD"),
        ]
        for amount, price, side, message in cases:
            with self.assertRaises(ValueError) as error:
                await self.connector._place_order("HB1", PAIR, amount, side, OrderType.LIMIT, price,
                                                  PositionAction.OPEN)
            self.assertIn(message, str(error.exception))
        # None of those was sent; at the cap itself the order goes out.
        self.assertEqual(0, len(mock_api.requests))
        self.connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, Decimal("80850"),
                           position_action=PositionAction.OPEN)
        await asyncio.sleep(0.05)
        self.assertEqual([Decimal("80850")], [Decimal(body["price"]) for body in self.posted_orders(mock_api)])

    @aioresponses()
    async def test_market_status_is_respected(self, mock_api):
        self.mock_order_post(mock_api)
        self.load_market(status="REDUCE_ONLY")
        self.connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, Decimal("76000"),
                           position_action=PositionAction.OPEN)
        await asyncio.sleep(0.05)
        self.assertTrue(self.logged("WARNING", "BTC-USD is in REDUCE_ONLY mode on Extended: only orders that close a "
                                               "position are accepted."))
        self.connector.sell(PAIR, Decimal("0.001"), OrderType.LIMIT, Decimal("78000"),
                            position_action=PositionAction.CLOSE)
        await asyncio.sleep(0.05)
        [closing] = self.posted_orders(mock_api)
        self.assertEqual((True, "SELL"), (closing["reduceOnly"], closing["side"]))

        self.load_market(status="DISABLED")
        with self.assertRaises(ValueError) as error:
            await self.connector._place_order("HB2", PAIR, Decimal("0.001"), TradeType.SELL, OrderType.LIMIT,
                                              Decimal("78000"), PositionAction.CLOSE)
        self.assertEqual("BTC-USD is DISABLED on Extended and takes no orders.", str(error.exception))
        self.connector.sell(PAIR, Decimal("0.001"), OrderType.LIMIT, Decimal("78000"),
                            position_action=PositionAction.CLOSE)
        await asyncio.sleep(0.05)
        self.assertTrue(self.logged("WARNING", "BTC-USD is DISABLED on Extended and takes no orders."))
        self.assertEqual(1, len(self.posted_orders(mock_api)))

    @aioresponses()
    async def test_account_fee_rates_are_the_max_fee_and_the_estimates(self, mock_api):
        mock_api.get(url(CONSTANTS.FEES_PATH), body=json.dumps(helpers.payload_objects(
            "extended_17_account_rest.txt")[4]))
        self.mock_order_post(mock_api)
        await self.connector._update_trading_fees()
        self.connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, Decimal("76000"),
                           position_action=PositionAction.OPEN)
        await asyncio.sleep(0.05)
        [body] = self.posted_orders(mock_api)
        self.assertEqual(Decimal("0.00025"), Decimal(body["fee"]))
        taker = self.connector.get_fee("BTC", "USD", OrderType.LIMIT, TradeType.BUY, PositionAction.OPEN,
                                       Decimal(1), Decimal(1), is_maker=False)
        maker = self.connector.get_fee("BTC", "USD", OrderType.LIMIT_MAKER, TradeType.BUY, PositionAction.OPEN,
                                       Decimal(1), Decimal(1))
        self.assertEqual((Decimal("0.00025"), Decimal("0")), (taker.percent, maker.percent))

    @aioresponses()
    async def test_leverage_is_clamped_to_the_market_maximum(self, mock_api):
        mock_api.patch(url(CONSTANTS.LEVERAGE_PATH), body='{"status": "OK", "data": {}}')
        self.connector.set_leverage(PAIR, 100)
        await asyncio.sleep(0.05)
        self.assertTrue(self.logged("WARNING", "Leverage 100 is above the maximum 50.00 of BTC-USD on Extended; 50 is "
                                               "used instead."))
        [call] = [call for calls in mock_api.requests.values() for call in calls]
        self.assertEqual({"market": PAIR, "leverage": "50"}, json.loads(call.kwargs["data"]))
        self.assertEqual(50, self.connector.get_leverage(PAIR))


class FillTests(ConnectorTestCase):
    async def test_stream_fill_without_external_id_is_matched_by_order_id(self):
        order = self.track(exchange_order_id="1811328331287359488", amount="0.001")
        trade_frame = helpers.payload_objects("extended_14_account_stream.txt")[4]
        await self.run_stream(trade_frame)
        [fill] = self.events[MarketEvent.OrderFilled].event_log
        self.assertEqual((order.client_order_id, Decimal("58249.8"), Decimal("0.001")),
                         (fill.order_id, fill.price, fill.amount))
        self.assertEqual(AddedToCostTradeFee(percent_token="USD", flat_fees=[
            TokenAmount("USD", Decimal("0.0291240000000000"))]), fill.trade_fee)

    async def test_stream_fill_naming_the_client_id_externalOrderId_is_attributed_at_once(self):
        # The stream's TRADE rows name the client order id `externalOrderId` (REST: `externalId`): the fill belongs to
        # the order even though its exchange id is not known yet.
        order = self.track(order_id="HB8", exchange_order_id=None, amount="0.001")
        trade = dict(helpers.payload_objects("extended_14_account_stream.txt")[4]["data"]["trades"][0],
                     externalOrderId="HB8")
        await self.run_stream({"type": "TRADE", "data": {"trades": [trade]}, "ts": 1, "seq": 3})
        [fill] = self.events[MarketEvent.OrderFilled].event_log
        self.assertEqual(("HB8", Decimal("0.001")), (fill.order_id, fill.amount))
        self.assertEqual(Decimal("0.001"), order.executed_amount_base)

    async def test_fill_arriving_before_the_order_id_is_known_is_applied_later(self):
        order = self.track(order_id="HB7", exchange_order_id=None, amount="0.001")
        trade = dict(helpers.payload_objects("extended_14_account_stream.txt")[4]["data"]["trades"][0])
        await self.run_stream({"type": "TRADE", "data": {"trades": [trade]}, "ts": 1, "seq": 3})
        self.assertEqual([], self.events[MarketEvent.OrderFilled].event_log)

        filled = {"id": trade["orderId"], "accountId": 3004, "externalId": "HB7", "market": PAIR, "type": "LIMIT",
                  "side": "BUY", "status": "FILLED", "price": "58249.8", "averagePrice": "58249.8", "qty": "0.001",
                  "filledQty": "0.001", "reduceOnly": False, "postOnly": False, "createdTime": 1,
                  "updatedTime": 2, "timeInForce": "GTT"}
        await self.run_stream({"type": "ORDER", "data": {"orders": [filled]}, "ts": 2, "seq": 4})
        self.assertEqual(1, len(self.events[MarketEvent.OrderFilled].event_log))
        self.assertEqual(1, len(self.events[MarketEvent.BuyOrderCompleted].event_log))
        self.assertEqual(str(trade["orderId"]), order.exchange_order_id)

    @aioresponses()
    async def test_reconnection_snapshot_recovers_fills_over_rest(self, mock_api):
        order = self.track(order_id="HB9", exchange_order_id="555", amount="0.002")
        status = {"id": 555, "accountId": 3001, "externalId": "HB9", "market": PAIR, "type": "LIMIT", "side": "BUY",
                  "status": "FILLED", "price": "76000", "averagePrice": "76000", "qty": "0.002",
                  "filledQty": "0.002", "reduceOnly": False, "postOnly": False, "createdTime": 1,
                  "updatedTime": 1640780002000, "timeInForce": "GTT"}
        mock_api.get(url(CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH.format(external_id="HB9")),
                     body=json.dumps({"status": "OK", "data": [status]}))
        fills = [{"id": 9000 + i, "accountId": 3001, "market": PAIR, "orderId": 555, "side": "BUY", "price": "76000",
                  "qty": "0.001", "value": "76", "fee": "0.0152", "isTaker": False, "tradeType": "TRADE",
                  "createdTime": 1640780001000} for i in range(2)]
        mock_api.get(prefix(CONSTANTS.ACCOUNT_TRADES_PATH), body=json.dumps({"status": "OK", "data": fills,
                                                                             "pagination": {"count": 2}}))

        await self.run_stream({"type": "ORDER", "data": {"isSnapshot": True, "orders": []}, "ts": 1, "seq": 1})
        await asyncio.sleep(0.1)

        self.assertEqual([Decimal("0.0152")] * 2, [fill.trade_fee.flat_fees[0].amount
                                                   for fill in self.events[MarketEvent.OrderFilled].event_log])
        self.assertTrue(order.is_filled)
        self.assertEqual(1, len(self.events[MarketEvent.BuyOrderCompleted].event_log))

    @aioresponses()
    async def test_batch_cancel_is_one_mass_cancel(self, mock_api):
        self.track(order_id="HB1", exchange_order_id="1")
        self.track(order_id="HB2", exchange_order_id="2")
        mock_api.post(url(CONSTANTS.MASS_CANCEL_PATH), body='{"status": "OK", "data": {}}')
        self.connector.batch_order_cancel([
            LimitOrder("HB1", PAIR, True, "BTC", "USD", Decimal("76000"), Decimal("0.01")),
            LimitOrder("HB2", PAIR, True, "BTC", "USD", Decimal("76000"), Decimal("0.01")),
            LimitOrder("unknown", PAIR, True, "BTC", "USD", Decimal("76000"), Decimal("0.01"))])
        await asyncio.sleep(0.05)
        [call] = [call for calls in mock_api.requests.values() for call in calls]
        self.assertEqual({"externalOrderIds": ["HB1", "HB2"]}, json.loads(call.kwargs["data"]))
        self.assertTrue(all(o.is_pending_cancel_confirmation for o in self.connector.in_flight_orders.values()))


class AccountTests(ConnectorTestCase):
    @aioresponses()
    async def test_positions_from_rest(self, mock_api):
        body = helpers.payload_objects("extended_17_account_rest.txt")[1]
        mock_api.get(url(CONSTANTS.POSITIONS_PATH), body=json.dumps(body))
        mock_api.get(url(CONSTANTS.POSITIONS_PATH), body=json.dumps({"status": "OK", "data": []}))
        await self.connector._update_positions()
        position = self.connector.account_positions[PAIR]
        self.assertEqual((PositionSide.LONG, Decimal("0.1"), Decimal("39000"), Decimal("1000"), Decimal("10")),
                         (position.position_side, position.amount, position.entry_price, position.unrealized_pnl,
                          position.leverage))
        await self.connector._update_positions()
        self.assertEqual({}, self.connector.account_positions)

    async def test_stream_balance_and_position_snapshots(self):
        frames = helpers.payload_objects("extended_14_account_stream.txt")
        stale = Position(PAIR, PositionSide.SHORT, Decimal(0), Decimal("70000"), Decimal("-1"), Decimal(5))
        self.connector._perpetual_trading.set_position(PAIR, stale)
        await self.run_stream(*frames[:3])
        self.assertEqual({"USD": Decimal("7.667333")}, self.connector.get_all_balances())
        self.assertEqual({}, self.connector.account_positions)


class ConnectPathTests(ConnectorTestCase):
    """`connect extended_perpetual` builds the connector without trading and calls _update_balances() alone."""
    trading_required = False

    @aioresponses()
    async def test_balance_and_zero_balance(self, mock_api):
        mock_api.get(url(CONSTANTS.BALANCE_PATH), body=json.dumps(helpers.payload_objects(
            "extended_17_account_rest.txt")[0]))
        await self.connector._update_balances()
        self.assertEqual({"USD": Decimal("7.667333")}, self.connector.get_all_balances())
        mock_api.get(url(CONSTANTS.BALANCE_PATH), status=404, body="")
        await self.connector._update_balances()
        self.assertEqual({"USD": Decimal(0)}, self.connector.available_balances)

    @aioresponses()
    async def test_bad_api_key(self, mock_api):
        mock_api.get(url(CONSTANTS.BALANCE_PATH), status=401,
                     body=json.dumps({"status": "ERROR", "error": {"code": 401, "message": "Unauthorized"}}))
        with self.assertRaises(ExtendedKeyError) as error:
            await self.connector._update_balances()
        self.assertEqual(UNAUTHORIZED_MESSAGE, str(error.exception))

    @aioresponses()
    async def test_bad_stark_keys_are_reported_before_any_request(self, mock_api):
        cases = (("0xnothex", helpers.STARK_PUBLIC_KEY, "The Stark private key is not a valid key"),
                 (helpers.STARK_PRIVATE_KEY, hex(int(helpers.STARK_PUBLIC_KEY, 16) ^ 1),
                  "The Stark public key does not belong to the Stark private key"))
        for private_key, public_key, sentence in cases:
            connector = ExtendedPerpetualDerivative(helpers.API_KEY, private_key, public_key, helpers.VAULT,
                                                    trading_pairs=[], trading_required=False)
            with self.assertRaises(ExtendedKeyError) as error:
                await connector._update_balances()
            self.assertTrue(str(error.exception).startswith(sentence))
        self.assertEqual(0, len(mock_api.requests))
