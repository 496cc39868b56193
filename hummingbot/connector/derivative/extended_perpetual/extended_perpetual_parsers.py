"""Pure functions from Extended's wire JSON to plain values. Tested against the captured payloads in test/fixtures.

Extended's encodings, as seen on the wire: decimals are strings; ids are 64-bit integers (JSON numbers or strings);
timestamps are milliseconds; REST wraps answers in {status, data, error{code, message}, pagination}; streams wrap
frames in {type?, data, ts, seq}. Enum values this connector does not know are logged once and skipped, never
raised: the exchange adds values (order types, statuses, trade types) without notice.
"""
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.core.data_type.in_flight_order import OrderState

_logger = logging.getLogger(__name__)
_reported_unknown = set()

BookLevel = Tuple[Decimal, Decimal]
_BOOK_FRAME_KINDS = (CONSTANTS.STREAM_SNAPSHOT, CONSTANTS.STREAM_DELTA)


def _unknown(kind: str, value: Any):
    if (kind, value) not in _reported_unknown:
        _reported_unknown.add((kind, value))
        _logger.warning(f"Extended sent an unknown {kind} {value!r}; the entry is skipped.")


def to_decimal(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def ms_to_seconds(value: Any) -> float:
    return int(value or 0) / 1e3


def next_funding_timestamp(ts_ms: int) -> int:
    """Funding settles at the top of every hour: the first hour boundary after `ts_ms`, in seconds."""
    hour = CONSTANTS.FUNDING_INTERVAL_SECONDS
    return (int(ts_ms) // 1000 // hour + 1) * hour


ErrorCode = Union[int, str]


def error_code(value: Any) -> Optional[ErrorCode]:
    """Extended's error codes are numbers (1140) in the SDK's model, but answers also carry words ("NOT_FOUND"):
    a number, or a numeric string, becomes an int; any other text stays as it is."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else text


def envelope_error(body: Any) -> Optional[Tuple[Optional[ErrorCode], str]]:
    """(code, message) when a REST answer or stream frame reports an error, else None."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if body.get("status") == "ERROR" or error:
        if isinstance(error, dict):
            return error_code(error.get("code")), str(error.get("message") or "")
        return None, str(error or "")
    return None


# ----- markets -----

@dataclass(frozen=True)
class MarketStats:
    mark_price: Decimal
    index_price: Decimal
    last_price: Decimal
    funding_rate: Decimal  # hourly
    next_funding_timestamp: int  # seconds


def parse_market_stats(stats: Dict[str, Any]) -> MarketStats:
    """marketStats of /info/markets, or /info/markets/{market}/stats. `nextFundingRate` is a time in ms."""
    return MarketStats(
        mark_price=to_decimal(stats.get("markPrice")),
        index_price=to_decimal(stats.get("indexPrice")),
        last_price=to_decimal(stats.get("lastPrice")),
        funding_rate=to_decimal(stats.get("fundingRate")),
        next_funding_timestamp=int(stats.get("nextFundingRate") or 0) // 1000,
    )


@dataclass(frozen=True)
class MarketSpec:
    """One /info/markets entry: trading rules, the settlement settings the order signature needs, and stats."""
    name: str
    base: str
    quote: str
    status: str
    market_type: str
    asset_precision: int
    collateral_asset_precision: int
    min_order_size: Decimal
    min_order_size_change: Decimal
    min_price_change: Decimal
    max_market_order_value: Decimal
    max_limit_order_value: Decimal
    max_position_value: Decimal
    max_leverage: Decimal
    max_num_orders: int
    limit_price_cap: Decimal
    limit_price_floor: Decimal
    risk_factors: Tuple[Tuple[Decimal, Decimal], ...]
    l2_type: str
    collateral_id: str
    collateral_resolution: int
    synthetic_id: str
    synthetic_resolution: int
    stats: Optional[MarketStats]

    @property
    def trading_pair(self) -> str:
        return f"{self.base}-{self.quote}"

    @property
    def is_listed(self) -> bool:
        return self.market_type == CONSTANTS.PERPETUAL_MARKET_TYPE and self.status in CONSTANTS.LISTED_MARKET_STATUSES

    @property
    def opens_positions(self) -> bool:
        return self.status in CONSTANTS.OPENING_MARKET_STATUSES


def market_entries(response: Any) -> List[Dict[str, Any]]:
    data = response.get("data") if isinstance(response, dict) else None
    return [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []


def market_listing(entry: Dict[str, Any]) -> Optional[Tuple[str, str]]:
    """(exchange symbol, trading pair) of a listed perpetual market; None for spot, delisted or disabled ones."""
    name, base, quote = entry.get("name"), entry.get("assetName"), entry.get("collateralAssetName")
    market_type, status = entry.get("type", CONSTANTS.PERPETUAL_MARKET_TYPE), entry.get("status")
    if market_type not in CONSTANTS.MARKET_TYPES:
        _unknown("market type", market_type)
    if status not in CONSTANTS.MARKET_STATUSES:
        _unknown("market status", status)
    if not (name and base and quote) or market_type != CONSTANTS.PERPETUAL_MARKET_TYPE:
        return None
    if status not in CONSTANTS.LISTED_MARKET_STATUSES:
        return None
    return str(name), f"{base}-{quote}"


def parse_market(entry: Dict[str, Any]) -> MarketSpec:
    """Raises KeyError/ValueError/ArithmeticError on an entry that lacks what trading needs."""
    config = entry["tradingConfig"]
    l2 = entry["l2Config"]
    stats = entry.get("marketStats")
    return MarketSpec(
        name=str(entry["name"]),
        base=str(entry["assetName"]),
        quote=str(entry["collateralAssetName"]),
        status=str(entry.get("status", "")),
        # Older entries carry no type: every market was a perpetual then.
        market_type=str(entry.get("type", CONSTANTS.PERPETUAL_MARKET_TYPE)),
        asset_precision=int(entry["assetPrecision"]),
        collateral_asset_precision=int(entry["collateralAssetPrecision"]),
        min_order_size=Decimal(config["minOrderSize"]),
        min_order_size_change=Decimal(config["minOrderSizeChange"]),
        min_price_change=Decimal(config["minPriceChange"]),
        max_market_order_value=Decimal(config["maxMarketOrderValue"]),
        max_limit_order_value=Decimal(config["maxLimitOrderValue"]),
        max_position_value=Decimal(config["maxPositionValue"]),
        max_leverage=Decimal(config["maxLeverage"]),
        max_num_orders=int(config.get("maxNumOrders") or 0),
        limit_price_cap=Decimal(config["limitPriceCap"]),
        limit_price_floor=Decimal(config["limitPriceFloor"]),
        risk_factors=tuple((Decimal(row["upperBound"]), Decimal(row["riskFactor"]))
                           for row in config.get("riskFactorConfig") or []),
        l2_type=str(l2.get("type", "")),
        collateral_id=str(l2["collateralId"]),
        collateral_resolution=int(l2["collateralResolution"]),
        synthetic_id=str(l2["syntheticId"]),
        synthetic_resolution=int(l2["syntheticResolution"]),
        stats=parse_market_stats(stats) if isinstance(stats, dict) else None,
    )


def trading_rule(spec: MarketSpec) -> TradingRule:
    return TradingRule(
        trading_pair=spec.trading_pair,
        min_order_size=spec.min_order_size,
        min_price_increment=spec.min_price_change,
        min_base_amount_increment=spec.min_order_size_change,
        buy_order_collateral_token=spec.quote,
        sell_order_collateral_token=spec.quote,
    )


# ----- order books -----

def parse_rest_order_book(data: Dict[str, Any]) -> Tuple[List[BookLevel], List[BookLevel]]:
    """REST names the sides "bid"/"ask" with "price"/"qty" (the stream uses b/a and p/q)."""
    bids = [(Decimal(level["price"]), Decimal(level["qty"])) for level in data.get("bid") or []]
    asks = [(Decimal(level["price"]), Decimal(level["qty"])) for level in data.get("ask") or []]
    return bids, asks


# One level of a book frame: (price, size, change). `size` is the absolute size at the price ("c" of a DELTA, "q" of a
# SNAPSHOT), None when a DELTA level carries only its change; `change` is the signed change ("q"), read only then.
# Plain tuples: one is built for every level of every book frame.
LevelChange = Tuple[Decimal, Optional[Decimal], Optional[Decimal]]


def book_levels(levels: Optional[Iterable[Dict[str, Any]]], snapshot: bool) -> List[LevelChange]:
    """The levels of one side of a book frame ("b" or "a")."""
    if not levels:
        return []
    if snapshot:
        return [(Decimal(level["p"]), Decimal(level["q"]), None) for level in levels]
    return [(Decimal(level["p"]), Decimal(level["c"]), None) if level.get("c") is not None
            else (Decimal(level["p"]), None, Decimal(level["q"])) for level in levels]


def book_frame_kind(frame: Dict[str, Any]) -> Optional[str]:
    """SNAPSHOT or DELTA for a /orderbooks frame; None (logged once) for other frame types."""
    kind = frame.get("type") or (frame.get("data") or {}).get("t")
    if kind not in _BOOK_FRAME_KINDS:
        _unknown("order book frame type", kind)
        return None
    return kind


# ----- public trades, funding, prices -----

@dataclass(frozen=True)
class PublicTrade:
    trade_id: str
    market: str
    taker_is_buyer: bool
    price: Decimal
    amount: Decimal
    timestamp: float
    trade_type: str


_TRADE_TYPES = ("TRADE", "LIQUIDATION", "DELEVERAGE")
_SIDES = {"BUY": True, "SELL": False}


def parse_public_trades(trades: Any) -> List[PublicTrade]:
    """The data list of a /publicTrades frame or of GET /info/markets/{market}/trades."""
    parsed = []
    for trade in trades or []:
        side, trade_type = trade.get("S"), trade.get("tT", "TRADE")
        if side not in _SIDES:
            _unknown("trade side", side)
            continue
        if trade_type not in _TRADE_TYPES:
            _unknown("trade type", trade_type)
            continue
        parsed.append(PublicTrade(
            trade_id=str(int(trade["i"])),
            market=str(trade["m"]),
            taker_is_buyer=_SIDES[side],
            price=Decimal(trade["p"]),
            amount=Decimal(trade["q"]),
            timestamp=ms_to_seconds(trade["T"]),
            trade_type=trade_type,
        ))
    return parsed


@dataclass(frozen=True)
class FundingRateUpdate:
    market: str
    rate: Decimal  # hourly
    next_funding_timestamp: int  # seconds


def parse_funding_frame(frame: Dict[str, Any]) -> FundingRateUpdate:
    data = frame["data"]
    return FundingRateUpdate(market=str(data["m"]), rate=Decimal(data["f"]),
                             next_funding_timestamp=next_funding_timestamp(int(data["T"])))


@dataclass(frozen=True)
class PriceUpdate:
    market: str
    is_mark: bool
    price: Decimal


def parse_price_frame(frame: Dict[str, Any]) -> Optional[PriceUpdate]:
    """A /prices/mark ("MP") or /prices/index ("IP") frame."""
    kind = frame.get("type")
    if kind not in (CONSTANTS.STREAM_MARK_PRICE, CONSTANTS.STREAM_INDEX_PRICE):
        _unknown("price frame type", kind)
        return None
    data = frame["data"]
    return PriceUpdate(market=str(data["m"]), is_mark=kind == CONSTANTS.STREAM_MARK_PRICE, price=Decimal(data["p"]))


# ----- account -----

@dataclass(frozen=True)
class Balance:
    asset: str
    total: Decimal  # equity: collateral plus unrealised PnL
    available: Decimal  # available for trade


def parse_balance(balance: Dict[str, Any]) -> Balance:
    return Balance(asset=str(balance.get("collateralName") or CONSTANTS.COLLATERAL_TOKEN),
                   total=to_decimal(balance.get("equity")),
                   available=to_decimal(balance.get("availableForTrade")))


@dataclass(frozen=True)
class PositionInfo:
    market: str
    is_long: bool
    amount: Decimal  # signed: negative is short
    entry_price: Decimal
    unrealized_pnl: Decimal
    leverage: Decimal


_POSITION_SIDES = {"LONG": True, "SHORT": False}


def parse_position(position: Dict[str, Any]) -> Optional[PositionInfo]:
    """Sizes are unsigned on the wire, the side gives the direction; a CLOSED position has amount zero."""
    side = position.get("side")
    if side not in _POSITION_SIDES:
        _unknown("position side", side)
        return None
    size = to_decimal(position.get("size"))
    if position.get("status", "OPENED") != "OPENED":
        size = Decimal(0)
    is_long = _POSITION_SIDES[side]
    return PositionInfo(
        market=str(position["market"]),
        is_long=is_long,
        amount=size if is_long else -size,
        entry_price=to_decimal(position.get("openPrice")),
        unrealized_pnl=to_decimal(position.get("unrealisedPnl")),
        leverage=to_decimal(position.get("leverage")),
    )


@dataclass(frozen=True)
class OrderInfo:
    exchange_order_id: str
    external_id: str
    market: str
    status: str
    status_reason: Optional[str]
    state: OrderState
    filled_amount: Decimal
    average_price: Decimal
    update_timestamp: float


def parse_order(order: Dict[str, Any]) -> Optional[OrderInfo]:
    status = order.get("status")
    state = CONSTANTS.ORDER_STATE.get(status)
    if state is None:
        _unknown("order status", status)
        return None
    reason = order.get("statusReason")
    filled = to_decimal(order.get("filledQty"))
    if state == OrderState.OPEN and filled > 0:
        state = OrderState.PARTIALLY_FILLED
    elif state == OrderState.CANCELED and filled == 0 and reason in CONSTANTS.FAILURE_STATUS_REASONS:
        state = OrderState.FAILED
    elif state == OrderState.FAILED and filled > 0:
        # Refused after part of it traded (e.g. self-trade protection): what traded stands.
        state = OrderState.CANCELED
    return OrderInfo(
        exchange_order_id=str(int(order["id"])),
        external_id=str(order["externalId"]),
        market=str(order["market"]),
        status=status,
        status_reason=reason,
        state=state,
        filled_amount=filled,
        average_price=to_decimal(order.get("averagePrice")),
        update_timestamp=ms_to_seconds(order.get("updatedTime") or order.get("createdTime")),
    )


@dataclass(frozen=True)
class AccountTrade:
    trade_id: str
    exchange_order_id: str
    external_id: Optional[str]
    market: str
    is_buy: bool
    price: Decimal
    amount: Decimal
    fee: Decimal
    is_taker: bool
    timestamp: float


def parse_account_trade(trade: Dict[str, Any]) -> Optional[AccountTrade]:
    """A fill of the account (/user/trades, TRADE stream) with the fee it paid."""
    side = trade.get("side")
    if side not in _SIDES:
        _unknown("trade side", side)
        return None
    # REST names the client order id `externalId`, the account stream's TRADE rows `externalOrderId`.
    external_id = trade.get("externalId") if trade.get("externalId") is not None else trade.get("externalOrderId")
    return AccountTrade(
        trade_id=str(int(trade["id"])),
        exchange_order_id=str(int(trade["orderId"])),
        external_id=str(external_id) if external_id is not None else None,
        market=str(trade["market"]),
        is_buy=_SIDES[side],
        price=Decimal(trade["price"]),
        amount=Decimal(trade["qty"]),
        fee=to_decimal(trade.get("fee")),
        is_taker=bool(trade.get("isTaker")),
        timestamp=ms_to_seconds(trade.get("createdTime")),
    )


@dataclass(frozen=True)
class FeeRates:
    maker: Decimal
    taker: Decimal


def parse_fees(rows: Any) -> Dict[str, FeeRates]:
    return {str(row["market"]): FeeRates(maker=Decimal(row["makerFeeRate"]), taker=Decimal(row["takerFeeRate"]))
            for row in rows or []}


@dataclass(frozen=True)
class FundingPayment:
    market: str
    timestamp: float
    rate: Decimal
    amount: Decimal  # positive when received, negative when paid


def parse_funding_payments(rows: Any) -> List[FundingPayment]:
    """fundingFee is what the account paid (negative when it received), so the amount is its opposite."""
    return [FundingPayment(market=str(row["market"]), timestamp=ms_to_seconds(row["paidTime"]),
                           rate=to_decimal(row.get("fundingRate")), amount=-to_decimal(row.get("fundingFee")))
            for row in rows or []]
