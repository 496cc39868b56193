import asyncio
import json
import re
import time
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple
from unittest.mock import AsyncMock, patch

from aioresponses import aioresponses
from aioresponses.core import RequestCall

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_transactions import LighterKeyError
from hummingbot.connector.test_support.perpetual_derivative_test import AbstractPerpetualDerivativeTests
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.core.data_type.common import OrderType, PositionAction, PositionMode, PositionSide, TradeType
from hummingbot.core.data_type.funding_info import FundingInfo
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState
from hummingbot.core.data_type.trade_fee import AddedToCostTradeFee, TokenAmount, TradeFeeBase
from hummingbot.core.event.events import OrderFilledEvent
from test.hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_payloads as payloads

ETH_MARKET_ID = 0
SIZE_DECIMALS = payloads.ETH_MARKET["size_decimals"]
PRICE_DECIMALS = payloads.ETH_MARKET["price_decimals"]
CALLBACK_LOOP_TURNS = 10


def url_pattern(path: str) -> re.Pattern:
    """Matches a REST path with or without query parameters (aioresponses matches the full URL)."""
    return re.compile("^" + re.escape(web_utils.public_rest_url(path)) + r"(\?.*)?$")


def decode_tx(request_call: RequestCall) -> Dict[str, Any]:
    """The multipart form fields of a sendTx/sendTxBatch request, as the exchange reads them."""
    return payloads.decode_form(request_call.kwargs["data"], request_call.kwargs["headers"]["Content-Type"])


