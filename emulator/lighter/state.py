"""In-memory exchange state: accounts, API keys, orders, fills, positions and request log.

Everything is plain data so tests can inspect it directly (`LighterEmulator.state`).
"""
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, List, Optional

from emulator.lighter.constants import STATUS_OPEN, TWO_POW_48
from emulator.lighter.markets import MarketSpec

RECENT_TRADES_KEPT = 5000
INACTIVE_ORDERS_KEPT = 2000


def now_us() -> int:
    return time.time_ns() // 1000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class ApiKey:
    api_key_index: int
    public_key: str
    next_nonce: int = 0
    transaction_time: int = 0


@dataclass(eq=False)
class Order:
    order_index: int
    client_order_index: int
    market_id: int
    account_index: int
    is_ask: bool
    order_type: int
    time_in_force: int
    reduce_only: bool
    price: int
    initial_base: int
    order_expiry: int
    trigger_price: int
    nonce: int
    created_us: int
    block_height: int
    remaining_base: int = 0
    filled_base: int = 0
    filled_quote: int = 0
    status: str = STATUS_OPEN
    updated_us: int = 0
    visible_at_ms: int = 0

    @property
    def is_active(self) -> bool:
        return self.status == STATUS_OPEN


@dataclass
class Position:
    market_id: int
    size: int = 0
    entry_quote: int = 0
    realized_pnl: int = 0
    funding_paid_out: int = 0
    initial_margin_fraction: int = 0
    margin_mode: int = 0


@dataclass(eq=False)
class Fill:
    """One trade between a maker and a taker, with the fees each side paid (micro-USDC)."""
    trade_id: int
    tx_hash: str
    market_id: int
    size: int
    price: int
    usd_amount: int
    ask: Order
    bid: Order
    is_maker_ask: bool
    block_height: int
    timestamp_ms: int
    transaction_time_us: int
    taker_fee_ticks: int
    maker_fee_ticks: int
    taker_fee_paid: int
    maker_fee_paid: int
    taker_position_before: int
    taker_entry_quote_before: int
    taker_imf_before: int
    taker_sign_changed: bool
    maker_position_before: int
    maker_entry_quote_before: int
    maker_imf_before: int
    maker_sign_changed: bool
    ask_realized_pnl: int = 0
    bid_realized_pnl: int = 0

    @property
    def taker(self) -> Order:
        return self.bid if self.is_maker_ask else self.ask

    @property
    def maker(self) -> Order:
        return self.ask if self.is_maker_ask else self.bid


@dataclass(eq=False)
class FundingPayment:
    funding_id: int
    timestamp_s: int
    market_id: int
    change: int
    rate: str
    position_size: int
    position_side: str


@dataclass(eq=False)
class Account:
    index: int
    l1_address: str
    collateral: int
    spot_usdc: int = 0
    api_keys: Dict[int, ApiKey] = field(default_factory=dict)
    positions: Dict[int, Position] = field(default_factory=dict)
    active_orders: Dict[int, Order] = field(default_factory=dict)
    inactive_orders: Deque[Order] = field(default_factory=lambda: deque(maxlen=INACTIVE_ORDERS_KEPT))
    fills: List[Fill] = field(default_factory=list)
    fundings: List[FundingPayment] = field(default_factory=list)
    cancel_all_time: int = 0
    created_at: int = 0
    total_order_count: int = 0

    def order_by_client_index(self, market_id: int, client_order_index: int) -> Optional[Order]:
        for order in self.active_orders.values():
            if order.client_order_index == client_order_index and order.market_id == market_id:
                return order
        return None

    def position(self, market: MarketSpec) -> Position:
        pos = self.positions.get(market.market_id)
        if pos is None:
            pos = Position(market_id=market.market_id,
                           initial_margin_fraction=market.default_initial_margin_fraction)
            self.positions[market.market_id] = pos
        return pos


@dataclass
class MarketState:
    """Mutable per-market data next to the static spec."""
    spec: MarketSpec
    index_price: int
    last_trade_price: int
    book_nonce: int = 1_000_000
    book_offset: int = 1
    last_updated_us: int = 0
    ask_seq: int = 1_000_000
    bid_seq: int = 1_000_000
    recent_fills: Deque[Fill] = field(default_factory=lambda: deque(maxlen=RECENT_TRADES_KEPT))
    funding_history: List[dict] = field(default_factory=list)
    last_funding_ms: int = 0
    open_interest: int = 0
    daily_trades: int = 0
    daily_base_volume: int = 0
    daily_quote_volume: int = 0

    def next_order_index(self, is_ask: bool) -> int:
        """Asks count up from (m+1)*2^48, bids down from (m+2)*2^48, as mainnet order indexes do."""
        market_base = (self.spec.market_id + 1) * TWO_POW_48
        if is_ask:
            self.ask_seq += 1
            return market_base + self.ask_seq
        self.bid_seq += 1
        return market_base + TWO_POW_48 - self.bid_seq


@dataclass
class ReceivedRequest:
    """One request as the emulator saw it: REST (method, path, query, form) or a WS frame."""
    transport: str
    method: str
    path: str
    params: Dict[str, str]
    form: Dict[str, str]
    headers: Dict[str, str]
    received_ms: int


class ExchangeState:
    """The whole truth of the emulated venue; mutated only from the event loop."""

    def __init__(self, markets: List[MarketSpec]):
        self.markets: Dict[int, MarketState] = {}
        for spec in markets:
            price = spec.price_int(spec.initial_price)
            self.markets[spec.market_id] = MarketState(spec=spec, index_price=price, last_trade_price=price)
        self.accounts: Dict[int, Account] = {}
        self.orders: Dict[int, Order] = {}
        self.fills: List[Fill] = []
        self.requests: Deque[ReceivedRequest] = deque(maxlen=50_000)
        self.block_height = 100_000_000
        self.next_trade_id = 500_000_000
        self.next_funding_id = 1
        self.next_account_index = 1000

    def market(self, market_id: int) -> Optional[MarketState]:
        return self.markets.get(market_id)

    def account(self, account_index: int) -> Optional[Account]:
        return self.accounts.get(account_index)

    def accounts_by_l1(self, l1_address: str) -> List[Account]:
        wanted = l1_address.lower()
        return [acct for acct in self.accounts.values() if acct.l1_address.lower() == wanted]

    def nonces(self) -> Dict[tuple, int]:
        """Next expected nonce per (account_index, api_key_index)."""
        return {(acct.index, key.api_key_index): key.next_nonce
                for acct in self.accounts.values() for key in acct.api_keys.values()}
