"""POST /user/order checks, in the exchange's error codes (payloads/extended_18_errors.txt).

Checks that fail here answer the POST with status ERROR; outcomes decided by the book (post-only crossing,
self-trade protection, reduce-only at fill time) arrive later as order statuses on the account stream."""
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Optional

from emulator.extended.accounts import Account
from emulator.extended.errors import ExchangeError
from emulator.extended.markets import TRADABLE_STATUSES, MarketState
from emulator.extended.models import Order
from emulator.extended.signature import order_msg_hash, signature_valid
from emulator.extended.state import ExchangeState

ORDER_TYPES = ("LIMIT", "CONDITIONAL", "MARKET", "TPSL", "TWAP")
EMULATED_TYPES = ("LIMIT", "MARKET")
EMULATED_TIME_IN_FORCE = ("GTT", "IOC")
STP_LEVELS = ("DISABLED", "ACCOUNT", "CLIENT")
MAX_EXPIRY_MS = 90 * 24 * 3_600_000


@dataclass
class ParsedOrder:
    external_id: str
    market: str
    type: str
    side: str
    qty: Decimal
    price: Decimal
    time_in_force: str
    expiry: int
    fee: Decimal
    builder_fee: Optional[Decimal]
    nonce: int
    post_only: bool
    reduce_only: bool
    stp: str
    cancel_id: Optional[str]
    r: int
    s: int
    stark_key: int
    vault: int


def _parse(body) -> ParsedOrder:
    if not isinstance(body, dict) or not body.get("id") or not body.get("qty"):
        raise ExchangeError(1133)
    if body.get("price") is None:
        raise ExchangeError(1130)
    try:
        settlement = body["settlement"]
        signature = settlement["signature"]
        parsed = ParsedOrder(
            external_id=str(body["id"]), market=str(body["market"]), type=str(body["type"]),
            side=str(body["side"]), qty=Decimal(str(body["qty"])), price=Decimal(str(body["price"])),
            time_in_force=str(body["timeInForce"]), expiry=int(body["expiryEpochMillis"]),
            fee=Decimal(str(body["fee"])),
            builder_fee=Decimal(str(body["builderFee"])) if body.get("builderFee") is not None else None,
            nonce=int(Decimal(str(body["nonce"]))), post_only=bool(body.get("postOnly", False)),
            reduce_only=bool(body.get("reduceOnly", False)),
            stp=str(body.get("selfTradeProtectionLevel", "ACCOUNT")), cancel_id=body.get("cancelId"),
            r=int(signature["r"], 16), s=int(signature["s"], 16), stark_key=int(settlement["starkKey"], 16),
            vault=int(Decimal(str(settlement["collateralPosition"]))),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError):
        raise ExchangeError(1133)
    if (parsed.side not in ("BUY", "SELL") or parsed.type not in ORDER_TYPES or parsed.stp not in STP_LEVELS
            or not parsed.qty.is_finite() or not parsed.price.is_finite()):
        raise ExchangeError(1133)
    return parsed


def _check_signature(state: ExchangeState, account: Account, p: ParsedOrder):
    if p.stark_key != account.public_key_int:
        raise ExchangeError(1100)
    if p.vault != account.vault:
        raise ExchangeError(1102)
    msg_hash = order_msg_hash(market=state.market_model(p.market), side=p.side, qty=p.qty, price=p.price, fee=p.fee,
                              builder_fee=p.builder_fee, nonce=p.nonce, vault=p.vault, expiry_epoch_millis=p.expiry,
                              public_key=p.stark_key, domain=state.domain)
    if not signature_valid(account.public_key_int, msg_hash, p.r, p.s):
        raise ExchangeError(1101)


