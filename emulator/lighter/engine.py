"""Matching engine: order placement, price-time matching, cancels, modifies, funding and expiry.

Every state change is also recorded in an `Events` accumulator that the WS hub turns into frames.
"""
import heapq
from typing import Dict, List, Optional, Set, Tuple

from emulator.lighter import constants as C
from emulator.lighter.book import OrderBook
from emulator.lighter.errors import LighterError
from emulator.lighter.faults import Faults
from emulator.lighter.margin import apply_fill, mark_price, order_allowed, sign, summarize
from emulator.lighter.markets import to_int
from emulator.lighter.state import Account, ExchangeState, Fill, FundingPayment, MarketState, Order, now_ms, now_us

FUNDING_INTERVAL_MS = 3_600_000


class Events:
    """What changed during one transaction (or flow tick), grouped the way the WS channels need it."""

    def __init__(self):
        self.book_markets: Set[int] = set()
        # Newest first: the venue lists the trades of one frame in descending trade id (live trade/{market} captures
        # of 2025-10); that account channels list them the same way is inferred.
        self.fills: List[Fill] = []
        self.orders: Dict[int, Dict[int, Order]] = {}
        self.positions: Dict[int, Set[int]] = {}
        self.assets: Set[int] = set()
        self.fundings: Dict[int, List[FundingPayment]] = {}
        self.stats_markets: Set[int] = set()

    def order(self, order: Order):
        self.orders.setdefault(order.account_index, {})[order.order_index] = order

    def position(self, account_index: int, market_id: int):
        self.positions.setdefault(account_index, set()).add(market_id)
        self.assets.add(account_index)