class LighterPerpetualDerivativeTests(AbstractPerpetualDerivativeTests.PerpetualDerivativeTests):

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        # Lighter lists perpetuals by base symbol and settles every one of them in USDC.
        cls.base_asset = "ETH"
        cls.quote_asset = CONSTANTS.QUOTE_TOKEN
        cls.trading_pair = f"{cls.base_asset}-{cls.quote_asset}"

    def setUp(self) -> None:
        payloads.use_default_urls(self)
        super().setUp()
        self.expected_nonce = payloads.NEXT_NONCE
        # Start the transaction client as start_network does: it reads /nextNonce once, here from a mock of its own,
        # so tests that create or cancel orders need no /nextNonce mock. Its WebSocket cannot be opened here, so
        # transactions go over REST (the fallback), where these tests validate them.
        with aioresponses() as mock_api:
            mock_api.get(url_pattern(CONSTANTS.NEXT_NONCE_PATH),
                         body=json.dumps({"code": 200, "nonce": payloads.NEXT_NONCE}))
            self.run_async_with_timeout(self.exchange._transactions.start())
            expected = [("GET", web_utils.public_rest_url(CONSTANTS.NEXT_NONCE_PATH)), ("GET", web_utils.wss_url())]
            self.assertEqual(expected, [(method, f"{url.scheme}://{url.host}{url.path}")
                                        for method, url in mock_api.requests])

    def tearDown(self) -> None:
        self.run_async_with_timeout(self.exchange._transactions.stop())
        super().tearDown()

    def _configure_balance_response(self, response: Dict[str, Any], mock_api: aioresponses,
                                    callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        # The first balance update also proves the API key, with one authenticated read (positionFunding).
        mock_api.get(self.funding_payment_url, body=json.dumps(self.empty_funding_payment_mock_response))
        return super()._configure_balance_response(response, mock_api, callback)

    # --- URLs ----------------------------------------------------------------------------------------------------

    @property
    def all_symbols_url(self):
        return url_pattern(CONSTANTS.ORDER_BOOK_DETAILS_PATH)

    @property
    def latest_prices_url(self):
        return url_pattern(CONSTANTS.ORDER_BOOK_DETAILS_PATH)

    @property
    def network_status_url(self):
        return url_pattern(CONSTANTS.ORDER_BOOKS_PATH)

    @property
    def trading_rules_url(self):
        return url_pattern(CONSTANTS.ORDER_BOOK_DETAILS_PATH)

    @property
    def order_creation_url(self):
        return web_utils.public_rest_url(CONSTANTS.SEND_TX_PATH)

    @property
    def balance_url(self):
        return web_utils.public_rest_url(CONSTANTS.ACCOUNT_PATH)

    @property
    def funding_info_url(self):
        return url_pattern(CONSTANTS.FUNDING_RATES_PATH)

    @property
    def funding_payment_url(self):
        return url_pattern(CONSTANTS.POSITION_FUNDING_PATH)

    # --- mock responses ------------------------------------------------------------------------------------------

    @property
    def all_symbols_request_mock_response(self):
        return payloads.fresh(payloads.ORDER_BOOK_DETAILS)

    @property
    def latest_prices_request_mock_response(self):
        return payloads.fresh(payloads.ORDER_BOOK_DETAILS)

    @property
    def all_symbols_including_invalid_pair_mock_response(self) -> Tuple[str, Any]:
        response = payloads.fresh(payloads.ORDER_BOOK_DETAILS)
        delisted = payloads.fresh(payloads.ETH_MARKET)
        delisted.update(symbol="XYZ", market_id=99, status="inactive")
        response["order_book_details"].append(delisted)
        response["spot_order_book_details"].append(payloads.fresh(payloads.SPOT_MARKET))
        return "XYZ-USDC", response

    @property
    def network_status_request_successful_mock_response(self):
        return payloads.fresh(payloads.ORDER_BOOKS)

    @property
    def trading_rules_request_mock_response(self):
        return payloads.fresh(payloads.ORDER_BOOK_DETAILS)

    @property
    def trading_rules_request_erroneous_mock_response(self):
        response = payloads.fresh(payloads.ORDER_BOOK_DETAILS)
        for field in ("size_decimals", "supported_size_decimals"):
            del response["order_book_details"][0][field]
        return response

    @property
    def order_creation_request_successful_mock_response(self):
        return payloads.fresh(payloads.SEND_TX_OK)

    @property
    def balance_request_mock_response_for_base_and_quote(self):
        # A real account answer holding 2000 USDC of collateral and, as a spot balance, 15 ETH of which open orders
        # lock 5 (the assets rows' shape is Lighter's).
        account = payloads.fresh(payloads.ACCOUNT)
        account["accounts"][0].update(collateral="2000.000000", available_balance="2000.000000", assets=[
            {"symbol": self.base_asset, "asset_id": 1, "balance": "15.00000000", "locked_balance": "5.00000000"}])
        return account

    @property
    def balance_request_mock_response_only_base(self):
        # The same account answer without collateral fields: it reports the ETH spot balance only.
        account = self.balance_request_mock_response_for_base_and_quote
        for field in ("collateral", "available_balance"):
            del account["accounts"][0][field]
        account["accounts"][0]["positions"][0].update(sign=1, position="0.0000", unrealized_pnl="0.000000")
        return account

    @property
    def balance_event_websocket_update(self):
        return {"channel": f"account_all_assets:{payloads.ACCOUNT_INDEX}", "type": "update/account_all_assets",
                "assets": {"1": {"symbol": self.base_asset, "asset_id": 1, "balance": "15.00000000",
                                 "locked_balance": "5.00000000", "margin_mode": "disabled",
                                 "margin_balance": "0.00000000"}}}

    @property
    def funding_info_mock_response(self):
        return payloads.fresh(payloads.FUNDING_RATES)

    @property
    def empty_funding_payment_mock_response(self):
        return {"code": 200, "position_fundings": []}

    @property
    def funding_payment_mock_response(self):
        return {"code": 200, "position_fundings": [{
            "timestamp": self.target_funding_payment_timestamp, "market_id": ETH_MARKET_ID, "funding_id": 5134,
            "change": str(self.target_funding_payment_payment_amount),
            # Percent on the wire; the connector reports the fraction.
            "rate": str(self.target_funding_payment_funding_rate * 100),
            "position_size": "18.0193", "position_side": "long", "discount": "0.000000"}]}

    # --- expectations --------------------------------------------------------------------------------------------

    @property
    def expected_latest_price(self):
        return payloads.ETH_MARKET["last_trade_price"]

    @property
    def expected_supported_order_types(self):
        return [OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET]

    @property
    def expected_supported_position_modes(self) -> List[PositionMode]:
        return [PositionMode.ONEWAY]

    @property
    def expected_trading_rule(self):
        return TradingRule(
            trading_pair=self.trading_pair,
            min_order_size=Decimal(payloads.ETH_MARKET["min_base_amount"]),
            min_price_increment=Decimal("0.01"),
            min_base_amount_increment=Decimal("0.0001"),
            min_notional_size=Decimal(payloads.ETH_MARKET["min_quote_amount"]),
            buy_order_collateral_token=CONSTANTS.COLLATERAL_TOKEN,
            sell_order_collateral_token=CONSTANTS.COLLATERAL_TOKEN,
        )

    @property
    def expected_logged_error_for_erroneous_trading_rule(self):
        erroneous_rule = self.trading_rules_request_erroneous_mock_response["order_book_details"][0]
        return f"Error parsing the trading pair rule {erroneous_rule}. Skipping."

    @property
    def expected_exchange_order_id(self):
        return payloads.SEND_TX_OK["tx_hash"]

    @property
    def is_order_fill_http_update_included_in_status_update(self) -> bool:
        return True

    @property
    def is_order_fill_http_update_executed_during_websocket_order_event_processing(self) -> bool:
        return False

    @property
    def expected_partial_fill_price(self) -> Decimal:
        return Decimal("10000")

    @property
    def expected_partial_fill_amount(self) -> Decimal:
        return Decimal("0.1")

    @property
    def expected_fill_fee(self) -> TradeFeeBase:
        # The full fills below are maker fills (20 millionths of 10000 USDC), the partial fill a taker fill (200
        # millionths of 1000 USDC): both charge 0.2 USDC, taken from the trade itself.
        return AddedToCostTradeFee(percent_token=CONSTANTS.QUOTE_TOKEN,
                                   flat_fees=[TokenAmount(token=CONSTANTS.QUOTE_TOKEN, amount=Decimal("0.2"))])

    @property
    def expected_fill_trade_id(self) -> str:
        return "19211490282"

    # --- set-up --------------------------------------------------------------------------------------------------

    def exchange_symbol_for_tokens(self, base_token: str, quote_token: str) -> str:
        details = payloads.ORDER_BOOK_DETAILS["order_book_details"]
        return str({market["symbol"]: market["market_id"] for market in details}[base_token])

    def create_exchange_instance(self):
        exchange = LighterPerpetualDerivative(
            lighter_perpetual_api_private_key=payloads.API_PRIVATE_KEY,
            lighter_perpetual_api_key_index=payloads.API_KEY_INDEX,
            lighter_perpetual_account_index=payloads.ACCOUNT_INDEX,
            trading_pairs=[self.trading_pair],
        )
        # Market metadata (ids, decimals) as the symbol map initialisation reads it from /orderBookDetails.
        exchange._initialize_trading_pair_symbols_from_exchange_info(payloads.fresh(payloads.ORDER_BOOK_DETAILS))
        return exchange

    # --- request validation --------------------------------------------------------------------------------------

    def validate_auth_credentials_present(self, request_call: RequestCall):
        headers = request_call.kwargs.get("headers") or {}
        if str(headers.get("Content-Type", "")).startswith("multipart/form-data"):
            # Transactions carry the API key's own signature instead of a token.
            fields = decode_tx(request_call)
            infos = json.loads(fields["tx_infos"]) if "tx_infos" in fields else [fields["tx_info"]]
            for info in map(json.loads, infos):
                self.assertEqual(payloads.ACCOUNT_INDEX, info["AccountIndex"])
                self.assertEqual(payloads.API_KEY_INDEX, info["ApiKeyIndex"])
                self.assertGreater(len(info["Sig"]), 40)
            self.assertNotIn("Authorization", headers)
        else:
            deadline, account, key, signature = headers["Authorization"].split(":")
            self.assertEqual((str(payloads.ACCOUNT_INDEX), str(payloads.API_KEY_INDEX)), (account, key))
            self.assertLess(time.time(), int(deadline))
            self.assertLessEqual(int(deadline), time.time() + CONSTANTS.AUTH_TOKEN_LIFETIME + 5)
            self.assertRegex(signature, "^[0-9a-f]{160}$")

    def _assert_next_nonce(self, tx_info: Dict[str, Any]):
        self.assertEqual(self.expected_nonce, tx_info["Nonce"])
        self.expected_nonce += 1

    def validate_order_creation_request(self, order: InFlightOrder, request_call: RequestCall):
        fields = decode_tx(request_call)
        self.assertEqual(str(CONSTANTS.TX_TYPE_CREATE_ORDER), fields["tx_type"])
        tx_info = json.loads(fields["tx_info"])
        self.assertEqual(ETH_MARKET_ID, tx_info["MarketIndex"])
        self.assertEqual(int(order.client_order_id), tx_info["ClientOrderIndex"])
        self.assertEqual(int(order.amount.scaleb(SIZE_DECIMALS)), tx_info["BaseAmount"])
        self.assertEqual(int(order.price.scaleb(PRICE_DECIMALS)), tx_info["Price"])
        self.assertEqual(1 if order.trade_type == TradeType.SELL else 0, tx_info["IsAsk"])
        if order.order_type == OrderType.MARKET:
            self.assertEqual((CONSTANTS.ORDER_TYPE_MARKET, CONSTANTS.TIME_IN_FORCE_IOC),
                             (tx_info["Type"], tx_info["TimeInForce"]))
        else:
            time_in_force = (CONSTANTS.TIME_IN_FORCE_POST_ONLY if order.order_type == OrderType.LIMIT_MAKER
                             else CONSTANTS.TIME_IN_FORCE_GTT)
            self.assertEqual((CONSTANTS.ORDER_TYPE_LIMIT, time_in_force), (tx_info["Type"], tx_info["TimeInForce"]))
        self.assertEqual(1 if order.position == PositionAction.CLOSE else 0, tx_info["ReduceOnly"])
        self.assertEqual(payloads.ACCOUNT_INDEX, tx_info["AccountIndex"])
        self.assertEqual(payloads.API_KEY_INDEX, tx_info["ApiKeyIndex"])
        self._assert_next_nonce(tx_info)

    def validate_order_cancelation_request(self, order: InFlightOrder, request_call: RequestCall):
        fields = decode_tx(request_call)
        self.assertEqual(str(CONSTANTS.TX_TYPE_CANCEL_ORDER), fields["tx_type"])
        tx_info = json.loads(fields["tx_info"])
        self.assertEqual(ETH_MARKET_ID, tx_info["MarketIndex"])
        # Cancelled by client order index: no look-up of the exchange's order index.
        self.assertEqual(int(order.client_order_id), tx_info["Index"])
        self._assert_next_nonce(tx_info)

    def validate_order_status_request(self, order: InFlightOrder, request_call: RequestCall):
        params = request_call.kwargs["params"]
        self.assertEqual(payloads.ACCOUNT_INDEX, int(params["account_index"]))
        self.assertEqual(ETH_MARKET_ID, int(params["market_id"]))

    def validate_trades_request(self, order: InFlightOrder, request_call: RequestCall):
        params = request_call.kwargs["params"]
        self.assertEqual(payloads.ACCOUNT_INDEX, int(params["account_index"]))
        self.assertEqual(ETH_MARKET_ID, int(params["market_id"]))
        self.assertEqual(("timestamp", "desc"), (params["sort_by"], params["sort_dir"]))

    # --- REST configuration --------------------------------------------------------------------------------------

    def _configure_send_tx(self, mock_api: aioresponses, body: Dict[str, Any], status: int = 200,
                           callback: Optional[Callable] = None, path: str = CONSTANTS.SEND_TX_PATH) -> str:
        url = web_utils.public_rest_url(path)
        mock_api.post(url, status=status, body=json.dumps(body), callback=callback)
        return url

    @staticmethod
    def _once_answered(callback: Callable) -> Callable:
        """aioresponses calls back before it answers, and a transaction's answer reaches the order through the
        dispatcher's future a few loop turns later; signalling after those turns lets a test that reads the outcome
        as soon as it is woken see it."""
        def signal(*args, **kwargs):
            async def after_answer():
                for _ in range(CALLBACK_LOOP_TURNS):
                    await asyncio.sleep(0)
                callback(*args, **kwargs)
            asyncio.get_running_loop().create_task(after_answer())
        return signal

    def configure_successful_cancelation_response(self, order: InFlightOrder, mock_api: aioresponses,
                                                  callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        return self._configure_send_tx(mock_api, payloads.SEND_TX_OK, callback=self._once_answered(callback))

    def configure_erroneous_cancelation_response(self, order: InFlightOrder, mock_api: aioresponses,
                                                 callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        return self._configure_send_tx(mock_api, payloads.ORDER_INACTIVE, status=400,
                                       callback=self._once_answered(callback))

    def configure_order_not_found_error_cancelation_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        return self._configure_send_tx(mock_api, payloads.ORDER_NOT_ACTIVE, status=400,
                                       callback=self._once_answered(callback))

    def configure_one_successful_one_erroneous_cancel_all_response(
            self, successful_order: InFlightOrder, erroneous_order: InFlightOrder,
            mock_api: aioresponses) -> List[str]:
        # Both cancels travel in one sendTxBatch. The exchange refuses it for the invalid one after executing the
        # one before it; the nonce, re-read after the refusal, has moved past the executed cancel only.
        mock_api.get(url_pattern(CONSTANTS.NEXT_NONCE_PATH),
                     body=json.dumps({"code": 200, "nonce": payloads.NEXT_NONCE + 1}), repeat=True)
        return [self._configure_send_tx(mock_api, payloads.ORDER_INACTIVE, status=400,
                                        path=CONSTANTS.SEND_TX_BATCH_PATH)]

    def _order_json(self, order: InFlightOrder, status: str, filled: Decimal) -> Dict[str, Any]:
        raw = payloads.fresh(payloads.WS_ACCOUNT_ALL_ORDERS_FILLED["orders"]["24"][0])
        raw.update(
            client_order_index=int(order.client_order_id), client_order_id=order.client_order_id,
            market_index=ETH_MARKET_ID, owner_account_index=payloads.ACCOUNT_INDEX,
            initial_base_amount=f"{order.amount:.4f}", price=f"{order.price:.2f}",
            remaining_base_amount=f"{order.amount - filled:.4f}", is_ask=order.trade_type == TradeType.SELL,
            filled_base_amount=f"{filled:.4f}", filled_quote_amount=f"{filled * order.price:.6f}",
            type="limit", time_in_force="good-till-time", status=status,
            timestamp=1640780001, created_at=1640780000, updated_at=1640780001)
        return raw

    def _configure_order_lists(self, mock_api: aioresponses, active: List[Dict[str, Any]],
                               inactive: Optional[List[Dict[str, Any]]], callback: Optional[Callable]) -> List[str]:
        active_url = web_utils.public_rest_url(CONSTANTS.ACTIVE_ORDERS_PATH)
        mock_api.get(url_pattern(CONSTANTS.ACTIVE_ORDERS_PATH), body=json.dumps({"code": 200, "orders": active}),
                     callback=None if inactive is not None else callback)
        if inactive is None:
            return [active_url]
        mock_api.get(url_pattern(CONSTANTS.INACTIVE_ORDERS_PATH), callback=callback,
                     body=json.dumps({"code": 200, "next_cursor": "", "orders": inactive}))
        return [active_url, web_utils.public_rest_url(CONSTANTS.INACTIVE_ORDERS_PATH)]

    def configure_completely_filled_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> List[str]:
        return self._configure_order_lists(mock_api, [], [self._order_json(order, "filled", order.amount)], callback)

    def configure_canceled_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> List[str]:
        return self._configure_order_lists(mock_api, [], [self._order_json(order, "canceled", Decimal(0))], callback)

    def configure_open_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> List[str]:
        return self._configure_order_lists(mock_api, [self._order_json(order, "open", Decimal(0))], None, callback)

    def configure_http_error_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        mock_api.get(url_pattern(CONSTANTS.ACTIVE_ORDERS_PATH), status=503, callback=callback)
        return web_utils.public_rest_url(CONSTANTS.ACTIVE_ORDERS_PATH)

    def configure_partially_filled_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        partial = self._order_json(order, "open", self.expected_partial_fill_amount)
        return self._configure_order_lists(mock_api, [partial], None, callback)[0]

    def configure_order_not_found_error_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> List[str]:
        return self._configure_order_lists(mock_api, [], [], callback)

    def _trade_json(self, order: InFlightOrder, amount: Decimal, price: Decimal, maker: bool) -> Dict[str, Any]:
        trade = payloads.fresh(payloads.RECENT_TRADES["trades"][0])
        ours, theirs = ("ask", "bid") if order.trade_type == TradeType.SELL else ("bid", "ask")
        trade.update({
            "size": f"{amount:.4f}", "price": f"{price:.2f}", "usd_amount": f"{amount * price:.6f}",
            "market_id": ETH_MARKET_ID, "timestamp": 1640780000123, "maker_fee": 20, "taker_fee": 200,
            # The maker's side decides is_maker_ask.
            "is_maker_ask": (ours == "ask") == maker,
            f"{ours}_account_id": payloads.ACCOUNT_INDEX, f"{theirs}_account_id": payloads.OTHER_ACCOUNT_INDEX,
            f"{ours}_client_id": int(order.client_order_id), f"{ours}_client_id_str": order.client_order_id,
        })
        return trade

    def _configure_trades(self, mock_api: aioresponses, trades: List[Dict[str, Any]],
                          callback: Optional[Callable]) -> str:
        mock_api.get(url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH), callback=callback,
                     body=json.dumps({"code": 200, "next_cursor": "", "trades": trades}))
        return web_utils.public_rest_url(CONSTANTS.ACCOUNT_TRADES_PATH)

    def configure_partial_fill_trade_response(self, order: InFlightOrder, mock_api: aioresponses,
                                              callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        trade = self._trade_json(order, self.expected_partial_fill_amount, self.expected_partial_fill_price,
                                 maker=False)
        return self._configure_trades(mock_api, [trade], callback)

    def configure_erroneous_http_fill_trade_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        mock_api.get(url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH), status=400, callback=callback,
                     body=json.dumps({"code": 20001, "message": "invalid param"}))
        return web_utils.public_rest_url(CONSTANTS.ACCOUNT_TRADES_PATH)

    def configure_full_fill_trade_response(self, order: InFlightOrder, mock_api: aioresponses,
                                           callback: Optional[Callable] = lambda *args, **kwargs: None) -> str:
        return self._configure_trades(mock_api, [self._trade_json(order, order.amount, order.price, maker=True)],
                                      callback)

    def configure_successful_set_position_mode(self, position_mode: PositionMode, mock_api: aioresponses,
                                               callback: Optional[Callable] = lambda *args, **kwargs: None):
        # One-way is the only mode and needs no request: there is nothing to mock, so the change is announced now.
        self.assertEqual(PositionMode.ONEWAY, position_mode)
        callback()

    def configure_failed_set_position_mode(self, position_mode: PositionMode, mock_api: aioresponses,
                                           callback: Optional[Callable] = lambda *args, **kwargs: None
                                           ) -> Tuple[str, str]:
        # No request: Lighter has no HEDGE mode, and the connector says so at once.
        self.assertNotEqual(PositionMode.ONEWAY, position_mode)
        callback()
        return "", "Lighter supports one-way positions only."

    def _leverage_callback(self, leverage: int, callback: Callable) -> Callable:
        def check(url, **kwargs):
            fields = payloads.decode_form(kwargs["data"], kwargs["headers"]["Content-Type"])
            self.assertEqual(str(CONSTANTS.TX_TYPE_UPDATE_LEVERAGE), fields["tx_type"])
            tx_info = json.loads(fields["tx_info"])
            # Leverage travels as the initial margin fraction in 1/10000.
            self.assertEqual((ETH_MARKET_ID, 10_000 // leverage, CONSTANTS.CROSS_MARGIN_MODE),
                             (tx_info["MarketIndex"], tx_info["InitialMarginFraction"], tx_info["MarginMode"]))
            self._assert_next_nonce(tx_info)
            callback()
        return check

    def configure_failed_set_leverage(self, leverage: int, mock_api: aioresponses,
                                      callback: Optional[Callable] = lambda *args, **kwargs: None
                                      ) -> Tuple[str, str]:
        url = self._configure_send_tx(mock_api, payloads.NOT_ENOUGH_MARGIN, status=400,
                                      callback=self._leverage_callback(leverage, callback))
        message = payloads.NOT_ENOUGH_MARGIN["message"]
        return url, f"Lighter rejected the transaction: {message} (code {payloads.NOT_ENOUGH_MARGIN['code']})"

    def configure_successful_set_leverage(self, leverage: int, mock_api: aioresponses,
                                          callback: Optional[Callable] = lambda *args, **kwargs: None):
        return self._configure_send_tx(mock_api, payloads.SEND_TX_OK,
                                       callback=self._leverage_callback(leverage, callback))

    # --- WebSocket events ----------------------------------------------------------------------------------------

    def _orders_event(self, order: InFlightOrder, status: str, filled: Decimal) -> Dict[str, Any]:
        return {"channel": f"{CONSTANTS.WS_ACCOUNT_ORDERS_CHANNEL}:{payloads.ACCOUNT_INDEX}",
                "orders": {str(ETH_MARKET_ID): [self._order_json(order, status, filled)]},
                "type": f"update/{CONSTANTS.WS_ACCOUNT_ORDERS_CHANNEL}"}

    def order_event_for_new_order_websocket_update(self, order: InFlightOrder):
        return self._orders_event(order, "open", Decimal(0))

    def order_event_for_canceled_order_websocket_update(self, order: InFlightOrder):
        return self._orders_event(order, "canceled", Decimal(0))

    def order_event_for_full_fill_websocket_update(self, order: InFlightOrder):
        return self._orders_event(order, "filled", order.amount)

    def trade_event_for_full_fill_websocket_update(self, order: InFlightOrder):
        return {"type": f"update/{CONSTANTS.WS_ACCOUNT_TRADES_CHANNEL}",
                "channel": f"{CONSTANTS.WS_ACCOUNT_TRADES_CHANNEL}:{payloads.ACCOUNT_INDEX}",
                "trades": {str(ETH_MARKET_ID): [self._trade_json(order, order.amount, order.price, maker=True)]}}

    def position_event_for_full_fill_websocket_update(self, order: InFlightOrder, unrealized_pnl: float):
        position = payloads.fresh(payloads.WS_ACCOUNT_ALL_POSITIONS["positions"]["0"])
        position.update(
            sign=-1 if order.trade_type == TradeType.SELL else 1, position=f"{order.amount:.4f}",
            avg_entry_price=f"{order.price:.2f}", unrealized_pnl=str(unrealized_pnl),
            initial_margin_fraction=f"{Decimal(100) / order.leverage:.2f}")
        event = payloads.fresh(payloads.WS_ACCOUNT_ALL_POSITIONS)
        event.update(channel=f"{CONSTANTS.WS_ACCOUNT_POSITIONS_CHANNEL}:{payloads.ACCOUNT_INDEX}",
                     positions={str(ETH_MARKET_ID): position})
        return event

    def funding_info_event_for_websocket_update(self):
        event = payloads.fresh(payloads.WS_MARKET_STATS_SINGLE)
        event["market_stats"].update(
            index_price=str(self.target_funding_info_index_price_ws_updated),
            mark_price=str(self.target_funding_info_mark_price_ws_updated),
            current_funding_rate=str(self.target_funding_info_rate_ws_updated * 100))
        return event

    def test_get_buy_and_sell_collateral_tokens(self):
        self._simulate_trading_rules_initialized()
        self.assertEqual(CONSTANTS.COLLATERAL_TOKEN, self.exchange.get_buy_collateral_token(self.trading_pair))
        self.assertEqual(CONSTANTS.COLLATERAL_TOKEN, self.exchange.get_sell_collateral_token(self.trading_pair))

    # --- overridden inherited tests ------------------------------------------------------------------------------

    @aioresponses()
    def test_set_position_mode_success(self, mock_api):
        # Overridden: Lighter positions are one-way only; the suite switches to HEDGE. Asserted: one-way is accepted
        # without any request, and HEDGE is refused.
        self.assertTrue(self.async_run_with_timeout(
            self.exchange._trading_pair_position_mode_set(PositionMode.ONEWAY, self.trading_pair))[0])
        self.exchange.set_position_mode(PositionMode.ONEWAY)
        self.async_run_with_timeout(asyncio.sleep(0.05))
        self.assertTrue(self.is_logged("INFO", f"Position mode switched to {PositionMode.ONEWAY}."))
        self.assertEqual(PositionMode.ONEWAY, self.exchange.position_mode)
        self.assertEqual(0, len(mock_api.requests))

    def _configure_funding_info_init(self, mock_api: aioresponses):
        mock_api.get(self.funding_info_url, body=json.dumps(self.funding_info_mock_response))
        details = payloads.fresh(payloads.ORDER_BOOK_DETAILS)
        details["order_book_details"][0]["last_trade_price"] = 2361.5
        mock_api.get(url_pattern(CONSTANTS.ORDER_BOOK_DETAILS_PATH), body=json.dumps(details))

    @aioresponses()
    @patch("asyncio.Queue.get")
    def test_listen_for_funding_info_update_initializes_funding_info(self, mock_api, mock_queue_get):
        # Overridden: Lighter has no REST mark or index price. The initial funding info takes Lighter's own rate
        # from /funding-rates (an 8-hour fraction among other venues' rates, made hourly) and the last trade price
        # from /orderBookDetails; market_stats replaces both moments later.
        self._configure_funding_info_init(mock_api)
        mock_queue_get.side_effect = [asyncio.CancelledError]
        self.exchange._orderbook_ds._time = lambda: 1657098000.5

        with self.assertRaises(asyncio.CancelledError):
            self.async_run_with_timeout(self.exchange._listen_for_funding_info())

        funding_info: FundingInfo = self.exchange.get_funding_info(self.trading_pair)
        self.assertEqual(self.trading_pair, funding_info.trading_pair)
        self.assertEqual(Decimal("2361.5"), funding_info.index_price)
        self.assertEqual(Decimal("2361.5"), funding_info.mark_price)
        self.assertEqual(1657101600, funding_info.next_funding_utc_timestamp)
        self.assertEqual(Decimal("0.00009599999999999999") / 8, funding_info.rate)
        details_request = self._all_executed_requests(mock_api, url_pattern(CONSTANTS.ORDER_BOOK_DETAILS_PATH))[0]
        self.assertEqual({"market_id": ETH_MARKET_ID}, {k: int(v) for k, v in details_request.kwargs["params"].items()})

    @aioresponses()
    @patch("asyncio.Queue.get")
    def test_listen_for_funding_info_update_updates_funding_info(self, mock_api, mock_queue_get):
        # Overridden: initialising needs two requests (see the test above), the suite mocks one. Asserted: after the
        # REST initialisation a market_stats frame reaches the funding info stream with its values.
        self._configure_funding_info_init(mock_api)
        mock_queue_get.side_effect = [self.funding_info_event_for_websocket_update(), asyncio.CancelledError]

        with self.assertRaises(asyncio.CancelledError):
            self.async_run_with_timeout(self.exchange._listen_for_funding_info())

        self.assertEqual(1, self.exchange._perpetual_trading.funding_info_stream.qsize())
        update = self.exchange._perpetual_trading.funding_info_stream.get_nowait()
        self.assertEqual(self.trading_pair, update.trading_pair)
        self.assertEqual(Decimal(self.target_funding_info_index_price_ws_updated), update.index_price)
        self.assertEqual(Decimal(self.target_funding_info_mark_price_ws_updated), update.mark_price)
        self.assertEqual(Decimal(self.target_funding_info_rate_ws_updated), update.rate)

    # --- Lighter-specific behaviour ------------------------------------------------------------------------------

    @aioresponses()
    async def test_an_order_whose_create_has_not_returned_is_never_counted_not_found(self, mock_api):
        """Its transaction may still execute (held in the transaction client's recovery, or in doubt): three empty
        status polls must not make Hummingbot fail it. An order whose create returned is counted as before."""
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        for suffix, exchange_order_id in (("1", None), ("2", str(self.expected_exchange_order_id))):
            self.exchange.start_tracking_order(
                order_id=self.client_order_id_prefix + suffix, exchange_order_id=exchange_order_id,
                trading_pair=self.trading_pair, order_type=OrderType.LIMIT, trade_type=TradeType.BUY,
                price=Decimal("10000"), amount=Decimal("1"))
        in_flight, placed = (self.exchange.in_flight_orders[self.client_order_id_prefix + suffix] for suffix in "12")
        limit = self.exchange._order_tracker._lost_order_count_limit
        for _ in range(limit + 1):
            self.configure_order_not_found_error_order_status_response(order=in_flight, mock_api=mock_api)
            await self.exchange._update_order_status()

        self.assertTrue(in_flight.is_pending_create)
        self.assertIn(in_flight.client_order_id, self.exchange.in_flight_orders)
        self.assertNotIn(in_flight.client_order_id, self.exchange._order_tracker._order_not_found_records)
        self.assertNotIn(placed.client_order_id, self.exchange.in_flight_orders)

    @aioresponses()
    async def test_orders_created_together_leave_in_one_batch_with_consecutive_nonces(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        request_sent_event = asyncio.Event()
        self._configure_send_tx(mock_api, payloads.SEND_TX_BATCH_OK, path=CONSTANTS.SEND_TX_BATCH_PATH,
                                callback=lambda *args, **kwargs: request_sent_event.set())

        buy_id = self.place_buy_order(amount=Decimal("1.5"), price=Decimal("2300.25"))
        sell_id = self.place_sell_order(amount=Decimal("0.75"), price=Decimal("2400"),
                                        position_action=PositionAction.CLOSE)
        await asyncio.wait_for(request_sent_event.wait(), 1)
        await asyncio.sleep(0.05)

        batch = self._all_executed_requests(mock_api, web_utils.public_rest_url(CONSTANTS.SEND_TX_BATCH_PATH))
        self.assertEqual(1, len(batch))
        fields = decode_tx(batch[0])
        self.assertEqual([CONSTANTS.TX_TYPE_CREATE_ORDER] * 2, json.loads(fields["tx_types"]))
        infos = [json.loads(info) for info in json.loads(fields["tx_infos"])]
        self.assertEqual([(int(buy_id), 15000, 230025, 0, 0), (int(sell_id), 7500, 240000, 1, 1)],
                         [(i["ClientOrderIndex"], i["BaseAmount"], i["Price"], i["IsAsk"], i["ReduceOnly"])
                          for i in infos])
        self.assertEqual([payloads.NEXT_NONCE, payloads.NEXT_NONCE + 1], [info["Nonce"] for info in infos])
        # Each order's exchange id is its own transaction's hash, in batch order.
        self.assertEqual(payloads.SEND_TX_BATCH_OK["tx_hash"],
                         [self.exchange.in_flight_orders[oid].exchange_order_id for oid in (buy_id, sell_id)])

    @aioresponses()
    async def test_market_order_is_ioc_bounded_through_the_book(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        request_sent_event = asyncio.Event()
        mock_api.post(self.order_creation_url, body=json.dumps(payloads.SEND_TX_OK),
                      callback=lambda *args, **kwargs: request_sent_event.set())

        with patch.object(self.exchange, "get_price", return_value=Decimal("2361.32")) as get_price:
            order_id = self.place_buy_order(amount=Decimal("0.5"), price=Decimal("NaN"), order_type=OrderType.MARKET)
            await asyncio.wait_for(request_sent_event.wait(), 1)
        await asyncio.sleep(0.05)

        get_price.assert_called_with(self.trading_pair, True)
        tx_info = json.loads(decode_tx(self._all_executed_requests(mock_api, self.order_creation_url)[0])["tx_info"])
        # 1 % through the best ask, on the 0.0001 price grid of the simulated rule, floored to Lighter's 2 decimals.
        self.assertEqual((CONSTANTS.ORDER_TYPE_MARKET, CONSTANTS.TIME_IN_FORCE_IOC, 238493, 5000, 0),
                         (tx_info["Type"], tx_info["TimeInForce"], tx_info["Price"], tx_info["BaseAmount"],
                          tx_info["OrderExpiry"]))
        self.assertIn(order_id, self.exchange.in_flight_orders)

    @aioresponses()
    async def test_limit_maker_order_is_post_only(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        request_sent_event = asyncio.Event()
        mock_api.post(self.order_creation_url, body=json.dumps(payloads.SEND_TX_OK),
                      callback=lambda *args, **kwargs: request_sent_event.set())

        order_id = self.place_sell_order(amount=Decimal("2"), price=Decimal("2500.55"),
                                         order_type=OrderType.LIMIT_MAKER)
        await asyncio.wait_for(request_sent_event.wait(), 1)
        await asyncio.sleep(0.05)

        self.validate_order_creation_request(self.exchange.in_flight_orders[order_id],
                                             self._all_executed_requests(mock_api, self.order_creation_url)[0])

    @aioresponses()
    async def test_order_below_the_size_grid_fails_without_a_request(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        self.exchange._trading_rules[self.trading_pair] = TradingRule(
            self.trading_pair, min_order_size=Decimal("0.00001"), min_price_increment=Decimal("0.01"),
            min_base_amount_increment=Decimal("0.00001"))

        order_id = self.place_buy_order(amount=Decimal("0.00003"), price=Decimal("2000"))
        await asyncio.sleep(0.05)

        self.assertNotIn(order_id, self.exchange.in_flight_orders)
        self.assertEqual(order_id, self.order_failure_logger.event_log[0].order_id)
        self.assertEqual(0, len(mock_api.requests))

    @aioresponses()
    async def test_rejected_order_fails_and_nonce_is_reused(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        request_sent_event = asyncio.Event()
        self._configure_send_tx(mock_api, payloads.NOT_ENOUGH_MARGIN, status=400,
                                callback=lambda *args, **kwargs: request_sent_event.set())

        order_id = self.place_buy_order()
        await asyncio.wait_for(request_sent_event.wait(), 1)
        await asyncio.sleep(0.05)

        self.assertNotIn(order_id, self.exchange.in_flight_orders)
        self.assertEqual(order_id, self.order_failure_logger.event_log[0].order_id)
        request_sent_event.clear()
        mock_api.post(self.order_creation_url, body=json.dumps(payloads.SEND_TX_OK),
                      callback=lambda *args, **kwargs: request_sent_event.set())
        second_id = self.place_buy_order()
        await asyncio.wait_for(request_sent_event.wait(), 1)
        await asyncio.sleep(0.05)

        requests = self._all_executed_requests(mock_api, self.order_creation_url)
        self.assertEqual([payloads.NEXT_NONCE] * 2, [json.loads(decode_tx(r)["tx_info"])["Nonce"] for r in requests])
        self.assertTrue(self.exchange.in_flight_orders[second_id].is_open)

    @aioresponses()
    async def test_balance_update_reports_the_collateral_and_proves_the_key_once(self, mock_api):
        self._configure_balance_response(response=payloads.fresh(payloads.ACCOUNT), mock_api=mock_api)

        await self.exchange._update_balances()

        # A real account answer: collateral and available balance are USDC; its `assets` list is empty.
        self.assertEqual({self.quote_asset: Decimal("9100.242706")}, self.exchange.get_all_balances())
        self.assertEqual(Decimal("12582.743947"), self.exchange.available_balances[self.quote_asset])
        account_request = self._all_executed_requests(mock_api, self.balance_url)[0]
        self.assertEqual({"by": "index", "value": payloads.ACCOUNT_INDEX}, account_request.kwargs["params"])
        self.validate_auth_credentials_present(self._all_executed_requests(mock_api, self.funding_payment_url)[0])

        self._configure_balance_response(response=payloads.fresh(payloads.ACCOUNT), mock_api=mock_api)
        await self.exchange._update_balances()
        self.assertEqual(1, len(self._all_executed_requests(mock_api, self.funding_payment_url)))

    async def test_user_stats_frame_updates_the_collateral(self):
        mock_queue = AsyncMock()
        mock_queue.get.side_effect = [payloads.fresh(payloads.WS_USER_STATS), asyncio.CancelledError]
        self.exchange._user_stream_tracker._user_stream = mock_queue

        with self.assertRaises(asyncio.CancelledError):
            await self.exchange._user_stream_event_listener()

        self.assertEqual(Decimal("998.931800"), self.exchange.get_balance(self.quote_asset))
        self.assertEqual(Decimal("990.909640"), self.exchange.available_balances[self.quote_asset])

    @aioresponses()
    async def test_update_positions_from_account(self, mock_api):
        self._configure_balance_response(response=payloads.fresh(payloads.ACCOUNT), mock_api=mock_api)

        await self.exchange._update_positions()

        position = self.exchange.account_positions[self.trading_pair]
        self.assertEqual((PositionSide.LONG, Decimal("18.0193"), Decimal("2669.84"), Decimal("6197.829558"), 20),
                         (position.position_side, position.amount, position.entry_price, position.unrealized_pnl,
                          position.leverage))

        self._configure_balance_response(response=self.balance_request_mock_response_only_base, mock_api=mock_api)
        await self.exchange._update_positions()

        self.assertEqual({}, self.exchange.account_positions)

    @aioresponses()
    async def test_account_of_another_owner_is_refused(self, mock_api):
        self.exchange._l1_address = "0x000000000000000000000000000000000000dead"
        self._configure_balance_response(response=payloads.fresh(payloads.ACCOUNT), mock_api=mock_api)

        with self.assertRaises(IOError) as context:
            await self.exchange._update_balances()

        self.assertIn("does not belong to L1 address 0x000000000000000000000000000000000000dead",
                      str(context.exception))

    @aioresponses()
    async def test_unregistered_api_key_is_reported_without_the_key(self, mock_api):
        mock_api.get(self.funding_payment_url, status=400, body=json.dumps(payloads.API_KEY_NOT_FOUND))
        self._configure_balance_response(response=payloads.fresh(payloads.ACCOUNT), mock_api=mock_api)

        with self.assertRaises(LighterKeyError) as context:
            await self.exchange._update_balances()

        message = str(context.exception)
        self.assertIn(f"Lighter refused API key {payloads.API_KEY_INDEX} for account {payloads.ACCOUNT_INDEX}",
                      message)
        self.assertNotIn(payloads.API_PRIVATE_KEY.removeprefix("0x"), message)
        self.assertEqual({}, self.exchange.get_all_balances())

    @aioresponses()
    async def test_fills_missed_while_the_stream_was_down_are_recovered(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        self.exchange.start_tracking_order(order_id="11", exchange_order_id=self.expected_exchange_order_id,
                                           trading_pair=self.trading_pair, trade_type=TradeType.SELL,
                                           price=Decimal("10000"), amount=Decimal("1"), order_type=OrderType.LIMIT,
                                           position_action=PositionAction.OPEN)
        order = self.exchange.in_flight_orders["11"]
        request_sent_event = asyncio.Event()
        trades = [self._trade_json(order, Decimal("0.4"), Decimal("10000"), maker=False),
                  self._trade_json(order, Decimal("0.6"), Decimal("10000"), maker=True)]
        trades[1].update(trade_id=19211490283, trade_id_str="19211490283")
        self._configure_trades(mock_api, trades, callback=lambda *args, **kwargs: request_sent_event.set())

        self.exchange._user_stream_tracker.data_source.on_reconnect()
        await asyncio.wait_for(request_sent_event.wait(), 1)
        await asyncio.sleep(0.05)

        fills: List[OrderFilledEvent] = self.order_filled_logger.event_log
        self.assertEqual([Decimal("0.4"), Decimal("0.6")], [fill.amount for fill in fills])
        self.assertEqual([Decimal("0.8"), Decimal("0.12")], [fill.trade_fee.flat_fees[0].amount for fill in fills])
        self.assertTrue(order.is_filled)

    async def test_unknown_order_status_is_ignored(self):
        self.exchange.start_tracking_order(order_id="11", exchange_order_id=self.expected_exchange_order_id,
                                           trading_pair=self.trading_pair, trade_type=TradeType.BUY,
                                           price=Decimal("10000"), amount=Decimal("1"), order_type=OrderType.LIMIT)
        order = self.exchange.in_flight_orders["11"]
        event = self.order_event_for_new_order_websocket_update(order)
        event["orders"]["0"][0]["status"] = "twap-running"
        mock_queue = AsyncMock()
        mock_queue.get.side_effect = [event, asyncio.CancelledError]
        self.exchange._user_stream_tracker._user_stream = mock_queue

        with self.assertRaises(asyncio.CancelledError):
            await self.exchange._user_stream_event_listener()

        self.assertEqual(OrderState.PENDING_CREATE, order.current_state)
        self.assertFalse(self.is_logged("ERROR", "Unexpected error in user stream listener loop."))

    @aioresponses()
    async def test_get_all_pairs_prices(self, mock_api):
        mock_api.get(self.all_symbols_url, body=json.dumps(payloads.ORDER_BOOK_DETAILS))

        prices = await self.exchange.get_all_pairs_prices()

        self.assertEqual([{"symbol": "0", "price": "2361.31"}], prices)

    @aioresponses()
    async def test_leverage_above_the_market_maximum_is_capped(self, mock_api):
        request_sent_event = asyncio.Event()
        # 200/10000 minimum initial margin on ETH: 50x at most.
        self.configure_successful_set_leverage(50, mock_api, callback=request_sent_event.set)

        success, message = await self.exchange._set_trading_pair_leverage(self.trading_pair, 100)

        self.assertEqual((True, ""), (success, message))
        self.assertTrue(request_sent_event.is_set())
        self.assertTrue(self.is_logged("WARNING", f"{self.trading_pair} allows at most 50x on Lighter; using that."))
        self.assertEqual((False, "Leverage must be at least 1."),
                         await self.exchange._set_trading_pair_leverage(self.trading_pair, 0))
        # An unknown pair first reloads the markets once, then is refused.
        mock_api.get(self.trading_rules_url, body=json.dumps(self.trading_rules_request_mock_response))
        with self.assertRaises(ValueError):
            await self.exchange._set_trading_pair_leverage("BTC-USDC", 2)

    def test_fee_estimate_uses_the_market_fee_rates(self):
        self.exchange._store_markets({"order_book_details": [dict(payloads.ETH_MARKET, maker_fee="0.0020",
                                                                  taker_fee="0.0200")]})
        maker = self.exchange.get_fee(self.base_asset, self.quote_asset, OrderType.LIMIT_MAKER, TradeType.BUY,
                                      PositionAction.OPEN, Decimal("1"), Decimal("2000"))
        taker = self.exchange.get_fee(self.base_asset, self.quote_asset, OrderType.LIMIT, TradeType.BUY,
                                      PositionAction.OPEN, Decimal("1"), Decimal("2000"), is_maker=False)
        self.assertEqual((Decimal("0.00002"), Decimal("0.0002")), (maker.percent, taker.percent))

    # --- fills without client ids, paged look-ups ----------------------------------------------------------------

    def _track_sell(self, exchange_order_id: Optional[str] = None, created: float = 1640780000) -> InFlightOrder:
        self.exchange._set_current_timestamp(created)
        self.exchange.start_tracking_order(order_id="11", exchange_order_id=exchange_order_id or
                                           self.expected_exchange_order_id, trading_pair=self.trading_pair,
                                           trade_type=TradeType.SELL, price=Decimal("40"), amount=Decimal("1"),
                                           order_type=OrderType.LIMIT, position_action=PositionAction.OPEN)
        return self.exchange.in_flight_orders["11"]

    @staticmethod
    def _trade_of_2025() -> Dict[str, Any]:
        """The live account trade of 2025-10-12: no client ids; the account's IOC sell (order 7036874567915800) was the
        taker, placed by transaction ACCOUNT_TX_HASH_OF_TAKER_SELL. Moved to this test's account and market."""
        trade = payloads.fresh(payloads.WS_ACCOUNT_ALL_TRADE["trades"]["24"][0])
        trade.update(market_id=ETH_MARKET_ID, ask_account_id=payloads.ACCOUNT_INDEX)
        return trade

    async def _stream(self, *events: Dict[str, Any]):
        mock_queue = AsyncMock()
        mock_queue.get.side_effect = list(events) + [asyncio.CancelledError]
        self.exchange._user_stream_tracker._user_stream = mock_queue
        with self.assertRaises(asyncio.CancelledError):
            await self.exchange._user_stream_event_listener()

    def _account_trades_event(self, trade: Dict[str, Any]) -> Dict[str, Any]:
        return {"type": f"update/{CONSTANTS.WS_ACCOUNT_TRADES_CHANNEL}",
                "channel": f"{CONSTANTS.WS_ACCOUNT_TRADES_CHANNEL}:{payloads.ACCOUNT_INDEX}",
                "trades": {str(ETH_MARKET_ID): [trade]}}

    async def test_fill_without_client_id_is_attributed_by_the_order_index(self):
        order = self._track_sell()
        # The orders stream names the order's index (7036874567915800, the index of the captured order) first.
        seen = self._orders_event(order, "open", Decimal(0))
        self.assertEqual(7036874567915800, seen["orders"]["0"][0]["order_index"])

        await self._stream(seen, self._account_trades_event(self._trade_of_2025()))

        (fill,) = self.order_filled_logger.event_log
        self.assertEqual(("11", "225067334", Decimal("1.00"), Decimal("40.1342"), TradeType.SELL),
                         (fill.order_id, fill.exchange_trade_id, fill.amount, fill.price, fill.trade_type))
        self.assertTrue(order.is_filled)

    async def test_fill_of_an_order_never_seen_on_the_orders_stream_is_not_guessed(self):
        order = self._track_sell()

        await self._stream(self._account_trades_event(self._trade_of_2025()))

        self.assertEqual([], self.order_filled_logger.event_log)
        self.assertEqual(Decimal(0), order.executed_amount_base)

    async def _until(self, condition: Callable[[], bool], timeout: float = 2.0):
        deadline = time.monotonic() + timeout
        while not condition():
            self.assertLess(time.monotonic(), deadline, "condition not met in time")
            await asyncio.sleep(0.01)

    @aioresponses()
    async def test_fill_the_stream_never_brought_for_a_filled_order_is_read_over_rest(self, mock_api):
        order = self._track_sell()
        self._configure_trades(mock_api, [self._trade_json(order, Decimal("1"), Decimal("40"), maker=True)],
                               callback=None)

        with patch.object(LighterPerpetualDerivative, "FILL_GAP_WAIT", 0.01):
            # The orders channel says filled; the trade frame never comes (lost in a reconnect).
            await self._stream(self._orders_event(order, "filled", Decimal("1")))
            await self._until(lambda: self.sell_order_completed_logger.event_log)

        (fill,) = self.order_filled_logger.event_log
        self.assertEqual(("11", Decimal("1"), Decimal("40"), Decimal("0.0008")),
                         (fill.order_id, fill.amount, fill.price, fill.trade_fee.flat_fees[0].amount))
        self.assertEqual(Decimal("1"), self.sell_order_completed_logger.event_log[0].base_asset_amount)
        self.assertEqual(1, len(self._all_executed_requests(mock_api, url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH))))

    @aioresponses()
    async def test_fill_the_stream_brings_after_the_order_frame_needs_no_look_up(self, mock_api):
        order = self._track_sell()

        with patch.object(LighterPerpetualDerivative, "FILL_GAP_WAIT", 0.01):
            await self._stream(self._orders_event(order, "filled", Decimal("1")), self._account_trades_event(
                self._trade_json(order, Decimal("1"), Decimal("40"), maker=True)))
            await self._until(lambda: self.sell_order_completed_logger.event_log)
            await asyncio.sleep(0.05)

        self.assertEqual([Decimal("1")], [fill.amount for fill in self.order_filled_logger.event_log])
        self.assertEqual([], self._all_executed_requests(mock_api, url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH)))

    @aioresponses()
    async def test_fill_without_client_id_is_attributed_by_the_tx_hash_of_the_taker_order(self, mock_api):
        order = self._track_sell(exchange_order_id=payloads.ACCOUNT_TX_HASH_OF_TAKER_SELL)
        self._configure_trades(mock_api, [self._trade_of_2025()], callback=None)

        await self.exchange._update_orders_fills([order])

        (fill,) = self.order_filled_logger.event_log
        self.assertEqual(("11", "225067334", Decimal("1.00")), (fill.order_id, fill.exchange_trade_id, fill.amount))
        self.assertTrue(order.is_filled)

    @aioresponses()
    async def test_order_cancelled_beyond_the_first_page_of_inactive_orders_leaves_pending_cancel(self, mock_api):
        order = self._track_sell()
        order.current_state = OrderState.PENDING_CANCEL
        mock_api.get(url_pattern(CONSTANTS.ACTIVE_ORDERS_PATH), body=json.dumps({"code": 200, "orders": []}))
        # The first page lists another order (the captured refused one, newer than ours) and hands out a cursor.
        first = dict(payloads.fresh(payloads.INACTIVE_ORDERS), next_cursor="page-2")
        mock_api.get(url_pattern(CONSTANTS.INACTIVE_ORDERS_PATH), body=json.dumps(first))
        mock_api.get(url_pattern(CONSTANTS.INACTIVE_ORDERS_PATH), body=json.dumps(
            {"code": 200, "next_cursor": "", "orders": [self._order_json(order, "canceled", Decimal(0))]}))

        await self.exchange._update_orders()
        # The tracker applies order updates in a task of its own.
        for _ in range(CALLBACK_LOOP_TURNS):
            await asyncio.sleep(0)

        self.assertTrue(order.is_cancelled)
        self.assertEqual("11", self.order_cancelled_logger.event_log[0].order_id)
        pages = self._all_executed_requests(mock_api, url_pattern(CONSTANTS.INACTIVE_ORDERS_PATH))
        self.assertEqual([None, "page-2"], [page.kwargs["params"].get("cursor") for page in pages])
        self.assertEqual({"account_index": payloads.ACCOUNT_INDEX, "market_id": ETH_MARKET_ID, "limit": 100},
                         {key: value for key, value in pages[1].kwargs["params"].items() if key != "cursor"})

    @aioresponses()
    async def test_fill_on_the_second_page_of_trades_is_found(self, mock_api):
        order = self._track_sell()
        other = self._trade_json(order, Decimal("0.5"), Decimal("40"), maker=True)
        other.update(trade_id=19211490290, trade_id_str="19211490290", ask_client_id=999, ask_client_id_str="999")
        ours = self._trade_json(order, Decimal("1"), Decimal("40"), maker=True)
        mock_api.get(url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH),
                     body=json.dumps({"code": 200, "next_cursor": "page-2", "trades": [other]}))
        mock_api.get(url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH),
                     body=json.dumps({"code": 200, "next_cursor": "", "trades": [ours]}))

        await self.exchange._update_orders_fills([order])

        (fill,) = self.order_filled_logger.event_log
        self.assertEqual(("11", "19211490282", Decimal("1")), (fill.order_id, fill.exchange_trade_id, fill.amount))
        pages = self._all_executed_requests(mock_api, url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH))
        self.assertEqual([None, "page-2"], [page.kwargs["params"].get("cursor") for page in pages])
        self.assertEqual(("timestamp", "desc", 100), (pages[1].kwargs["params"]["sort_by"],
                                                      pages[1].kwargs["params"]["sort_dir"],
                                                      pages[1].kwargs["params"]["limit"]))

    @aioresponses()
    async def test_trade_look_up_stops_at_trades_older_than_its_orders(self, mock_api):
        # The order was created well after the trades of the first page (1640780000.123): older pages cannot hold its
        # fills, so the cursor is not followed.
        order = self._track_sell(created=1640790000)
        old = self._trade_json(order, Decimal("1"), Decimal("40"), maker=True)
        mock_api.get(url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH),
                     body=json.dumps({"code": 200, "next_cursor": "page-2", "trades": [old]}))

        await self.exchange._update_orders_fills([order])

        self.assertEqual(1, len(self._all_executed_requests(mock_api, url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH))))

    @aioresponses()
    async def test_next_trade_look_up_starts_where_the_last_one_ended(self, mock_api):
        order = self._track_sell(created=1640700000)
        newest = self._trade_json(order, Decimal("0.1"), Decimal("40"), maker=True)  # 1640780000.123
        self._configure_trades(mock_api, [newest], callback=None)
        await self.exchange._update_orders_fills([order])
        # The next look-up's first page is older than that trade by more than the overlap: it reads no further,
        # although the order itself is older still.
        older = dict(payloads.fresh(newest), trade_id=19211490200, trade_id_str="19211490200",
                     timestamp=1640780000123 - (CONSTANTS.LOOKUP_OVERLAP_SECONDS + 1) * 1000)
        mock_api.get(url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH),
                     body=json.dumps({"code": 200, "next_cursor": "page-2", "trades": [older]}))

        await self.exchange._update_orders_fills([order])

        self.assertEqual(2, len(self._all_executed_requests(mock_api, url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH))))
        self.assertEqual([Decimal("0.1"), Decimal("0.1")], [fill.amount for fill in self.order_filled_logger.event_log])
