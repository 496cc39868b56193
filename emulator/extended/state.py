"""Exchange state: markets, books, accounts, orders, fills, positions, funding, received requests.

Also the truth-inspection surface for tests and the collector of account/market events that are flushed to the
stream hub after each engine operation."""
import itertools
from collections import defaultdict, deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Deque, Dict, List, Optional

from x10.core.client_config import StarknetDomain
from x10.models.market import MarketModel

from emulator.extended.accounts import (
    DEFAULT_LEVERAGE,
    DEFAULT_MAKER_FEE,
    DEFAULT_TAKER_FEE,
    Account,
    new_api_key,
    new_key_pair,
)
from emulator.extended.book import OrderBook
from emulator.extended.errors import ExchangeError
from emulator.extended.fmt import ZERO, IdGenerator, dstr, now_ms
from emulator.extended.hub import StreamHub
from emulator.extended.margin import MarginView, compute_margin, liquidation_price
from emulator.extended.markets import MarketSpec, MarketState
from emulator.extended.models import Fill, FundingPayment, Order, Position, PublicTrade

REQUEST_LOG = 10_000
PUBLIC_TRADE_HISTORY = 10_000


@dataclass
class RequestRecord:
    ts: int
    method: str
    path: str
    query: Dict[str, List[str]]
    body: Any
    account_id: Optional[int]


