"""End to end over loopback: the connector against the local Extended emulator, which verifies every order's Stark
signature with the x10 SDK's hash and fast_stark_crypto before it accepts it."""
import time
from decimal import Decimal
from unittest.mock import patch

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_transactions import (
    UNAUTHORIZED_MESSAGE,
    ExtendedKeyError,
)
from hummingbot.core.data_type.common import OrderType, PositionAction, PositionSide
from hummingbot.core.event.events import MarketEvent
from test.hummingbot.connector.derivative.extended_perpetual import extended_perpetual_test_helpers as helpers
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_emulator_fixtures import (
    PAIR,
    TICK,
    EmulatorConnectorTestCase,
)

TRANSACTIONS = "hummingbot.connector.derivative.extended_perpetual.extended_perpetual_transactions"
PLACEMENTS = "hummingbot.connector.derivative.extended_perpetual.extended_perpetual_placements"


class OrderLifecycleTests(EmulatorConnectorTestCase):
    def lookups(self, order_id: str):
        return self.requests("GET", CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH.format(external_id=order_id))

    async def test_signed_order_rests_fills_and_reports_the_trade_fee(self):
        price = self.inside_bid()
        order_id = await self.place(True, "0.002", price=price)

        order = self.ex.state.order_by_external_id(self.acct.account_id, order_id)
        self.assertEqual(("NEW", price, Decimal("0.002")), (order.status, order.price, order.qty))
        self.assertEqual(str(order.id), self.connector.in_flight_orders[order_id].exchange_order_id)
        [posted] = self.requests("POST", CONSTANTS.ORDER_PATH)
        self.assertTrue(helpers.order_signature_valid(posted.body, self.ex.state.market_model(PAIR),
                                                      self.acct.stark_public_key, self.acct.vault,
                                                      self.ex.state.domain))
        self.assertEqual(1, len(self.log(MarketEvent.BuyOrderCreated)))

        self.ex.synthetic_taker(PAIR, "SELL", Decimal("0.002"), price)
        await self.wait_for(lambda: self.log(MarketEvent.BuyOrderCompleted))

        [truth] = self.ex.state.account_fills(self.acct.account_id)
        [fill] = self.log(MarketEvent.OrderFilled)
        self.assertEqual((order_id, price, Decimal("0.002")), (fill.order_id, fill.price, fill.amount))
        self.assertEqual([("USD", truth.fee)], [(fee.token, fee.amount) for fee in fill.trade_fee.flat_fees])
        self.assertFalse(truth.is_taker)

    async def test_order_placed_but_answer_lost_is_shown_by_the_account_stream(self):
        # Extended executes the order but its answer never arrives in time: the account stream's NEW update is proof
        # enough, the order is open and needs no look-up.
        self.ex.faults.delay_answer(2.0, path=CONSTANTS.ORDER_PATH, method="POST")
        with patch(f"{TRANSACTIONS}.REQUEST_TIMEOUT", 0.5):
            order_id = await self.place(True, "0.001", price=self.best("BUY") - 50)
            tracked = self.connector.in_flight_orders[order_id]
            await self.wait_for(lambda: not self.connector._placements.unresolved(order_id))
        order = self.ex.state.order_by_external_id(self.acct.account_id, order_id)
        self.assertEqual(("NEW", str(order.id)), (order.status, tracked.exchange_order_id))
        self.assertTrue(tracked.is_open)
        self.assertEqual([], self.log(MarketEvent.OrderFailure))
        self.assertEqual([], self.lookups(order_id))

    async def test_held_order_post_then_429_and_404_look_ups_ends_open_when_the_order_appears(self):
        # The POST is held 12 s, beyond the 10 s request timeout, and the order goes live only then. Meanwhile the
        # look-ups answer 429, then 404 (as the word code NOT_FOUND): neither proves anything, the order stays pending
        # until the account stream shows it.
        self.ex.faults.delay(12.0, path=CONSTANTS.ORDER_PATH, method="POST", count=1)
        self.ex.faults.rate_limit_next(path="/user/orders/external/*", method="GET", count=1)
        self.ex.faults.string_error_codes = True
        order_id = self.connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, self.best("BUY") - 50,
                                      position_action=PositionAction.OPEN)
        await self.wait_for(lambda: len(self.lookups(order_id)) >= 2, timeout=15)
        tracked = self.connector.in_flight_orders[order_id]
        self.assertTrue(tracked.is_pending_create)
        self.assertIsNone(self.ex.state.order_by_external_id(self.acct.account_id, order_id))

        await self.wait_for(lambda: tracked.is_open and not tracked.is_pending_create, timeout=5)
        order = self.ex.state.order_by_external_id(self.acct.account_id, order_id)
        self.assertEqual(("NEW", str(order.id)), (order.status, tracked.exchange_order_id))
        self.assertEqual([], self.log(MarketEvent.OrderFailure))
        self.assertEqual([order_id], [event.order_id for event in self.log(MarketEvent.BuyOrderCreated)])
        early = [lookup for lookup in self.lookups(order_id) if lookup.ts < order.created_time]
        self.assertGreaterEqual(len(early), 2)
        self.assertFalse(self.connector._placements.unresolved(order_id))

    async def test_order_post_lost_fails_only_after_the_grace_and_repeated_look_ups(self):
        self.ex.faults.drop_next(1.0, path=CONSTANTS.ORDER_PATH, method="POST")
        with patch(f"{TRANSACTIONS}.REQUEST_TIMEOUT", 0.5), patch(f"{PLACEMENTS}.ABSENCE_GRACE", 1.0):
            order_id = self.connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, self.best("BUY") - 50,
                                          position_action=PositionAction.OPEN)
            await self.wait_for(lambda: self.lookups(order_id), timeout=3)
            self.assertTrue(self.connector.in_flight_orders[order_id].is_pending_create)
            await self.wait_for(lambda: self.log(MarketEvent.OrderFailure), timeout=10)
        [failure] = self.log(MarketEvent.OrderFailure)
        self.assertEqual((order_id, "OrderNotPlaced"), (failure.order_id, failure.error_type))
        [post] = self.requests("POST", CONSTANTS.ORDER_PATH)
        lookups = self.lookups(order_id)
        # Two 404s after the grace (the POST ended about 0.5 s after it was sent) decided it, after earlier ones.
        after_grace = [lookup for lookup in lookups if lookup.ts >= post.ts + 1500]
        self.assertGreaterEqual(len(after_grace), 2)
        self.assertGreater(len(lookups), len(after_grace))
        self.assertIsNone(self.ex.state.order_by_external_id(self.acct.account_id, order_id))
        self.assertNotIn(order_id, self.connector.in_flight_orders)

    async def test_a_lost_order_post_fails_a_second_after_the_grace_with_few_look_ups(self):
        # The look-ups back off while the grace runs, but the one that can first prove absence comes right at its end
        # and the confirming one a second later: the order settles in seconds, not a backoff of 8 s later.
        grace = 3.0
        self.ex.faults.drop_next(0.2, path=CONSTANTS.ORDER_PATH, method="POST")
        with patch(f"{PLACEMENTS}.ABSENCE_GRACE", grace):
            order_id = self.connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, self.best("BUY") - 50,
                                          position_action=PositionAction.OPEN)
            await self.wait_for(lambda: self.log(MarketEvent.OrderFailure), timeout=10)
        failed_at = time.time() * 1000
        [post] = self.requests("POST", CONSTANTS.ORDER_PATH)
        lookups = self.lookups(order_id)
        post_ended = post.ts + 200
        self.assertLess(failed_at - post_ended, (grace + CONSTANTS.PLACEMENT_CONFIRM_DELAY + 0.7) * 1000)
        self.assertEqual(2, len([lookup for lookup in lookups if lookup.ts >= post_ended + grace * 1000]))
        self.assertLessEqual(len(lookups), 6)

    async def test_partial_fill_then_cancel(self):
        price = self.inside_bid()
        order_id = await self.place(True, "0.003", price=price)
        self.ex.synthetic_taker(PAIR, "SELL", Decimal("0.001"), price)
        await self.wait_for(lambda: self.log(MarketEvent.OrderFilled))
        tracked = self.connector.in_flight_orders[order_id]
        await self.wait_for(lambda: tracked.is_open and tracked.executed_amount_base == Decimal("0.001"))

        self.connector.cancel(PAIR, order_id)
        await self.wait_for(lambda: self.log(MarketEvent.OrderCancelled))

        order = self.ex.state.order_by_external_id(self.acct.account_id, order_id)
        self.assertEqual(("CANCELLED", Decimal("0.001")), (order.status, order.filled_qty))
        [cancel] = self.requests("DELETE", CONSTANTS.ORDER_PATH)
        self.assertEqual({"externalId": [order_id]}, cancel.query)
        self.assertNotIn(order_id, self.connector.in_flight_orders)

    async def test_cancel_all_reports_an_order_filled_before_its_cancel_as_not_cancelled(self):
        buy = await self.place(True, "0.001", price=self.best("BUY") - 50)
        sell_price = self.best("SELL") - TICK
        sell = await self.place(False, "0.001", price=sell_price)
        # The sell fills on Extended while its updates are still on their way: the massCancel comes too late for it.
        self.ex.faults.stream_latency = 0.2
        self.ex.synthetic_taker(PAIR, "BUY", Decimal("0.001"), sell_price)
        results = await self.connector.cancel_all(5)
        self.assertEqual({buy: True, sell: False}, {result.order_id: result.success for result in results})
        [mass_cancel] = self.requests("POST", CONSTANTS.MASS_CANCEL_PATH)
        self.assertEqual({buy, sell}, set(mass_cancel.body["externalOrderIds"]))
        self.assertEqual(("CANCELLED", "FILLED"), tuple(self.ex.state.order_by_external_id(
            self.acct.account_id, order_id).status for order_id in (buy, sell)))

    async def test_cancel_all_is_one_mass_cancel(self):
        buy = await self.place(True, "0.001", price=self.best("BUY") - 50)
        sell = await self.place(False, "0.001", price=self.best("SELL") + 50)
        results = await self.connector.cancel_all(5)
        self.assertEqual({buy, sell}, {result.order_id for result in results if result.success})
        await self.wait_for(lambda: len(self.log(MarketEvent.OrderCancelled)) == 2)
        self.assertEqual(1, len(self.requests("POST", CONSTANTS.MASS_CANCEL_PATH)))
        self.assertEqual([], self.requests("DELETE", CONSTANTS.ORDER_PATH))
        self.assertEqual([], self.ex.state.account_open_orders(self.acct.account_id))

    async def test_post_only_order_that_would_cross_fails_with_its_reason(self):
        order_id = await self.place(True, "0.001", OrderType.LIMIT_MAKER, price=self.best("SELL"),
                                    state=lambda o: o.is_done)
        [failure] = self.log(MarketEvent.OrderFailure)
        self.assertEqual((order_id, "POST_ONLY_FAILED"), (failure.order_id, failure.error_type))
        order = self.ex.state.order_by_external_id(self.acct.account_id, order_id)
        self.assertEqual(("REJECTED", "POST_ONLY_FAILED", True), (order.status, order.status_reason, order.post_only))

    async def test_market_order_opens_and_reduce_only_order_closes_the_position(self):
        await self.place(True, "0.002", OrderType.MARKET, state=lambda o: o.is_done)
        await self.wait_for(lambda: PAIR in self.connector.account_positions)
        position = self.connector.account_positions[PAIR]
        self.assertEqual((PositionSide.LONG, Decimal("0.002")), (position.position_side, position.amount))
        opening = self.requests("POST", CONSTANTS.ORDER_PATH)[0].body
        self.assertEqual(("MARKET", "IOC", False), (opening["type"], opening["timeInForce"], opening["reduceOnly"]))

        await self.place(False, "0.002", OrderType.MARKET, action=PositionAction.CLOSE, state=lambda o: o.is_done)
        await self.wait_for(lambda: PAIR not in self.connector.account_positions)
        closing = self.requests("POST", CONSTANTS.ORDER_PATH)[1].body
        self.assertEqual(("SELL", True), (closing["side"], closing["reduceOnly"]))
        self.assertIsNone(self.ex.state.position(self.acct.account_id, PAIR))
        fills = self.ex.state.account_fills(self.acct.account_id)
        self.assertEqual(sorted((f.price, f.qty, f.fee) for f in fills),
                         sorted((e.price, e.amount, e.trade_fee.flat_fees[0].amount)
                                for e in self.log(MarketEvent.OrderFilled)))

    async def test_leverage_is_set_and_clamped(self):
        self.connector.set_leverage(PAIR, 20)
        await self.wait_for(lambda: self.acct.leverage.get(PAIR) == Decimal(20))
        self.connector.set_leverage(PAIR, 80)
        await self.wait_for(lambda: self.acct.leverage.get(PAIR) == Decimal(50))
        self.assertEqual(50, self.connector.get_leverage(PAIR))

    async def test_funding_payment_is_reported(self):
        await self.wait_for(lambda: PAIR in self.connector._last_funding_fee_payment_ts)
        await self.place(True, "0.002", OrderType.MARKET, state=lambda o: o.is_done)
        [payment] = [p for p in self.ex.trigger_funding(PAIR, Decimal("0.0001"))
                     if p.account_id == self.acct.account_id]
        self.connector._funding_fee_poll_notifier.set()
        await self.wait_for(lambda: self.log(MarketEvent.FundingPaymentCompleted))
        [event] = self.log(MarketEvent.FundingPaymentCompleted)
        # The exchange reports the fee to the micro-dollar.
        paid = Decimal(payment.to_json()["fundingFee"])
        self.assertEqual((PAIR, Decimal("0.0001"), -paid), (event.trading_pair, event.funding_rate, event.amount))
        self.assertLess(event.amount, 0)  # a long pays a positive rate


