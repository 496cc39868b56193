"""`perp-dex-connectors check <connector>`: a live self-check of one connector with your own keys.

The connector is built as Hummingbot builds it (its connector settings, config map and init parameters) and run by
this command: it reads the markets and the account, watches one order book, places one post-only order of the minimum
size far from the touch and cancels it (on Lighter also two orders sent and cancelled together), then reconciles the
exchange's view with the connector's. The wire is watched through Hummingbot's own hooks, the pre- and post-processors
of the connector's web-assistant factory, so the connector runs unmodified.

Keys are asked for on the terminal (secrets without echo) or read one per line from standard input; never from the
command line, never printed. The exchange endpoints can be overridden with the connectors' own environment variables
(LIGHTER_PERPETUAL_REST_URL, EXTENDED_PERPETUAL_WS_URL, ...).
"""
import argparse
import asyncio
import getpass
import json
import logging
import math
import sys
import time
from decimal import ROUND_CEILING, Decimal
from typing import Any, Callable, Dict, List, Optional, Set, TextIO, Tuple
from urllib.parse import urlparse

CONNECTORS = ("lighter_perpetual", "lighter_perpetual_testnet", "extended_perpetual", "extended_perpetual_testnet")
# Not asked, set off: a check must not cancel the account's other orders when it stops, nor (through Extended's dead
# man's switch) when it is killed, nor disarm a switch that a running bot relies on.
NOT_ASKED = {"_cancel_all_on_stop": False, "_dead_man_switch_seconds": 0}
# The probe orders rest this far below the best bid (Extended caps only buys above and sells below the mark price).
DISTANCE_FROM_TOUCH = Decimal("0.20")
READY_TIMEOUT = 60.0
ORDER_TIMEOUT = 30.0
# Lighter's and Extended's REST indexes may list a cancelled order a moment after the stream reported it.
EXCHANGE_LOOKUP_ATTEMPTS = 5
TICK_INTERVAL = 0.5

