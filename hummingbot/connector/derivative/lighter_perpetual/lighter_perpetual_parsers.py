"""Pure functions from Lighter's wire JSON to plain values. Tested against the captured payloads in test/fixtures.

Lighter's encodings, as seen on the wire: decimals are strings (some numbers are JSON numbers); timestamps mix seconds,
milliseconds and microseconds; margin fractions are ints in 1/10000 in market data but percent strings in positions;
funding rates are percent per hour on market_stats, an 8-hour fraction on /funding-rates; per-trade fees are integer
rates in millionths; REST lists positions while WebSocket frames key them by market id.
"""
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, Container, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS
from hummingbot.core.data_type.in_flight_order import OrderState

ONE_MILLIONTH = Decimal("0.000001")
_PERCENT = Decimal(100)


def to_decimal(value: Any) -> Decimal:
    """Lighter sends "" for some empty values (a flat position's liquidation price); that reads as zero."""
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def to_seconds(timestamp: Any) -> float:
    value = float(timestamp or 0)
    if value > 1e14:  # microseconds
        return value / 1e6
    if value > 1e11:  # milliseconds
        return value / 1e3
    return value


@dataclass(frozen=True)
class LighterMarket:
    market_id: int
    symbol: str
    trading_pair: str
    size_decimals: int
    price_decimals: int
    min_base_amount: Decimal
    min_quote_amount: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    default_initial_margin_fraction: int
    min_initial_margin_fraction: int
    active: bool

    @property
    def size_increment(self) -> Decimal:
        return Decimal(1).scaleb(-self.size_decimals)

    @property
    def price_increment(self) -> Decimal:
        return Decimal(1).scaleb(-self.price_decimals)

    @property
    def max_leverage(self) -> int:
        return 10_000 // self.min_initial_margin_fraction if self.min_initial_margin_fraction else 1

    def scaled_amount(self, amount: Decimal) -> int:
        return int(amount.scaleb(self.size_decimals).to_integral_value(rounding=ROUND_DOWN))

    def scaled_price(self, price: Decimal) -> int:
        return int(price.scaleb(self.price_decimals).to_integral_value(rounding=ROUND_DOWN))


def parse_markets(order_book_details: Dict[str, Any]) -> List[LighterMarket]:
    """Perpetual markets of /orderBookDetails (spot books are listed separately and are not ours)."""
    markets = []
    for raw in order_book_details.get("order_book_details") or []:
        if raw.get("market_type", "perp") != "perp":
            continue
        hidden = (raw.get("market_config") or {}).get("hidden", False)
        markets.append(LighterMarket(
            market_id=int(raw["market_id"]),
            symbol=str(raw["symbol"]),
            trading_pair=f"{raw['symbol']}-{CONSTANTS.QUOTE_TOKEN}",
            size_decimals=int(raw.get("size_decimals", raw.get("supported_size_decimals"))),
            price_decimals=int(raw.get("price_decimals", raw.get("supported_price_decimals"))),
            min_base_amount=to_decimal(raw.get("min_base_amount")),
            min_quote_amount=to_decimal(raw.get("min_quote_amount")),
            maker_fee=to_decimal(raw.get("maker_fee")) / _PERCENT,
            taker_fee=to_decimal(raw.get("taker_fee")) / _PERCENT,
            default_initial_margin_fraction=int(raw.get("default_initial_margin_fraction") or 0),
            min_initial_margin_fraction=int(raw.get("min_initial_margin_fraction") or 0),
            active=raw.get("status") == "active" and not hidden,
        ))
    return markets


def price_levels(levels: Iterable[Dict[str, Any]]) -> List[Tuple[float, float]]:
    return [(float(level["price"]), float(level["size"])) for level in levels]


def aggregate_orders(orders: Iterable[Dict[str, Any]]) -> List[Tuple[float, float]]:
    """Sums /orderBookOrders' individual orders into price levels (the book is kept by level, not by order)."""
    sizes: Dict[Decimal, Decimal] = {}
    for order in orders:
        price = to_decimal(order["price"])
        sizes[price] = sizes.get(price, Decimal(0)) + to_decimal(order["remaining_base_amount"])
    return [(float(price), float(size)) for price, size in sizes.items() if size > 0]


