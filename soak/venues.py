"""Each exchange's emulator, account and connector, and its truth read in the soak's terms.

Truth comes from the emulator's state in this process, in the exchange's own units (Lighter: integers scaled by the
market's decimals and micro-USDC; Extended: decimals), never from the connector. The emulator's request log is made
unbounded so every request of a long run is counted.
"""
import json
import os
import re
from collections import Counter, deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Dict, List, Optional, Set, Tuple

from emulator.extended import ExtendedEmulator
from emulator.lighter import LighterEmulator, constants as LIGHTER

# Exchange order classes (see checks.ALLOWED for the Hummingbot states each one allows).
LIVE, FILLED, CANCELED, REFUSED = "live", "filled", "canceled", "refused"
MAKER_HALF_SPREAD = Decimal("0.005")
MAKER_LEVELS = 10


@dataclass(frozen=True)
class ExchangeOrder:
    client_id: str
    status: str  # the exchange's own word
    kind: str  # LIVE, FILLED, CANCELED or REFUSED


Fill = Tuple[str, Decimal, Decimal, Decimal]  # client id, price, amount, fee
Book = Tuple[List[Tuple[Decimal, Decimal]], List[Tuple[Decimal, Decimal]]]


class Venue:
    name: str
    pair: str
    collateral_token: str
    mid: Decimal
    price_step: Decimal
    size_step: Decimal
    min_size: Decimal
    max_size: Decimal
    env: Dict[str, str]

    async def start(self):
        raise NotImplementedError

    async def stop(self):
        await self.ex.stop()

    def connector(self):
        raise NotImplementedError

    def secrets(self) -> List[str]:
        raise NotImplementedError

    def take(self, taker_buys: bool, size: Decimal, worst_price: Decimal):
        raise NotImplementedError

    def orders(self) -> List[ExchangeOrder]:
        raise NotImplementedError

    def fills(self) -> List[Fill]:
        raise NotImplementedError

    def position(self) -> Decimal:
        """Signed: positive long."""
        raise NotImplementedError

    def balance(self) -> Decimal:
        raise NotImplementedError

    def book(self) -> Book:
        raise NotImplementedError

    def request_kinds(self) -> Counter:
        raise NotImplementedError

    def order_ids_of(self, record) -> Set[str]:
        """Client ids of the orders a logged request or frame tries to create."""
        raise NotImplementedError

    def is_network_check_request(self, record, connector) -> bool:
        """Whether a logged request is on the endpoint the connector's network check reads."""
        raise NotImplementedError

    def unbounded_request_log(self):
        self.ex.state.requests = deque(self.ex.state.requests)

    def nudge_book(self):
        """The maker adds and removes a small order at the far end of its ladder: two book updates, so a
        connector that missed one notices the gap even when nothing else trades."""
        raise NotImplementedError

    def far_price(self, is_bid: bool) -> Decimal:
        return self.quantize(self.mid * (1 - 2 * MAKER_HALF_SPREAD if is_bid else 1 + 2 * MAKER_HALF_SPREAD))

    def maker_ladder(self) -> List[Tuple[bool, Decimal]]:
        """(is_bid, price) of the maker's levels, outside the band where the workload quotes."""
        levels = []
        for level in range(MAKER_LEVELS):
            offset = MAKER_HALF_SPREAD + Decimal("0.0005") * level
            levels.append((True, self.quantize(self.mid * (1 - offset))))
            levels.append((False, self.quantize(self.mid * (1 + offset))))
        return levels

    def quantize(self, price: Decimal) -> Decimal:
        return (price / self.price_step).to_integral_value() * self.price_step