# Fields of each payload kind seen in the captured and documented payloads, to tell a field the connector has never
# been checked against. Sources: test/fixtures/lighter_01 (order_book_details[]), lighter_03 (accounts[], positions[],
# assets[]), lighter_04 and lighter_08 (orders, positions over the WebSocket), lighter_05 and lighter_08 (sendTx
# answers: the asyncapi TxResponse schema), lighter_06 (nextNonce), lighter_08 (order_book frames), the models of
# lighter-sdk 1.1.2 (PerpsOrderBookDetail, DetailedAccount, AccountPosition, AccountAsset, Order, NextNonce,
# RespSendTx) and the newer Order model quoted in lighter_04 (order_flags, order_version); extended_10 to extended_17
# and the models of x10-python-trading-starknet 2.6.0 (MarketModel, BalanceModel, PositionModel, OpenOrderModel,
# camel-cased as on the wire).
LIGHTER_FIELDS = {
    "/orderBookDetails market": frozenset((
        "base_asset_id", "base_interest_rate", "closeout_margin_fraction", "daily_base_token_volume", "daily_chart",
        "daily_price_change", "daily_price_high", "daily_price_low", "daily_quote_token_volume", "daily_trades_count",
        "default_initial_margin_fraction", "funding_clamp_big", "funding_clamp_small", "is_maker_fee_enabled",
        "is_taker_fee_enabled", "last_trade_price", "liquidation_fee", "maintenance_margin_fraction", "maker_fee",
        "market_config", "market_id", "market_type", "min_base_amount", "min_initial_margin_fraction",
        "min_quote_amount", "open_interest", "order_quote_limit", "price_decimals", "quote_asset_id",
        "quote_multiplier", "size_decimals", "status", "strategy_index", "supported_price_decimals",
        "supported_quote_decimals", "supported_size_decimals", "symbol", "taker_fee")),
    "/account account": frozenset((
        "account_index", "account_trading_mode", "account_type", "approved_integrators", "assets", "available_balance",
        "can_invite", "can_rfq", "can_rfq_market_ids", "cancel_all_time", "code", "collateral", "created_at",
        "cross_asset_value", "cross_initial_margin_requirement", "cross_maintenance_margin_requirement", "description",
        "index", "l1_address", "message", "metadata", "name", "pending_order_count", "pending_unlocks", "pool_info",
        "positions", "referral_points_percentage", "shares", "status", "total_asset_value",
        "total_isolated_order_count", "total_order_count", "transaction_time")),
    "/account position": frozenset((
        "allocated_margin", "avg_entry_price", "initial_margin_fraction", "liquidation_price", "margin_mode",
        "market_id", "open_order_count", "pending_order_count", "position", "position_tied_order_count",
        "position_value", "realized_pnl", "sign", "symbol", "total_discount", "total_funding_paid_out",
        "unrealized_pnl")),
    "/account asset": frozenset(("asset_id", "balance", "locked_balance", "margin_balance", "margin_mode", "symbol")),
    "order": frozenset((
        "base_price", "base_size", "block_height", "client_order_id", "client_order_index", "created_at",
        "filled_base_amount", "filled_quote_amount", "initial_base_amount", "integrator_fee_collector_index",
        "integrator_maker_fee", "integrator_taker_fee", "is_ask", "market_index", "nonce", "order_expiry",
        "order_flags", "order_id", "order_index", "order_version", "owner_account_index", "parent_order_id",
        "parent_order_index", "price", "reduce_only", "remaining_base_amount", "side", "status", "time_in_force",
        "timestamp", "to_cancel_order_id_0", "to_trigger_order_id_0", "to_trigger_order_id_1", "transaction_time",
        "trigger_price", "trigger_status", "trigger_time", "type", "updated_at")),
    "/nextNonce answer": frozenset(("code", "message", "nonce")),
    "transaction answer": frozenset((
        "code", "data", "error", "id", "message", "predicted_execution_time_ms", "tx_hash", "tx_hashes", "type",
        "volume_quota_remaining")),
    "order_book frame": frozenset((
        "channel", "last_updated_at", "nonce", "offset", "order_book", "timestamp", "type")),
    "order_book body": frozenset(("asks", "begin_nonce", "bids", "code", "last_updated_at", "nonce", "offset")),
}
EXTENDED_FIELDS = {
    "/info/markets market": frozenset((
        "active", "assetName", "assetPrecision", "category", "collateralAssetName", "collateralAssetPrecision",
        "createdAt", "description", "isOffHours", "isRfq", "l2Config", "marketStats", "name", "status", "subCategory",
        "tradingConfig", "tradingHours", "type", "uiName", "visibleOnUi")),
    "/user/balance answer": frozenset((
        "availableForTrade", "availableForWithdrawal", "balance", "collateralName", "collateralReservedForSpotOrders",
        "equity", "exposure", "initialMargin", "leverage", "marginRatio", "spotEquity",
        "spotEquityForAvailableForTrade", "status", "unrealisedPnl", "updatedTime")),
    "/user/positions position": frozenset((
        "accountId", "adl", "createdAt", "id", "leverage", "liquidationPrice", "margin", "markPrice", "market",
        "maxPositionSize", "openPrice", "realisedPnl", "side", "size", "slLimitPrice", "slPrice", "slTriggerPrice",
        "status", "tpLimitPrice", "tpPrice", "tpTriggerPrice", "unrealisedPnl", "updatedAt", "value")),
    "order": frozenset((
        "accountId", "averagePrice", "cancelledQty", "chaseOrder", "createdTime", "expireTime", "expiryTime",
        "externalId", "filledQty", "id", "market", "payedFee", "postOnly", "price", "qty", "reduceOnly",
        "rfqStartPrice", "side", "status", "statusReason", "stopLoss", "takeProfit", "timeInForce", "tpSlType", "type",
        "updatedTime")),
    "/user/order answer": frozenset(("externalId", "id")),
    "REST envelope": frozenset(("data", "error", "pagination", "status")),
    "stream frame": frozenset(("data", "error", "seq", "status", "ts", "type")),
    "order book frame data": frozenset(("a", "b", "d", "m", "t")),
}


class CheckError(Exception):
    """Stops the check; its message is one sentence for the user."""


def is_mainnet(connector: str) -> bool:
    return not connector.endswith("_testnet")


def venue_name(connector: str) -> str:
    return "Lighter" if connector.startswith("lighter") else "Extended"


# --- keys ------------------------------------------------------------------------------------------------------------

def _ask(prompt: str, secret: bool, stdin: TextIO, stderr: TextIO) -> str:
    if stdin.isatty():
        return (getpass.getpass(prompt, stream=stderr) if secret else input(prompt)).strip()
    stderr.write(prompt)
    stderr.flush()
    line = stdin.readline()
    if not line:
        raise CheckError("Standard input ended before every key was given.")
    stderr.write("\n")
    return line.strip()