class StreamRecoveryTests(EmulatorConnectorTestCase):
    def book_levels(self):
        book = self.connector.get_order_book(PAIR)
        return ([(Decimal(str(row.price)), Decimal(str(row.amount))) for row in book.bid_entries()],
                [(Decimal(str(row.price)), Decimal(str(row.amount))) for row in book.ask_entries()])

    def truth(self):
        levels = self.ex.state.book(PAIR)
        return levels["bid"], levels["ask"]

    async def test_sequence_gap_resyncs_the_book_to_the_exchange(self):
        data_source = self.connector._orderbook_ds
        await self.wait_for(lambda: self.book_levels() == self.truth())
        self.ex.faults.gap_next_orderbook_delta(PAIR)
        self.ex.synthetic_maker(PAIR, "BUY", Decimal("0.0007"), self.best("BUY") - 3)
        await self.wait_for(lambda: data_source.resync_count == 1)
        self.ex.synthetic_maker(PAIR, "SELL", Decimal("0.0009"), self.best("SELL") + 2)
        self.ex.synthetic_taker(PAIR, "BUY", Decimal("0.0001"))
        await self.wait_for(lambda: self.book_levels() == self.truth())
        self.assertEqual(1, data_source.resync_count)

    async def test_fills_missed_while_the_account_stream_was_down_are_recovered(self):
        price = self.inside_bid()
        order_id = await self.place(True, "0.002", price=price)
        self.ex.faults.close_streams("account")
        # The fills happen while the account stream is closing: their frames never reach the connector.
        self.ex.synthetic_taker(PAIR, "SELL", Decimal("0.0005"), price)
        self.ex.synthetic_taker(PAIR, "SELL", Decimal("0.0015"), price)

        await self.wait_for(lambda: self.log(MarketEvent.BuyOrderCompleted))
        truth = sorted((fill.price, fill.qty, fill.fee) for fill in self.ex.state.account_fills(self.acct.account_id))
        seen = sorted((fill.price, fill.amount, fill.trade_fee.flat_fees[0].amount)
                      for fill in self.log(MarketEvent.OrderFilled))
        self.assertEqual(truth, seen)
        self.assertEqual(2, len(seen))
        self.assertTrue(self.requests("GET", CONSTANTS.ACCOUNT_TRADES_PATH))
        self.assertNotIn(order_id, self.connector.in_flight_orders)