class LighterVenue(Venue):
    name = "lighter_perpetual"
    pair = "ETH-USDC"
    collateral_token = "USDC"
    market_id = 0
    mid = Decimal("2500")
    price_step = Decimal("0.01")
    size_step = Decimal("0.0001")
    min_size = Decimal("0.005")
    max_size = Decimal("0.05")

    def __init__(self, tier: str = "Premium"):
        self.tier = tier
        self.ex = LighterEmulator(port=0)

    async def start(self):
        from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS
        await self.ex.start()
        self.unbounded_request_log()
        self.ex.set_fees(maker=Decimal("0.0002"), taker=Decimal("0.0005"))
        self.maker = self.ex.create_account(collateral=Decimal("1000000000"))
        for is_bid, price in self.maker_ladder():
            self.ex.place_order(self.maker, self.market_id, is_ask=not is_bid, size=Decimal("100"), price=price)
        self.account, self.key_index, self._private_key = self.ex.create_account_with_api_key(
            collateral=Decimal("1000000"), api_key_index=4)
        self.env = {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url, CONSTANTS.WSS_URL_ENV_VAR: self.ex.ws_url}

    def connector(self):
        from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import (
            LighterPerpetualDerivative,
        )
        return LighterPerpetualDerivative(
            lighter_perpetual_api_private_key=self._private_key, lighter_perpetual_api_key_index=self.key_index,
            lighter_perpetual_account_index=self.account, lighter_perpetual_account_tier=self.tier,
            trading_pairs=[self.pair])

    def secrets(self) -> List[str]:
        return [self._private_key.removeprefix("0x")]

    def nudge_book(self):
        order = self.ex.place_order(self.maker, self.market_id, is_ask=False, size=self.min_size,
                                    price=self.far_price(True))
        self.ex.cancel_order(order.order_index)

    @property
    def spec(self):
        return self.ex.state.markets[self.market_id].spec

    def take(self, taker_buys: bool, size: Decimal, worst_price: Decimal):
        self.ex.submit_taker(self.market_id, is_ask=not taker_buys, size=size, worst_price=worst_price)

    def orders(self) -> List[ExchangeOrder]:
        ours = [o for o in self.ex.state.orders.values() if o.account_index == self.account]
        return [ExchangeOrder(str(o.client_order_index), o.status, self._kind(o.status)) for o in ours]

    @staticmethod
    def _kind(status: str) -> str:
        if status == LIGHTER.STATUS_OPEN:
            return LIVE
        if status == LIGHTER.STATUS_FILLED:
            return FILLED
        if status in (LIGHTER.STATUS_CANCELED, LIGHTER.STATUS_CANCELED_EXPIRED):
            return CANCELED
        return REFUSED  # closed by the exchange's own rule: post-only, reduce-only, self-trade, slippage, liquidity

    def fills(self) -> List[Fill]:
        spec = self.spec
        result = []
        for fill in self.ex.state.accounts[self.account].fills:
            for order, maker_side in ((fill.ask, fill.is_maker_ask), (fill.bid, not fill.is_maker_ask)):
                if order.account_index != self.account:
                    continue
                paid = fill.maker_fee_paid if maker_side else fill.taker_fee_paid
                result.append((str(order.client_order_index), Decimal(spec.price_str(fill.price)),
                               Decimal(spec.size_str(fill.size)), Decimal(paid) / 10 ** 6))
        return result

    def position(self) -> Decimal:
        position = self.ex.state.accounts[self.account].positions.get(self.market_id)
        return Decimal(self.spec.size_str(position.size)) if position is not None else Decimal(0)

    def balance(self) -> Decimal:
        return self.ex.balance(self.account)

    def book(self) -> Book:
        levels = self.ex.book_levels(self.market_id)
        return levels["bids"], levels["asks"]

    def request_kinds(self) -> Counter:
        return Counter(f"{r.method} {r.path}" if r.transport == "rest" else f"ws {r.method}"
                       for r in self.ex.state.requests)

    def is_network_check_request(self, record, connector) -> bool:
        return record.transport == "rest" and record.path.endswith(connector.check_network_request_path)

    def order_ids_of(self, record) -> Set[str]:
        fields = record.form
        if record.transport == "ws":
            fields = fields.get("data") if isinstance(fields.get("data"), dict) else {}
        if "tx_info" in fields:
            pairs = [(fields.get("tx_type"), fields["tx_info"])]
        else:
            pairs = list(zip(_json_list(fields.get("tx_types")), _json_list(fields.get("tx_infos"))))
        ids = set()
        for tx_type, info in pairs:
            info = _json_object(info)
            if str(tx_type) == str(LIGHTER.TX_TYPE_CREATE_ORDER) and "ClientOrderIndex" in info:
                ids.add(str(info["ClientOrderIndex"]))
        return ids


