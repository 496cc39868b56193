import asyncio
import time
from collections import OrderedDict
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Coroutine, Dict, Iterable, List, Optional, Set, Tuple

from bidict import bidict
from pydantic import SecretStr

from hummingbot.connector.constants import s_decimal_NaN
from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_order_checks as checks,
    extended_perpetual_parsers as parsers,
    extended_perpetual_utils as utils,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_api_order_book_data_source import (
    ExtendedPerpetualAPIOrderBookDataSource,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_auth import ExtendedPerpetualAuth
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_fill_gaps import FillGaps
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_placements import (
    Placement,
    PlacementEvent,
    Placements,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_transactions import (
    ExtendedApiError,
    ExtendedKeyError,
    ExtendedNotFoundError,
    ExtendedNotSentError,
    ExtendedOutcomeUnknownError,
    ExtendedTransactionClient,
    MaxAge,
    OrderRequest,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_user_stream_data_source import (
    ExtendedPerpetualUserStreamDataSource,
)
from hummingbot.connector.derivative.position import Position
from hummingbot.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.core.api_throttler.data_types import RateLimit
from hummingbot.core.data_type.cancellation_result import CancellationResult
from hummingbot.core.data_type.common import OrderType, PositionAction, PositionMode, PositionSide, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, OrderUpdate, TradeUpdate
from hummingbot.core.data_type.limit_order import LimitOrder
from hummingbot.core.data_type.trade_fee import AddedToCostTradeFee, TokenAmount, TradeFeeBase
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.core.utils.async_utils import safe_ensure_future
from hummingbot.core.utils.estimate_fee import build_perpetual_trade_fee
from hummingbot.core.web_assistant.connections.data_types import RESTMethod
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

# Exchange ids of recent orders, and fills seen before their order's exchange id was known, kept up to this many.
MAX_LINKED_ORDERS = 1_000
_ZERO = Decimal(0)
_LIVE_STATES = (OrderState.OPEN, OrderState.PARTIALLY_FILLED)


def _plain(value: Any) -> str:
    return str(value.get_secret_value() if isinstance(value, SecretStr) else value or "").strip()


def _request_failure(error: Exception) -> str:
    """What went wrong with a request, in a few words, without the URL (said by the caller) or any header."""
    text = str(error)
    if "HTTP status is " in text:
        return f"HTTP {text.split('HTTP status is ', 1)[1][:3]}"
    return error.__class__.__name__


def _window(value: Any) -> int:
    """The dead man's switch window in seconds (validated by the config map); Hummingbot's keyless builds pass ""."""
    text = "" if value is None else str(value).strip()
    return int(text) if text else CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS


class ExtendedPerpetualDerivative(PerpetualDerivativePyBase):
    web_utils = web_utils

    SHORT_POLL_INTERVAL = 5.0
    LONG_POLL_INTERVAL = 120.0

    def __init__(
            self,
            extended_perpetual_api_secret: str = "",
            extended_perpetual_stark_private_key: str = "",
            extended_perpetual_stark_public_key: str = "",
            extended_perpetual_vault: Any = 0,
            extended_perpetual_dead_man_switch_seconds: Any = CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS,
            extended_perpetual_max_order_age_seconds: Any = CONSTANTS.MAX_ORDER_AGE_DEFAULT_SECONDS,
            balance_asset_limit: Optional[Dict[str, Dict[str, Decimal]]] = None,
            rate_limits_share_pct: Decimal = Decimal("100"),
            trading_pairs: Optional[List[str]] = None,
            trading_required: bool = True,
            domain: str = CONSTANTS.DEFAULT_DOMAIN,
    ):
        self._api_key = _plain(extended_perpetual_api_secret)
        self._trading_pairs = trading_pairs or []
        self._trading_required = trading_required
        self._domain = domain
        self._markets: Dict[str, parsers.MarketSpec] = {}
        self._market_status: Dict[str, str] = {}
        # Since when Extended has failed the network check, and when that was last said.
        self._unreachable_since: Optional[float] = None
        self._unreachable_said_at = 0.0
        self._fee_rates: Dict[str, parsers.FeeRates] = {}
        self._pending_fills: "OrderedDict[str, List[parsers.AccountTrade]]" = OrderedDict()
        self._client_ids_by_exchange_id: "OrderedDict[str, str]" = OrderedDict()
        self._placements = Placements()
        self._placement_lookups: Dict[str, asyncio.Task] = {}
        # Cancels started in the background (a mass cancel, an orphan's cancel): they run on through a failed network
        # check, and are cancelled when the connector stops.
        self._background: Set[asyncio.Task] = set()
        self._fill_gaps = FillGaps()
        self._fill_read_lock = asyncio.Lock()
        # Orders whose update showed more filled than their fills: client order id -> (the amount shown, when).
        self._fill_lags: Dict[str, Tuple[Decimal, float]] = {}
        # Recoveries of what the account stream missed: cancelled whenever the network stops (a restart recovers anew).
        self._recovery_tasks: Set[asyncio.Task] = set()
        self._dead_man_switch_seconds = _window(extended_perpetual_dead_man_switch_seconds)
        self._dead_man_switch_task: Optional[asyncio.Task] = None
        self._dead_man_switch_armed = False
        self._max_order_age = utils.validate_max_order_age_seconds(extended_perpetual_max_order_age_seconds)
        # When the strategy placed each order not sent yet (time.monotonic()): its maximum age counts from then.
        self._placed_at: Dict[str, float] = {}
        super().__init__(balance_asset_limit, rate_limits_share_pct)
        self._transactions = ExtendedTransactionClient(
            self._web_assistants_factory, api_key=self._api_key,
            stark_private_key=_plain(extended_perpetual_stark_private_key),
            stark_public_key=_plain(extended_perpetual_stark_public_key),
            vault=_plain(extended_perpetual_vault), domain=domain)

    # ----- connector description -----

    @property
    def name(self) -> str:
        return self._domain

    @property
    def authenticator(self) -> ExtendedPerpetualAuth:
        return ExtendedPerpetualAuth(self._api_key)

    @property
    def rate_limits_rules(self) -> List[RateLimit]:
        # The reserved share fits this connector's dead man's switch renewals.
        return CONSTANTS.rate_limits(dead_man_switch_seconds=self._dead_man_switch_seconds)

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def client_order_id_max_length(self) -> int:
        return CONSTANTS.MAX_ORDER_ID_LEN

    @property
    def client_order_id_prefix(self) -> str:
        return CONSTANTS.HBOT_ORDER_ID_PREFIX

    @property
    def trading_rules_request_path(self) -> str:
        return CONSTANTS.MARKETS_PATH

    @property
    def trading_pairs_request_path(self) -> str:
        return CONSTANTS.MARKETS_PATH

    @property
    def check_network_request_path(self) -> str:
        return CONSTANTS.MARKETS_PATH

    @property
    def trading_pairs(self) -> List[str]:
        return self._trading_pairs

    @property
    def is_cancel_request_in_exchange_synchronous(self) -> bool:
        # An accepted cancel is confirmed by the CANCELLED order update that follows.
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
        return self._trading_rules[trading_pair].buy_order_collateral_token

    def get_sell_collateral_token(self, trading_pair: str) -> str:
        return self._trading_rules[trading_pair].sell_order_collateral_token

    # ----- factories -----

    def _create_web_assistants_factory(self) -> WebAssistantsFactory:
        return web_utils.build_api_factory(throttler=self._throttler, auth=self._auth)

    def _create_order_book_data_source(self) -> ExtendedPerpetualAPIOrderBookDataSource:
        return ExtendedPerpetualAPIOrderBookDataSource(
            trading_pairs=self._trading_pairs, connector=self, api_factory=self._web_assistants_factory,
            domain=self._domain)

    def _create_user_stream_data_source(self) -> ExtendedPerpetualUserStreamDataSource:
        return ExtendedPerpetualUserStreamDataSource(auth=self._auth, api_factory=self._web_assistants_factory,
                                                     domain=self._domain)

    # ----- error classification -----

    def _is_request_exception_related_to_time_synchronizer(self, request_exception: Exception) -> bool:
        return False

    def _is_order_not_found_during_status_update_error(self, status_update_exception: Exception) -> bool:
        return isinstance(status_update_exception, ExtendedNotFoundError)

    def _is_order_not_found_during_cancelation_error(self, cancelation_exception: Exception) -> bool:
        return isinstance(cancelation_exception, ExtendedNotFoundError)

    # ----- markets -----

    async def _make_network_check_request(self):
        # Counted in the reserved share of the rate limit: order traffic never delays it into a timeout.
        await self._api_get(path_url=CONSTANTS.MARKETS_PATH, params={"market": CONSTANTS.NETWORK_CHECK_MARKET},
                            limit_id=CONSTANTS.NETWORK_CHECK_LIMIT_ID)

    async def check_network(self) -> NetworkStatus:
        """Hummingbot's check, which alone would say nothing above DEBUG while Extended cannot be reached: this one
        says so at WARNING at once, again every NETWORK_WARNING_INTERVAL while it lasts, and when Extended answers."""
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
            self.logger().info(f"Extended at {web_utils.rest_base_url(self._domain)} answers again.")
            self._unreachable_since = None
        return NetworkStatus.CONNECTED

    def _say_unreachable(self, reason: str):
        now = self._time()
        if self._unreachable_since is None:
            self._unreachable_since = now
        elif now - self._unreachable_said_at < CONSTANTS.NETWORK_WARNING_INTERVAL:
            return
        self._unreachable_said_at = now
        lasting = f" (for {now - self._unreachable_since:.0f} s)" if now > self._unreachable_since else ""
        self.logger().warning(f"Cannot reach Extended at {web_utils.rest_base_url(self._domain)}: {reason}{lasting}; "
                              f"no orders can be placed until it answers.")

    async def _format_trading_rules(self, exchange_info_dict: Dict[str, Any]) -> List[TradingRule]:
        return self._register_markets(exchange_info_dict)

    def _register_markets(self, exchange_info: Dict[str, Any]) -> List[TradingRule]:
        """Trading rules of the listed perpetual markets; their settlement settings go to the order signer."""
        rules, markets, statuses = [], {}, {}
        for entry in parsers.market_entries(exchange_info):
            listing = parsers.market_listing(entry)
            if entry.get("assetName") and entry.get("collateralAssetName"):
                statuses[f"{entry['assetName']}-{entry['collateralAssetName']}"] = str(entry.get("status"))
            if listing is None:
                continue
            try:
                spec = parsers.parse_market(entry)
                self._transactions.register_market(spec)
            except Exception:
                self.logger().error(f"Error parsing the trading pair rule {entry.get('name')}. Skipping.",
                                    exc_info=True)
                continue
            markets[spec.trading_pair] = spec
            rules.append(parsers.trading_rule(spec))
        self._markets, self._market_status = markets, statuses
        return rules

    def _initialize_trading_pair_symbols_from_exchange_info(self, exchange_info: Dict[str, Any]):
        mapping = bidict()
        for entry in parsers.market_entries(exchange_info):
            listing = parsers.market_listing(entry)
            if listing is not None and listing[1] not in mapping.inverse:
                mapping[listing[0]] = listing[1]
        self._set_trading_pair_symbol_map(mapping)

    async def _pair_of(self, market: str) -> Optional[str]:
        try:
            return await self.trading_pair_associated_to_exchange_symbol(symbol=market)
        except KeyError:
            return None

    async def _get_last_traded_price(self, trading_pair: str) -> float:
        market = await self.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        response = await self._api_get(path_url=CONSTANTS.MARKET_STATS_PATH.format(market=market),
                                       limit_id=CONSTANTS.MARKET_STATS_PATH)
        return float(parsers.parse_market_stats(response["data"]).last_price)

    def _mark_price(self, trading_pair: str, live_only: bool = False) -> Optional[Decimal]:
        """The streamed mark price; unless `live_only`, else the one of the last markets poll (up to 30 min old)."""
        try:
            mark = Decimal(self.get_funding_info(trading_pair).mark_price)
        except KeyError:
            mark = _ZERO
        spec = self._markets.get(trading_pair)
        if mark <= 0 and not live_only and spec is not None and spec.stats is not None:
            mark = spec.stats.mark_price
        return mark if mark > 0 else None

    # ----- orders -----

    def _tradable_market(self, trading_pair: str, position_action: PositionAction) -> parsers.MarketSpec:
        spec = self._markets.get(trading_pair)
        if spec is None:
            status = self._market_status.get(trading_pair)
            raise checks.OrderRefused(
                f"{trading_pair} is {status} on Extended and takes no orders." if status
                else f"{trading_pair} is not a market listed on Extended (or its rules are not loaded yet).")
        if not spec.opens_positions and not (spec.status == CONSTANTS.REDUCE_ONLY_MARKET_STATUS
                                             and position_action == PositionAction.CLOSE):
            raise checks.OrderRefused(
                f"{trading_pair} is in {spec.status} mode on Extended: only orders that close a position are accepted."
                if spec.status == CONSTANTS.REDUCE_ONLY_MARKET_STATUS
                else f"{trading_pair} is {spec.status} on Extended and takes no orders.")
        return spec

    def _market_order_price(self, spec: parsers.MarketSpec, is_buy: bool) -> Decimal:
        """An IOC bound: the best opposite price plus slippage, never past the market's limit price cap/floor."""
        mark = self._mark_price(spec.trading_pair)
        book = self.order_books.get(spec.trading_pair)
        best = next(book.ask_entries() if is_buy else book.bid_entries(), None) if book is not None else None
        reference = Decimal(str(best.price)) if best is not None else mark
        if reference is None:
            raise checks.OrderRefused(f"No order book and no mark price for {spec.trading_pair} yet: a MARKET order "
                                      f"needs one to bound its price.")
        if is_buy:
            price = reference * (1 + CONSTANTS.MARKET_ORDER_SLIPPAGE)
            if mark is not None:
                price = min(price, mark * (1 + spec.limit_price_cap))
            rounding = ROUND_FLOOR
        else:
            price = reference * (1 - CONSTANTS.MARKET_ORDER_SLIPPAGE)
            if mark is not None:
                price = max(price, mark * (1 - spec.limit_price_floor))
            rounding = ROUND_CEILING
        return (price / spec.min_price_change).to_integral_value(rounding=rounding) * spec.min_price_change

    def _check_order(self, spec: parsers.MarketSpec, amount: Decimal, price: Decimal, is_buy: bool, is_market: bool):
        """Extended's own order checks, made before signing so a refusal comes with a clear reason."""
        pair = spec.trading_pair
        problem = None
        max_value = spec.max_market_order_value if is_market else spec.max_limit_order_value
        # An old mark price could refuse a valid order: the cap is checked against the streamed one only.
        mark = self._mark_price(pair, live_only=True)
        if amount < spec.min_order_size:
            problem = f"Order amount {amount} is below the minimum order size {spec.min_order_size} of {pair}."
        elif amount % spec.min_order_size_change != 0:
            problem = (f"Order amount {amount} is not a multiple of the size step {spec.min_order_size_change} "
                       f"of {pair}.")
        elif price <= 0 or price % spec.min_price_change != 0:
            problem = f"Order price {price} is not a multiple of the price tick {spec.min_price_change} of {pair}."
        elif amount * price > max_value:
            problem = f"Order value {amount * price} is above the maximum order value {max_value} of {pair}."
        elif mark is not None and is_buy and price > mark * (1 + spec.limit_price_cap):
            problem = (f"Buy price {price} is above the limit price cap of {pair}: at most {spec.limit_price_cap:%} "
                       f"over the mark price {mark}.")
        elif mark is not None and not is_buy and price < mark * (1 - spec.limit_price_floor):
            problem = (f"Sell price {price} is below the limit price floor of {pair}: at most "
                       f"{spec.limit_price_floor:%} under the mark price {mark}.")
        if problem is not None:
            raise checks.OrderRefused(problem)
        checks.check_stark_amounts(spec, amount, price)

    def buy(self, trading_pair: str, amount: Decimal, order_type=OrderType.LIMIT, price: Decimal = s_decimal_NaN,
            **kwargs) -> str:
        placed_at = time.monotonic()
        return self._placed(super().buy(trading_pair, amount, order_type, price, **kwargs), placed_at)

    def sell(self, trading_pair: str, amount: Decimal, order_type=OrderType.LIMIT, price: Decimal = s_decimal_NaN,
             **kwargs) -> str:
        placed_at = time.monotonic()
        return self._placed(super().sell(trading_pair, amount, order_type, price, **kwargs), placed_at)

    def _placed(self, order_id: str, placed_at: float) -> str:
        # The order's task has not started yet: it finds its time here.
        self._placed_at[order_id] = placed_at
        return order_id

    async def _create_order(self, trade_type: TradeType, order_id: str, trading_pair: str, amount: Decimal,
                            order_type: OrderType, price: Optional[Decimal] = None,
                            position_action: PositionAction = PositionAction.NIL, **kwargs):
        try:
            # Hummingbot's own path starts with the pair's trading rule: without one it ends in a bare KeyError and
            # no failure event.
            if trading_pair not in self._trading_rules:
                self.start_tracking_order(order_id=order_id, exchange_order_id=None, trading_pair=trading_pair,
                                          trade_type=trade_type, price=price, amount=amount, order_type=order_type,
                                          position_action=position_action, **kwargs)
                self._on_order_failure(order_id=order_id, trading_pair=trading_pair, amount=amount,
                                       trade_type=trade_type, order_type=order_type, price=price,
                                       exception=checks.OrderRefused(self._untradable_reason(trading_pair)))
                return
            await super()._create_order(trade_type, order_id, trading_pair, amount, order_type, price,
                                        position_action=position_action, **kwargs)
        finally:
            self._placed_at.pop(order_id, None)

    def _untradable_reason(self, trading_pair: str) -> str:
        status = self._market_status.get(trading_pair)
        if status is not None:
            return f"{trading_pair} is {status} on Extended and takes no orders."
        if not self._market_status:
            return (f"The Extended connector is not connected yet (its markets are not loaded), so the {trading_pair} "
                    f"order was not sent.")
        return f"{trading_pair} is not a market listed on Extended; the order was not sent."

    def _on_order_failure(self, order_id: str, trading_pair: str, amount: Decimal, trade_type: TradeType,
                          order_type: OrderType, price: Optional[Decimal], exception: Exception, **kwargs):
        """A refusal, by the connector or by Extended, is one sentence: Hummingbot's own line adds a traceback and
        "Check API key and network connection", which would mislead about a refused price or size."""
        if isinstance(exception, checks.OrderRefused):
            self.logger().warning(f"{trade_type.name.capitalize()} order {order_id} for {trading_pair} was not sent: "
                                  f"{exception}")
        elif isinstance(exception, ExtendedNotSentError):
            self.logger().warning(f"{trade_type.name.capitalize()} order {order_id} for {trading_pair}: {exception}")
        elif (isinstance(exception, ExtendedApiError) and not isinstance(exception, ExtendedKeyError)
              and exception.code is not None and not exception.outcome_unknown):
            self.logger().warning(f"{trade_type.name.capitalize()} order {order_id} for {trading_pair} failed: "
                                  f"{exception}")
        else:
            super()._on_order_failure(order_id, trading_pair, amount, trade_type, order_type, price, exception,
                                      **kwargs)
            return
        self._update_order_after_failure(order_id=order_id, trading_pair=trading_pair, exception=exception)

    async def _place_order(
            self,
            order_id: str,
            trading_pair: str,
            amount: Decimal,
            trade_type: TradeType,
            order_type: OrderType,
            price: Decimal,
            position_action: PositionAction = PositionAction.NIL,
            **kwargs,
    ) -> Tuple[str, float]:
        spec = self._tradable_market(trading_pair, position_action)
        is_buy = trade_type == TradeType.BUY
        is_market = order_type == OrderType.MARKET
        if is_market:
            price = self._market_order_price(spec, is_buy)
        self._check_order(spec, amount, price, is_buy, is_market)
        fee_rates = self._fee_rates.get(trading_pair)
        exchange_order_id = await self._transactions.place_order(OrderRequest(
            market=spec.name, is_buy=is_buy, amount=amount, price=price, is_market=is_market,
            post_only=order_type == OrderType.LIMIT_MAKER, reduce_only=position_action == PositionAction.CLOSE,
            external_id=order_id,
            max_fee=fee_rates.taker if fee_rates is not None else CONSTANTS.DEFAULT_TAKER_FEE),
            max_age=MaxAge(since=self._placed_at.get(order_id, time.monotonic()), seconds=self._max_order_age))
        return exchange_order_id, self.current_timestamp

    async def _place_order_and_process_update(self, order: InFlightOrder, **kwargs) -> Optional[str]:
        """Places the order and settles what its POST proved, by the placement table (extended_perpetual_placements):
        an unanswered POST leaves the order pending and looks it up; only a refusal fails it."""
        client_order_id = order.client_order_id
        self._placements.sent(client_order_id)
        try:
            exchange_order_id = await super()._place_order_and_process_update(order, **kwargs)
        except ExtendedOutcomeUnknownError as error:
            if self._placements.on(client_order_id, PlacementEvent.NO_ANSWER) == Placement.UNKNOWN:
                self.logger().warning(f"Extended did not confirm order {client_order_id} ({error}). It may still be "
                                      f"placed: it stays pending until Extended shows it or proves it absent.")
                self._start_placement_lookup(client_order_id)
            return order.exchange_order_id
        except asyncio.CancelledError:
            raise
        except Exception:
            if self._placements.on(client_order_id, PlacementEvent.REFUSED) == Placement.FOUND:
                # The account stream already showed the order: that outranks the answer to its POST.
                return order.exchange_order_id
            raise
        self._placements.on(client_order_id, PlacementEvent.ANSWERED)
        self._link_order(client_order_id, exchange_order_id)
        return exchange_order_id

    def _start_placement_lookup(self, client_order_id: str):
        task = self._placement_lookups.get(client_order_id)
        if task is None or task.done():
            self._placement_lookups[client_order_id] = safe_ensure_future(self._look_up_placement(client_order_id))

    async def _look_up_placement(self, client_order_id: str):
        """Asks Extended for the order by its external id, with backoff, until the placement table settles it."""
        delay = CONSTANTS.PLACEMENT_LOOKUP_FIRST_DELAY
        try:
            while self._placements.unresolved(client_order_id):
                # The first look-up that can prove absence comes as soon as the grace is over, not a backoff later.
                grace_left = self._placements.grace_left(client_order_id)
                await self._sleep(min(delay, grace_left + CONSTANTS.PLACEMENT_GRACE_MARGIN) if grace_left else delay)
                delay = min(delay * 2, CONSTANTS.PLACEMENT_LOOKUP_MAX_DELAY)
                order = self._order_tracker.fetch_tracked_order(client_order_id)
                if order is None or not self._placements.unresolved(client_order_id):
                    return
                try:
                    rows = await self._transactions.orders_by_external_id(client_order_id)
                except ExtendedNotFoundError:
                    rows = []
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    self._placements.on(client_order_id, PlacementEvent.INCONCLUSIVE)
                    self.logger().info(f"Looking up order {client_order_id} on Extended failed ({error}); it is "
                                       f"asked again in {delay:.1f} s.")
                    continue
                infos = [info for info in (parsers.parse_order(row) for row in rows) if info is not None]
                if infos:
                    self._apply_order_info(order, max(infos, key=lambda info: info.update_timestamp))
                elif (placement := self._placements.not_found(client_order_id)) == Placement.MISSING:
                    delay = CONSTANTS.PLACEMENT_CONFIRM_DELAY
                elif placement == Placement.GONE:
                    self.logger().warning(f"Order {client_order_id} is not on Extended: its POST got no answer and "
                                          f"repeated look-ups after a grace period found no such order.")
                    self._order_tracker.process_order_update(OrderUpdate(
                        client_order_id=client_order_id, trading_pair=order.trading_pair,
                        update_timestamp=self.current_timestamp, new_state=OrderState.FAILED,
                        misc_updates={"error_message": "Extended has no such order: its POST got no answer and "
                                                       "repeated look-ups after a grace period did not find it.",
                                      "error_type": "OrderNotPlaced"}))
        finally:
            self._placement_lookups.pop(client_order_id, None)

    async def start_network(self):
        await super().start_network()
        for client_order_id in self._placements.looking_up():
            self._start_placement_lookup(client_order_id)
        if self.is_trading_required and self._dead_man_switch_seconds > 0:
            self._dead_man_switch_task = safe_ensure_future(self._dead_man_switch_loop())

    async def stop_network(self):
        # A bot that stops or exits stops its clock, which marks the connector STOPPED (Hummingbot's clock calls its
        # Cython stop, never a Python override) after Hummingbot's own cancel-on-stop; a failed network check also
        # calls stop_network but leaves the status NOT_CONNECTED, and the switch armed.
        stopping = self.network_status is NetworkStatus.STOPPED
        await super().stop_network()
        # Hummingbot's base starts a funding payment poll at every start and never stops it (it is left waiting on an
        # event the base replaced): one more pending task at every reconnect.
        funding_poll, self._funding_fee_polling_task = self._funding_fee_polling_task, None
        if funding_poll is not None:
            funding_poll.cancel()
            await asyncio.gather(funding_poll, return_exceptions=True)
        recoveries = list(self._recovery_tasks)
        for task in list(self._placement_lookups.values()) + recoveries:
            task.cancel()
        self._placement_lookups.clear()
        await asyncio.gather(*recoveries, return_exceptions=True)
        if stopping:
            background, self._background = list(self._background), set()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
        await self._stop_dead_man_switch(disarm=stopping)

    def _in_background(self, coroutine: Coroutine):
        task = safe_ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ----- dead man's switch -----

    async def _dead_man_switch_loop(self):
        """Arms Extended's dead man's switch once the connector is ready, then renews it a few times per window from
        this task (never from strategy ticks): if the process dies or loses Extended, the countdown runs out and
        Extended cancels every open order of the account."""
        while not self.ready:
            await self._sleep(CONSTANTS.DEAD_MAN_SWITCH_READY_POLL)
        period = self._dead_man_switch_seconds / CONSTANTS.DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW
        while True:
            started = time.monotonic()
            await self._renew_dead_man_switch(timeout=period)
            await self._sleep(max(0.0, started + period - time.monotonic()))

    async def _renew_dead_man_switch(self, timeout: float):
        seconds = self._dead_man_switch_seconds
        try:
            await self._transactions.set_dead_man_switch(seconds, timeout=timeout)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().warning(f"Renewing Extended's dead man's switch failed ({error}). If no renewal gets "
                                  f"through within {seconds} s of the last one, Extended cancels every open order of "
                                  f"the account.")
            return
        if not self._dead_man_switch_armed:
            self._dead_man_switch_armed = True
            self.logger().info(f"Extended's dead man's switch is armed: should this bot stop renewing it for "
                               f"{seconds} s, Extended cancels every open order of the account. It is renewed every "
                               f"{seconds / CONSTANTS.DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW:.3g} s.")

    async def _stop_dead_man_switch(self, disarm: bool):
        """Stops the renewals; on a clean stop also disarms the switch, so the orders of a stopped bot are left to
        Hummingbot's cancel-on-stop and to the user."""
        task, self._dead_man_switch_task = self._dead_man_switch_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if not (disarm and self._dead_man_switch_armed):
            return
        self._dead_man_switch_armed = False
        try:
            await self._transactions.set_dead_man_switch(0)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().warning(f"Disarming Extended's dead man's switch failed ({error}): Extended cancels every "
                                  f"open order of the account within {self._dead_man_switch_seconds} s.")
            return
        self.logger().info("Extended's dead man's switch is disarmed.")

    async def _update_orders(self):
        orders = [order for order in self._orders_to_poll() if order.client_order_id in self.in_flight_orders]
        if len(orders) > CONSTANTS.GROUPED_STATUS_MIN_ORDERS:
            # One read of the open orders instead of one look-up per order; those it does not list are looked up.
            try:
                rows = await self._transactions.open_orders()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.logger().warning(f"Reading the open orders from Extended failed ({error}); their states are "
                                      f"read again at the next status poll.")
                return
            listed = {info.external_id: info for info in map(parsers.parse_order, rows) if info is not None}
            for order in orders:
                if order.client_order_id in listed:
                    self._apply_order_info(order, listed[order.client_order_id])
            orders = [order for order in orders if order.client_order_id not in listed]
        await self._update_orders_with_error_handler(orders=orders,
                                                     error_handler=self._handle_update_error_for_active_order)

    async def _place_cancel(self, order_id: str, tracked_order: InFlightOrder) -> bool:
        try:
            await self._transactions.cancel_order(external_id=order_id)
        except ExtendedNotFoundError:
            if not self._placements.unresolved(order_id):
                raise
            # Not on Extended yet, but its creation is unresolved: this proves nothing, the cancel can be asked again.
            self.logger().warning(f"Order {order_id} cannot be cancelled yet: Extended has not shown it so far.")
            return False
        return True

    async def _mass_cancel(self, orders: List[InFlightOrder]) -> bool:
        """One massCancel for all of `orders` (by client order id); they wait for their CANCELLED updates."""
        try:
            await self._transactions.mass_cancel(external_ids=[order.client_order_id for order in orders])
        except asyncio.CancelledError:
            raise
        except Exception:
            self.logger().network("Unexpected error cancelling orders.", exc_info=True,
                                  app_warning_msg="Failed to cancel orders on Extended. Check API key and network "
                                                  "connection.")
            return False
        for order in orders:
            self._order_tracker.process_order_update(OrderUpdate(
                client_order_id=order.client_order_id, trading_pair=order.trading_pair,
                update_timestamp=self.current_timestamp, new_state=OrderState.PENDING_CANCEL))
        return True

    async def cancel_all(self, timeout_seconds: float) -> List[CancellationResult]:
        """One massCancel, answered by Extended as a whole; an order counts as cancelled only once its own CANCELLED
        update confirms it within the timeout (one that filled first, or that Extended does not have, was not)."""
        orders = [order for order in self.in_flight_orders.values() if not order.is_done]
        if not orders:
            return []
        deadline = time.monotonic() + timeout_seconds
        try:
            accepted = await asyncio.wait_for(self._mass_cancel(orders), timeout_seconds)
        except asyncio.TimeoutError:
            accepted = False
        # A strategy stops right after this: waiting for the updates also lets Hummingbot record every order's final
        # state before its recorder stops.
        while accepted and not all(order.is_done for order in orders) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return [CancellationResult(order.client_order_id, order.is_cancelled) for order in orders]

    def batch_order_cancel(self, orders_to_cancel: List[LimitOrder]):
        tracked = [self._order_tracker.fetch_tracked_order(order.client_order_id) for order in orders_to_cancel]
        tracked = [order for order in tracked if order is not None]
        if tracked:
            self._in_background(self._mass_cancel(tracked))

    # ----- order and fill updates -----

    def _order_update(self, order: InFlightOrder, info: parsers.OrderInfo) -> OrderUpdate:
        misc_updates = None
        if info.state == OrderState.FAILED:
            reason = info.status_reason or info.status
            message = ("The post-only order would have taken liquidity, so Extended rejected it."
                       if reason == CONSTANTS.POST_ONLY_FAILED
                       else f"Extended {info.status.lower()} the order: {reason}.")
            misc_updates = {"error_message": message, "error_type": reason}
        return OrderUpdate(trading_pair=order.trading_pair, update_timestamp=info.update_timestamp,
                           new_state=info.state, client_order_id=order.client_order_id,
                           exchange_order_id=info.exchange_order_id, misc_updates=misc_updates)

    def _trade_update(self, order: InFlightOrder, trade: parsers.AccountTrade) -> TradeUpdate:
        # Extended charges every fill's fee in collateral, on top of the trade, whatever the position action.
        fee = AddedToCostTradeFee(percent_token=order.quote_asset,
                                  flat_fees=[TokenAmount(amount=trade.fee, token=order.quote_asset)])
        return TradeUpdate(trade_id=trade.trade_id, client_order_id=order.client_order_id,
                           exchange_order_id=trade.exchange_order_id, trading_pair=order.trading_pair,
                           fill_timestamp=trade.timestamp, fill_price=trade.price, fill_base_amount=trade.amount,
                           fill_quote_amount=trade.price * trade.amount, fee=fee, is_taker=trade.is_taker)

    def _link_order(self, client_order_id: str, exchange_order_id: str):
        """Remembers which client order an exchange id belongs to (fills on the stream name only the latter) and
        applies the fills that arrived before the link was known."""
        self._client_ids_by_exchange_id[exchange_order_id] = client_order_id
        while len(self._client_ids_by_exchange_id) > MAX_LINKED_ORDERS:
            self._client_ids_by_exchange_id.popitem(last=False)
        for trade in self._pending_fills.pop(exchange_order_id, []):
            self._process_fill(trade)

    def _fillable_order(self, trade: parsers.AccountTrade) -> Optional[InFlightOrder]:
        client_order_id = trade.external_id or self._client_ids_by_exchange_id.get(trade.exchange_order_id)
        order = self._order_tracker.all_fillable_orders.get(client_order_id) if client_order_id else None
        return order or self._order_tracker.all_fillable_orders_by_exchange_order_id.get(trade.exchange_order_id)

    def _process_fill(self, trade: parsers.AccountTrade):
        self._fill_gaps.seen(trade.timestamp)
        order = self._fillable_order(trade)
        if order is not None:
            self._order_tracker.process_trade_update(self._trade_update(order, trade))
        elif any(o.exchange_order_id is None for o in self._order_tracker.all_fillable_orders.values()):
            # The fill may belong to an order whose exchange id is not known yet.
            self._pending_fills.setdefault(trade.exchange_order_id, []).append(trade)
            while len(self._pending_fills) > MAX_LINKED_ORDERS:
                self._pending_fills.popitem(last=False)

    async def _all_trade_updates_for_order(self, order: InFlightOrder) -> List[TradeUpdate]:
        # Not called by this connector's polls (see _update_orders_fills); kept for Hummingbot's interface.
        market = await self.exchange_symbol_associated_to_pair(trading_pair=order.trading_pair)
        rows, _ = await self._transactions.account_trades(since_ms=int((order.creation_timestamp or 0) * 1000),
                                                          market=market)
        updates = []
        for trade in (parsers.parse_account_trade(row) for row in rows):
            if trade is not None and (trade.exchange_order_id == order.exchange_order_id
                                      or trade.external_id == order.client_order_id):
                updates.append(self._trade_update(order, trade))
        return updates

    async def _update_orders_fills(self, orders: List[InFlightOrder]):
        # Hummingbot reads every order's trades on each status poll; fills come from the account stream here, and REST
        # reads them only while a gap is open, once for the whole account (extended_perpetual_fill_gaps).
        if not orders or not self._fill_gaps.open:
            return
        try:
            await self._recover_fills()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().warning(f"Reading the account's fills from Extended failed ({error}); they are read again "
                                  f"at the next status poll.")

    async def _recover_fills(self):
        """One paginated read of the account's fills back to the last one seen; every fill applies to its order
        once. Reads that would overlap wait for each other, and one that finds the gap closed sends nothing."""
        async with self._fill_read_lock:
            if not self._fill_gaps.open:
                return
            started = self._fill_gaps.read_started()
            orders = list(self._order_tracker.all_fillable_orders.values())
            if orders:
                oldest_ms = int(min(order.creation_timestamp for order in orders) * 1000)
                rows, complete = await self._transactions.account_trades(since_ms=self._fill_gaps.since_ms(oldest_ms))
                # Oldest first, as the stream would have delivered them.
                for trade in (parsers.parse_account_trade(row) for row in reversed(rows)):
                    if trade is not None:
                        self._process_fill(trade)
                if not complete:
                    self.logger().warning(f"Extended lists more fills since the account stream's gap than "
                                          f"{CONSTANTS.TRADES_MAX_PAGES} pages hold; the oldest of them were not read.")
            self._fill_gaps.read_answered(started)

    def _note_fill_lag(self, order: InFlightOrder, info: parsers.OrderInfo):
        """An order update showing more filled than the fills received: a gap, unless they arrive within
        FILL_LAG_GRACE (Extended may send the ORDER update before its TRADE rows)."""
        if info.filled_amount <= order.executed_amount_base:
            return
        self._fill_lags[order.client_order_id] = (info.filled_amount, time.monotonic())
        if len(self._fill_lags) == 1:
            self._spawn(self._watch_fill_lags())

    async def _watch_fill_lags(self):
        while self._fill_lags:
            await self._sleep(CONSTANTS.FILL_LAG_GRACE / 2)
            fillable, now, late = self._order_tracker.all_fillable_orders, time.monotonic(), False
            for client_order_id, (filled, noted) in list(self._fill_lags.items()):
                order = fillable.get(client_order_id)
                if order is None or order.executed_amount_base >= filled:
                    del self._fill_lags[client_order_id]
                elif now - noted >= CONSTANTS.FILL_LAG_GRACE:
                    del self._fill_lags[client_order_id]
                    late = True
            if late:
                self._fill_gaps.opened()
                await self._update_orders_fills(list(fillable.values()))

    def _spawn(self, coroutine: Coroutine) -> asyncio.Task:
        task = safe_ensure_future(coroutine)
        self._recovery_tasks.add(task)
        task.add_done_callback(self._recovery_tasks.discard)
        return task

    async def _request_order_status(self, tracked_order: InFlightOrder) -> OrderUpdate:
        rows = await self._transactions.orders_by_external_id(tracked_order.client_order_id)
        infos = [info for info in (parsers.parse_order(row) for row in rows) if info is not None]
        if not infos:
            raise ExtendedNotFoundError(f"Extended has no order {tracked_order.client_order_id}.")
        info = max(infos, key=lambda info: info.update_timestamp)
        self._note_fill_lag(tracked_order, info)
        return self._order_update(tracked_order, info)

    def _orders_to_poll(self, excluded: Iterable[str] = ()) -> List[InFlightOrder]:
        # Orders whose creation is unresolved belong to their look-up: a 404 or 429 here would count them as lost.
        excluded = set(excluded)
        return [order for order in self._order_tracker.all_updatable_orders.values()
                if order.client_order_id not in excluded and not self._placements.unresolved(order.client_order_id)]

    async def _recover_after_reconnect(self, listed: Set[str]):
        """What the account stream missed while it was down, once it is back: the fills (one read for the account)
        and the states of the tracked orders its snapshot does not list (filled, cancelled or refused meanwhile),
        retried with backoff until both are read."""
        delay = CONSTANTS.PLACEMENT_LOOKUP_FIRST_DELAY
        while True:
            try:
                await self._recover_fills()
                await self._update_orders_with_error_handler(orders=self._orders_to_poll(excluded=listed),
                                                             error_handler=self._handle_update_error_for_active_order)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.logger().warning(f"Recovering what the account stream missed failed ({error}); trying again in "
                                      f"{delay:.1f} s.")
            await self._sleep(delay)
            delay = min(delay * 2, CONSTANTS.PLACEMENT_LOOKUP_MAX_DELAY)

    # ----- account -----

    def _set_balance(self, balance: parsers.Balance):
        self._account_balances = {balance.asset: balance.total}
        self._account_available_balances = {balance.asset: balance.available}

    async def _update_balances(self):
        self._transactions.check_credentials()
        try:
            balance = parsers.parse_balance(await self._transactions.request(RESTMethod.GET, CONSTANTS.BALANCE_PATH))
        except ExtendedNotFoundError:
            # Extended answers 404 while the account holds no collateral.
            balance = parsers.Balance(asset=CONSTANTS.COLLATERAL_TOKEN, total=_ZERO, available=_ZERO)
        self._set_balance(balance)

    async def _apply_position(self, info: parsers.PositionInfo) -> Optional[str]:
        trading_pair = await self._pair_of(info.market)
        if trading_pair is None:
            return None
        key = self._perpetual_trading.position_key(trading_pair)
        if info.amount == 0:
            self._perpetual_trading.remove_position(key)
        else:
            self._perpetual_trading.set_position(key, Position(
                trading_pair=trading_pair, position_side=PositionSide.LONG if info.is_long else PositionSide.SHORT,
                unrealized_pnl=info.unrealized_pnl, entry_price=info.entry_price, amount=info.amount,
                leverage=info.leverage))
        return trading_pair

    async def _replace_positions(self, rows: Any):
        held = set()
        for info in (parsers.parse_position(row) for row in rows or []):
            if info is not None and info.amount != 0:
                held.add(await self._apply_position(info))
        for key, position in list(self._perpetual_trading.account_positions.items()):
            if position.trading_pair not in held:
                self._perpetual_trading.remove_position(key)

    async def _update_positions(self):
        await self._replace_positions(await self._transactions.request(RESTMethod.GET, CONSTANTS.POSITIONS_PATH))

    async def _update_trading_fees(self):
        rows = await self._transactions.request(RESTMethod.GET, CONSTANTS.FEES_PATH)
        for market, rates in parsers.parse_fees(rows).items():
            trading_pair = await self._pair_of(market)
            if trading_pair is not None:
                self._fee_rates[trading_pair] = rates

    def _get_fee(self, base_currency: str, quote_currency: str, order_type: OrderType, order_side: TradeType,
                 position_action: PositionAction, amount: Decimal, price: Decimal = s_decimal_NaN,
                 is_maker: Optional[bool] = None) -> TradeFeeBase:
        is_maker = is_maker or order_type == OrderType.LIMIT_MAKER
        rates = self._fee_rates.get(f"{base_currency}-{quote_currency}")
        if rates is None:
            return build_perpetual_trade_fee(self.name, is_maker, position_action, base_currency, quote_currency,
                                             order_type, order_side, amount, price)
        return TradeFeeBase.new_perpetual_fee(fee_schema=self.trade_fee_schema(), position_action=position_action,
                                              percent=rates.maker if is_maker else rates.taker,
                                              percent_token=quote_currency)

    # ----- positions, leverage, funding -----

    def set_position_mode(self, mode: PositionMode):
        if mode in self.supported_position_modes():
            super().set_position_mode(mode)
        else:
            message = "Extended keeps one position per market (ONEWAY); it has no HEDGE mode."
            self._fire_position_mode_events(mode, success=False, message=message)
            self.logger().error(f"Failed to set position mode to {mode}: {message}")

    async def _fetch_account_position_mode(self) -> Optional[PositionMode]:
        return PositionMode.ONEWAY

    async def _trading_pair_position_mode_set(self, mode: PositionMode, trading_pair: str) -> Tuple[bool, str]:
        if mode == PositionMode.ONEWAY:
            return True, ""
        return False, "Extended keeps one position per market (ONEWAY); it has no HEDGE mode."

    def set_leverage(self, trading_pair: str, leverage: int = 1):
        spec = self._markets.get(trading_pair)
        if spec is not None and leverage > spec.max_leverage:
            self.logger().warning(f"Leverage {leverage} is above the maximum {spec.max_leverage:f} of {trading_pair} "
                                  f"on Extended; {int(spec.max_leverage)} is used instead.")
            leverage = int(spec.max_leverage)
        super().set_leverage(trading_pair, leverage)

    async def _set_trading_pair_leverage(self, trading_pair: str, leverage: int) -> Tuple[bool, str]:
        market = await self.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        try:
            await self._transactions.update_leverage(market, Decimal(leverage))
        except ExtendedApiError as e:
            return False, str(e)
        return True, ""

    async def _fetch_last_fee_payment(self, trading_pair: str) -> Tuple[float, Decimal, Decimal]:
        market = await self.exchange_symbol_associated_to_pair(trading_pair=trading_pair)
        since_ms = int((self._time() - 2 * CONSTANTS.FUNDING_INTERVAL_SECONDS) * 1000)
        rows = await self._transactions.request(RESTMethod.GET, CONSTANTS.FUNDING_PAYMENTS_PATH,
                                                params={"market": market, "startTime": since_ms})
        payments = [p for p in parsers.parse_funding_payments(rows) if p.market == market]
        if not payments:
            return 0, Decimal(-1), Decimal(-1)
        latest = max(payments, key=lambda payment: payment.timestamp)
        return latest.timestamp, latest.rate, latest.amount

    # ----- account stream -----

    async def _user_stream_event_listener(self):
        async for event in self._iter_user_event_queue():
            try:
                kind = event.get("type")
                data = event.get("data") or {}
                if kind == CONSTANTS.STREAM_ORDER:
                    await self._on_orders(data)
                elif kind == CONSTANTS.STREAM_TRADE:
                    for row in data.get("trades") or []:
                        trade = parsers.parse_account_trade(row)
                        if trade is not None:
                            self._process_fill(trade)
                elif kind == CONSTANTS.STREAM_BALANCE and data.get("balance"):
                    self._set_balance(parsers.parse_balance(data["balance"]))
                elif kind == CONSTANTS.STREAM_POSITION:
                    await self._on_positions(data)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.logger().error("Unexpected error in user stream listener loop.", exc_info=True)
                await self._sleep(5.0)

    def _apply_order_info(self, order: InFlightOrder, info: parsers.OrderInfo):
        """What Extended shows of a tracked order, including one whose POST has not been answered (yet)."""
        self._placements.on(order.client_order_id, PlacementEvent.SEEN)
        self._link_order(order.client_order_id, info.exchange_order_id)
        self._note_fill_lag(order, info)
        self._order_tracker.process_order_update(self._order_update(order, info))

    async def _on_orders(self, data: Dict[str, Any]):
        listed = set()
        for row in data.get("orders") or []:
            info = parsers.parse_order(row)
            if info is None:
                continue
            listed.add(info.external_id)
            # Active orders include those Hummingbot still has in PENDING_CREATE (POST unanswered).
            order = self._order_tracker.all_updatable_orders.get(info.external_id)
            if order is not None:
                self._apply_order_info(order, info)
                continue
            failed = self._order_tracker.cached_orders.get(info.external_id)
            if failed is not None and failed.is_failure and info.state in _LIVE_STATES:
                self.logger().error(f"Extended shows order {info.external_id} live after it was reported failed: it "
                                    f"is cancelled, since the strategy no longer counts on it.")
                self._in_background(self._cancel_orphan(info.external_id))
        if data.get("isSnapshot"):
            # Sent on every (re)connection, with every open order: the rest is recovered over REST (nothing is sent
            # when no order is tracked, as nothing can have been missed).
            self._fill_gaps.opened()
            self._spawn(self._recover_after_reconnect(listed))

    async def _cancel_orphan(self, external_id: str):
        try:
            await self._transactions.cancel_order(external_id=external_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().error(f"Cancelling order {external_id} on Extended failed ({error}): cancel it on "
                                f"Extended's site.")

    async def _on_positions(self, data: Dict[str, Any]):
        if data.get("isSnapshot"):
            await self._replace_positions(data.get("positions"))
            return
        for info in (parsers.parse_position(row) for row in data.get("positions") or []):
            if info is not None:
                await self._apply_position(info)
