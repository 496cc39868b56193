"""Matching engine: price-time priority, post-only, IOC/MARKET with a price bound, reduce-only, self-trade
protection, maker/taker fees, positions, funding payments and order expiry."""
from decimal import Decimal
from typing import List, Optional

from emulator.extended.accounts import Account
from emulator.extended.fmt import ZERO, dstr, fee_amount, now_ms
from emulator.extended.models import Fill, FundingPayment, Order, Position, PublicTrade
from emulator.extended.state import ExchangeState


class Engine:
    def __init__(self, state: ExchangeState):
        self.state = state

    # ----- order entry -----
    def place(self, account: Account, order: Order, replaces: Optional[Order] = None, flush: bool = True) -> Order:
        """Run an already validated order through the book; stream events are flushed at the end unless the
        caller batches several operations into one flush."""
        state = self.state
        if replaces is not None and replaces.is_open:
            self._close(replaces, "CANCELLED", "ORDER_REPLACED")
        state.orders[order.id] = order
        state.orders_by_external[(order.account_id, order.external_id)] = order
        state.emit_order(order)
        book = state.books[order.market]
        if order.post_only and book.crosses(order.side, order.price):
            self._close(order, "REJECTED", "POST_ONLY_FAILED")
        else:
            self._match(account, order)
            if order.is_open:
                if order.time_in_force == "IOC" or order.type == "MARKET":
                    reason = None if order.filled_qty else "NO_LIQUIDITY"
                    self._close(order, "CANCELLED", reason)
                else:
                    state.open_orders[order.account_id][order.id] = order
                    state.track_resting(order, order.remaining)
                    book.add(order)
                    state.emit_balance(order.account_id)
        if flush:
            state.flush()
        return order

    def cancel(self, order: Order, status: str = "CANCELLED", reason: Optional[str] = None) -> bool:
        if not order.is_open:
            return False
        self._close(order, status, reason)
        self.state.flush()
        return True

    def cancel_many(self, orders: List[Order], flush: bool = True) -> int:
        closed = 0
        for order in orders:
            if order.is_open:
                self._close(order, "CANCELLED", None)
                closed += 1
        if flush:
            self.state.flush()
        return closed

    def expire_due(self, now: Optional[int] = None) -> int:
        now = now or now_ms()
        due = [o for orders in self.state.open_orders.values() for o in orders.values() if o.expire_time <= now]
        for order in due:
            self._close(order, "EXPIRED", None)
        if due:
            self.state.flush()
        return len(due)

    # ----- internals -----
    def _close(self, order: Order, status: str, reason: Optional[str]):
        remaining = order.remaining
        if order.id in self.state.open_orders.get(order.account_id, {}):
            self.state.books[order.market].remove(order, remaining)
            self.state.track_resting(order, -remaining)
            del self.state.open_orders[order.account_id][order.id]
            self.state.emit_balance(order.account_id)
        order.cancelled_qty += remaining
        order.status = status
        order.status_reason = reason
        order.updated_time = now_ms()
        self.state.emit_order(order)

    def _self_trade(self, taker: Order, maker: Order) -> bool:
        level = taker.self_trade_protection
        if level == "ACCOUNT":
            return taker.account_id == maker.account_id
        if level == "CLIENT":
            return taker.client_id == maker.client_id
        return False

    def _reducible(self, order: Order) -> Decimal:
        position = self.state.positions.get(order.account_id, {}).get(order.market)
        if position is None or not position.size or (position.size > 0) == order.is_buy:
            return ZERO
        return abs(position.size)

    def _match(self, account: Account, taker: Order):
        state = self.state
        for maker in state.books[taker.market].matching_orders(taker.side, taker.price):
            if taker.remaining <= 0:
                return
            if self._self_trade(taker, maker):
                status = "CANCELLED" if taker.filled_qty else "REJECTED"
                self._close(taker, status, "SELF_TRADE_PROTECTION")
                return
            qty = min(taker.remaining, maker.remaining)
            if taker.reduce_only:
                qty = min(qty, self._reducible(taker))
                if qty <= 0:
                    self._close(taker, "CANCELLED" if taker.filled_qty else "REJECTED", "REDUCE_ONLY_FAILED")
                    return
            if maker.reduce_only:
                maker_qty = self._reducible(maker)
                if maker_qty <= 0:
                    self._close(maker, "CANCELLED", "REDUCE_ONLY_FAILED")
                    continue
                qty = min(qty, maker_qty)
            self._execute(account, taker, state.accounts[maker.account_id], maker, qty)

    def _execute(self, taker_account: Account, taker: Order, maker_account: Account, maker: Order, qty: Decimal):
        state = self.state
        price = maker.price
        ts = now_ms()
        for account, order, is_taker in ((maker_account, maker, False), (taker_account, taker, True)):
            rate = account.taker_fee if is_taker else account.maker_fee
            fee = fee_amount(qty * price * rate)
            order.filled_qty += qty
            order.filled_value += qty * price
            order.payed_fee += fee
            order.status = "FILLED" if order.remaining <= 0 else "PARTIALLY_FILLED"
            order.updated_time = ts
            fill = Fill(id=state.ids.next(), account_id=account.account_id, market=order.market, order_id=order.id,
                        external_id=order.external_id, side=order.side, price=price, qty=qty, fee=fee,
                        is_taker=is_taker, created_time=ts)
            state.fills[account.account_id].append(fill)
            self._apply_position(account, order.market, order.is_buy, qty, price, fee, ts)
            state.emit_order(order)
            state.emit_fill(fill)
        state.books[maker.market].reduce(maker, qty)
        state.track_resting(maker, -qty)
        if not maker.is_open:
            del state.open_orders[maker.account_id][maker.id]
        state.markets[taker.market].record_trade(ts, price, qty)
        state.emit_public_trade(PublicTrade(id=state.ids.next(), market=taker.market, side=taker.side, price=price,
                                            qty=qty, ts=ts))

    def _apply_position(self, account: Account, market: str, is_buy: bool, qty: Decimal, price: Decimal,
                        fee: Decimal, ts: int):
        positions = self.state.positions[account.account_id]
        position = positions.get(market)
        if position is None or not position.size:
            position = positions[market] = Position(id=self.state.ids.next(), account_id=account.account_id,
                                                    market=market, created_at=ts, updated_at=ts)
        signed = qty if is_buy else -qty
        size = position.size
        if not size or (size > 0) == is_buy:
            position.open_price = (position.open_price * abs(size) + price * qty) / (abs(size) + qty)
        else:
            closing = min(qty, abs(size))
            pnl = (price - position.open_price) * closing * (1 if size > 0 else -1)
            position.realised_pnl += pnl
            account.collateral += pnl
            if qty > abs(size):
                position.open_price = price
        position.size = size + signed
        if position.size:
            position.last_side = position.side
        position.realised_pnl -= fee
        position.max_size = max(position.max_size, abs(position.size))
        position.updated_at = ts
        account.collateral -= fee
        self.state.emit_position(account.account_id, market)

    # ----- funding -----
    def apply_funding(self, market_name: str, rate: Optional[Decimal] = None) -> List[FundingPayment]:
        """Settle one funding period: longs pay shorts `rate` x position value at mark (negative rate reverses)."""
        state = self.state
        market = state.markets[market_name]
        rate = market.funding_rate if rate is None else Decimal(rate)
        ts = now_ms()
        state.funding_history[market_name].append((ts, rate))
        payments = []
        for account_id, positions in state.positions.items():
            position = positions.get(market_name)
            if position is None or not position.size:
                continue
            amount = position.size * market.mark_price * rate
            account = state.accounts[account_id]
            account.collateral -= amount
            position.realised_pnl -= amount
            position.updated_at = ts
            payment = FundingPayment(id=state.ids.next(), account_id=account_id, market=market_name,
                                     position_id=position.id, side=position.side, size=abs(position.size),
                                     mark_price=market.mark_price, funding_fee=amount, funding_rate=rate, paid_time=ts)
            state.funding_payments[account_id].append(payment)
            state.emit_position(account_id, market_name)
            payments.append(payment)
        state.hub.publish("funding", market_name, None, {"m": market_name, "T": ts, "f": dstr(rate)})
        state.flush()
        return payments