class ExtendedVenue(Venue):
    name = "extended_perpetual"
    pair = "BTC-USD"
    collateral_token = "USD"
    mid = Decimal("77259")
    price_step = Decimal("1")
    size_step = Decimal("0.00001")
    min_size = Decimal("0.0001")
    max_size = Decimal("0.002")

    def __init__(self, seed: int):
        self.ex = ExtendedEmulator(port=0, seed_book=False, hourly_funding=False, rng_seed=seed)

    async def start(self):
        from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
        await self.ex.start()
        self.unbounded_request_log()
        for is_bid, price in self.maker_ladder():
            self.ex.synthetic_maker(self.pair, "BUY" if is_bid else "SELL", Decimal("5"), price)
        self.acct = self.ex.create_account(collateral=Decimal("1000000"))
        self.env = {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url, CONSTANTS.WSS_URL_ENV_VAR: self.ex.stream_url}

    def connector(self):
        from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (
            ExtendedPerpetualDerivative,
        )
        return ExtendedPerpetualDerivative(self.acct.api_key, self.acct.stark_private_key, self.acct.stark_public_key,
                                           self.acct.vault, trading_pairs=[self.pair])

    def secrets(self) -> List[str]:
        private = self.acct.stark_private_key
        return [self.acct.api_key, private, private.removeprefix("0x"), str(int(private, 16))]

    def nudge_book(self):
        self.ex.engine.cancel(self.ex.synthetic_maker(self.pair, "BUY", self.min_size, self.far_price(True)))

    def take(self, taker_buys: bool, size: Decimal, worst_price: Decimal):
        self.ex.synthetic_taker(self.pair, "BUY" if taker_buys else "SELL", size, worst_price)

    def orders(self) -> List[ExchangeOrder]:
        return [ExchangeOrder(o.external_id, o.status, self._kind(o.status, o.status_reason))
                for o in self.ex.state.account_orders(self.acct.account_id)]

    @staticmethod
    def _kind(status: str, reason: Optional[str]) -> str:
        if status in ("NEW", "PARTIALLY_FILLED", "UNTRIGGERED"):
            return LIVE
        if status == "FILLED":
            return FILLED
        if status == "EXPIRED" or (status == "CANCELLED" and reason is None):
            return CANCELED
        return REFUSED  # REJECTED, or cancelled by the exchange with a reason (no liquidity, post-only, ...)

    def fills(self) -> List[Fill]:
        return [(f.external_id, f.price, f.qty, f.fee) for f in self.ex.state.account_fills(self.acct.account_id)]

    def position(self) -> Decimal:
        position = self.ex.state.position(self.acct.account_id, self.pair)
        return position.size if position is not None else Decimal(0)

    def balance(self) -> Decimal:
        # Hummingbot's total is the account's equity (collateral and unrealised PnL), as the balance row names it.
        return Decimal(self.ex.state.balance_json(self.acct)["equity"])

    def book(self) -> Book:
        levels = self.ex.state.book(self.pair)
        return levels["bid"], levels["ask"]

    def request_kinds(self) -> Counter:
        return Counter(f"{r.method} {id_free(r.path)}" for r in self.ex.state.requests)

    def is_network_check_request(self, record, connector) -> bool:
        # The check reads one market's entry of /info/markets, as the funding and last-price reads do: a fault on any
        # of them while the check ran counts as one on the check's request.
        return record.method == "GET" and record.path.endswith(connector.check_network_request_path)

    def order_ids_of(self, record) -> Set[str]:
        if record.method == "POST" and record.path == "/user/order" and isinstance(record.body, dict):
            return {str(record.body["id"])} if "id" in record.body else set()  # the order's external id
        return set()


def id_free(path: str) -> str:
    """/user/orders/external/123abc -> /user/orders/external/{id}: one kind per endpoint."""
    return "/".join("{id}" if re.search(r"\d", part) else part for part in path.split("/"))


def _json_list(value) -> list:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def _json_object(value) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def make_venue(name: str, seed: int, lighter_tier: str) -> Venue:
    if name == LighterVenue.name:
        return LighterVenue(lighter_tier)
    if name == ExtendedVenue.name:
        return ExtendedVenue(seed)
    raise ValueError(f"unknown exchange {name}")


def apply_env(env: Dict[str, str]) -> Dict[str, Optional[str]]:
    """Points the connectors at the emulator; returns what to restore."""
    previous = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    return previous


def restore_env(previous: Dict[str, Optional[str]]):
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
