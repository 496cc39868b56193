import asyncio
import functools
import math
import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, AsyncIterable, Callable, Coroutine, Deque, Dict, Iterable, List, Optional, Set, Tuple

from bidict import bidict

from hummingbot.connector.constants import s_decimal_NaN
from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_order_checks as checks,
    lighter_perpetual_parsers as parsers,
    lighter_perpetual_utils as utils,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_api_order_book_data_source import (
    LighterPerpetualAPIOrderBookDataSource,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_auth import LighterPerpetualAuth
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_transactions import (
    LighterKeyError,
    LighterOutcomeUnknown,
    LighterTransactionClient,
    LighterTransactionError,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_user_stream_data_source import (
    LighterPerpetualUserStreamDataSource,
)
from hummingbot.connector.derivative.position import Position
from hummingbot.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.connector.utils import get_new_numeric_client_order_id
from hummingbot.core.api_throttler.data_types import RateLimit
from hummingbot.core.data_type.cancellation_result import CancellationResult
from hummingbot.core.data_type.common import OrderType, PositionAction, PositionMode, PositionSide, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, OrderUpdate, TradeUpdate
from hummingbot.core.data_type.order_book_tracker_data_source import OrderBookTrackerDataSource
from hummingbot.core.data_type.trade_fee import TokenAmount, TradeFeeBase
from hummingbot.core.data_type.user_stream_tracker_data_source import UserStreamTrackerDataSource
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.core.utils.async_utils import safe_ensure_future
from hummingbot.core.utils.tracking_nonce import NonceCreator
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory


class LighterPerpetualDerivative(PerpetualDerivativePyBase):
    web_utils = web_utils
    # An order Lighter shows more filled than its fills so far has them read over REST if they have not come this many
    # seconds later (a stream frame can carry the order before its trade); Hummingbot waits 5 s for them.
    FILL_GAP_WAIT = 1.0
    # How often the orders whose create is in doubt check whether this connector saw their nonce taken (no request).
    IN_DOUBT_POLL_INTERVAL = 0.5

    def __init__(
        self,
        balance_asset_limit: Optional[Dict[str, Dict[str, Decimal]]] = None,
        rate_limits_share_pct: Decimal = Decimal("100"),
        lighter_perpetual_api_private_key: str = "",
        lighter_perpetual_api_key_index: Any = 0,
        lighter_perpetual_account_index: Any = 0,
        lighter_perpetual_l1_address: str = "",
        lighter_perpetual_account_tier: str = "Standard",
        lighter_perpetual_cancel_all_on_stop: Any = False,
        lighter_perpetual_dead_man_switch_seconds: Any = CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS,
        lighter_perpetual_max_order_age_seconds: Any = CONSTANTS.MAX_ORDER_AGE_DEFAULT_SECONDS,
        trading_pairs: Optional[List[str]] = None,
        trading_required: bool = True,
        domain: str = CONSTANTS.DEFAULT_DOMAIN,
    ):
        # Paper trading builds the connector with empty keys: market data only.
        self._api_private_key = lighter_perpetual_api_private_key or ""
        self._api_key_index = int(lighter_perpetual_api_key_index or 0)
        self._account_index = int(lighter_perpetual_account_index or 0)
        self._l1_address = (lighter_perpetual_l1_address or "").lower()
        self._account_tier = lighter_perpetual_account_tier or "Standard"
        self._cancel_all_on_stop = utils.validate_yes_no(lighter_perpetual_cancel_all_on_stop)
        self._dead_man_switch_seconds = utils.validate_dead_man_switch_seconds(
            lighter_perpetual_dead_man_switch_seconds)
        self._max_order_age = utils.validate_max_order_age_seconds(lighter_perpetual_max_order_age_seconds)
        self._dead_man_switch_task: Optional[asyncio.Task] = None
        # When Lighter cancels every order unless the switch is renewed (unix seconds); 0 while none is known.
        self._dead_man_switch_deadline = 0.0
        self._trading_pairs = trading_pairs or []
        self._trading_required = trading_required
        self._domain = domain
        self._markets: Dict[str, parsers.LighterMarket] = {}
        self._tx_client: Optional[LighterTransactionClient] = None
        self._key_verified = False
        self._client_order_nonce = NonceCreator.for_microseconds()
        self._order_burst: Deque[Dict[str, Any]] = deque()
        # When the strategy placed each order not sent yet (monotonic clock): its maximum age counts from then.
        self._placed_at: Dict[str, float] = {}
        # Look-ups and recoveries started in the background: cancelled when the connector stops.
        self._background: Set[asyncio.Task] = set()
        # Orders whose create is in doubt (LighterOutcomeUnknown), by client order id, settled by one background task.
        self._creates_in_doubt: Dict[str, _CreateInDoubt] = {}
        # The cancel transaction of each order being cancelled: a second cancel of the order waits for it.
        self._cancels: Dict[str, asyncio.Future] = {}
        self._client_id_by_order_index: Dict[str, str] = {}
        # Per market id: the time of the newest account trade a fills look-up has read.
        self._fills_read_until: Dict[int, float] = {}
        # Per client order id: the filled amount Lighter showed beyond the fills reported; the pairs being read for.
        self._filled_on_exchange: Dict[str, Decimal] = {}
        self._fill_gap_pairs: Set[str] = set()
        # Since when Lighter has failed the network check, and when that was last said.
        self._unreachable_since: Optional[float] = None
        self._unreachable_said_at = 0.0
        super().__init__(balance_asset_limit, rate_limits_share_pct)

    # --- identity and settings -----------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._domain

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def authenticator(self) -> Optional[LighterPerpetualAuth]:
        return LighterPerpetualAuth(lambda: self._transactions.auth_token()) if self._api_private_key else None

    @property
    def _transactions(self) -> LighterTransactionClient:
        if self._tx_client is None:
            self._tx_client = LighterTransactionClient(
                api_factory=self._web_assistants_factory, account_index=self._account_index,
                api_key_index=self._api_key_index, api_private_key=self._api_private_key, domain=self._domain)
        return self._tx_client

    @property
    def rate_limits_rules(self) -> List[RateLimit]:
        return CONSTANTS.rate_limits(self._account_tier)

    @property
    def client_order_id_max_length(self) -> Optional[int]:
        return None

    @property
    def client_order_id_prefix(self) -> str:
        return ""

    @property
    def trading_rules_request_path(self) -> str:
        return CONSTANTS.ORDER_BOOK_DETAILS_PATH

    @property
    def trading_pairs_request_path(self) -> str:
        return CONSTANTS.ORDER_BOOK_DETAILS_PATH

    @property
    def check_network_request_path(self) -> str:
        return CONSTANTS.ORDER_BOOKS_PATH

    @property
    def trading_pairs(self) -> List[str]:
        return self._trading_pairs

    @property
    def is_cancel_request_in_exchange_synchronous(self) -> bool:
        # An accepted cancel is executed by the sequencer afterwards; the stream confirms it.
        return False

    @property
    def is_trading_required(self) -> bool:
        return self._trading_required

    @property
    def funding_fee_poll_interval(self) -> int:
        return 120

    def supported_order_types(self) -> List[OrderType]:
        return [OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET]

    def supported_position_modes(self) -> List[PositionMode]:
        return [PositionMode.ONEWAY]

    def get_buy_collateral_token(self, trading_pair: str) -> str:
        return CONSTANTS.COLLATERAL_TOKEN

    def get_sell_collateral_token(self, trading_pair: str) -> str:
        return CONSTANTS.COLLATERAL_TOKEN

    # --- factories -----------------------------------------------------------------------------------------------

    def _create_web_assistants_factory(self) -> WebAssistantsFactory:
        return web_utils.build_api_factory(throttler=self._throttler, auth=self._auth)

    def _create_order_book_data_source(self) -> OrderBookTrackerDataSource:
        return LighterPerpetualAPIOrderBookDataSource(
            trading_pairs=self._trading_pairs, connector=self, api_factory=self._web_assistants_factory,
            domain=self._domain)

    def _create_user_stream_data_source(self) -> UserStreamTrackerDataSource:
        data_source = LighterPerpetualUserStreamDataSource(
            transactions=self._transactions, api_factory=self._web_assistants_factory, domain=self._domain)
        data_source.on_reconnect = lambda: self._in_background(self._recover_fills())
        return data_source

    # --- lifecycle -----------------------------------------------------------------------------------------------

    async def start_network(self):
        await super().start_network()
        if self.is_trading_required and self._api_private_key:
            await self._transactions.start()
            if self._dead_man_switch_seconds and (self._dead_man_switch_task is None
                                                  or self._dead_man_switch_task.done()):
                self._dead_man_switch_task = asyncio.get_running_loop().create_task(self._dead_man_switch_loop())

    async def stop_network(self):
        # Hummingbot also calls stop_network when a network check fails, and start_network calls it first: only a
        # real stop (status STOPPED) cancels every order on request and stops the transaction client.
        stopping = self.network_status is NetworkStatus.STOPPED
        self._placed_at.clear()
        while self._order_burst:
            self._refuse(**self._order_burst.popleft(), message=(
                "The connector stopped before the order left; it was not sent." if stopping
                else "Lighter failed the network check before the order left; it was not sent."))
        # A failed network check leaves the switch to its own task: renewals resume (or Lighter cancels) on their own.
        switch_was_on = stopping and await self._stop_dead_man_switch_task()
        if stopping and self._tx_client is not None and self._tx_client.running:
            # Submitted together, so they leave in one request.
            await asyncio.gather(*([self._cancel_every_account_order()] if self._cancel_all_on_stop else []),
                                 *([self._disarm_dead_man_switch()] if switch_was_on else []))
        await super().stop_network()
        # Hummingbot's base starts a funding payment poll at every start and never stops it (it is left waiting on an
        # event the base replaced): one more pending task at every reconnect.
        funding_poll, self._funding_fee_polling_task = self._funding_fee_polling_task, None
        if funding_poll is not None:
            funding_poll.cancel()
            await asyncio.gather(funding_poll, return_exceptions=True)
        # After a failed network check the transaction client keeps running: it still answers for what is in the air,
        # and the look-ups keep settling orders in doubt.
        if stopping:
            await self._stop_background()
            if self._tx_client is not None:
                await self._tx_client.stop()

    def _in_background(self, coroutine: Coroutine):
        task = safe_ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _stop_background(self):
        tasks, self._background = list(self._background), set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def check_network(self) -> NetworkStatus:
        """Hummingbot's check, which alone would say nothing above DEBUG while Lighter cannot be reached: this one says
        so at WARNING at once, again every NETWORK_WARNING_INTERVAL while it lasts, and when Lighter answers again."""
        # Inside Hummingbot's own timeout, which would cancel the check without a word.
        timeout = 0.8 * self.check_network_timeout
        try:
            await asyncio.wait_for(self._make_network_check_request(), timeout)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            reason = f"no answer within {timeout:g} s" if isinstance(e, asyncio.TimeoutError) else _request_failure(e)
            self._say_unreachable(reason)
            return NetworkStatus.NOT_CONNECTED
        if self._unreachable_since is not None:
            self.logger().info(f"Lighter at {web_utils.rest_base_url(self._domain)} answers again.")
            self._unreachable_since = None
        return NetworkStatus.CONNECTED

    def _say_unreachable(self, reason: str):
        now = self._time()
        if self._unreachable_since is None:
            self._unreachable_since = now
        elif now - self._unreachable_said_at < CONSTANTS.NETWORK_WARNING_INTERVAL:
            return
        self._unreachable_said_at = now
        lasting = (f" (for {now - self._unreachable_since:.0f} s)" if now > self._unreachable_since else "")
        self.logger().warning(f"Cannot reach Lighter at {web_utils.rest_base_url(self._domain)}: {reason}{lasting}; "
                              f"no orders can be placed until it answers.")

    async def _cancel_every_account_order(self):
        """Lighter's cancel-all transaction: it also reaches orders this bot does not track (left by an earlier run,
        say). One transaction, whatever the number of orders."""
        try:
            await asyncio.wait_for(self._transactions.submit(self._transactions.cancel_all_orders()),
                                   CONSTANTS.CANCEL_ALL_ON_STOP_TIMEOUT)
            self.logger().info(f"Cancelled every open order of Lighter account {self._account_index} on stop.")
        except Exception as e:
            self.logger().warning(f"Could not cancel every open order of Lighter account {self._account_index} on "
                                  f"stop ({e}); check for open orders on Lighter.")

    # --- dead man's switch ----------------------------------------------------------------------------------------

    async def _dead_man_switch_loop(self):
        """Arms Lighter's scheduled cancel-all and renews it every third of the window, from this task alone (a
        strategy that stops ticking does not stop it). A failed renewal is said once at WARNING and tried again every
        DEAD_MAN_SWITCH_RETRY_INTERVAL seconds."""
        window = self._dead_man_switch_seconds
        failing = False
        while True:
            try:
                await self._renew_dead_man_switch(window)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if not failing:
                    self.logger().warning(f"Could not renew Lighter's dead man's switch ({e}); trying again every "
                                          f"{CONSTANTS.DEAD_MAN_SWITCH_RETRY_INTERVAL} s. "
                                          f"{self._dead_man_switch_consequence()}")
                else:
                    self.logger().debug(f"Lighter's dead man's switch is still not renewed ({e}).")
                failing = True
                await asyncio.sleep(CONSTANTS.DEAD_MAN_SWITCH_RETRY_INTERVAL)
                continue
            if failing:
                self.logger().info("Lighter's dead man's switch is renewed again.")
            failing = False
            await asyncio.sleep(window / CONSTANTS.DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW)

    async def _renew_dead_man_switch(self, window: int):
        """An account holds one scheduled cancel-all (another is refused with 21712): the queued one is aborted and a
        new one scheduled, both submitted together so they leave in one request. Whether the abort found one to abort
        does not matter; the new schedule must be accepted."""
        transactions = self._transactions
        at_ms = int((time.time() + window + CONSTANTS.DEAD_MAN_SWITCH_CLOCK_MARGIN) * 1000)
        _, scheduled = await asyncio.gather(
            transactions.submit(transactions.abort_scheduled_cancel_all()),
            transactions.submit(transactions.schedule_cancel_all_orders(at_ms)), return_exceptions=True)
        if isinstance(scheduled, BaseException):
            raise scheduled
        self._dead_man_switch_deadline = at_ms / 1000

    def _dead_man_switch_consequence(self) -> str:
        if not self._dead_man_switch_deadline:
            return "Until it is armed, no dead man's switch covers this bot's orders."
        at = time.strftime("%H:%M:%S UTC", time.gmtime(self._dead_man_switch_deadline))
        return (f"Lighter cancels every open order of account {self._account_index} at {at} unless the switch is "
                f"renewed or turned off.")

    async def _stop_dead_man_switch_task(self) -> bool:
        """Stops the renewals; True if the switch was on in this run."""
        task, self._dead_man_switch_task = self._dead_man_switch_task, None
        if task is None:
            return False
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return True

    async def _disarm_dead_man_switch(self):
        """A clean stop aborts the schedule: orders left by the cancel-on-stop setting (or placed by hand after the
        stop) must not be cancelled later by a switch nobody renews."""
        try:
            await asyncio.wait_for(self._transactions.submit(self._transactions.abort_scheduled_cancel_all()),
                                   CONSTANTS.DEAD_MAN_SWITCH_STOP_TIMEOUT)
            self._dead_man_switch_deadline = 0.0
            self.logger().info("Lighter's dead man's switch is off: the connector stopped cleanly.")
        except Exception as e:
            self.logger().warning(f"Could not turn off Lighter's dead man's switch on stop ({e}). "
                                  f"{self._dead_man_switch_consequence()}")

    # --- errors --------------------------------------------------------------------------------------------------

    def _is_request_exception_related_to_time_synchronizer(self, request_exception: Exception) -> bool:
        return False

    def _is_order_not_found_during_status_update_error(self, status_update_exception: Exception) -> bool:
        return isinstance(status_update_exception, _OrderNotFound)

    def _is_order_not_found_during_cancelation_error(self, cancelation_exception: Exception) -> bool:
        return (isinstance(cancelation_exception, LighterTransactionError)
                and cancelation_exception.code in CONSTANTS.ORDER_NOT_FOUND_CODES)

    # --- markets -------------------------------------------------------------------------------------------------

    def _market(self, trading_pair: str) -> parsers.LighterMarket:
        market = self._markets.get(trading_pair)
        if market is None:
            raise ValueError(f"{trading_pair} is not a Lighter perpetual market known to this connector.")
        return market

    async def _loaded_market(self, trading_pair: str) -> parsers.LighterMarket:
        """Strategies may set leverage or trade before the first trading-rules poll has finished."""
        if trading_pair not in self._markets:
            await self._update_trading_rules()
        return self._market(trading_pair)

    def _market_by_id(self, market_id: int) -> Optional[parsers.LighterMarket]:
        return next((market for market in self._markets.values() if market.market_id == market_id), None)

    def _store_markets(self, exchange_info: Dict[str, Any]) -> List[parsers.LighterMarket]:
        markets = []
        # One malformed market (a new listing, say) must not hide all the others.
        for raw in exchange_info.get("order_book_details") or []:
            try:
                markets.extend(parsers.parse_markets({"order_book_details": [raw]}))
            except (KeyError, TypeError, ValueError, ArithmeticError):
                self.logger().error(f"Error parsing the trading pair rule {raw}. Skipping.")
        self._markets.update({market.trading_pair: market for market in markets})
        return markets

    async def _format_trading_rules(self, exchange_info_dict: Dict[str, Any]) -> List[TradingRule]:
        rules = []
        for market in self._store_markets(exchange_info_dict):
            if market.active:
                rules.append(TradingRule(
                    trading_pair=market.trading_pair,
                    min_order_size=market.min_base_amount,
                    min_price_increment=market.price_increment,
                    min_base_amount_increment=market.size_increment,
                    min_notional_size=market.min_quote_amount,
                    buy_order_collateral_token=CONSTANTS.COLLATERAL_TOKEN,
                    sell_order_collateral_token=CONSTANTS.COLLATERAL_TOKEN,
                ))
        return rules

    def _initialize_trading_pair_symbols_from_exchange_info(self, exchange_info: Dict[str, Any]):
        # Lighter addresses markets by id in channels and transactions, so the id is the exchange symbol.
        self._set_trading_pair_symbol_map(bidict(
            {str(market.market_id): market.trading_pair for market in self._store_markets(exchange_info)
             if market.active}))

    async def _get_last_traded_price(self, trading_pair: str) -> float:
        market_id = await self.exchange_symbol_associated_to_pair(trading_pair)
        response = await self._api_get(path_url=CONSTANTS.ORDER_BOOK_DETAILS_PATH,
                                       params={"market_id": market_id}, limit_id=CONSTANTS.ORDER_BOOK_DETAILS_PATH)
        return float(response["order_book_details"][0]["last_trade_price"])

    async def get_all_pairs_prices(self) -> List[Dict[str, str]]:
        response = await self._api_get(path_url=CONSTANTS.ORDER_BOOK_DETAILS_PATH,
                                       limit_id=CONSTANTS.ORDER_BOOK_DETAILS_PATH)
        return [{"symbol": str(raw["market_id"]), "price": str(raw["last_trade_price"])}
                for raw in response.get("order_book_details") or []]

    # --- orders --------------------------------------------------------------------------------------------------

    def buy(self, trading_pair: str, amount: Decimal, order_type=OrderType.LIMIT, price: Decimal = s_decimal_NaN,
            **kwargs) -> str:
        return self._submit(True, trading_pair, amount, order_type, price, **kwargs)

    def sell(self, trading_pair: str, amount: Decimal, order_type=OrderType.LIMIT, price: Decimal = s_decimal_NaN,
             **kwargs) -> str:
        return self._submit(False, trading_pair, amount, order_type, price, **kwargs)

    def _submit(self, is_buy: bool, trading_pair: str, amount: Decimal, order_type: OrderType, price: Decimal,
                **kwargs) -> str:
        # Lighter's ClientOrderIndex is an integer of at most 48 bits.
        order_id = str(get_new_numeric_client_order_id(self._client_order_nonce, max_id_bit_count=48))
        order = dict(trade_type=TradeType.BUY if is_buy else TradeType.SELL, order_id=order_id,
                     trading_pair=trading_pair, amount=amount, order_type=order_type, price=price, **kwargs)
        if len(self._order_burst) >= CONSTANTS.MAX_ORDER_BURST:
            # Refused once the strategy holds the id, as every other failure reaches it.
            asyncio.get_event_loop().call_soon(lambda: self._refuse(**order, message=(
                f"{CONSTANTS.MAX_ORDER_BURST} orders were already waiting to be sent; this one was not sent.")))
            return order_id
        if not self._order_burst:
            asyncio.get_event_loop().call_soon(self._start_burst_slice)
        self._placed_at[order_id] = time.monotonic()
        self._order_burst.append(order)
        return order_id

    def _start_burst_slice(self):
        """Hummingbot's order creation costs ~40 us before its first await: a strategy submitting a hundred orders
        in one go would hold the event loop for milliseconds. A burst starts a few orders per loop iteration; they
        still reach the transaction queue in time to leave in the same batches."""
        for _ in range(min(CONSTANTS.ORDERS_PER_LOOP_ITERATION, len(self._order_burst))):
            safe_ensure_future(self._create_order(**self._order_burst.popleft()))
        if self._order_burst:
            asyncio.get_event_loop().call_soon(self._start_burst_slice)

    async def _create_order(self, trade_type: TradeType, order_id: str, trading_pair: str, amount: Decimal,
                            order_type: OrderType, price: Optional[Decimal] = None,
                            position_action: PositionAction = PositionAction.NIL, **kwargs):
        # Hummingbot's own path starts with the pair's trading rule: without one it ends in a bare KeyError and no
        # failure event.
        if trading_pair not in self._trading_rules:
            self._refuse(trade_type, order_id, trading_pair, amount, order_type, price, position_action,
                         message=self._untradable_reason(trading_pair), **kwargs)
            return
        try:
            await super()._create_order(trade_type, order_id, trading_pair, amount, order_type, price,
                                        position_action=position_action, **kwargs)
        finally:
            self._placed_at.pop(order_id, None)

    def _refuse(self, trade_type: TradeType, order_id: str, trading_pair: str, amount: Decimal, order_type: OrderType,
                price: Optional[Decimal] = None, position_action: PositionAction = PositionAction.NIL, *, message: str,
                **kwargs):
        """Fails an order that was never sent, with a failure event: the strategy holds its id."""
        self.start_tracking_order(order_id=order_id, exchange_order_id=None, trading_pair=trading_pair,
                                  trade_type=trade_type, price=price, amount=amount, order_type=order_type,
                                  position_action=position_action, **kwargs)
        self._on_order_failure(order_id=order_id, trading_pair=trading_pair, amount=amount, trade_type=trade_type,
                               order_type=order_type, price=price, exception=checks.OrderRefused(message))

    def _untradable_reason(self, trading_pair: str) -> str:
        if not self._trading_rules:
            return (f"The Lighter connector is not connected yet (its markets are not loaded), so the {trading_pair} "
                    f"order was not sent.")
        if trading_pair in self._markets:
            return f"{trading_pair} is not open for trading on Lighter; the order was not sent."
        return f"{trading_pair} is not a Lighter perpetual market; the order was not sent."

    def _on_order_failure(self, order_id: str, trading_pair: str, amount: Decimal, trade_type: TradeType,
                          order_type: OrderType, price: Optional[Decimal], exception: Exception, **kwargs):
        if not isinstance(exception, (checks.OrderRefused, LighterTransactionError)):
            super()._on_order_failure(order_id, trading_pair, amount, trade_type, order_type, price, exception,
                                      **kwargs)
            return
        # One sentence that says why (refused here, by the rate budget or by Lighter): Hummingbot's own line adds a
        # traceback and "Check API key and network connection", which is seldom the cause. Its NETWORK-level line
        # stays for what reads Hummingbot's log (its tests do), without the traceback.
        refused_here = isinstance(exception, checks.OrderRefused)
        if not refused_here:
            self.logger().network(f"Error submitting {trade_type.name.lower()} {order_type.name.upper()} order to "
                                  f"{self.name_cap} for {amount} {trading_pair} {price}.")
        self.logger().warning(f"{trade_type.name.capitalize()} order {order_id} for {trading_pair} "
                              f"{'was not sent' if refused_here else 'failed'}: {exception}")
        self._update_order_after_failure(order_id=order_id, trading_pair=trading_pair, exception=exception)

    def _price_references(self, trading_pair: str) -> Tuple[Optional[Decimal], Optional[Decimal], Optional[Decimal]]:
        """Mark price, best bid and best ask: what Lighter's fat-finger check measures an order price against."""
        try:
            mark = Decimal(self.get_funding_info(trading_pair).mark_price)
        except KeyError:
            mark = None
        book = self.order_books.get(trading_pair)
        bid = next(book.bid_entries(), None) if book is not None else None
        ask = next(book.ask_entries(), None) if book is not None else None
        return (mark, Decimal(str(bid.price)) if bid is not None else None,
                Decimal(str(ask.price)) if ask is not None else None)

    def _market_order_price(self, market: parsers.LighterMarket, is_buy: bool) -> Decimal:
        """Market orders are IOC orders bounded by a price through the book, as Lighter requires, and kept inside its
        fat-finger band."""
        best = Decimal(str(self.get_price(market.trading_pair, is_buy)))
        if best.is_nan() or best <= 0:
            raise checks.OrderRefused(f"No {market.trading_pair} order book price to bound a market order with yet.")
        slippage = Decimal(CONSTANTS.MARKET_ORDER_SLIPPAGE)
        price = self.quantize_order_price(market.trading_pair, best * (1 + slippage if is_buy else 1 - slippage))
        return checks.clamp_to_fat_finger(market, not is_buy, price, *self._price_references(market.trading_pair))

    async def _place_order(self, order_id: str, trading_pair: str, amount: Decimal, trade_type: TradeType,
                           order_type: OrderType, price: Decimal, position_action: PositionAction = PositionAction.NIL,
                           **kwargs) -> Tuple[str, float]:
        market = await self._loaded_market(trading_pair)
        is_ask = trade_type == TradeType.SELL
        if order_type == OrderType.MARKET:
            price = self._market_order_price(market, is_buy=not is_ask)
            lighter_type, time_in_force = CONSTANTS.ORDER_TYPE_MARKET, CONSTANTS.TIME_IN_FORCE_IOC
            expiry = CONSTANTS.ORDER_EXPIRY_NONE
        else:
            lighter_type = CONSTANTS.ORDER_TYPE_LIMIT
            time_in_force = (CONSTANTS.TIME_IN_FORCE_POST_ONLY if order_type == OrderType.LIMIT_MAKER
                             else CONSTANTS.TIME_IN_FORCE_GTT)
            expiry = CONSTANTS.ORDER_EXPIRY_SIGNER_DEFAULT
            checks.check_fat_finger(market, is_ask, price, *self._price_references(trading_pair))
        # Every integer the signer takes, range-checked here: out of range, it would be wrapped or refused obscurely.
        market_index = checks.market_index(market)
        client_order_index = checks.client_order_index(order_id)
        base_amount, price_ticks = checks.base_amount(market, amount), checks.price_ticks(market, price)
        expiry = checks.order_expiry(expiry, int(self._time() * 1e3), time_in_force == CONSTANTS.TIME_IN_FORCE_IOC)
        tx_hash = await self._transactions.submit(self._transactions.create_order(
            market_index, client_order_index, base_amount, price_ticks, is_ask, lighter_type, time_in_force,
            position_action == PositionAction.CLOSE, expiry), max_age=self._max_order_age,
            placed_at=self._placed_at.get(order_id))
        return tx_hash, self.current_timestamp

    async def _place_order_and_process_update(self, order: InFlightOrder, **kwargs) -> str:
        try:
            return await super()._place_order_and_process_update(order, **kwargs)
        except LighterOutcomeUnknown as e:
            # Not a failure: the order stays PENDING_CREATE until the stream, the order status poll or its own
            # look-ups find it, or prove it absent.
            self.logger().warning(f"Order {order.client_order_id} stays tracked: {e}.")
            self._settle_unknown_create(order, e)
            return ""

    def _settle_unknown_create(self, order: InFlightOrder, unknown: LighterOutcomeUnknown):
        start = not self._creates_in_doubt
        self._creates_in_doubt[order.client_order_id] = _CreateInDoubt(order, unknown)
        if start:
            self._in_background(self._settle_unknown_creates())

    async def _settle_unknown_creates(self):
        """Settles the orders whose create is in doubt, all together, until the exchange shows each or proves it absent:
        its signed transaction can no longer execute (its nonce is taken, or its ExpiredAt has passed) and the order is
        still not found ORDER_INDEX_DELAY seconds after that was seen. While its transaction can still execute, the
        order cannot be on Lighter either (executing takes the nonce): only the nonce is watched, from what the
        transaction client saw accepted (no request) and from /nextNonce after ORDER_LOOKUP_PAUSES; the orders are
        looked up once their nonce is taken and once more ORDER_INDEX_DELAY later, one look-up per market for all."""
        pauses = CONSTANTS.ORDER_LOOKUP_PAUSES
        reads, joined, read_at = 0, 0, 0.0
        try:
            while True:
                await asyncio.sleep(self.IN_DOUBT_POLL_INTERVAL)
                for client_order_id, entry in list(self._creates_in_doubt.items()):
                    if not entry.order.is_pending_create:
                        del self._creates_in_doubt[client_order_id]  # settled meanwhile
                if not self._creates_in_doubt or self._tx_client is None or not self._tx_client.running:
                    return  # all settled, or the connector stopped
                if len(self._creates_in_doubt) > joined:
                    reads, read_at = 0, 0.0  # a newcomer: /nextNonce is watched closely again
                joined = len(self._creates_in_doubt)
                now = time.monotonic()
                waiting = [entry for entry in self._creates_in_doubt.values() if entry.taken_at is None]
                for entry in waiting:
                    if entry.spent(self._tx_client):
                        entry.taken_at = now
                waiting = [entry for entry in waiting if entry.taken_at is None]
                if waiting and now >= read_at:
                    read_at = now + pauses[min(reads, len(pauses) - 1)]
                    reads += 1
                    try:
                        next_nonce = await self._tx_client.fetch_next_nonce()
                    except asyncio.CancelledError:
                        raise
                    except Exception as e:
                        self.logger().debug(f"Lighter's next nonce could not be read ({e.__class__.__name__}); "
                                            f"asking again in {read_at - now:.0f} s.")
                        next_nonce = None
                    for entry in waiting:
                        if next_nonce is not None and entry.unknown.nonce is not None \
                                and next_nonce > entry.unknown.nonce:
                            entry.taken_at = now
                        else:
                            self.logger().debug(f"Order {entry.order.client_order_id}: its create at nonce "
                                                f"{entry.unknown.nonce} can still execute (/nextNonce {next_nonce}); "
                                                f"it stays PENDING_CREATE.")
                await self._look_up_creates_in_doubt(now)
        finally:
            self._creates_in_doubt.clear()

    async def _look_up_creates_in_doubt(self, now: float):
        due = [entry for entry in self._creates_in_doubt.values()
               if entry.taken_at is not None and now >= entry.look_up_at]
        for trading_pair, orders in _by_trading_pair(entry.order for entry in due).items():
            try:
                found = await self._exchange_orders(self._market(trading_pair).market_id, orders)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.logger().debug(f"Orders {[order.client_order_id for order in orders]} could not be looked up on "
                                    f"Lighter: {e}")
                continue
            for order in orders:
                entry = self._creates_in_doubt[order.client_order_id]
                if order.client_order_id in found:
                    del self._creates_in_doubt[order.client_order_id]
                    self._order_tracker.process_order_update(self._order_update(order, found[order.client_order_id]))
                elif now - entry.taken_at >= CONSTANTS.ORDER_INDEX_DELAY:
                    del self._creates_in_doubt[order.client_order_id]
                    self.logger().debug(f"Order {order.client_order_id}: its create at nonce {entry.unknown.nonce} "
                                        f"can no longer execute and the order is not on Lighter: failed.")
                    self._order_tracker.process_order_update(OrderUpdate(
                        client_order_id=order.client_order_id, trading_pair=order.trading_pair,
                        update_timestamp=self.current_timestamp, new_state=OrderState.FAILED,
                        misc_updates={"error_message": "Lighter never executed the order: its transaction can no "
                                                       "longer execute and the order is not on Lighter.",
                                      "error_type": LighterOutcomeUnknown.__name__}))
                else:
                    entry.look_up_at = entry.taken_at + CONSTANTS.ORDER_INDEX_DELAY
                    self.logger().debug(f"Order {order.client_order_id}: its create at nonce {entry.unknown.nonce} "
                                        f"can no longer execute and the order is not on Lighter yet; looked up again "
                                        f"in {entry.look_up_at - now:.1f} s.")

    async def _place_cancel(self, order_id: str, tracked_order: InFlightOrder) -> bool:
        # A strategy may cancel an order again before the first cancel is answered: one transaction serves both (a
        # second would only be refused, and cost a nonce and a share of the rate budget).
        cancel = self._cancels.get(order_id)
        if cancel is None:
            cancel = self._cancels[order_id] = asyncio.ensure_future(self._cancel_once(order_id, tracked_order))
            cancel.add_done_callback(lambda done: (self._cancels.pop(order_id, None),
                                                   done.cancelled() or done.exception()))
        return await asyncio.shield(cancel)

    async def _cancel_once(self, order_id: str, tracked_order: InFlightOrder) -> bool:
        # By client order index: no look-up of the exchange's order index, and since transactions of one key are
        # executed in nonce order, the cancel can never overtake the order it cancels.
        market = self._market(tracked_order.trading_pair)
        try:
            await self._transactions.submit(self._transactions.cancel_order(market.market_id, int(order_id)))
        except LighterTransactionError as e:
            if e.code in CONSTANTS.ORDER_NOT_FOUND_CODES:
                # Not active on Lighter: filled, cancelled or never placed. The exchange's record decides which, not
                # the refusal; Hummingbot meanwhile counts the refusal towards calling the order lost.
                self._in_background(self._settle_by_look_up(tracked_order))
                raise
            # A known reason, in one sentence (Hummingbot's own line is a traceback). The order stays as it is: the
            # stream or the status poll shows whether the cancel executed after all.
            self.logger().warning(f"Failed to cancel order {order_id}: {e}")
            return False
        return True

    async def _settle_by_look_up(self, order: InFlightOrder):
        try:
            update = await self._request_order_status(order)
            if update.new_state in (OrderState.FILLED, OrderState.PARTIALLY_FILLED, OrderState.CANCELED):
                for trade_update in await self._all_trade_updates_for_order(order):
                    self._order_tracker.process_trade_update(trade_update)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.logger().debug(f"Order {order.client_order_id} could not be looked up on Lighter: {e}")
            return
        self._order_tracker.process_order_update(update)

    async def cancel_all(self, timeout_seconds: float) -> List[CancellationResult]:
        """Lighter executes an accepted cancel afterwards and the stream confirms it. A strategy stops right after this:
        waiting for the confirmations (within the timeout, and only once the stream has delivered anything) lets
        Hummingbot record every order's final state."""
        deadline = time.monotonic() + timeout_seconds
        results = await super().cancel_all(timeout_seconds)
        accepted = {result.order_id for result in results if result.success}
        while (accepted & set(self._order_tracker.active_orders) and self._user_stream_tracker.last_recv_time > 0
               and time.monotonic() < deadline):
            await asyncio.sleep(0.05)
        return results

    def _get_fee(self, base_currency: str, quote_currency: str, order_type: OrderType, order_side: TradeType,
                 position_action: PositionAction, amount: Decimal, price: Decimal = s_decimal_NaN,
                 is_maker: Optional[bool] = None) -> TradeFeeBase:
        market = self._markets.get(f"{base_currency}-{quote_currency}")
        is_maker = is_maker if is_maker is not None else order_type is OrderType.LIMIT_MAKER
        percent = (market.maker_fee if is_maker else market.taker_fee) if market else Decimal(0)
        return TradeFeeBase.new_perpetual_fee(fee_schema=self.trade_fee_schema(), position_action=position_action,
                                              percent=percent, percent_token=CONSTANTS.QUOTE_TOKEN)

    async def _update_trading_fees(self):
        """Fee rates come with each market's details (trading rules); every fill carries the fee really charged."""

    # --- order status and fills over REST ------------------------------------------------------------------------

    async def _pages(self, path: str, items_key: str, params: Dict[str, Any], since: float,
                     done: Callable[[List[Dict[str, Any]]], bool] = lambda page: False) -> List[Dict[str, Any]]:
        """The rows of a list Lighter serves newest first, page by page through next_cursor, until the list ends, a page
        is older than `since` (seconds) or `done(page)` says the look-up has what it wants."""
        rows: List[Dict[str, Any]] = []
        cursor = None
        for _ in range(CONSTANTS.MAX_LOOKUP_PAGES):
            page_params = dict(params, limit=CONSTANTS.LOOKUP_PAGE_SIZE)
            if cursor is not None:
                page_params["cursor"] = cursor
            response = await self._api_get(path_url=path, params=page_params, is_auth_required=True, limit_id=path)
            page = response.get(items_key) or []
            rows.extend(page)
            finished = done(page)
            cursor = parsers.next_page_cursor(response, items_key, cursor)
            if finished or cursor is None or parsers.page_before(page, since):
                return rows
        self.logger().warning(f"Read only the newest {len(rows)} entries of Lighter's {path} for market "
                              f"{params.get('market_id')}; older ones were not checked.")
        return rows

    @staticmethod
    def _matching_orders(raws: Iterable[Dict[str, Any]], client_order_ids: set) -> Dict[str, parsers.LighterOrder]:
        orders = (parsers.parse_order(raw) for raw in raws)
        return {order.client_order_id: order for order in orders
                if order is not None and order.client_order_id in client_order_ids}

    async def _exchange_orders(self, market_id: int, tracked: List[InFlightOrder]) -> Dict[str, parsers.LighterOrder]:
        """The exchange's view of these orders: the active list, then, for those not active, the inactive orders page by
        page until all are found or the pages are older than the oldest of them."""
        wanted = {order.client_order_id for order in tracked}
        params = {"account_index": self._account_index, "market_id": market_id}
        active = await self._api_get(path_url=CONSTANTS.ACTIVE_ORDERS_PATH, params=params, is_auth_required=True,
                                     limit_id=CONSTANTS.ACTIVE_ORDERS_PATH)
        found = self._matching_orders(active.get("orders") or [], wanted)
        if wanted - found.keys():
            def all_found(page: List[Dict[str, Any]]) -> bool:
                # A list shifted by orders finished between two pages repeats one: the first (newest) reading stays.
                for client_order_id, order in self._matching_orders(page, wanted).items():
                    found.setdefault(client_order_id, order)
                return not wanted - found.keys()

            await self._pages(CONSTANTS.INACTIVE_ORDERS_PATH, "orders", params, _lookup_start(tracked), all_found)
        return found

    async def _request_order_status(self, tracked_order: InFlightOrder) -> OrderUpdate:
        market = self._market(tracked_order.trading_pair)
        order = (await self._exchange_orders(market.market_id, [tracked_order])).get(tracked_order.client_order_id)
        if order is None:
            raise _OrderNotFound(f"Order {tracked_order.client_order_id} is not on Lighter.")
        return self._order_update(tracked_order, order)

    async def _update_orders_with_error_handler(self, orders: List[InFlightOrder], error_handler: Callable):
        """A few requests a market for all of its tracked orders, instead of a few an order."""
        for trading_pair, market_orders in _by_trading_pair(orders).items():
            try:
                found = await self._exchange_orders(self._market(trading_pair).market_id, market_orders)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                for order in market_orders:
                    await error_handler(order, error)
                continue
            for order in market_orders:
                if order.client_order_id in found:
                    self._order_tracker.process_order_update(self._order_update(order, found[order.client_order_id]))
                elif not (order.is_pending_create and order.exchange_order_id is None):
                    # An order whose create has not returned (still in the transaction client, or in doubt and being
                    # settled) may yet be placed: its absence proves nothing, and three would make Hummingbot fail it.
                    await error_handler(order, _OrderNotFound(f"Order {order.client_order_id} is not on Lighter."))

    def _order_update(self, tracked_order: InFlightOrder, order: parsers.LighterOrder) -> OrderUpdate:
        if order.state == OrderState.FAILED:
            self.logger().warning(f"Lighter did not accept order {tracked_order.client_order_id}: {order.status}.")
        # Trades of 2025 name the order only by its index.
        self._client_id_by_order_index[order.exchange_order_id] = tracked_order.client_order_id
        if order.filled_amount > tracked_order.executed_amount_base:
            self._expect_fills(tracked_order, order.filled_amount)
        return OrderUpdate(client_order_id=tracked_order.client_order_id, trading_pair=tracked_order.trading_pair,
                           update_timestamp=order.timestamp or self.current_timestamp, new_state=order.state,
                           misc_updates={"lighter_status": order.status, "order_index": order.exchange_order_id})

    async def _account_trades(self, market_id: int, since: float) -> List[Dict[str, Any]]:
        """The account's trades in a market, newest first, back to `since` (seconds)."""
        return await self._pages(
            CONSTANTS.ACCOUNT_TRADES_PATH, "trades", since=since,
            params={"account_index": self._account_index, "market_id": market_id, "sort_by": "timestamp",
                    "sort_dir": "desc"})

    async def _all_trade_updates_for_order(self, order: InFlightOrder) -> List[TradeUpdate]:
        market = self._market(order.trading_pair)
        trades = await self._account_trades(market.market_id, _lookup_start([order]))
        return list(self._trade_updates(trades, {order.client_order_id: order}))

    async def _update_orders_fills(self, orders: List[InFlightOrder]):
        """One look-up a market for the fills of all its orders, instead of one an order."""
        for trading_pair, market_orders in _by_trading_pair(orders).items():
            try:
                await self._read_fills(trading_pair, market_orders)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.logger().warning(f"Could not read {trading_pair} fills from Lighter: {e}")
        fillable = self._order_tracker.all_fillable_orders
        self._client_id_by_order_index = {index: client_order_id for index, client_order_id
                                          in self._client_id_by_order_index.items() if client_order_id in fillable}

    async def _read_fills(self, trading_pair: str, orders: List[InFlightOrder]):
        """Every fillable order takes its fills from the market's trades, so the next look-up of the market starts
        where this one ended."""
        market_id = self._market(trading_pair).market_id
        read_until = self._fills_read_until.get(market_id, 0.0)
        trades = await self._account_trades(
            market_id, max(_lookup_start(orders), read_until - CONSTANTS.LOOKUP_OVERLAP_SECONDS))
        for trade_update in self._trade_updates(trades, self._order_tracker.all_fillable_orders):
            self._order_tracker.process_trade_update(trade_update)
        newest = max((parsers.to_seconds(trade.get("timestamp")) for trade in trades), default=0.0)
        self._fills_read_until[market_id] = max(read_until, newest)

    async def _recover_fills(self):
        """After the stream was down, fills it missed are read from the account's own trades, then the order states it
        missed: an order filled or cancelled meanwhile would otherwise stay open until the next status poll. Both reads
        are asked again until they succeed, fills first: Hummingbot completes a filled order after waiting 5 s for its
        fills and reports none that come later, and the next poll can be two minutes away."""
        active = _by_trading_pair(self._order_tracker.active_orders.values())
        for trading_pair, fillable in _by_trading_pair(self._order_tracker.all_fillable_orders.values()).items():
            fills_read, _ = await self._read_until_done(f"{trading_pair} fills",
                                                        functools.partial(self._read_fills, trading_pair, fillable))
            if not fills_read or trading_pair not in active:
                continue  # an order marked filled now would complete without its fills: the status poll reads both
            orders = active[trading_pair]
            states_read, found = await self._read_until_done(f"{trading_pair} order states", functools.partial(
                self._exchange_orders, self._market(trading_pair).market_id, orders))
            if not states_read:
                continue
            # An order not found proves nothing here (it may not be listed yet): the status poll decides those.
            for order in orders:
                if order.client_order_id in found:
                    self._order_tracker.process_order_update(self._order_update(order, found[order.client_order_id]))

    async def _read_until_done(self, what: str, read: Callable[[], Coroutine[Any, Any, Any]]) -> Tuple[bool, Any]:
        """(True, what `read()` returned), asked again after each of ORDER_LOOKUP_PAUSES; (False, None) when every try
        failed."""
        for pause in CONSTANTS.ORDER_LOOKUP_PAUSES:
            try:
                return True, await read()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.logger().debug(f"Could not read {what} from Lighter ({e}); asking again in {pause} s.")
                await asyncio.sleep(pause)
        self.logger().warning(f"Could not read {what} from Lighter; the status poll will.")
        return False, None

    def _expect_fills(self, order: InFlightOrder, filled: Decimal):
        """Lighter shows the order filled further than the fills reported: a trade frame may still be on its way, or
        was missed (a stream that dropped, a recovery that read before the trade). Unless its fills come meanwhile,
        they are read over REST; Hummingbot would otherwise complete the order without them and report none later."""
        self._filled_on_exchange[order.client_order_id] = max(filled, self._filled_on_exchange.get(
            order.client_order_id, Decimal(0)))
        if order.trading_pair not in self._fill_gap_pairs:
            self._fill_gap_pairs.add(order.trading_pair)
            self._in_background(self._close_fill_gaps(order.trading_pair))

    async def _close_fill_gaps(self, trading_pair: str):
        try:
            for pause in (self.FILL_GAP_WAIT,) + CONSTANTS.ORDER_LOOKUP_PAUSES:
                await asyncio.sleep(pause)
                short = self._orders_short_of_fills(trading_pair)
                if not short:
                    return
                try:
                    await self._read_fills(trading_pair, short)
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    self.logger().debug(f"Could not read {trading_pair} fills from Lighter ({e}); asking again.")
            short = self._orders_short_of_fills(trading_pair)
            if short:
                self.logger().warning(f"Lighter shows {trading_pair} orders filled further than the fills it lists "
                                      f"for them: {', '.join(order.client_order_id for order in short)}.")
        finally:
            self._fill_gap_pairs.discard(trading_pair)

    def _orders_short_of_fills(self, trading_pair: str) -> List[InFlightOrder]:
        """This market's orders Lighter shows filled further than their fills; forgets those no longer short."""
        fillable = self._order_tracker.all_fillable_orders
        short = []
        for client_order_id, filled in list(self._filled_on_exchange.items()):
            order = fillable.get(client_order_id)
            if order is None or order.executed_amount_base >= filled:
                del self._filled_on_exchange[client_order_id]
            elif order.trading_pair == trading_pair:
                short.append(order)
        return short

    def _trade_updates(self, trades: Iterable[Dict[str, Any]], orders: Dict[str, InFlightOrder]
                       ) -> Iterable[TradeUpdate]:
        # The connector's exchange order id is the hash of the transaction that placed the order.
        by_tx_hash = {str(order.exchange_order_id).lower(): client_order_id
                      for client_order_id, order in orders.items() if order.exchange_order_id}
        for trade in parsers.oldest_first(trades):
            for fill in parsers.parse_account_fills(trade, self._account_index):
                owner = parsers.fill_owner(fill, orders, self._client_id_by_order_index, by_tx_hash)
                if owner is not None:
                    yield self._trade_update(orders[owner], fill)

    def _trade_update(self, order: InFlightOrder, fill: parsers.LighterFill) -> TradeUpdate:
        fee = TradeFeeBase.new_perpetual_fee(
            fee_schema=self.trade_fee_schema(), position_action=order.position, percent_token=CONSTANTS.QUOTE_TOKEN,
            flat_fees=[TokenAmount(amount=fill.fee, token=CONSTANTS.QUOTE_TOKEN)])
        return TradeUpdate(trade_id=fill.trade_id, client_order_id=order.client_order_id,
                           exchange_order_id=order.exchange_order_id, trading_pair=order.trading_pair,
                           fill_timestamp=fill.timestamp, fill_price=fill.price, fill_base_amount=fill.amount,
                           fill_quote_amount=fill.quote_amount, fee=fee, is_taker=not fill.is_maker)

    # --- user stream ---------------------------------------------------------------------------------------------

    async def _iter_user_event_queue(self) -> AsyncIterable[Dict[str, Any]]:
        while True:
            try:
                yield await self._user_stream_tracker.user_stream.get()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.logger().network("Unknown error while reading the Lighter user stream.", exc_info=True)
                await self._sleep(1.0)

    async def _user_stream_event_listener(self):
        async for message in self._iter_user_event_queue():
            try:
                self._process_user_message(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.logger().exception("Unexpected error in user stream listener loop.")

    def _process_user_message(self, message: Dict[str, Any]):
        channel = message.get("channel", "").split(":")[0]
        if channel == CONSTANTS.WS_ACCOUNT_ORDERS_CHANNEL:
            for raw in parsers.iter_orders(message.get("orders")):
                order = parsers.parse_order(raw)
                tracked = self._order_tracker.all_updatable_orders.get(order.client_order_id) if order else None
                if tracked is not None:
                    self._order_tracker.process_order_update(self._order_update(tracked, order))
        elif channel == CONSTANTS.WS_ACCOUNT_TRADES_CHANNEL:
            trades = parsers.iter_trades(message.get("trades"))
            for trade_update in self._trade_updates(trades, self._order_tracker.all_fillable_orders):
                self._order_tracker.process_trade_update(trade_update)
        elif channel == CONSTANTS.WS_ACCOUNT_POSITIONS_CHANNEL:
            self._apply_positions(parsers.parse_positions(message.get("positions")))
        elif channel == CONSTANTS.WS_USER_STATS_CHANNEL:
            self._apply_balance(CONSTANTS.COLLATERAL_TOKEN, parsers.parse_user_stats(message))
        elif channel == CONSTANTS.WS_ACCOUNT_ASSETS_CHANNEL:
            for asset, balance in parsers.parse_asset_balances(message.get("assets")).items():
                self._apply_balance(asset, balance)

    # --- account -------------------------------------------------------------------------------------------------

    def _apply_balance(self, asset: str, balance: parsers.Balance):
        self._account_balances[asset] = balance.total
        self._account_available_balances[asset] = balance.available

    def _apply_positions(self, positions: List[parsers.LighterPosition]):
        # One-way: a market holds at most one position, which replaces whatever side was there.
        for raw in positions:
            market = self._market_by_id(raw.market_id)
            if market is None:
                continue
            for stale_side in (PositionSide.LONG, PositionSide.SHORT):
                self._perpetual_trading.remove_position(
                    self._perpetual_trading.position_key(market.trading_pair, stale_side))
            if raw.amount != 0:
                side = PositionSide.LONG if raw.amount > 0 else PositionSide.SHORT
                self._perpetual_trading.set_position(
                    self._perpetual_trading.position_key(market.trading_pair, side),
                    Position(trading_pair=market.trading_pair, position_side=side,
                             unrealized_pnl=raw.unrealized_pnl, entry_price=raw.entry_price, amount=raw.amount,
                             leverage=raw.leverage))

    async def _account(self) -> Dict[str, Any]:
        try:
            response = await self._api_get(path_url=CONSTANTS.ACCOUNT_PATH,
                                           params={"by": "index", "value": self._account_index},
                                           limit_id=CONSTANTS.ACCOUNT_PATH)
        except IOError as e:
            raise IOError(self._explain_request_error(e)) from None
        account = parsers.first_account(response, self._account_index)
        if account is None:
            raise IOError(f"Lighter has no account with index {self._account_index}; check the account index.")
        if self._l1_address and str(account.get("l1_address", "")).lower() != self._l1_address:
            raise IOError(f"Lighter account {self._account_index} does not belong to L1 address {self._l1_address}.")
        return account

    def _explain_request_error(self, error: Exception) -> str:
        text = str(error)
        if "HTTP status is 400." in text or "HTTP status is 404." in text:
            return f"Lighter has no account with index {self._account_index}; check the account index."
        if "HTTP status is 429." in text:
            return "Lighter is rate-limiting this account or IP (HTTP 429); wait a minute and try again."
        if "HTTP status" not in text:
            return f"Cannot reach Lighter at {web_utils.rest_base_url(self._domain)}: {error.__class__.__name__}."
        return f"Lighter answered with an error: {text.split('HTTP status is ', 1)[1][:3]}; try again later."

    async def _verify_api_key(self):
        """A token signed by a key the exchange does not know for this account is refused: checked once."""
        if self._key_verified:
            return
        try:
            await self._api_get(path_url=CONSTANTS.POSITION_FUNDING_PATH, is_auth_required=True,
                                params={"account_index": self._account_index, "limit": 1},
                                limit_id=CONSTANTS.POSITION_FUNDING_PATH)
        except IOError as e:
            if any(f"HTTP status is {status}." in str(e) for status in (400, 401, 403)):
                raise LighterKeyError(
                    f"Lighter refused API key {self._api_key_index} for account {self._account_index}: register "
                    f"the key on Lighter's API keys page, or check the key index and account index.") from None
            raise IOError(self._explain_request_error(e)) from None
        self._key_verified = True

    async def _update_balances(self):
        account = await self._account()
        if self._api_private_key:
            await self._verify_api_key()
        balances = parsers.parse_account_balances(account)
        for asset in set(self._account_balances) - set(balances):
            del self._account_balances[asset]
            self._account_available_balances.pop(asset, None)
        for asset, balance in balances.items():
            self._apply_balance(asset, balance)

    async def _update_positions(self):
        account = await self._account()
        self._apply_positions(parsers.parse_positions(account.get("positions")))

    def set_position_mode(self, mode: PositionMode):
        # A strategy asking for HEDGE hears why it cannot have it, through the events it listens to.
        if mode in self.supported_position_modes():
            super().set_position_mode(mode)
        else:
            message = "Lighter supports one-way positions only."
            self._fire_position_mode_events(mode, success=False, message=message)
            self.logger().error(f"Failed to set position mode to {mode}: {message}")

    async def _trading_pair_position_mode_set(self, mode: PositionMode, trading_pair: str) -> Tuple[bool, str]:
        if mode == PositionMode.ONEWAY:
            return True, ""
        return False, "Lighter supports one-way positions only."

    async def _set_trading_pair_leverage(self, trading_pair: str, leverage: int) -> Tuple[bool, str]:
        market = await self._loaded_market(trading_pair)
        if leverage < 1:
            return False, "Leverage must be at least 1."
        if leverage > market.max_leverage:
            self.logger().warning(f"{trading_pair} allows at most {market.max_leverage}x on Lighter; using that.")
            leverage = market.max_leverage
        try:
            await self._transactions.submit(self._transactions.update_leverage(market.market_id, 10_000 // leverage))
        except LighterTransactionError as e:
            return False, str(e)
        return True, ""

    async def _update_all_funding_payments(self, fire_event_on_new: bool):
        """One positionFunding read for every market instead of Hummingbot's one per pair (on all ~130 markets that
        would be 130 requests every 2-minute poll, twice a Standard account's 60 a minute). The newest 100 payments
        cover the last round of every market with a position."""
        try:
            response = await self._api_get(
                path_url=CONSTANTS.POSITION_FUNDING_PATH, is_auth_required=True,
                limit_id=CONSTANTS.POSITION_FUNDING_PATH, params={"account_index": self._account_index, "limit": 100})
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.logger().warning(f"Could not read Lighter's funding payments ({_request_failure(e)}); "
                                  f"trying again at the next poll.")
            return
        latest: Dict[int, parsers.FundingPayment] = {}
        for payment in parsers.parse_position_funding(response):
            if payment.market_id not in latest or payment.timestamp > latest[payment.market_id].timestamp:
                latest[payment.market_id] = payment
        for trading_pair in self.trading_pairs:
            try:
                payment = latest.get(int(await self.exchange_symbol_associated_to_pair(trading_pair)))
            except KeyError:
                continue  # markets not loaded yet: the next poll
            if payment is None:
                self._emit_funding_payment_event(trading_pair, 0, Decimal(-1), Decimal(-1), fire_event_on_new)
            else:
                self._emit_funding_payment_event(trading_pair, payment.timestamp, payment.rate, payment.amount,
                                                 fire_event_on_new)

    async def _fetch_last_fee_payment(self, trading_pair: str) -> Tuple[float, Decimal, Decimal]:
        market_id = await self.exchange_symbol_associated_to_pair(trading_pair)
        response = await self._api_get(
            path_url=CONSTANTS.POSITION_FUNDING_PATH, is_auth_required=True, limit_id=CONSTANTS.POSITION_FUNDING_PATH,
            params={"account_index": self._account_index, "market_id": market_id, "limit": 1})
        payments = parsers.parse_position_funding(response)
        if not payments:
            return 0, Decimal(-1), Decimal(-1)
        latest = max(payments, key=lambda payment: payment.timestamp)
        return latest.timestamp, latest.rate, latest.amount


class _OrderNotFound(IOError):
    pass


def _request_failure(error: Exception) -> str:
    """What went wrong with a request, in a few words, without the URL (said by the caller) or any header."""
    text = str(error)
    if "HTTP status is " in text:
        return f"HTTP {text.split('HTTP status is ', 1)[1][:3]}"
    return error.__class__.__name__


@dataclass(eq=False)
class _CreateInDoubt:
    order: InFlightOrder
    unknown: LighterOutcomeUnknown
    # When its transaction was first seen unable to execute (monotonic clock); when the order is looked up next.
    taken_at: Optional[float] = None
    look_up_at: float = 0.0

    def spent(self, transactions: LighterTransactionClient) -> bool:
        """Seen unable to execute without asking the exchange: its nonce was taken, or its ExpiredAt passed."""
        if self.unknown.expired_at_ms is not None and time.time() * 1000 > self.unknown.expired_at_ms:
            return True
        return self.unknown.nonce is not None and transactions.nonce_taken(self.unknown.nonce)


def _lookup_start(orders: Iterable[InFlightOrder]) -> float:
    """Shortly before the oldest of these orders was created (seconds); 0, the whole list, if one has no time."""
    created = [order.creation_timestamp for order in orders]
    if not created or not all(math.isfinite(timestamp) and timestamp > 0 for timestamp in created):
        return 0.0
    return min(created) - CONSTANTS.LOOKUP_OVERLAP_SECONDS


def _by_trading_pair(orders: Iterable[InFlightOrder]) -> Dict[str, List[InFlightOrder]]:
    grouped: Dict[str, List[InFlightOrder]] = {}
    for order in orders:
        grouped.setdefault(order.trading_pair, []).append(order)
    return grouped
