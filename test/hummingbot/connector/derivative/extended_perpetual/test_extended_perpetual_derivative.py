import asyncio
import json
import re
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple

from aioresponses import aioresponses
from aioresponses.core import RequestCall

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_transactions import STARKNET_DOMAINS
from hummingbot.connector.test_support.perpetual_derivative_test import AbstractPerpetualDerivativeTests
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.core.data_type.cancellation_result import CancellationResult
from hummingbot.core.data_type.common import OrderType, PositionAction, PositionMode, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder
from hummingbot.core.data_type.trade_fee import AddedToCostTradeFee, TokenAmount
from test.hummingbot.connector.derivative.extended_perpetual import extended_perpetual_test_helpers as helpers

ORDER_TIME_MS = 1640780000000


def _url(path: str) -> str:
    return web_utils.public_rest_url(path)


def _pattern(url: str, rest: str = "") -> re.Pattern:
    return re.compile("^" + re.escape(url) + rest)


class ExtendedPerpetualDerivativeTests(helpers.IsolatedConnections,
                                       AbstractPerpetualDerivativeTests.PerpetualDerivativeTests):
    """Hummingbot's conformance suite with REST mocked at the wire. Posted orders are decoded and their Stark
    signature verified with the x10 SDK's own hash and fast_stark_crypto."""

    @property
    def market(self) -> str:
        return self.exchange_trading_pair

    def market_entry(self, **kwargs) -> Dict[str, Any]:
        # The same rules as the suite's _simulate_trading_rules_initialized.
        return helpers.market_entry(self.market, self.base_asset, self.quote_asset, min_order_size="0.01",
                                    size_step="0.000001", tick="0.0001", mark_price="10000", **kwargs)

    # ----- URLs -----

    @property
    def all_symbols_url(self):
        return _url(CONSTANTS.MARKETS_PATH)

    @property
    def latest_prices_url(self):
        return _url(CONSTANTS.MARKET_STATS_PATH.format(market=self.market))

    @property
    def network_status_url(self):
        return _pattern(_url(CONSTANTS.MARKETS_PATH), r"\?market=")

    @property
    def trading_rules_url(self):
        return _url(CONSTANTS.MARKETS_PATH)

    @property
    def order_creation_url(self):
        return _url(CONSTANTS.ORDER_PATH)

    @property
    def balance_url(self):
        return _url(CONSTANTS.BALANCE_PATH)

    @property
    def funding_info_url(self):
        return _pattern(_url(CONSTANTS.MARKETS_PATH), rf"\?market={self.market}$")

    @property
    def funding_payment_url(self):
        return _pattern(_url(CONSTANTS.FUNDING_PAYMENTS_PATH), r"\?")

    # ----- REST answers -----

    @property
    def all_symbols_request_mock_response(self):
        return {"status": "OK", "data": [self.market_entry()]}

    @property
    def latest_prices_request_mock_response(self):
        stats = dict(self.market_entry()["marketStats"], lastPrice=str(self.expected_latest_price))
        return {"status": "OK", "data": stats}

    @property
    def all_symbols_including_invalid_pair_mock_response(self) -> Tuple[str, Any]:
        delisted = helpers.market_entry("INVALID-PAIR", "INVALID", "PAIR", status="DELISTED")
        return "INVALID-PAIR", {"status": "OK", "data": [self.market_entry(), delisted]}

    @property
    def network_status_request_successful_mock_response(self):
        return {"status": "OK", "data": [self.market_entry()]}

    @property
    def trading_rules_request_mock_response(self):
        return {"status": "OK", "data": [self.market_entry()]}

    @property
    def trading_rules_request_erroneous_mock_response(self):
        entry = self.market_entry()
        del entry["tradingConfig"]
        return {"status": "OK", "data": [entry]}

    @property
    def order_creation_request_successful_mock_response(self):
        return {"status": "OK", "data": {"id": self.expected_exchange_order_id, "externalId": "ignored"}}

    @property
    def balance_request_mock_response_for_base_and_quote(self):
        return {"status": "OK", "data": self._balance(self.quote_asset, equity="2000", available="1500")}

    @property
    def balance_request_mock_response_only_base(self):
        return {"status": "OK", "data": self._balance(self.base_asset, equity="15", available="10")}

    @property
    def balance_event_websocket_update(self):
        return {"type": "BALANCE", "data": {"balance": self._balance(self.base_asset, equity="15", available="10")},
                "ts": ORDER_TIME_MS, "seq": 4}

    @staticmethod
    def _balance(asset: str, equity: str, available: str) -> Dict[str, Any]:
        return {"collateralName": asset, "balance": equity, "status": "ACTIVE", "equity": equity,
                "availableForTrade": available, "availableForWithdrawal": available, "unrealisedPnl": "0",
                "initialMargin": "0", "marginRatio": "0", "updatedTime": ORDER_TIME_MS, "exposure": "0",
                "leverage": "0"}

    @property
    def expected_latest_price(self):
        return 9999.9

    @property
    def expected_supported_order_types(self):
        return [OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET]

    @property
    def expected_trading_rule(self):
        return TradingRule(trading_pair=self.trading_pair, min_order_size=Decimal("0.01"),
                           min_price_increment=Decimal("0.0001"), min_base_amount_increment=Decimal("0.000001"),
                           buy_order_collateral_token=self.quote_asset, sell_order_collateral_token=self.quote_asset)

    @property
    def expected_logged_error_for_erroneous_trading_rule(self):
        return f"Error parsing the trading pair rule {self.market}. Skipping."

    @property
    def expected_exchange_order_id(self):
        return 1882453652615987200

    @property
    def is_order_fill_http_update_included_in_status_update(self) -> bool:
        return True

    @property
    def is_order_fill_http_update_executed_during_websocket_order_event_processing(self) -> bool:
        return False

    @property
    def expected_partial_fill_price(self) -> Decimal:
        return Decimal("10500")

    @property
    def expected_partial_fill_amount(self) -> Decimal:
        return Decimal("0.5")

    @property
    def expected_fill_fee(self) -> AddedToCostTradeFee:
        return AddedToCostTradeFee(percent_token=self.quote_asset,
                                   flat_fees=[TokenAmount(token=self.quote_asset, amount=Decimal("30"))])

    @property
    def expected_fill_trade_id(self) -> str:
        return "1882453653665611778"

    @property
    def expected_supported_position_modes(self) -> List[PositionMode]:
        return [PositionMode.ONEWAY]

    @property
    def funding_info_mock_response(self):
        entry = self.market_entry()
        entry["marketStats"].update({"indexPrice": str(self.target_funding_info_index_price),
                                     "markPrice": str(self.target_funding_info_mark_price),
                                     "fundingRate": str(self.target_funding_info_rate),
                                     "nextFundingRate": self.target_funding_info_next_funding_utc_timestamp * 1000})
        return {"status": "OK", "data": [entry]}

    @property
    def empty_funding_payment_mock_response(self):
        return {"status": "OK", "data": [], "pagination": {"count": 0}}

    @property
    def funding_payment_mock_response(self):
        # fundingFee is what the account paid: a negative fee is a payment received.
        return {"status": "OK", "pagination": {"cursor": 8341, "count": 1}, "data": [{
            "id": 8341, "accountId": 3001, "market": self.market, "positionId": 1821237954501148672, "side": "LONG",
            "size": "1", "value": "10000", "markPrice": "10000",
            "fundingFee": str(-self.target_funding_payment_payment_amount),
            "fundingRate": str(self.target_funding_payment_funding_rate),
            "paidTime": self.target_funding_payment_timestamp * 1000}]}

    # ----- connector -----

    def exchange_symbol_for_tokens(self, base_token: str, quote_token: str) -> str:
        return f"{base_token}-{quote_token}"

    def create_exchange_instance(self):
        return ExtendedPerpetualDerivative(
            extended_perpetual_api_secret=helpers.API_KEY,
            extended_perpetual_stark_private_key=helpers.STARK_PRIVATE_KEY,
            extended_perpetual_stark_public_key=helpers.STARK_PUBLIC_KEY, extended_perpetual_vault=helpers.VAULT,
            trading_pairs=[self.trading_pair])

    def _simulate_trading_rules_initialized(self):
        # Signing needs the market's settlement settings as well as its rules: load both from the markets answer.
        rules = self.exchange._register_markets(self.trading_rules_request_mock_response)
        self.exchange._trading_rules = {rule.trading_pair: rule for rule in rules}

    # ----- request validation -----

    def validate_auth_credentials_present(self, request_call: RequestCall):
        headers = request_call.kwargs["headers"]
        self.assertEqual(helpers.API_KEY, headers[CONSTANTS.API_KEY_HEADER])
        self.assertNotIn(helpers.API_KEY, json.dumps(request_call.kwargs.get("params") or {}))
        self.assertNotIn(helpers.API_KEY, str(request_call.kwargs.get("data") or ""))

    def validate_order_creation_request(self, order: InFlightOrder, request_call: RequestCall):
        body = json.loads(request_call.kwargs["data"])
        position = getattr(order, "position", PositionAction.NIL)
        self.assertEqual(order.client_order_id, body["id"])
        self.assertEqual(self.market, body["market"])
        self.assertEqual("BUY" if order.trade_type == TradeType.BUY else "SELL", body["side"])
        self.assertEqual(order.amount, Decimal(body["qty"]))
        self.assertEqual(order.price, Decimal(body["price"]))
        self.assertEqual("MARKET" if order.order_type == OrderType.MARKET else "LIMIT", body["type"])
        self.assertEqual("IOC" if order.order_type == OrderType.MARKET else "GTT", body["timeInForce"])
        self.assertEqual(order.order_type == OrderType.LIMIT_MAKER, body["postOnly"])
        self.assertEqual(position == PositionAction.CLOSE, body["reduceOnly"])
        self.assertEqual(CONSTANTS.DEFAULT_TAKER_FEE, Decimal(body["fee"]))
        self.assertNotIn(helpers.STARK_PRIVATE_KEY[2:], request_call.kwargs["data"])
        self.assertTrue(helpers.order_signature_valid(
            body, helpers.sdk_market_model(self.market_entry()), helpers.STARK_PUBLIC_KEY, helpers.VAULT,
            STARKNET_DOMAINS[CONSTANTS.DEFAULT_DOMAIN]))

    def validate_order_cancelation_request(self, order: InFlightOrder, request_call: RequestCall):
        self.assertEqual({"externalId": order.client_order_id}, request_call.kwargs["params"])
        self.assertIsNone(request_call.kwargs["data"])

    def validate_order_status_request(self, order: InFlightOrder, request_call: RequestCall):
        self.assertIsNone(request_call.kwargs["params"])
        self.assertIsNone(request_call.kwargs["data"])

    def validate_trades_request(self, order: InFlightOrder, request_call: RequestCall):
        # One read of the account's fills in every market, not one per order (no account stream yet: a gap).
        self.assertEqual({"limit": CONSTANTS.TRADES_PAGE_SIZE}, request_call.kwargs["params"])

    # ----- mocked answers -----

    def _order_json(self, order: InFlightOrder, status: str, filled: Decimal = Decimal(0),
                    reason: Optional[str] = None) -> Dict[str, Any]:
        data = {
            "id": int(order.exchange_order_id or self.expected_exchange_order_id), "accountId": 3001,
            "externalId": order.client_order_id, "market": self.market, "type": "LIMIT",
            "side": "BUY" if order.trade_type == TradeType.BUY else "SELL", "status": status,
            "price": str(order.price), "averagePrice": str(order.price if filled else 0), "qty": str(order.amount),
            "filledQty": str(filled), "payedFee": "0", "reduceOnly": False, "postOnly": False,
            "createdTime": ORDER_TIME_MS, "updatedTime": ORDER_TIME_MS + 1000, "timeInForce": "GTT",
            "expireTime": ORDER_TIME_MS + 86_400_000}
        if reason:
            data["statusReason"] = reason
        return data

    def _trade_json(self, order: InFlightOrder, amount: Decimal, price: Decimal) -> Dict[str, Any]:
        return {"id": int(self.expected_fill_trade_id), "accountId": 3001, "market": self.market,
                "orderId": int(order.exchange_order_id), "externalId": order.client_order_id,
                "side": "BUY" if order.trade_type == TradeType.BUY else "SELL", "price": str(price),
                "qty": str(amount), "value": str(price * amount), "fee": "30", "tradeType": "TRADE",
                "isTaker": True, "createdTime": ORDER_TIME_MS + 1000}

    def _order_status_url(self, order: InFlightOrder) -> str:
        return _url(CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH.format(external_id=order.client_order_id))

    def _mock_order_status(self, order: InFlightOrder, mock_api: aioresponses, callback: Callable, status: int,
                           body: Dict[str, Any]) -> List[str]:
        url = self._order_status_url(order)
        mock_api.get(url, status=status, body=json.dumps(body), callback=callback)
        return [url]

    def _mock_trades(self, mock_api: aioresponses, callback: Optional[Callable], status: int,
                     trades: List[Dict[str, Any]]) -> str:
        url = _url(CONSTANTS.ACCOUNT_TRADES_PATH)
        body = {"status": "OK", "data": trades, "pagination": {"cursor": 1, "count": len(trades)}} if status == 200 \
            else {"status": "ERROR", "error": {"code": 1006, "message": "Internal Server Error"}}
        mock_api.get(_pattern(url, r"\?"), status=status, body=json.dumps(body), callback=callback)
        return url

    def configure_successful_cancelation_response(self, order: InFlightOrder, mock_api: aioresponses,
                                                  callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        url = _url(CONSTANTS.ORDER_PATH)
        mock_api.delete(_pattern(url, r"\?externalId="), body=json.dumps({"status": "OK"}), callback=callback)
        return url

    def configure_erroneous_cancelation_response(self, order: InFlightOrder, mock_api: aioresponses,
                                                 callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        url = _url(CONSTANTS.ORDER_PATH)
        body = {"status": "ERROR", "error": {"code": 1006, "message": "Internal Server Error"}}
        mock_api.delete(_pattern(url, r"\?externalId="), status=500, body=json.dumps(body), callback=callback)
        return url

    def configure_order_not_found_error_cancelation_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        url = _url(CONSTANTS.ORDER_PATH)
        body = {"status": "ERROR", "error": {"code": 404, "message": "Order not found"}}
        mock_api.delete(_pattern(url, r"\?externalId="), status=404, body=json.dumps(body), callback=callback)
        return url

    def configure_one_successful_one_erroneous_cancel_all_response(
            self, successful_order: InFlightOrder, erroneous_order: InFlightOrder,
            mock_api: aioresponses) -> List[str]:
        # cancel_all is one massCancel for every open order, accepted or refused as a whole.
        url = _url(CONSTANTS.MASS_CANCEL_PATH)
        mock_api.post(url, body=json.dumps({"status": "OK", "data": {}}))
        return [url]

    def configure_completely_filled_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> List[str]:
        return self._mock_order_status(order, mock_api, callback, 200, {
            "status": "OK", "data": [self._order_json(order, "FILLED", filled=order.amount)]})

    def configure_canceled_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> List[str]:
        return self._mock_order_status(order, mock_api, callback, 200, {
            "status": "OK", "data": [self._order_json(order, "CANCELLED")]})

    def configure_open_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> List[str]:
        return self._mock_order_status(order, mock_api, callback, 200, {
            "status": "OK", "data": [self._order_json(order, "NEW")]})

    def configure_http_error_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        return self._mock_order_status(order, mock_api, callback, 500, {
            "status": "ERROR", "error": {"code": 1006, "message": "Internal Server Error"}})[0]

    def configure_partially_filled_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        return self._mock_order_status(order, mock_api, callback, 200, {
            "status": "OK",
            "data": [self._order_json(order, "PARTIALLY_FILLED", filled=self.expected_partial_fill_amount)]})[0]

    def configure_order_not_found_error_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> List[str]:
        return self._mock_order_status(order, mock_api, callback, 404, {
            "status": "ERROR", "error": {"code": 404, "message": "Order not found"}})

    def configure_partial_fill_trade_response(self, order: InFlightOrder, mock_api: aioresponses,
                                              callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        return self._mock_trades(mock_api, callback, 200, [self._trade_json(
            order, self.expected_partial_fill_amount, self.expected_partial_fill_price)])

    def configure_erroneous_http_fill_trade_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        return self._mock_trades(mock_api, callback, 500, [])

    def configure_full_fill_trade_response(self, order: InFlightOrder, mock_api: aioresponses,
                                           callback: Optional[Callable] = None) -> str:
        return self._mock_trades(mock_api, callback, 200, [self._trade_json(order, order.amount, order.price)])

    def configure_successful_set_position_mode(self, position_mode: PositionMode, mock_api: aioresponses,
                                               callback: Optional[Callable] = lambda *args, **kwargs: None):
        # Extended has no position-mode endpoint (positions are always one-way): the outcome is known at once.
        callback()

    def configure_failed_set_position_mode(self, position_mode: PositionMode, mock_api: aioresponses,
                                           callback: Optional[Callable] = lambda *args, **kwargs: None
                                           ) -> Tuple[str, str]:
        # No request is made for a mode Extended does not have: the outcome is known at once.
        callback()
        return "", "Extended keeps one position per market (ONEWAY); it has no HEDGE mode."

    def configure_failed_set_leverage(self, leverage: int, mock_api: aioresponses,
                                      callback: Optional[Callable] = lambda *args, **kwargs: None) -> Tuple[str, str]:
        url = _url(CONSTANTS.LEVERAGE_PATH)
        body = {"status": "ERROR", "error": {"code": 1050, "message": "Leverage exceeds max leverage."}}
        mock_api.patch(url, status=400, body=json.dumps(body), callback=callback)
        return url, ("Extended refused PATCH /user/leverage (HTTP 400, error 1050): Leverage exceeds max "
                     "leverage.")

    def configure_successful_set_leverage(self, leverage: int, mock_api: aioresponses,
                                          callback: Optional[Callable] = lambda *args, **kwargs: None):
        url = _url(CONSTANTS.LEVERAGE_PATH)

        def check_body(url, **kwargs):
            self.assertEqual({"market": self.market, "leverage": str(leverage)}, json.loads(kwargs["data"]))
            callback()

        mock_api.patch(url, body=json.dumps({"status": "OK", "data": {}}), callback=check_body)
        return url

    # ----- stream events -----

    def order_event_for_new_order_websocket_update(self, order: InFlightOrder):
        return {"type": "ORDER", "data": {"orders": [self._order_json(order, "NEW")]}, "ts": ORDER_TIME_MS,
                "seq": 5}

    def order_event_for_canceled_order_websocket_update(self, order: InFlightOrder):
        return {"type": "ORDER", "data": {"orders": [self._order_json(order, "CANCELLED")]}, "ts": ORDER_TIME_MS,
                "seq": 5}

    def order_event_for_full_fill_websocket_update(self, order: InFlightOrder):
        return {"type": "ORDER", "data": {"orders": [self._order_json(order, "FILLED", filled=order.amount)]},
                "ts": ORDER_TIME_MS, "seq": 6}

    def trade_event_for_full_fill_websocket_update(self, order: InFlightOrder):
        return {"type": "TRADE", "data": {"trades": [self._trade_json(order, order.amount, order.price)]},
                "ts": ORDER_TIME_MS, "seq": 5}

    def position_event_for_full_fill_websocket_update(self, order: InFlightOrder, unrealized_pnl: float):
        return {"type": "POSITION", "ts": ORDER_TIME_MS, "seq": 7, "data": {"positions": [{
            "id": 1, "accountId": 3001, "market": self.market, "status": "OPENED",
            "side": "LONG" if order.trade_type == TradeType.BUY else "SHORT", "leverage": str(order.leverage),
            "size": str(order.amount), "value": str(order.amount * order.price), "openPrice": str(order.price),
            "markPrice": str(order.price), "unrealisedPnl": str(unrealized_pnl), "realisedPnl": "0",
            "createdAt": ORDER_TIME_MS, "updatedAt": ORDER_TIME_MS}]}}

    def funding_info_event_for_websocket_update(self):
        return {"data": {"m": self.market, "T": self.target_funding_info_next_funding_utc_timestamp_ws_updated * 1000,
                         "f": str(self.target_funding_info_rate_ws_updated)}, "ts": ORDER_TIME_MS, "seq": 2}

    # ----- tests -----

    def test_get_buy_and_sell_collateral_tokens(self):
        self._simulate_trading_rules_initialized()
        self.assertEqual(self.quote_asset, self.exchange.get_buy_collateral_token(self.trading_pair))
        self.assertEqual(self.quote_asset, self.exchange.get_sell_collateral_token(self.trading_pair))

    # Overridden: Extended accounts hold a single collateral asset, so the inherited expectation of separate base
    # and quote balances cannot apply. This checks the mapping (equity -> total, availableForTrade -> available) and
    # that HTTP 404 (no collateral) reads as a zero balance.
    @aioresponses()
    async def test_update_balances(self, mock_api):
        self._configure_balance_response(response=self.balance_request_mock_response_for_base_and_quote,
                                         mock_api=mock_api)
        await self.exchange._update_balances()
        self.assertEqual({self.quote_asset: Decimal("1500")}, self.exchange.available_balances)
        self.assertEqual({self.quote_asset: Decimal("2000")}, self.exchange.get_all_balances())
        request = self._all_executed_requests(mock_api, self.balance_url)[0]
        self.validate_auth_credentials_present(request)

        mock_api.get(self.balance_url, status=404,
                     body=json.dumps({"status": "ERROR", "error": {"code": 404, "message": "Balance not found"}}))
        await self.exchange._update_balances()
        self.assertEqual({CONSTANTS.COLLATERAL_TOKEN: Decimal(0)}, self.exchange.available_balances)
        self.assertEqual({CONSTANTS.COLLATERAL_TOKEN: Decimal(0)}, self.exchange.get_all_balances())

    # Overridden: Extended has only one-way positions, so switching to HEDGE cannot succeed as the inherited test
    # expects. ONEWAY is confirmed without a request; HEDGE is refused with a clear reason and the mode stays.
    @aioresponses()
    def test_set_position_mode_success(self, mock_api):
        self.exchange.set_position_mode(PositionMode.ONEWAY)
        self.async_run_with_timeout(asyncio.sleep(0.05))
        self.assertTrue(self.is_logged("INFO", f"Position mode already set to {PositionMode.ONEWAY} on exchange."))
        self.exchange.set_position_mode(PositionMode.HEDGE)
        self.assertTrue(self.is_logged(
            "ERROR", f"Failed to set position mode to {PositionMode.HEDGE}: Extended keeps one position per market "
                     f"(ONEWAY); it has no HEDGE mode."))
        self.assertEqual(PositionMode.ONEWAY, self.exchange.position_mode)
        self.assertEqual(0, len(mock_api.requests))

    # Overridden: cancel_all sends one massCancel for all open orders, which Extended answers as a whole; each order
    # counts as cancelled only once its own CANCELLED update arrives. Here the account stream confirms one order and
    # not the other (the exchange did not cancel it), and a refused massCancel cancels nothing.
    @aioresponses()
    async def test_cancel_two_orders_with_cancel_all_and_one_fails(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        for order_id, exchange_id, side in (("11", "21", TradeType.BUY), ("12", "22", TradeType.SELL)):
            self.exchange.start_tracking_order(order_id=order_id, exchange_order_id=exchange_id,
                                               trading_pair=self.trading_pair, trade_type=side,
                                               price=Decimal("10000"), amount=Decimal("1"),
                                               order_type=OrderType.LIMIT)
        orders = [self.exchange.in_flight_orders["11"], self.exchange.in_flight_orders["12"]]
        [url] = self.configure_one_successful_one_erroneous_cancel_all_response(orders[0], orders[1], mock_api)
        stream = asyncio.Queue()
        self.exchange._user_stream_tracker._user_stream = stream
        listener = asyncio.get_running_loop().create_task(self.exchange._user_stream_event_listener())
        self.addCleanup(listener.cancel)

        cancelling = asyncio.get_running_loop().create_task(self.exchange.cancel_all(1.0))
        while not self._all_executed_requests(mock_api, url):
            await asyncio.sleep(0.01)
        stream.put_nowait(self.order_event_for_canceled_order_websocket_update(orders[0]))
        results = await cancelling

        requests = self._all_executed_requests(mock_api, url)
        self.assertEqual(1, len(requests))
        self.validate_auth_credentials_present(requests[0])
        self.assertEqual({"externalOrderIds": ["11", "12"]}, json.loads(requests[0].kwargs["data"]))
        self.assertEqual([CancellationResult("11", True), CancellationResult("12", False)], results)
        self.assertEqual(["11"], [event.order_id for event in self.order_cancelled_logger.event_log])
        self.assertTrue(orders[1].is_pending_cancel_confirmation)

        error = {"status": "ERROR", "error": {"code": 1006, "message": "Internal Server Error"}}
        mock_api.post(url, status=500, body=json.dumps(error))
        results = await self.exchange.cancel_all(10)
        self.assertEqual([CancellationResult("12", False)], results)
