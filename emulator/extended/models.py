"""Exchange records (orders, fills, positions, funding payments) and their wire JSON."""
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from emulator.extended.fmt import ZERO, dstr, money

OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED", "UNTRIGGERED")


@dataclass(eq=False)
class Order:
    id: int
    account_id: int
    client_id: int
    external_id: str
    market: str
    type: str
    side: str
    qty: Decimal
    price: Decimal
    time_in_force: str
    post_only: bool
    reduce_only: bool
    expire_time: int
    max_fee: Decimal
    self_trade_protection: str
    created_time: int
    updated_time: int
    status: str = "NEW"
    status_reason: Optional[str] = None
    filled_qty: Decimal = ZERO
    filled_value: Decimal = ZERO
    cancelled_qty: Decimal = ZERO
    payed_fee: Decimal = ZERO

    @property
    def is_buy(self) -> bool:
        return self.side == "BUY"

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty - self.cancelled_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_json(self) -> dict:
        average = self.filled_value / self.filled_qty if self.filled_qty else ZERO
        data = {
            "id": self.id,
            "accountId": self.account_id,
            "externalId": self.external_id,
            "market": self.market,
            "type": self.type,
            "side": self.side,
            "status": self.status,
            "price": dstr(self.price),
            "averagePrice": dstr(average),
            "qty": dstr(self.qty),
            "filledQty": dstr(self.filled_qty),
            "payedFee": dstr(self.payed_fee),
            "reduceOnly": self.reduce_only,
            "postOnly": self.post_only,
            "createdTime": self.created_time,
            "updatedTime": self.updated_time,
            "timeInForce": self.time_in_force,
            "expireTime": self.expire_time,
        }
        if self.status_reason:
            data["statusReason"] = self.status_reason
        if self.cancelled_qty:
            data["cancelledQty"] = dstr(self.cancelled_qty)
        return data


@dataclass(eq=False)
class Fill:
    """One side of an execution, as the account sees it (/user/trades, TRADE stream)."""

    id: int
    account_id: int
    market: str
    order_id: int
    external_id: str
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    is_taker: bool
    created_time: int
    trade_type: str = "TRADE"

    @property
    def value(self) -> Decimal:
        return self.price * self.qty

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "accountId": self.account_id,
            "market": self.market,
            "orderId": self.order_id,
            "externalId": self.external_id,
            "side": self.side,
            "price": dstr(self.price),
            "qty": dstr(self.qty),
            "value": money(self.value),
            "fee": dstr(self.fee),
            "tradeType": self.trade_type,
            "isTaker": self.is_taker,
            "createdTime": self.created_time,
        }


@dataclass(eq=False)
class PublicTrade:
    id: int
    market: str
    side: str
    price: Decimal
    qty: Decimal
    ts: int
    trade_type: str = "TRADE"

    def to_json(self) -> dict:
        return {"i": self.id, "m": self.market, "S": self.side, "tT": self.trade_type, "T": self.ts,
                "p": dstr(self.price), "q": dstr(self.qty)}


@dataclass(eq=False)
class Position:
    id: int
    account_id: int
    market: str
    created_at: int
    updated_at: int
    size: Decimal = ZERO  # signed: > 0 long, < 0 short
    open_price: Decimal = ZERO
    realised_pnl: Decimal = ZERO
    max_size: Decimal = ZERO
    last_side: str = "LONG"  # reported once the position is closed

    @property
    def side(self) -> str:
        if not self.size:
            return self.last_side
        return "LONG" if self.size > 0 else "SHORT"

    def unrealised_pnl(self, mark: Decimal) -> Decimal:
        return (mark - self.open_price) * self.size

    def to_json(self, mark: Decimal, leverage: Decimal, liquidation_price: Optional[Decimal]) -> dict:
        value = abs(self.size) * mark
        data = {
            "id": self.id,
            "accountId": self.account_id,
            "market": self.market,
            "status": "OPENED" if self.size else "CLOSED",
            "side": self.side,
            "leverage": dstr(leverage),
            "size": dstr(abs(self.size)),
            "value": money(value),
            "openPrice": dstr(self.open_price),
            "markPrice": dstr(mark),
            "margin": money(value / leverage),
            "unrealisedPnl": money(self.unrealised_pnl(mark)),
            "realisedPnl": money(self.realised_pnl),
            "maxPositionSize": dstr(self.max_size),
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }
        if liquidation_price is not None:
            data["liquidationPrice"] = dstr(liquidation_price)
        return data


@dataclass(eq=False)
class FundingPayment:
    id: int
    account_id: int
    market: str
    position_id: int
    side: str
    size: Decimal
    mark_price: Decimal
    funding_fee: Decimal  # paid by the account, negative when received [inferred: Extended does not document the sign]
    funding_rate: Decimal
    paid_time: int

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "accountId": self.account_id,
            "market": self.market,
            "positionId": self.position_id,
            "side": self.side,
            "size": dstr(self.size),
            "value": money(self.size * self.mark_price),
            "markPrice": dstr(self.mark_price),
            "fundingFee": money(self.funding_fee),
            "fundingRate": dstr(self.funding_rate),
            "paidTime": self.paid_time,
        }