class MatchingEngine:
    def __init__(self, state: ExchangeState, faults: Faults):
        self.state = state
        self.faults = faults
        self.books: Dict[int, OrderBook] = {market_id: OrderBook(market_id) for market_id in state.markets}
        self._expiries: List[Tuple[int, int]] = []

    # ---- order entry -------------------------------------------------------------------------------------

    def new_order(self, account: Account, market: MarketState, client_order_index: int, base: int, price: int,
                  is_ask: bool, order_type: int, time_in_force: int, reduce_only: bool, order_expiry: int) -> Order:
        order_index = market.next_order_index(is_ask)
        created = now_us()
        return Order(order_index=order_index, client_order_index=client_order_index, market_id=market.spec.market_id,
                     account_index=account.index, is_ask=is_ask, order_type=order_type,
                     time_in_force=time_in_force, reduce_only=reduce_only, price=price, initial_base=base,
                     remaining_base=base, order_expiry=order_expiry, trigger_price=0,
                     nonce=order_index - (market.spec.market_id + 1) * C.TWO_POW_48, created_us=created,
                     updated_us=created, block_height=self.state.block_height,
                     visible_at_ms=created // 1000 + self.faults.rest_index_delay_ms)

    def check_price_band(self, market: MarketState, is_ask: bool, price: int):
        """Lighter's fat-finger check on limit orders (docs.lighter.xyz, perpetual-futures/order-types-and-matching): a
        sell below max(mark price, best bid) x 0.95 or a buy above min(mark price, best ask) x 1.05 is refused. That the
        API refuses it with 21702 "invalid price" is inferred: the docs give the rule, not the code."""
        mark = mark_price(market)
        best = self.books[market.spec.market_id].side(not is_ask).best()
        if is_ask:
            reference = max(mark, best) if best is not None else mark
            refused = price * 100 < reference * (100 - C.FAT_FINGER_BAND_PERCENT)
        else:
            reference = min(mark, best) if best is not None else mark
            refused = price * 100 > reference * (100 + C.FAT_FINGER_BAND_PERCENT)
        if refused:
            raise LighterError(C.INVALID_PRICE)

    def check_margin(self, account: Account, order: Order, replacing: Optional[Order] = None):
        if not order_allowed(account, self.state.markets, order, replacing):
            raise LighterError(C.NOT_ENOUGH_MARGIN)

    def place(self, account: Account, order: Order, events: Events):
        market = self.state.markets[order.market_id]
        book = self.books[order.market_id]
        order.block_height = self.state.block_height
        self.state.orders[order.order_index] = order
        account.total_order_count += 1
        events.order(order)
        if order.time_in_force == C.TIF_POST_ONLY and book.crosses(order.is_ask, order.price):
            self._finish(account, order, C.STATUS_CANCELED_POST_ONLY)
            return
        if order.reduce_only and not self._cap_reduce_only(account, order):
            self._finish(account, order, C.STATUS_CANCELED_REDUCE_ONLY)
            return
        had_liquidity = book.side(not order.is_ask).best() is not None
        self._match(account, order, market, book, events)
        self._rest_or_finish(account, order, book, events, had_liquidity)

    def _cap_reduce_only(self, account: Account, order: Order) -> bool:
        pos = account.positions.get(order.market_id)
        size = pos.size if pos is not None else 0
        if size == 0 or (size > 0) != order.is_ask:
            return False
        if order.remaining_base == 0 or order.remaining_base > abs(size):
            order.remaining_base = abs(size)
            if order.initial_base == 0:
                order.initial_base = abs(size)
        return True

    def _rest_or_finish(self, account: Account, order: Order, book: OrderBook, events: Events, had_liquidity: bool):
        if order.remaining_base == 0:
            self._finish(account, order, C.STATUS_FILLED)
        elif order.time_in_force != C.TIF_IOC:
            book.add(order)
            account.active_orders[order.order_index] = order
            events.book_markets.add(order.market_id)
            if order.order_expiry:
                heapq.heappush(self._expiries, (order.order_expiry, order.order_index))
        elif order.order_type == C.ORDER_TYPE_MARKET:
            liquidity_left = book.side(not order.is_ask).best() is not None
            status = C.STATUS_CANCELED_SLIPPAGE if had_liquidity and liquidity_left else C.STATUS_CANCELED_NO_LIQUIDITY
            self._finish(account, order, status)
        else:
            self._finish(account, order, C.STATUS_CANCELED)

    def _match(self, account: Account, taker: Order, market: MarketState, book: OrderBook, events: Events):
        opposite = book.side(not taker.is_ask)
        while taker.remaining_base > 0:
            best = opposite.best()
            if best is None or (best < taker.price if taker.is_ask else best > taker.price):
                break
            maker = opposite.queues[best][0]
            if maker.account_index == taker.account_index:
                self._cancel_resting(account, maker, C.STATUS_CANCELED_SELF_TRADE, events)
                continue
            self._execute(account, taker, maker, min(taker.remaining_base, maker.remaining_base), best, market,
                          book, events)

    def _execute(self, taker_account: Account, taker: Order, maker: Order, size: int, price: int,
                 market: MarketState, book: OrderBook, events: Events):
        spec = market.spec
        maker_account = self.state.accounts[maker.account_index]
        quote = spec.quote_micro(size, price)
        taker_pos = taker_account.position(spec)
        maker_pos = maker_account.position(spec)
        taker_before, taker_entry_before = taker_pos.size, taker_pos.entry_quote
        maker_before, maker_entry_before = maker_pos.size, maker_pos.entry_quote
        taker_delta = -size if taker.is_ask else size
        taker_pnl = apply_fill(taker_pos, taker_delta, price, market)
        maker_pnl = apply_fill(maker_pos, -taker_delta, price, market)
        taker_fee = quote * spec.taker_fee_ticks // C.FEE_TICK
        maker_fee = quote * spec.maker_fee_ticks // C.FEE_TICK
        taker_account.collateral += taker_pnl - taker_fee
        maker_account.collateral += maker_pnl - maker_fee
        updated = now_us()
        for order in (taker, maker):
            order.remaining_base -= size
            order.filled_base += size
            order.filled_quote += quote
            order.updated_us = updated
        book.consume(maker, size)
        if maker.remaining_base == 0:
            self._finish(maker_account, maker, C.STATUS_FILLED)
        market.open_interest += (max(taker_pos.size, 0) - max(taker_before, 0)
                                 + max(maker_pos.size, 0) - max(maker_before, 0))
        self.state.next_trade_id += 1
        # mainnet trade hashes are a sequence number and the ms timestamp, zero padded to 40 bytes
        tx_hash = f"{self.state.block_height:016x}{updated // 1000:016x}" + "0" * 48
        fill = Fill(trade_id=self.state.next_trade_id, tx_hash=tx_hash, market_id=spec.market_id, size=size,
                    price=price, usd_amount=quote, ask=maker if maker.is_ask else taker,
                    # true when the maker sat on the ask side, i.e. the taker bought
                    bid=taker if maker.is_ask else maker, is_maker_ask=maker.is_ask,
                    block_height=self.state.block_height, timestamp_ms=updated // 1000,
                    transaction_time_us=updated, taker_fee_ticks=spec.taker_fee_ticks,
                    maker_fee_ticks=spec.maker_fee_ticks, taker_fee_paid=taker_fee, maker_fee_paid=maker_fee,
                    taker_position_before=taker_before, taker_entry_quote_before=taker_entry_before,
                    taker_imf_before=taker_pos.initial_margin_fraction,
                    taker_sign_changed=sign(taker_before) != sign(taker_pos.size),
                    maker_position_before=maker_before, maker_entry_quote_before=maker_entry_before,
                    maker_imf_before=maker_pos.initial_margin_fraction,
                    maker_sign_changed=sign(maker_before) != sign(maker_pos.size),
                    ask_realized_pnl=maker_pnl if maker.is_ask else taker_pnl,
                    bid_realized_pnl=taker_pnl if maker.is_ask else maker_pnl)
        self.state.fills.append(fill)
        market.recent_fills.append(fill)
        market.last_trade_price = price
        market.daily_trades += 1
        market.daily_base_volume += size
        market.daily_quote_volume += quote
        taker_account.fills.append(fill)
        maker_account.fills.append(fill)
        events.fills.insert(0, fill)
        events.order(taker)
        events.order(maker)
        events.position(taker_account.index, spec.market_id)
        events.position(maker_account.index, spec.market_id)
        events.book_markets.add(spec.market_id)
        events.stats_markets.add(spec.market_id)

    def _finish(self, account: Account, order: Order, status: str):
        order.status = status
        order.updated_us = now_us()
        account.active_orders.pop(order.order_index, None)
        account.inactive_orders.appendleft(order)

    def _cancel_resting(self, account: Account, order: Order, status: str, events: Events):
        self.books[order.market_id].remove(order)
        owner = account if account.index == order.account_index else self.state.accounts[order.account_index]
        self._finish(owner, order, status)
        events.order(order)
        events.book_markets.add(order.market_id)

    # ---- cancels and modifies ----------------------------------------------------------------------------

    def find_active(self, account: Account, market_id: int, index: int) -> Order:
        """Resolves an order index (>= 2^48) or a client order index to one of the account's live orders."""
        if index >= C.TWO_POW_48:
            order = self.state.orders.get(index)
            if order is None:
                raise LighterError(C.NOT_ACTIVE_ORDER)
            if order.account_index != account.index:
                raise LighterError(C.NOT_ORDER_OWNER)
        else:
            order = account.order_by_client_index(market_id, index)
        if order is None or not order.is_active or order.market_id != market_id:
            raise LighterError(C.NOT_ACTIVE_ORDER)
        return order

    def cancel(self, account: Account, order: Order, events: Events, status: str = C.STATUS_CANCELED):
        self._cancel_resting(account, order, status, events)

    def cancel_all(self, account: Account, events: Events, market_id: Optional[int] = None,
                   status: str = C.STATUS_CANCELED):
        for order in list(account.active_orders.values()):
            if market_id is None or order.market_id == market_id:
                self._cancel_resting(account, order, status, events)

    def modify(self, account: Account, order: Order, base: int, price: int, events: Events):
        market = self.state.markets[order.market_id]
        book = self.books[order.market_id]
        book.remove(order)
        del account.active_orders[order.order_index]
        order.price = price
        order.remaining_base = base
        order.initial_base = order.filled_base + base
        order.updated_us = now_us()
        order.block_height = self.state.block_height
        events.order(order)
        events.book_markets.add(order.market_id)
        if order.time_in_force == C.TIF_POST_ONLY and book.crosses(order.is_ask, price):
            self._finish(account, order, C.STATUS_CANCELED_POST_ONLY)
            return
        had_liquidity = book.side(not order.is_ask).best() is not None
        self._match(account, order, market, book, events)
        self._rest_or_finish(account, order, book, events, had_liquidity)

    def check_leverage(self, account: Account, market: MarketState, fraction: int):
        """Raises 21739 when the new initial margin fraction would leave the account short of margin."""
        pos = account.positions.get(market.spec.market_id)
        if pos is None or pos.size == 0:
            return
        previous = pos.initial_margin_fraction
        pos.initial_margin_fraction = fraction
        summary = summarize(account, self.state.markets)
        pos.initial_margin_fraction = previous
        if fraction > previous and summary.initial_requirement > summary.total_value:
            raise LighterError(C.NOT_ENOUGH_MARGIN)

    def update_leverage(self, account: Account, market: MarketState, fraction: int, margin_mode: int,
                        events: Events):
        pos = account.position(market.spec)
        pos.initial_margin_fraction = fraction
        pos.margin_mode = margin_mode
        events.position(account.index, market.spec.market_id)

    # ---- time driven -------------------------------------------------------------------------------------

    def expire_orders(self, events: Events, now: Optional[int] = None):
        now = now_ms() if now is None else now
        while self._expiries and self._expiries[0][0] <= now:
            _, order_index = heapq.heappop(self._expiries)
            order = self.state.orders.get(order_index)
            if order is not None and order.is_active:
                self.cancel(self.state.accounts[order.account_index], order, events, C.STATUS_CANCELED_EXPIRED)
        for account in self.state.accounts.values():
            if account.cancel_all_time and account.cancel_all_time <= now:
                account.cancel_all_time = 0
                self.cancel_all(account, events)

    def apply_funding(self, events: Events, market_ids: Optional[List[int]] = None,
                      timestamp_ms: Optional[int] = None):
        """Settles one funding round: longs pay shorts `rate`% of their mark value when the rate is positive."""
        timestamp_ms = now_ms() if timestamp_ms is None else timestamp_ms
        targets = market_ids if market_ids is not None else list(self.state.markets)
        for market_id in targets:
            market = self.state.markets[market_id]
            rate = market.spec.funding_rate
            rate_str = f"{rate:.4f}"
            mark = mark_price(market)
            for account in self.state.accounts.values():
                pos = account.positions.get(market_id)
                if pos is None or pos.size == 0:
                    continue
                notional = pos.size * mark * market.spec.quote_multiplier
                change = -to_int(notional * rate / 100, 0) if notional else 0
                account.collateral += change
                pos.funding_paid_out -= change
                self.state.next_funding_id += 1
                payment = FundingPayment(funding_id=self.state.next_funding_id, timestamp_s=timestamp_ms // 1000,
                                         market_id=market_id, change=change, rate=rate_str,
                                         position_size=abs(pos.size),
                                         position_side="long" if pos.size > 0 else "short")
                account.fundings.append(payment)
                events.fundings.setdefault(account.index, []).append(payment)
                events.position(account.index, market_id)
            value = abs(rate) * mark / (10 ** market.spec.price_decimals) / 100
            market.funding_history.append({"timestamp": timestamp_ms // 1000, "value": f"{value:.8f}",
                                           "rate": rate_str, "direction": "long" if rate >= 0 else "short"})
            market.last_funding_ms = timestamp_ms
            events.stats_markets.add(market_id)