def read_keys(config_keys, stdin: TextIO = sys.stdin, stderr: TextIO = sys.stderr) -> Dict[str, Any]:
    """Asks for every connect key of the connector's config map, as Hummingbot's `connect` does, validates them with the
    config map and returns them by field name (the form Hummingbot's init parameters take)."""
    config_class = type(config_keys)
    answers: Dict[str, Any] = {}
    for name, field in config_class.model_fields.items():
        extra = field.json_schema_extra or {}
        if not extra.get("is_connect_key"):
            continue
        suffix = next((suffix for suffix in NOT_ASKED if name.endswith(suffix)), None)
        if suffix is not None:
            answers[name] = NOT_ASKED[suffix]
            continue
        # A setting `connect` does not ask (prompt_on_new False) keeps its default, as in Hummingbot.
        if not extra.get("prompt_on_new", True):
            continue
        if field.is_required() or "optional" in str(extra.get("prompt", "")):
            hint = ""
        else:
            hint = " (optional)" if field.default in (None, "") else f" (empty for {field.default})"
        answer = _ask(f"{extra.get('prompt', name)}{hint}: ", bool(extra.get("is_secure")), stdin, stderr)
        if answer or field.is_required():
            answers[name] = answer
    from pydantic import ValidationError
    try:
        validated = config_class.model_validate(answers)
    except ValidationError as error:
        first = error.errors()[0]
        reason = str(first.get("msg", "invalid value")).rstrip(".")
        field = ".".join(str(part) for part in first.get("loc", ()))
        raise CheckError(f"{reason}." if first.get("type") == "invalid_setting" else f"{field}: {reason}.") from None
    keys = {}
    for name, field in config_class.model_fields.items():
        if (field.json_schema_extra or {}).get("is_connect_key"):
            value = getattr(validated, name)
            keys[name] = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    return keys


# --- what the wire shows -------------------------------------------------------------------------------------------

class FieldCheck:
    """Collects fields the known sets do not list, and payloads of an unexpected shape, per payload kind."""

    def __init__(self, venue: str, known: Dict[str, frozenset]):
        self._venue = venue
        self._known = known
        self.unknown: Dict[str, Set[str]] = {}
        self.bad_shape: Dict[str, str] = {}
        self.checked: Set[str] = set()

    def one(self, kind: str, value: Any):
        if not isinstance(value, dict):
            self.bad_shape.setdefault(kind, f"a JSON {type(value).__name__.replace('NoneType', 'null')}")
            return
        self.checked.add(kind)
        extra = set(value) - self._known[kind]
        if extra:
            self.unknown.setdefault(kind, set()).update(extra)

    def each(self, kind: str, values: Any):
        if values is None:
            return
        if isinstance(values, dict):  # Lighter's WebSocket frames key entries by market id
            values = [entry for group in values.values() for entry in (group if isinstance(group, list) else [group])]
        if not isinstance(values, list):
            self.bad_shape.setdefault(kind, f"a JSON {type(values).__name__}")
            return
        for value in values:
            self.one(kind, value)

    def problems(self) -> List[str]:
        found = []
        for kind, fields in sorted(self.unknown.items()):
            names = ", ".join(sorted(fields))
            found.append(f"{self._venue}'s {kind} carries {'a field' if len(fields) == 1 else 'fields'} the connector "
                         f"was never checked against ({names}): check the connector still reads it right.")
        for kind, shape in sorted(self.bad_shape.items()):
            found.append(f"{self._venue}'s {kind} is {shape}, not the JSON object the connector expects.")
        return found


class BookWatch:
    """Continuity of one market's order-book stream: snapshots, updates and sequence gaps, as the wire shows them."""

    def __init__(self):
        self.snapshots = 0
        self.updates = 0
        self.gaps = 0
        self._last: Optional[int] = None

    def snapshot(self, sequence: Optional[int]):
        self.snapshots += 1
        self._last = sequence

    def update(self, follows: Callable[[int], bool], sequence: Optional[int]):
        self.updates += 1
        if self._last is not None and sequence is not None and not follows(self._last):
            self.gaps += 1
        self._last = sequence


class WireObserver:
    """Hummingbot's pre/post-processor hooks: sees every REST answer and WebSocket frame of the connector."""

    def __init__(self, on_rest: Callable[[str, str, Any], None], on_ws_in: Callable[[Any], None],
                 on_ws_out: Callable[[Any], None], on_rest_out: Callable[[str], None]):
        from hummingbot.core.web_assistant.rest_post_processors import RESTPostProcessorBase
        from hummingbot.core.web_assistant.rest_pre_processors import RESTPreProcessorBase
        from hummingbot.core.web_assistant.ws_post_processors import WSPostProcessorBase
        from hummingbot.core.web_assistant.ws_pre_processors import WSPreProcessorBase

        class RestOut(RESTPreProcessorBase):
            async def pre_process(self, request):
                on_rest_out(urlparse(str(request.url)).path)
                return request

        class RestIn(RESTPostProcessorBase):
            async def post_process(self, response):
                try:
                    body = json.loads(await response.text())
                except (ValueError, UnicodeDecodeError):
                    body = None
                on_rest(response.method.name, urlparse(response.url).path, body)
                return response

        class WsIn(WSPostProcessorBase):
            async def post_process(self, response):
                on_ws_in(response.data)
                return response

        class WsOut(WSPreProcessorBase):
            async def pre_process(self, request):
                on_ws_out(getattr(request, "payload", None))
                return request

        self.rest_out, self.rest_in, self.ws_in, self.ws_out = RestOut(), RestIn(), WsIn(), WsOut()

    def attach(self, factory):
        """The factory hands these lists to every assistant it creates afterwards (connector built, not started)."""
        factory._rest_pre_processors.append(self.rest_out)
        factory._rest_post_processors.append(self.rest_in)
        factory._ws_post_processors.append(self.ws_in)
        factory._ws_pre_processors.append(self.ws_out)