class BookMessage(NamedTuple):
    """A tuple, not a dataclass: one is built for every book update, tens of thousands a second on many markets."""
    market_id: int
    is_snapshot: bool
    bids: List[Tuple[float, float]]
    asks: List[Tuple[float, float]]
    nonce: int
    begin_nonce: Optional[int]
    timestamp: float


def parse_order_book_message(message: Dict[str, Any]) -> BookMessage:
    """A subscribed/order_book snapshot or update/order_book diff; size 0 deletes a level."""
    book = message["order_book"]
    begin_nonce = book.get("begin_nonce")
    # Messages older than the nonce fields carried only an offset, which still orders them.
    nonce = book["nonce"] if "nonce" in book else book.get("offset", message.get("offset", 0))
    # Positional (keywords cost about 0.4 us more): built for every book update.
    return BookMessage(
        int(message["channel"].split(":")[1]),  # market_id
        message.get("type", "").startswith("subscribed"),  # is_snapshot
        price_levels(book.get("bids") or ()),
        price_levels(book.get("asks") or ()),
        int(nonce),
        int(begin_nonce) if begin_nonce is not None else None,
        to_seconds(message.get("timestamp") or book.get("last_updated_at") or 0),
    )


@dataclass(frozen=True)
class PublicTrade:
    market_id: int
    trade_id: str
    price: float
    amount: float
    taker_is_buyer: bool
    timestamp: float


def trade_id_of(trade: Dict[str, Any]) -> int:
    return int(trade.get("trade_id_str") or trade["trade_id"])