class ExchangeState:
    def __init__(self, specs: List[MarketSpec], domain: StarknetDomain, hub: StreamHub):
        self.domain = domain
        self.hub = hub
        self.markets: Dict[str, MarketState] = {s.name: MarketState.from_spec(s) for s in specs}
        self.books: Dict[str, OrderBook] = {s.name: OrderBook(s.name) for s in specs}
        self._market_models: Dict[str, MarketModel] = {}
        self.accounts: Dict[int, Account] = {}
        self.accounts_by_key: Dict[str, Account] = {}
        self.orders: Dict[int, Order] = {}
        self.orders_by_external: Dict[tuple, Order] = {}
        self.open_orders: Dict[int, Dict[int, Order]] = defaultdict(dict)
        self.resting_notional: Dict[int, Dict[str, List[Decimal]]] = defaultdict(dict)
        self.positions: Dict[int, Dict[str, Position]] = defaultdict(dict)
        self.fills: Dict[int, List[Fill]] = defaultdict(list)
        self.public_trades: Dict[str, Deque[PublicTrade]] = {
            s.name: deque(maxlen=PUBLIC_TRADE_HISTORY) for s in specs}
        self.funding_history: Dict[str, List[tuple]] = {s.name: [] for s in specs}
        self.funding_payments: Dict[int, List[FundingPayment]] = defaultdict(list)
        self.requests: Deque[RequestRecord] = deque(maxlen=REQUEST_LOG)
        self.ids = IdGenerator()
        self._account_ids = itertools.count(3001)
        self._vaults = itertools.count(500_001)
        self._account_events: Dict[int, list] = defaultdict(list)
        self._position_events: Dict[int, set] = defaultdict(set)
        self._balance_events: set = set()
        self._trade_events: Dict[str, List[PublicTrade]] = defaultdict(list)
        # The name of the client order id on the account stream's TRADE rows: "externalOrderId" as issue 10 reads
        # Extended's stream (REST's /user/trades says "externalId"); "externalId" or None (absent, as in the x10
        # SDK's stream test frame) switch to the other shapes.
        self.trade_stream_client_id_field: Optional[str] = "externalOrderId"

    # ----- registry -----
    def create_account(self, collateral: Decimal = ZERO, *, maker_fee: Decimal = DEFAULT_MAKER_FEE,
                       taker_fee: Decimal = DEFAULT_TAKER_FEE, leverage: Decimal = DEFAULT_LEVERAGE,
                       client_id: Optional[int] = None, synthetic: bool = False) -> Account:
        private_key, public_key = new_key_pair()
        account_id = next(self._account_ids)
        account = Account(account_id=account_id, client_id=client_id if client_id is not None else account_id,
                          api_key=new_api_key(), stark_private_key=private_key, stark_public_key=public_key,
                          vault=next(self._vaults), collateral=Decimal(collateral), maker_fee=Decimal(maker_fee),
                          taker_fee=Decimal(taker_fee), default_leverage=Decimal(leverage), synthetic=synthetic)
        self.accounts[account_id] = account
        self.accounts_by_key[account.api_key] = account
        return account

    def market(self, name: str) -> MarketState:
        market = self.markets.get(name)
        if market is None:
            raise ExchangeError(1001, http_status=404)
        return market

    def market_model(self, name: str) -> MarketModel:
        """The SDK's MarketModel for a market, as a client would build it from /info/markets."""
        model = self._market_models.get(name)
        if model is None:
            model = self._market_models[name] = MarketModel.model_validate(self.market_json(name))
        return model

    def log_request(self, record: RequestRecord):
        self.requests.append(record)

    # ----- views -----
    def open_interest(self, market: str) -> Decimal:
        return sum((p.size for acct in self.positions.values() for m, p in acct.items() if m == market and p.size > 0),
                   ZERO)

    def market_json(self, name: str) -> dict:
        book = self.books[name]
        return self.markets[name].to_json(book.best("BUY"), book.best("SELL"), self.open_interest(name))

    def account_open_orders(self, account_id: int, market: Optional[str] = None) -> List[Order]:
        orders = self.open_orders.get(account_id, {}).values()
        return [o for o in orders if market is None or o.market == market]

    def open_positions(self, account_id: int) -> List[Position]:
        return [p for p in self.positions.get(account_id, {}).values() if p.size]

    def track_resting(self, order: Order, qty: Decimal):
        """Keep the per-market [buy, sell] resting notional current: +qty when resting, -qty when leaving."""
        sums = self.resting_notional[order.account_id].setdefault(order.market, [ZERO, ZERO])
        sums[0 if order.is_buy else 1] += qty * order.price

    def margin(self, account: Account, extra_orders: tuple = (), exclude_order_ids: tuple = ()) -> MarginView:
        resting = {m: list(v) for m, v in self.resting_notional.get(account.account_id, {}).items()}
        for order, sign in [(o, 1) for o in extra_orders] + [(self.orders[i], -1) for i in exclude_order_ids]:
            sums = resting.setdefault(order.market, [ZERO, ZERO])
            sums[0 if order.is_buy else 1] += sign * order.remaining * order.price
        return compute_margin(account, self.positions.get(account.account_id, {}), resting, self.markets)

    def balance_json(self, account: Account) -> dict:
        return self.margin(account).to_json(account.updated_time)

    def position_json(self, account: Account, position: Position, view: Optional[MarginView] = None) -> dict:
        market = self.markets[position.market]
        view = view or self.margin(account)
        liquidation = liquidation_price(view, position, market)
        return position.to_json(market.mark_price, account.leverage_for(position.market), liquidation)

    def positions_json(self, account: Account) -> List[dict]:
        view = self.margin(account)
        return [self.position_json(account, p, view) for p in self.open_positions(account.account_id)]

    def book_levels(self, market: str, depth: Optional[int] = None) -> Dict[str, list]:
        book = self.books[market]
        return {"bid": book.levels("BUY", depth), "ask": book.levels("SELL", depth)}

    def book_stream_snapshot(self, market: str, depth: Optional[int] = None) -> dict:
        levels = self.book_levels(market, depth)
        data = {"t": "SNAPSHOT", "m": market,
                "b": [{"q": dstr(q), "p": dstr(p)} for p, q in levels["bid"]],
                "a": [{"q": dstr(q), "p": dstr(p)} for p, q in levels["ask"]]}
        if depth == 1:
            data["d"] = "1"
        return data

    # ----- inspection -----
    def book(self, market: str, depth: Optional[int] = None) -> Dict[str, list]:
        """Truth: {"bid": [(price, qty), ...], "ask": [...]} best first."""
        return self.book_levels(market, depth)

    def account_orders(self, account_id: int, market: Optional[str] = None) -> List[Order]:
        return [o for o in self.orders.values()
                if o.account_id == account_id and (market is None or o.market == market)]

    def order_by_external_id(self, account_id: int, external_id: str) -> Optional[Order]:
        return self.orders_by_external.get((account_id, external_id))

    def account_fills(self, account_id: int) -> List[Fill]:
        return list(self.fills.get(account_id, ()))

    def position(self, account_id: int, market: str) -> Optional[Position]:
        position = self.positions.get(account_id, {}).get(market)
        return position if position is not None and position.size else None

    # ----- events -----
    def emit_order(self, order: Order):
        if self.hub.has_account(order.account_id):
            self._account_events[order.account_id].append(("ORDER", order.to_json()))

    def emit_fill(self, fill: Fill):
        if self.hub.has_account(fill.account_id):
            row = fill.to_json()
            external_id = row.pop("externalId")
            if self.trade_stream_client_id_field is not None:
                row[self.trade_stream_client_id_field] = external_id
            self._account_events[fill.account_id].append(("TRADE", row))

    def emit_position(self, account_id: int, market: str):
        self._position_events[account_id].add(market)
        self._balance_events.add(account_id)

    def emit_balance(self, account_id: int):
        self._balance_events.add(account_id)

    def emit_public_trade(self, trade: PublicTrade):
        self.public_trades[trade.market].append(trade)
        self._trade_events[trade.market].append(trade)

    def flush(self):
        """Push everything collected since the last flush to the streams, in exchange order."""
        for name, book in self.books.items():
            changes = book.take_changes()
            if changes:
                delta = {"t": "DELTA", "m": name,
                         "b": [{"q": dstr(c), "p": dstr(p), "c": dstr(n)} for s, p, c, n in changes if s == "BUY"],
                         "a": [{"q": dstr(c), "p": dstr(p), "c": dstr(n)} for s, p, c, n in changes if s == "SELL"],
                         "d": "f"}
                self.hub.publish_book(name, delta, lambda m=name: self.book_stream_snapshot(m, 1))
        for market, trades in self._trade_events.items():
            self.hub.publish("publicTrades", market, None, [t.to_json() for t in trades])
        self._trade_events.clear()
        for account_id, events in self._account_events.items():
            for msg_type, payload in events:
                key = "orders" if msg_type == "ORDER" else "trades"
                self.hub.publish_account(account_id, msg_type, {key: [payload]})
        self._account_events.clear()
        for account_id in self._balance_events:
            account = self.accounts[account_id]
            account.updated_time = now_ms()
            if not self.hub.has_account(account_id):
                continue
            view = self.margin(account)
            markets = self._position_events.get(account_id, ())
            if markets:
                positions = [self.position_json(account, self.positions[account_id][m], view) for m in sorted(markets)]
                self.hub.publish_account(account_id, "POSITION", {"positions": positions})
            self.hub.publish_account(account_id, "BALANCE", {"balance": view.to_json(account.updated_time)})
        self._position_events.clear()
        self._balance_events.clear()