def _event_recorder():
    from hummingbot.core.event.event_listener import EventListener

    class Recorder(EventListener):
        def __init__(self):
            super().__init__()
            self.seen: List[Tuple[float, Any]] = []

        def __call__(self, event):
            self.seen.append((time.monotonic(), event))

    return Recorder()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# --- the check -----------------------------------------------------------------------------------------------------

class Check:
    """One run against one connector; `facts` and `problems` are what it prints."""

    fields_known: Dict[str, frozenset] = {}

    def __init__(self, connector_name: str, api_keys: Dict[str, Any], pair: Optional[str], watch: float,
                 out: TextIO):
        from hummingbot.client.settings import AllConnectorSettings

        self.connector_name = connector_name
        self.venue = venue_name(connector_name)
        self.settings = AllConnectorSettings.get_connector_settings()[connector_name]
        self.pair = pair or self.settings.example_pair
        self.api_keys = api_keys
        self.watch = watch
        self.out = out
        self.problems: List[str] = []
        self.fields = FieldCheck(self.venue, self.fields_known)
        self.book = BookWatch()
        self.events = _event_recorder()
        self.connector = None
        self.fees_paid = Decimal(0)

    # reporting
    def fact(self, text: str):
        self.out.write(f"  {text}\n")
        self.out.flush()

    def problem(self, sentence: str):
        self.problems.append(sentence)
        self.out.write(f"PROBLEM: {sentence}\n")
        self.out.flush()

    # wire hooks, per venue
    def on_rest(self, method: str, path: str, body: Any):
        raise NotImplementedError

    def on_ws_in(self, message: Any):
        raise NotImplementedError

    def on_ws_out(self, payload: Any):
        """Nothing to see in outgoing frames unless the venue says so."""

    def on_rest_out(self, path: str):
        """Nothing to see in outgoing requests unless the venue says so."""

    def endpoints(self) -> str:
        raise NotImplementedError

    def _key(self, suffix: str) -> Any:
        return next(value for name, value in self.api_keys.items() if name.endswith(suffix))

    # steps
    def build(self):
        from hummingbot.client.config.config_helpers import get_connector_class
        from hummingbot.core.event.events import MarketEvent

        params = self.settings.conn_init_parameters(trading_pairs=[self.pair], trading_required=True,
                                                    api_keys=self.api_keys)
        self.connector = get_connector_class(self.connector_name)(**params)
        WireObserver(self.on_rest, self.on_ws_in, self.on_ws_out, self.on_rest_out).attach(
            self.connector._web_assistants_factory)
        for event in (MarketEvent.BuyOrderCreated, MarketEvent.OrderCancelled, MarketEvent.OrderFailure,
                      MarketEvent.OrderFilled):
            self.connector.add_listener(event, self.events)

    async def _ticker(self):
        while True:
            self.connector.tick(time.time())
            await asyncio.sleep(TICK_INTERVAL)

    async def until(self, condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def run(self) -> int:
        self.out.write(f"{self.connector_name}: {self.endpoints()}\n")
        self.build()
        ticker = None
        try:
            # As Hummingbot's `connect` does: the account read alone proves the keys, with the connector's own message.
            try:
                await self.connector._update_balances()
            except Exception as error:
                raise CheckError(_sentence(error, f"{self.venue} refused the account read")) from None
            self.connector.tick(time.time())
            ticker = asyncio.get_running_loop().create_task(self._ticker())
            await self.connector.start_network()
            if not await self.until(lambda: self.connector.ready, READY_TIMEOUT):
                missing = ", ".join(name for name, ok in self.connector.status_dict.items() if not ok)
                raise CheckError(f"The connector was not ready within {READY_TIMEOUT:.0f} s (still missing: "
                                 f"{missing}).")
            self.report_markets_and_account()
            await self.watch_book()
            await self.order_checks()
        except CheckError as error:
            self.problem(str(error))
        finally:
            if ticker is not None:
                ticker.cancel()
            await self.stop()
        field_problems = self.fields.problems()
        for sentence in field_problems:
            self.problem(sentence)
        if self.fields.checked and not field_problems:
            self.fact(f"payload fields: {len(self.fields.checked)} kinds of payload checked, none has a field the "
                      f"connector was never checked against")
        if self.problems:
            self.out.write(f"{len(self.problems)} problem{'s' if len(self.problems) > 1 else ''} found.\n")
            return 1
        self.out.write("OK: every check passed.\n")
        return 0

    async def stop(self):
        from hummingbot.core.clock import Clock, ClockMode

        if self.connector is None:
            return
        # Marks the connector stopped as Hummingbot's stop does, so stopping its network is a real stop.
        self.connector.stop(Clock(ClockMode.REALTIME))
        await self.connector.stop_network()

    def report_markets_and_account(self):
        rules = self.connector.trading_rules
        if self.pair not in rules:
            raise CheckError(f"{self.pair} is not a market of {self.connector_name}; pass --market with one of: "
                             f"{', '.join(sorted(rules)[:10])}.")
        rule = rules[self.pair]
        self.fact(f"markets: {len(rules)} tradable; {self.pair} minimum size {rule.min_order_size}, size step "
                  f"{rule.min_base_amount_increment}, tick {rule.min_price_increment}, minimum notional "
                  f"{rule.min_notional_size}")
        balances = {asset: amount for asset, amount in self.connector.get_all_balances().items() if amount}
        shown = ", ".join(f"{asset} {amount} (available {self.connector.get_available_balance(asset)})"
                          for asset, amount in sorted(balances.items())) or "none"
        positions = self.connector.account_positions
        shown_positions = ", ".join(f"{p.trading_pair} {p.position_side.name} {p.amount}"
                                    for p in positions.values()) or "none"
        self.fact(f"account: balances {shown}; positions {shown_positions}")

    async def watch_book(self):
        started = time.monotonic()
        await asyncio.sleep(self.watch)
        book = self.connector.get_order_book(self.pair)
        bid, ask = self.best(False), self.best(True)
        self.fact(f"order book {self.pair}: watched {time.monotonic() - started:.0f} s, {self.book.updates} updates, "
                  f"sequence gaps {self.book.gaps}, resubscriptions since the start {max(self.book.snapshots - 1, 0)}; "
                  f"best bid {bid}, best ask {ask}, {len(list(book.bid_entries()))} bid levels")
        if self.book.gaps:
            self.problem(f"The {self.pair} order-book stream had {self.book.gaps} sequence "
                         f"gap{'s' if self.book.gaps > 1 else ''} (the connector resubscribes for a fresh snapshot "
                         f"after each).")
        if self.book.snapshots == 0:
            self.problem(f"No {self.pair} order-book snapshot arrived over the WebSocket.")

    def best(self, is_ask: bool) -> Decimal:
        return Decimal(str(self.connector.get_price(self.pair, is_ask)))

    # orders
    def probe(self, count: int) -> Tuple[List[Decimal], Decimal]:
        """Prices (the first DISTANCE_FROM_TOUCH under the best bid, each further one a tick lower) and the minimum
        size that meets the minimum notional at the lowest of them."""
        bid = self.best(False)
        if bid.is_nan() or bid <= 0:
            raise CheckError(f"The {self.pair} book has no bid to price a post-only order from.")
        rule = self.connector.trading_rules[self.pair]
        top = self.connector.quantize_order_price(self.pair, bid * (1 - DISTANCE_FROM_TOUCH))
        prices = [top - i * rule.min_price_increment for i in range(count)]
        step = rule.min_base_amount_increment
        amount = max(rule.min_order_size, (rule.min_notional_size or Decimal(0)) / prices[-1])
        amount = (amount / step).to_integral_value(rounding=ROUND_CEILING) * step
        return prices, amount

    def _created(self, order_id: str) -> Optional[float]:
        return next((at for at, event in self.events.seen if getattr(event, "order_id", None) == order_id
                     and type(event).__name__ == "BuyOrderCreatedEvent"), None)

    def _ended(self, order_id: str, kind: str) -> Optional[float]:
        return next((at for at, event in self.events.seen if getattr(event, "order_id", None) == order_id
                     and type(event).__name__ == kind), None)

    def _failure(self, order_id: str) -> Optional[Any]:
        return next((event for _, event in self.events.seen if getattr(event, "order_id", None) == order_id
                     and type(event).__name__ == "MarketOrderFailureEvent"), None)

    async def place_and_cancel(self, count: int) -> Optional[Dict[str, Any]]:
        """`count` post-only buys submitted in one go, then cancelled in one go; returns the timings, or None after
        reporting a problem."""
        from hummingbot.core.data_type.common import OrderType, PositionAction
        from hummingbot.core.data_type.in_flight_order import OrderState

        prices, amount = self.probe(count)
        started = time.monotonic()
        ids = [self.connector.buy(self.pair, amount, OrderType.LIMIT_MAKER, price, position_action=PositionAction.OPEN)
               for price in prices]
        await self.until(lambda: all(self._created(i) or self._failure(i) for i in ids), ORDER_TIMEOUT)
        for order_id in ids:
            failure = self._failure(order_id)
            if failure is not None:
                self.problem(f"{self.venue} refused the post-only buy of {amount} {self.pair} at {prices[0]}: "
                             f"{getattr(failure, 'error_message', None) or 'no reason given'}.")
                return None
            if self._created(order_id) is None:
                self.problem(f"{self.venue} did not confirm the post-only buy of {amount} {self.pair} within "
                             f"{ORDER_TIMEOUT:.0f} s.")
                return None
        orders = [self.connector.in_flight_orders[i] for i in ids]
        created = max(self._created(i) for i in ids) - started
        cancel_started = time.monotonic()
        for order_id in ids:
            self.connector.cancel(self.pair, order_id)

        def accepted(order_id: str) -> bool:
            order = self.connector.in_flight_orders.get(order_id)
            return order is None or order.current_state in (OrderState.PENDING_CANCEL, OrderState.CANCELED)

        await self.until(lambda: all(accepted(i) for i in ids), ORDER_TIMEOUT)
        cancel_accepted = time.monotonic() - cancel_started
        await self.until(lambda: all(self._ended(i, "OrderCancelledEvent") for i in ids), ORDER_TIMEOUT)
        missing = [i for i in ids if self._ended(i, "OrderCancelledEvent") is None]
        if missing:
            self.problem(f"The connector did not see {len(missing)} of the {count} cancelled orders end cancelled "
                         f"within {ORDER_TIMEOUT:.0f} s.")
            return None
        cancelled = max(self._ended(i, "OrderCancelledEvent") for i in ids) - cancel_started
        # The cancellation may be confirmed before the polling above saw the acceptance.
        cancel_accepted = min(cancel_accepted, cancelled)
        await self.reconcile(orders)
        return {"started": started, "cancel_started": cancel_started, "created": created,
                "cancel_accepted": cancel_accepted, "cancelled": cancelled, "prices": prices, "amount": amount}

    async def reconcile(self, orders):
        from hummingbot.core.data_type.in_flight_order import OrderState

        for order in orders:
            if order.client_order_id in self.connector.in_flight_orders:
                self.problem(f"The connector still tracks order {order.client_order_id} after it was cancelled.")
            state = None
            for attempt in range(EXCHANGE_LOOKUP_ATTEMPTS):
                try:
                    state = (await self.connector._request_order_status(order)).new_state
                except Exception as error:
                    state = error
                if state == OrderState.CANCELED:
                    break
                await asyncio.sleep(0.2 * 2 ** attempt)
            if state != OrderState.CANCELED:
                shown = state.name if isinstance(state, OrderState) else _sentence(state, "the look-up failed")
                self.problem(f"{self.venue} does not show order {order.client_order_id} as cancelled ({shown}).")

    async def order_checks(self):
        before = self.connector.get_balance(self.connector.get_buy_collateral_token(self.pair))
        single = await self.place_and_cancel(1)
        if single is None:
            return
        self.fact(f"post-only buy {single['amount']} {self.pair} at {single['prices'][0]}: created in "
                  f"{_ms(single['created'])}, cancel accepted in {_ms(single['cancel_accepted'])}, cancelled in "
                  f"{_ms(single['cancelled'])}")
        await self.after_single(single)
        await self.venue_orders()
        await self.check_balance(before)

    async def after_single(self, single: Dict[str, Any]):
        """Venue measurements tied to the single order."""

    async def venue_orders(self):
        """Venue-specific order checks."""

    async def check_balance(self, before: Decimal):
        asset = self.connector.get_buy_collateral_token(self.pair)
        fees = sum((fee.amount for _, event in self.events.seen if type(event).__name__ == "OrderFilledEvent"
                    for fee in event.trade_fee.flat_fees), Decimal(0))
        try:
            await self.connector._update_balances()
        except Exception as error:
            self.problem(_sentence(error, f"{self.venue} refused the account read after the orders"))
            return
        after = self.connector.get_balance(asset)
        if self.connector.account_positions and self.balance_includes_pnl:
            self.fact(f"balance: {asset} {before} before, {after} after; not compared (open positions move it)")
        elif after != before - fees:
            self.problem(f"The {asset} balance moved from {before} to {after} though the orders were only placed "
                         f"and cancelled (fees {fees}).")
        else:
            self.fact(f"reconciled: every order ended cancelled on {self.venue} and in the connector, none is left "
                      f"open, {asset} balance {after} unchanged")

    balance_includes_pnl = False


def _sentence(error: Any, fallback: str) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else f"{fallback} ({type(error).__name__})"
    return text if text.endswith(".") else f"{text}."


class LighterCheck(Check):
    fields_known = LIGHTER_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (time, frame kind, transactions in it) of every transaction sent; (time, echoes id) of every answer.
        self.tx_sends: List[Tuple[float, str, int]] = []
        self.tx_answers: List[Tuple[float, bool]] = []

    def endpoints(self) -> str:
        from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_web_utils as web_utils
        domain = self.settings.domain_parameter or self.connector_name
        return f"REST {web_utils.rest_base_url(domain)}, WebSocket {web_utils.wss_url(domain)}"

    def on_rest_out(self, path: str):
        if path.endswith(("/sendTx", "/sendTxBatch")):
            self.tx_sends.append((time.monotonic(), f"REST {path.rsplit('/', 1)[1]}", 0))

    def on_rest(self, method: str, path: str, body: Any):
        if path.endswith("/orderBookDetails"):
            self.fields.each("/orderBookDetails market", (body or {}).get("order_book_details"))
        elif path.endswith("/account"):
            for account in (body or {}).get("accounts") or []:
                self.fields.one("/account account", account)
                if isinstance(account, dict):
                    self.fields.each("/account position", account.get("positions"))
                    self.fields.each("/account asset", account.get("assets"))
        elif path.endswith(("/accountActiveOrders", "/accountInactiveOrders")):
            self.fields.each("order", (body or {}).get("orders"))
        elif path.endswith("/nextNonce"):
            self.fields.one("/nextNonce answer", body)
        elif path.endswith(("/sendTx", "/sendTxBatch")):
            self.fields.one("transaction answer", body)

    def on_ws_out(self, payload: Any):
        if not isinstance(payload, dict):
            return
        kind = payload.get("type")
        if kind == "jsonapi/sendtx":
            self.tx_sends.append((time.monotonic(), kind, 1))
        elif kind == "jsonapi/sendtxbatch":
            try:
                count = len(json.loads(payload["data"]["tx_types"]))
            except (KeyError, TypeError, ValueError):
                count = 0
            self.tx_sends.append((time.monotonic(), kind, count))

    def on_ws_in(self, message: Any):
        if not isinstance(message, dict):
            return
        kind = str(message.get("type", ""))
        if kind.startswith("jsonapi/"):
            self.fields.one("transaction answer", message)
            data = message.get("data") if isinstance(message.get("data"), dict) else {}
            self.tx_answers.append((time.monotonic(), message.get("id", data.get("id")) is not None))
        elif kind in ("subscribed/order_book", "update/order_book"):
            self.fields.one("order_book frame", message)
            body = message.get("order_book")
            self.fields.one("order_book body", body)
            if not isinstance(body, dict):
                return
            nonce = body.get("nonce")
            if kind.startswith("subscribed"):
                self.book.snapshot(nonce)
            else:
                self.book.update(lambda last: body.get("begin_nonce") in (None, last), nonce)
        elif str(message.get("channel", "")).startswith("account_all_orders"):
            self.fields.each("order", message.get("orders"))

    async def next_nonce(self) -> int:
        from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS
        response = await self.connector._api_get(
            path_url=CONSTANTS.NEXT_NONCE_PATH, limit_id=CONSTANTS.NEXT_NONCE_PATH,
            params={"account_index": self._key("_account_index"), "api_key_index": self._key("_api_key_index")})
        return int(response["nonce"])

    async def order_checks(self):
        self.nonce_before = await self.next_nonce()
        await super().order_checks()

    def sends_between(self, start: float, end: float) -> List[Tuple[float, str, int]]:
        return [send for send in self.tx_sends if start <= send[0] <= end]

    async def after_single(self, single: Dict[str, Any]):
        sends = self.sends_between(single["started"], single["started"] + single["created"])
        if not sends:
            self.problem("The order's transaction was not seen leaving the connector.")
            return
        sent_at = sends[0][0]
        # Read after the answer, with growing pauses: the account's request budget is small (Standard: 60 a minute).
        delay, moved_at = 0.05, None
        for _ in range(8):
            if await self.next_nonce() > self.nonce_before:
                moved_at = time.monotonic()
                break
            await asyncio.sleep(delay)
            delay *= 2
        if moved_at is None:
            self.problem("Lighter's /nextNonce did not move within 12 s of an accepted transaction.")
        else:
            self.fact(f"/nextNonce: moved {_ms(moved_at - sent_at)} after the send (first read "
                      f"{_ms(moved_at - sent_at - single['created'])} after the answer, {sends[0][1]})")

    async def venue_orders(self):
        batch = await self.place_and_cancel(2)
        if batch is None:
            return
        created = self.sends_between(batch["started"], batch["started"] + batch["created"])
        cancels = self.sends_between(batch["cancel_started"], batch["cancel_started"] + batch["cancel_accepted"])

        def frames(sends) -> str:
            return ", ".join(f"{kind} of {count}" if count else kind for _, kind, count in sends)

        self.fact(f"batch of 2 post-only buys: created in {_ms(batch['created'])} ({frames(created)}), cancel "
                  f"accepted in {_ms(batch['cancel_accepted'])} ({frames(cancels)}), cancelled in "
                  f"{_ms(batch['cancelled'])}")
        answers = len(self.tx_answers)
        with_id = sum(1 for _, echoed in self.tx_answers if echoed)
        rest = [kind for _, kind, _ in self.tx_sends if kind.startswith("REST")]
        if rest:
            self.problem(f"{len(rest)} of {len(self.tx_sends)} transactions went over REST: the connector could not "
                         f"use Lighter's transaction WebSocket.")
        elif answers and with_id < answers:
            self.problem(f"{answers - with_id} of {answers} WebSocket transaction answers did not echo the request "
                         f"id (the connector then pairs answers with frames by their order).")
        else:
            self.fact(f"transaction answers: {answers} over the WebSocket, every one echoes its request id")


class ExtendedCheck(Check):
    fields_known = EXTENDED_FIELDS
    # Extended reports equity (with unrealised PnL) as the balance.
    balance_includes_pnl = True

    def endpoints(self) -> str:
        from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_web_utils as web_utils
        domain = self.settings.domain_parameter or self.connector_name
        return f"REST {web_utils.rest_base_url(domain)}, streams {web_utils.wss_base_url(domain)}"

    def on_rest(self, method: str, path: str, body: Any):
        if not isinstance(body, dict):
            return
        self.fields.one("REST envelope", body)
        data = body.get("data")
        if path.endswith("/info/markets"):
            self.fields.each("/info/markets market", data)
        elif path.endswith("/user/balance") and data is not None:
            self.fields.one("/user/balance answer", data)
        elif path.endswith("/user/positions"):
            self.fields.each("/user/positions position", data)
        elif path.endswith("/user/order") and method == "POST" and data is not None:
            self.fields.one("/user/order answer", data)
        elif "/user/orders" in path:
            self.fields.each("order", data)

    def on_ws_in(self, message: Any):
        if not isinstance(message, dict):
            return
        self.fields.one("stream frame", message)
        data = message.get("data")
        kind = message.get("type") or (data.get("t") if isinstance(data, dict) else None)
        if kind in ("SNAPSHOT", "DELTA") and isinstance(data, dict):
            self.fields.one("order book frame data", data)
            seq = message.get("seq")
            if kind == "SNAPSHOT":
                self.book.snapshot(seq)
            else:
                self.book.update(lambda last: seq == last + 1, seq)
        elif kind == "ORDER" and isinstance(data, dict):
            self.fields.each("order", data.get("orders"))


async def run_check(connector: str, api_keys: Dict[str, Any], pair: Optional[str] = None, watch: float = 20.0,
                    out: TextIO = sys.stdout) -> int:
    """Runs the check in the running event loop; returns the exit code (0 green, 1 any problem)."""
    check_class = LighterCheck if connector.startswith("lighter") else ExtendedCheck
    return await check_class(connector, api_keys, pair, watch, out).run()


def main(argv: Optional[List[str]] = None, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout,
         err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(
        prog="perp-dex-connectors check",
        description="Live self-check of a connector with your own keys: markets, account, one order book, one "
                    "post-only order of the minimum size far from the touch, placed and cancelled (on Lighter also a "
                    "batch of two). Keys are asked for, never taken from the command line.")
    parser.add_argument("connector", choices=CONNECTORS)
    parser.add_argument("--market", help="trading pair to check (default: the connector's example pair)")
    parser.add_argument("--watch", type=float, default=20.0, help="seconds to watch the order book (default 20)")
    parser.add_argument("--mainnet", action="store_true", help="allow the check on a mainnet connector")
    args = parser.parse_args(argv)
    if is_mainnet(args.connector) and not args.mainnet:
        out.write(f"PROBLEM: {args.connector} trades on {venue_name(args.connector)}'s mainnet: add --mainnet to "
                  f"place and cancel a real post-only order there, or check {args.connector}_testnet.\n")
        return 1
    if not math.isfinite(args.watch) or args.watch < 0:
        out.write("PROBLEM: --watch takes a number of seconds of 0 or more.\n")
        return 1
    # Connector warnings go to standard error; the report stays on standard output.
    logging.basicConfig(level=logging.ERROR, stream=err, format="%(levelname)s %(name)s: %(message)s")
    try:
        from hummingbot.client.settings import AllConnectorSettings
    except ImportError:
        out.write("PROBLEM: This Python has no Hummingbot: run the check with the Python environment of your "
                  "Hummingbot.\n")
        return 1
    settings = AllConnectorSettings.get_connector_settings().get(args.connector)
    if settings is None:
        out.write(f"PROBLEM: Hummingbot does not list {args.connector}: run `perp-dex-connectors install` first.\n")
        return 1
    try:
        api_keys = read_keys(settings.config_keys, stdin, err)
    except CheckError as error:
        out.write(f"PROBLEM: {error}\n")
        return 1
    return asyncio.run(run_check(args.connector, api_keys, args.market, args.watch, out))