def _check_rules(market: MarketState, account: Account, p: ParsedOrder, now: int):
    spec = market.spec
    if p.type not in EMULATED_TYPES:
        raise ExchangeError(1132)
    if p.type == "MARKET" and p.time_in_force != "IOC":
        raise ExchangeError(1139)
    if p.time_in_force not in EMULATED_TIME_IN_FORCE or (p.type == "MARKET" and p.post_only):
        raise ExchangeError(1133)
    if p.qty < spec.min_order_size:
        raise ExchangeError(1120)
    if p.qty % spec.min_order_size_change:
        raise ExchangeError(1121)
    if p.price <= 0:
        raise ExchangeError(1141)
    if p.price % spec.min_price_change:
        raise ExchangeError(1124)
    max_value = spec.max_market_order_value if p.type == "MARKET" else spec.max_limit_order_value
    if p.qty * p.price > max_value:
        raise ExchangeError(1122)
    if p.side == "BUY" and p.price > market.mark_price * (1 + spec.limit_price_cap):
        raise ExchangeError(1141, debug_info=f"Buy price above mark price {market.mark_price} + cap")
    if p.side == "SELL" and p.price < market.mark_price * (1 - spec.limit_price_floor):
        raise ExchangeError(1141, debug_info=f"Sell price below mark price {market.mark_price} - floor")
    if p.expiry <= now or p.expiry > now + MAX_EXPIRY_MS:
        raise ExchangeError(1135)
    required_fee = account.maker_fee if p.post_only else account.taker_fee
    if p.fee < required_fee:
        raise ExchangeError(1128)


def _check_position(state: ExchangeState, market: MarketState, account: Account, p: ParsedOrder, order: Order,
                    replaces: Optional[Order]):
    position = state.position(account.account_id, p.market)
    if p.reduce_only:
        if position is None:
            raise ExchangeError(1137)
        if (position.size > 0) == (p.side == "BUY"):
            raise ExchangeError(1138)
        if p.qty > abs(position.size):
            raise ExchangeError(1136)
        return
    if account.synthetic:
        return
    signed = p.qty if p.side == "BUY" else -p.qty
    resulting = abs((position.size if position else 0) + signed) * market.mark_price
    leverage = account.leverage_for(p.market)
    if resulting > market.spec.max_position_value or leverage > market.max_leverage_for_value(resulting):
        raise ExchangeError(1127)
    exclude = (replaces.id,) if replaces is not None else ()
    before = state.margin(account, exclude_order_ids=exclude)
    after = state.margin(account, extra_orders=(order,), exclude_order_ids=exclude)
    fee = Decimal(0) if p.post_only else p.qty * p.price * account.taker_fee
    cost = after.initial_margin - before.initial_margin + fee
    available = before.available_for_trade
    if cost > 0 and cost > available:
        raise ExchangeError(1140, debug_info=(
            f"Order cost {cost:.6f} exceeds available for trade {max(available, Decimal(0)):.6f}\n"
            f"Order price = {p.price}, mark price = {market.mark_price}"))


def validate_order(state: ExchangeState, account: Account, body, now: int) -> tuple:
    """Returns (Order, order it replaces or None) or raises ExchangeError."""
    p = _parse(body)
    market = state.markets.get(p.market)
    if market is None:
        raise ExchangeError(1001)
    if market.status not in TRADABLE_STATUSES:
        raise ExchangeError(1002)
    if market.status == "REDUCE_ONLY" and not p.reduce_only:
        raise ExchangeError(1014)
    _check_signature(state, account, p)
    _check_rules(market, account, p, now)
    if state.order_by_external_id(account.account_id, p.external_id) is not None:
        raise ExchangeError(1134)
    replaces = None
    if p.cancel_id is not None:
        replaces = state.order_by_external_id(account.account_id, str(p.cancel_id))
        if replaces is None or not replaces.is_open:
            raise ExchangeError(1142)
    open_count = len(state.account_open_orders(account.account_id, p.market)) - (1 if replaces else 0)
    if open_count >= market.spec.max_num_orders:
        raise ExchangeError(1126)
    order = Order(id=state.ids.next(), account_id=account.account_id, client_id=account.client_id,
                  external_id=p.external_id, market=p.market, type=p.type, side=p.side, qty=p.qty, price=p.price,
                  time_in_force=p.time_in_force, post_only=p.post_only, reduce_only=p.reduce_only,
                  expire_time=p.expiry, max_fee=p.fee, self_trade_protection=p.stp, created_time=now,
                  updated_time=now)
    _check_position(state, market, account, p, order, replaces)
    return order, replaces