class MarketAndKeyTests(EmulatorConnectorTestCase):
    async def test_reduce_only_market_takes_no_opening_order(self):
        self.ex.set_market_status(PAIR, "REDUCE_ONLY")
        await self.connector._update_trading_rules()
        order_id = await self.place(True, "0.001", price=self.inside_bid(), state=lambda o: o.is_done)
        [failure] = self.log(MarketEvent.OrderFailure)
        self.assertEqual(order_id, failure.order_id)
        self.assertIn("REDUCE_ONLY mode", failure.error_message)
        self.assertEqual([], self.requests("POST", CONSTANTS.ORDER_PATH))

    async def test_connect_path_checks_keys_before_signing(self):
        connector = self.new_connector(trading_required=False)
        await connector._update_balances()
        self.assertEqual({"USD": self.collateral}, connector.get_all_balances())

        before = len(self.ex.state.requests)
        mismatched = self.new_connector(public_key=self.ex.create_account().stark_public_key,
                                        trading_required=False)
        with self.assertRaises(ExtendedKeyError) as error:
            await mismatched._update_balances()
        self.assertIn("does not belong to the Stark private key", str(error.exception))
        malformed = self.new_connector(private_key="0x" + "z" * 60, trading_required=False)
        with self.assertRaises(ExtendedKeyError) as error:
            await malformed._update_balances()
        self.assertIn("The Stark private key is not a valid key", str(error.exception))
        self.assertEqual(before, len(self.ex.state.requests))

        with self.assertRaises(ExtendedKeyError) as error:
            await self.new_connector(api_key="f" * 32, trading_required=False)._update_balances()
        self.assertEqual(UNAUTHORIZED_MESSAGE, str(error.exception))

        empty = self.ex.create_account()
        connector = self.new_connector(api_key=empty.api_key, private_key=empty.stark_private_key,
                                       public_key=empty.stark_public_key, trading_required=False)
        connector._transactions._vault = empty.vault
        await connector._update_balances()
        self.assertEqual({"USD": Decimal(0)}, connector.get_all_balances())