def oldest_first(trades: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Lighter lists the trades of one frame newest first (descending trade id); ascending trade id is time order, in
    which Hummingbot must see them so that its last trade price ends on the newest."""
    return sorted(trades, key=trade_id_of)


def parse_public_trades(message: Dict[str, Any]) -> List[PublicTrade]:
    """The frame's trades, oldest first."""
    trades = []
    for trade in oldest_first(message.get("trades") or []):
        if trade.get("type", "trade") != "trade":
            continue
        trades.append(PublicTrade(
            market_id=int(trade["market_id"]),
            trade_id=str(trade_id_of(trade)),
            price=float(trade["price"]),
            amount=float(trade["size"]),
            # is_maker_ask: the maker sat on the ask side, so the taker bought; false, the maker was the bid and the
            # taker sold (live captures: a taker's own sell shows false, and false frames walk down the bids).
            taker_is_buyer=bool(trade["is_maker_ask"]),
            timestamp=to_seconds(trade["timestamp"]),
        ))
    return trades


@dataclass(frozen=True)
class MarketStats:
    market_id: int
    index_price: Decimal
    mark_price: Decimal
    funding_rate: Decimal
    next_funding_timestamp: float
    last_trade_price: Optional[Decimal]


def next_funding_time(funding_timestamp: Any, now: float) -> float:
    """Lighter funds at the top of every hour; market_stats carries the last funding time."""
    last = to_seconds(funding_timestamp) if funding_timestamp else now
    hour = CONSTANTS.FUNDING_INTERVAL_SECONDS
    return (int(max(last, now)) // hour + 1) * hour


def parse_market_stats(message: Dict[str, Any], now: float) -> List[MarketStats]:
    """market_stats/{id} carries one market, market_stats/all a dict keyed by market id."""
    stats = message.get("market_stats") or {}
    entries = stats.values() if "market_id" not in stats else [stats]
    parsed = []
    for entry in entries:
        last_trade = entry.get("last_trade_price")
        parsed.append(MarketStats(
            market_id=int(entry["market_id"]),
            index_price=to_decimal(entry.get("index_price")),
            mark_price=to_decimal(entry.get("mark_price")),
            # Percent per hour on the wire; Hummingbot wants the fraction paid per funding interval.
            funding_rate=to_decimal(entry.get("current_funding_rate", entry.get("funding_rate"))) / _PERCENT,
            next_funding_timestamp=next_funding_time(entry.get("funding_timestamp"), now),
            last_trade_price=to_decimal(last_trade) if last_trade not in (None, "") else None,
        ))
    return parsed


def lighter_funding_rate(funding_rates: Dict[str, Any], market_id: int) -> Optional[Decimal]:
    """Lighter's own hourly rate from /funding-rates, which also lists other venues' rates as 8-hour fractions."""
    for row in funding_rates.get("funding_rates") or []:
        if row.get("exchange") == "lighter" and int(row.get("market_id", -1)) == market_id:
            return to_decimal(row["rate"]) / 8
    return None


@dataclass(frozen=True)
class Balance:
    total: Decimal
    available: Decimal


def parse_account_balances(account: Dict[str, Any]) -> Dict[str, Balance]:
    """USDC is the perpetuals' collateral (`collateral`, `available_balance`); the account's other assets (its spot
    balances) count what they hold, less what open orders lock."""
    balances = parse_asset_balances(account.get("assets"))
    if "collateral" in account:
        balances[CONSTANTS.COLLATERAL_TOKEN] = Balance(total=to_decimal(account["collateral"]),
                                                       available=to_decimal(account.get("available_balance")))
    return balances


def parse_asset_balances(assets: Any) -> Dict[str, Balance]:
    """Non-collateral assets of an account: a list on REST, a dict keyed by asset id on the WebSocket."""
    rows = assets.values() if isinstance(assets, dict) else assets or []
    balances = {}
    for row in rows:
        symbol = str(row.get("symbol", "")).upper()
        if symbol and symbol != CONSTANTS.COLLATERAL_TOKEN:
            total = to_decimal(row.get("balance"))
            balances[symbol] = Balance(total=total, available=total - to_decimal(row.get("locked_balance")))
    return balances


def parse_user_stats(message: Dict[str, Any]) -> Balance:
    stats = message.get("stats") or {}
    return Balance(total=to_decimal(stats.get("collateral")), available=to_decimal(stats.get("available_balance")))


def first_account(accounts_response: Dict[str, Any], account_index: int) -> Optional[Dict[str, Any]]:
    for account in accounts_response.get("accounts") or []:
        if int(account.get("index", account.get("account_index", -1))) == account_index:
            return account
    return None


@dataclass(frozen=True)
class LighterPosition:
    market_id: int
    amount: Decimal  # signed: negative is short
    entry_price: Decimal
    unrealized_pnl: Decimal
    leverage: Decimal


def parse_positions(positions: Any) -> List[LighterPosition]:
    """Positions from REST (a list) or WebSocket (a dict by market id); flat rows are kept as zero amounts so a closed
    position is seen as closed."""
    rows = positions.values() if isinstance(positions, dict) else positions or []
    parsed = []
    for row in rows:
        initial_margin_percent = to_decimal(row.get("initial_margin_fraction"))
        # The percent form ("5.00"); a fraction form ("0.0500") is seen in some fixtures.
        if 0 < initial_margin_percent < 1:
            initial_margin_percent *= _PERCENT
        parsed.append(LighterPosition(
            market_id=int(row["market_id"]),
            amount=to_decimal(row.get("position")) * (-1 if int(row.get("sign", 1)) < 0 else 1),
            entry_price=to_decimal(row.get("avg_entry_price")),
            unrealized_pnl=to_decimal(row.get("unrealized_pnl")),
            leverage=(_PERCENT / initial_margin_percent).to_integral_value() if initial_margin_percent else Decimal(1),
        ))
    return parsed


@dataclass(frozen=True)
class LighterOrder:
    market_id: int
    client_order_id: str
    exchange_order_id: str
    state: OrderState
    status: str
    is_ask: bool
    price: Decimal
    amount: Decimal
    filled_amount: Decimal
    filled_quote: Decimal
    timestamp: float


def parse_order(order: Dict[str, Any]) -> Optional[LighterOrder]:
    """None for a status this connector does not know (logged by the caller), never an exception."""
    state = CONSTANTS.ORDER_STATE.get(order.get("status", ""))
    if state is None:
        return None
    if state == OrderState.OPEN and to_decimal(order.get("filled_base_amount")) > 0:
        state = OrderState.PARTIALLY_FILLED
    return LighterOrder(
        market_id=int(order.get("market_index", order.get("market_id", -1))),
        client_order_id=str(order.get("client_order_id") or order.get("client_order_index")),
        exchange_order_id=str(order.get("order_id") or order.get("order_index")),
        state=state,
        status=order["status"],
        is_ask=bool(order.get("is_ask")),
        price=to_decimal(order.get("price")),
        amount=to_decimal(order.get("initial_base_amount")),
        filled_amount=to_decimal(order.get("filled_base_amount")),
        filled_quote=to_decimal(order.get("filled_quote_amount")),
        timestamp=to_seconds(order.get("updated_at") or order.get("timestamp") or 0),
    )


def iter_orders(orders: Any) -> Iterable[Dict[str, Any]]:
    """account_all_orders frames key orders by market id; REST answers a list."""
    if isinstance(orders, dict):
        for market_orders in orders.values():
            yield from market_orders
    else:
        yield from orders or []


@dataclass(frozen=True)
class LighterFill:
    market_id: int
    trade_id: str
    client_order_id: str  # "" when the trade does not carry it (trades of 2025, orders placed without one)
    exchange_order_id: str  # the order index
    tx_hash: str  # the transaction that executed the trade: the one that placed the taker order
    is_sell: bool
    is_maker: bool
    price: Decimal
    amount: Decimal
    quote_amount: Decimal
    fee: Decimal
    timestamp: float


def parse_account_fills(trade: Dict[str, Any], account_index: int) -> List[LighterFill]:
    """The account's side(s) of one trade, with the fee actually charged: the trade's own fee rate (millionths) on
    its quote amount, floored to the micro-USDC as the exchange's integer arithmetic does."""
    fills = []
    quote = to_decimal(trade.get("usd_amount"))
    sides = []
    if int(trade.get("ask_account_id", -1)) == account_index:
        sides.append(("ask", True, bool(trade.get("is_maker_ask"))))
    if int(trade.get("bid_account_id", -1)) == account_index:
        sides.append(("bid", False, not trade.get("is_maker_ask")))
    for side, is_sell, is_maker in sides:
        fee_rate = to_decimal(trade.get("maker_fee" if is_maker else "taker_fee")) * ONE_MILLIONTH
        client_order_id = str(trade.get(f"{side}_client_id_str") or trade.get(f"{side}_client_id") or "")
        fills.append(LighterFill(
            market_id=int(trade["market_id"]),
            trade_id=str(trade_id_of(trade)),
            # 0 is an order placed without a client order index.
            client_order_id="" if client_order_id == "0" else client_order_id,
            exchange_order_id=str(trade.get(f"{side}_id_str") or trade.get(f"{side}_id")),
            tx_hash=str(trade.get("tx_hash") or "").lower(),
            is_sell=is_sell,
            is_maker=is_maker,
            price=to_decimal(trade["price"]),
            amount=to_decimal(trade["size"]),
            quote_amount=quote,
            fee=(quote * fee_rate).quantize(ONE_MILLIONTH, rounding=ROUND_DOWN),
            timestamp=to_seconds(trade.get("timestamp") or 0),
        ))
    return fills


def iter_trades(trades: Any) -> Iterable[Dict[str, Any]]:
    """account_all_trades frames key trades by market id; /trades answers a list."""
    yield from iter_orders(trades)


def fill_owner(fill: LighterFill, client_order_ids: Container[str], client_id_by_order_index: Mapping[str, str],
               client_id_by_tx_hash: Mapping[str, str]) -> Optional[str]:
    """The client order id of the tracked order a fill belongs to, None when it is none of them. Trades of 2025 carry
    no client ids: the order index then decides (known once the order was seen on the orders stream or REST), or, for
    the taker, the trade's tx_hash, which is the hash of the transaction that placed the taker order."""
    candidates = [fill.client_order_id, client_id_by_order_index.get(fill.exchange_order_id)]
    if not fill.is_maker and fill.tx_hash:
        candidates.append(client_id_by_tx_hash.get(fill.tx_hash))
    return next((client_order_id for client_order_id in candidates
                 if client_order_id and client_order_id in client_order_ids), None)


def next_page_cursor(response: Dict[str, Any], items_key: str, cursor: Optional[str]) -> Optional[str]:
    """The cursor of the page after this one, None after the last. Lighter sends next_cursor as a string, or null, ""
    or nothing on the last page; an empty page also ends the list, and a cursor handed out again would loop."""
    following = response.get("next_cursor")
    if not following or not response.get(items_key) or str(following) == cursor:
        return None
    return str(following)


def _row_time(row: Dict[str, Any]) -> float:
    return to_seconds(row.get("updated_at") or row.get("timestamp") or row.get("transaction_time") or 0)


def page_before(rows: List[Dict[str, Any]], since: float) -> bool:
    """True when every row of a page listed newest first (orders by update, trades by time) is older than `since`
    (seconds): the pages after it are older still. A page not in that order never ends a look-up early."""
    times = [_row_time(row) for row in rows]
    newest_first = all(earlier >= later for earlier, later in zip(times, times[1:]))
    return bool(times) and newest_first and times[0] < since


@dataclass(frozen=True)
class FundingPayment:
    market_id: int
    timestamp: float
    rate: Decimal
    amount: Decimal  # positive when received


def parse_position_funding(response: Dict[str, Any]) -> List[FundingPayment]:
    payments = []
    for row in response.get("position_fundings") or response.get("fundings") or []:
        payments.append(FundingPayment(
            market_id=int(row.get("market_id", -1)),
            timestamp=to_seconds(row["timestamp"]),
            rate=to_decimal(row.get("rate")) / _PERCENT,
            amount=to_decimal(row.get("change")),
        ))
    return payments


def error_of(response: Dict[str, Any]) -> Tuple[Optional[int], str]:
    """(code, message) of a Lighter answer; code None when it is a success."""
    code = response.get("code") if isinstance(response, dict) else None
    if code in (None, 0, CONSTANTS.CODE_OK):
        return None, ""
    return int(code), str(response.get("message", ""))


@dataclass(frozen=True)
class TxAnswer:
    request_id: Optional[str]
    code: Optional[int]
    message: str
    tx_hashes: List[str]


def parse_tx_answer(message: Dict[str, Any]) -> Optional[TxAnswer]:
    """The exchange's answer to sendTx/sendTxBatch (REST body or WebSocket frame); None for any other frame.
    Seen shapes: {code, message, tx_hash}, hashes as a list or under tx_hashes, under `data`, {"type": "error", code}
    and {"error": {code, message}}."""
    if not isinstance(message, dict):
        return None
    kind = str(message.get("type", ""))
    data = message.get("data") if isinstance(message.get("data"), dict) else {}
    error = message.get("error")
    if isinstance(error, dict):
        code, text = error.get("code"), error.get("message")
    elif kind == "error" or kind.startswith("jsonapi/") or (not kind and "code" in message):
        code, text = message.get("code", data.get("code")), message.get("message", data.get("message"))
    else:
        return None
    hashes = next((value for value in (message.get("tx_hashes"), message.get("tx_hash"), data.get("tx_hashes"),
                                       data.get("tx_hash")) if value), [])
    request_id = message.get("id") or data.get("id")
    return TxAnswer(request_id=None if request_id is None else str(request_id),
                    code=None if code is None else int(code), message=str(text or ""),
                    tx_hashes=[str(value) for value in (hashes if isinstance(hashes, list) else [hashes])])
