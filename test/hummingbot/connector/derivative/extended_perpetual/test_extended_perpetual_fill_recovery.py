"""Fills from the account stream, REST reads of them only after a gap and once for the account, grouped order-state
reads, and the network check's reserved share of the rate limit; REST mocked at the wire."""
import asyncio
import json
from decimal import Decimal
from typing import Any, Dict, List
from unittest import TestCase
from unittest.mock import patch

from aioresponses import aioresponses

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_fill_gaps import FillGaps
from hummingbot.core.data_type.in_flight_order import OrderState
from hummingbot.core.event.events import MarketEvent
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.core.web_assistant.connections.data_types import RESTMethod
from test.hummingbot.connector.derivative.extended_perpetual.test_extended_perpetual_connector import (
    PAIR,
    ConnectorTestCase,
    prefix,
    url,
)

CREATED_MS = 1640780000000


def order_row(client_id: str, exchange_id: int, status: str = "NEW", filled: str = "0") -> Dict[str, Any]:
    return {"id": exchange_id, "accountId": 3001, "externalId": client_id, "market": PAIR, "type": "LIMIT",
            "side": "BUY", "status": status, "price": "76000", "averagePrice": "76000" if filled != "0" else "0",
            "qty": "0.01", "filledQty": filled, "reduceOnly": False, "postOnly": False, "createdTime": CREATED_MS,
            "updatedTime": CREATED_MS + 2000, "timeInForce": "GTT"}


def trade_row(trade_id: int, exchange_id: int, qty: str = "0.01", **fields) -> Dict[str, Any]:
    # The account stream's TRADE row (extended_14 shape), which names the client id externalOrderId.
    return {"id": trade_id, "accountId": 3001, "market": PAIR, "orderId": exchange_id, "side": "BUY",
            "price": "76000", "qty": qty, "value": str(Decimal(qty) * 76000), "fee": "0.0152", "isTaker": False,
            "tradeType": "TRADE", "createdTime": CREATED_MS + 1000, **fields}


def snapshot(*rows: Dict[str, Any], seq: int = 1) -> Dict[str, Any]:
    return {"type": "ORDER", "data": {"isSnapshot": True, "orders": list(rows)}, "ts": CREATED_MS, "seq": seq}


class FillGapsTests(TestCase):
    def test_a_read_starts_at_the_later_of_the_last_fill_and_the_oldest_order_less_the_margin(self):
        gaps, margin = FillGaps(), CONSTANTS.FILL_RECOVERY_MARGIN_MS
        self.assertTrue(gaps.open)
        self.assertEqual(100_000 - margin, gaps.since_ms(oldest_order_ms=100_000))
        gaps.seen(200.0)
        gaps.seen(150.0)
        self.assertEqual(200_000 - margin, gaps.since_ms(oldest_order_ms=100_000))
        self.assertEqual(300_000 - margin, gaps.since_ms(oldest_order_ms=300_000))

    def test_only_a_read_that_no_newer_gap_overtook_closes_the_gap(self):
        gaps = FillGaps()
        overtaken = gaps.read_started()
        gaps.opened()
        gaps.read_answered(overtaken)
        self.assertTrue(gaps.open)
        gaps.read_answered(gaps.read_started())
        self.assertFalse(gaps.open)
        gaps.opened()
        self.assertTrue(gaps.open)


class FillRecoveryTestCase(ConnectorTestCase):
    def requests_to(self, mock_api: aioresponses, method: str, path: str) -> List:
        return [call for (verb, request_url), calls in mock_api.requests.items()
                if verb == method and str(request_url).split("?")[0] == url(path) for call in calls]

    def mock_trades(self, mock_api: aioresponses, rows: List[Dict[str, Any]], status: int = 200):
        body = ({"status": "OK", "data": rows, "pagination": {"cursor": 1, "count": len(rows)}} if status == 200
                else {"status": "ERROR", "error": {"code": 1006, "message": "Internal Server Error"}})
        mock_api.get(prefix(CONSTANTS.ACCOUNT_TRADES_PATH), status=status, body=json.dumps(body))

    async def settle(self):
        for _ in range(20):
            await asyncio.sleep(0.01)
        while self.connector._recovery_tasks:
            await asyncio.sleep(0.01)

    def fills(self):
        return self.events[MarketEvent.OrderFilled].event_log


class StreamFillTests(FillRecoveryTestCase):
    @aioresponses()
    async def test_a_fill_on_the_stream_is_one_event_and_no_trade_request(self, mock_api):
        order = self.track(order_id="HB1", exchange_order_id="501")
        self.mock_trades(mock_api, [])
        await self.run_stream(snapshot(order_row("HB1", 501)))
        await self.settle()
        # The (re)connection's single read of the account's fills closed the gap.
        self.assertEqual(1, len(self.requests_to(mock_api, "GET", CONSTANTS.ACCOUNT_TRADES_PATH)))

        await self.run_stream({"type": "TRADE", "data": {"trades": [trade_row(9001, 501, externalOrderId="HB1")]},
                               "ts": CREATED_MS, "seq": 2})
        mock_api.get(url(CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH.format(external_id="HB1")), body=json.dumps(
            {"status": "OK", "data": [order_row("HB1", 501, "FILLED", filled="0.01")]}))
        await self.connector._update_order_status()
        await self.settle()

        [fill] = self.fills()
        self.assertEqual(("HB1", Decimal("0.01"), Decimal("0.0152")),
                         (fill.order_id, fill.amount, fill.trade_fee.flat_fees[0].amount))
        self.assertTrue(order.is_filled)
        # Neither the fill nor the status poll read trades over REST.
        self.assertEqual(1, len(self.requests_to(mock_api, "GET", CONSTANTS.ACCOUNT_TRADES_PATH)))

    @aioresponses()
    async def test_an_order_update_before_its_trade_row_reads_nothing(self, mock_api):
        self.mock_trades(mock_api, [])
        order = self.track(order_id="HB2", exchange_order_id="502")
        await self.run_stream(snapshot(order_row("HB2", 502)))
        await self.settle()
        with patch.object(CONSTANTS, "FILL_LAG_GRACE", 0.2):
            await self.run_stream({"type": "ORDER", "data": {"orders": [
                order_row("HB2", 502, "FILLED", filled="0.01")]}, "ts": CREATED_MS, "seq": 2},
                {"type": "TRADE", "data": {"trades": [trade_row(9002, 502)]}, "ts": CREATED_MS, "seq": 3})
            await asyncio.sleep(0.5)
            await self.settle()
        self.assertEqual(1, len(self.fills()))
        self.assertTrue(order.is_filled)
        self.assertEqual(1, len(self.requests_to(mock_api, "GET", CONSTANTS.ACCOUNT_TRADES_PATH)))

    @aioresponses()
    async def test_an_order_shown_filled_whose_trade_row_never_comes_reads_the_fills_once(self, mock_api):
        self.mock_trades(mock_api, [])
        order = self.track(order_id="HB3", exchange_order_id="503")
        await self.run_stream(snapshot(order_row("HB3", 503)))
        await self.settle()
        self.mock_trades(mock_api, [trade_row(9003, 503)])
        with patch.object(CONSTANTS, "FILL_LAG_GRACE", 0.2):
            await self.run_stream({"type": "ORDER", "data": {"orders": [
                order_row("HB3", 503, "FILLED", filled="0.01")]}, "ts": CREATED_MS, "seq": 2})
            await asyncio.sleep(0.5)
            await self.settle()
        await asyncio.sleep(0.1)
        [fill] = self.fills()
        self.assertEqual(("HB3", Decimal("0.01")), (fill.order_id, fill.amount))
        self.assertTrue(order.is_filled)
        self.assertEqual(1, len(self.events[MarketEvent.BuyOrderCompleted].event_log))
        self.assertEqual(2, len(self.requests_to(mock_api, "GET", CONSTANTS.ACCOUNT_TRADES_PATH)))


class ReconnectionTests(FillRecoveryTestCase):
    @aioresponses()
    async def test_a_reconnection_reads_the_fills_once_and_looks_up_only_orders_its_snapshot_lacks(self, mock_api):
        orders = [self.track(order_id=f"HB{i}", exchange_order_id=str(600 + i)) for i in range(5)]
        # While the stream was down: HB0 filled (two fills), every other order still open.
        self.mock_trades(mock_api, [trade_row(9101, 600, qty="0.004"), trade_row(9100, 600, qty="0.006")])
        mock_api.get(url(CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH.format(external_id="HB0")), body=json.dumps(
            {"status": "OK", "data": [order_row("HB0", 600, "FILLED", filled="0.01")]}))

        await self.run_stream(snapshot(*[order_row(f"HB{i}", 600 + i) for i in range(1, 5)]))
        await self.settle()
        await asyncio.sleep(0.1)

        [trades_read] = self.requests_to(mock_api, "GET", CONSTANTS.ACCOUNT_TRADES_PATH)
        self.assertEqual({"limit": CONSTANTS.TRADES_PAGE_SIZE}, trades_read.kwargs["params"])
        looked_up = [str(request_url) for (verb, request_url) in mock_api.requests if "/orders/external/" in
                     str(request_url)]
        self.assertEqual([url(CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH.format(external_id="HB0"))], looked_up)
        self.assertEqual([Decimal("0.006"), Decimal("0.004")], [fill.amount for fill in self.fills()])
        self.assertTrue(orders[0].is_filled)
        self.assertTrue(all(order.current_state == OrderState.OPEN for order in orders[1:]))

    @aioresponses()
    async def test_a_failed_recovery_is_retried_and_ends_with_the_network(self, mock_api):
        self.track(order_id="HB1", exchange_order_id="701")
        self.connector._sleep = lambda delay: asyncio.sleep(0.01)
        self.mock_trades(mock_api, [], status=500)
        self.mock_trades(mock_api, [], status=500)
        await self.run_stream(snapshot())
        while len(self.requests_to(mock_api, "GET", CONSTANTS.ACCOUNT_TRADES_PATH)) < 2:
            await asyncio.sleep(0.01)
        self.assertTrue(self.logged("WARNING", "Recovering what the account stream missed failed"))
        self.assertTrue(self.connector._recovery_tasks)
        await self.connector.stop_network()
        self.assertFalse(self.connector._recovery_tasks)


class GroupedStatusTests(FillRecoveryTestCase):
    @aioresponses()
    async def test_many_orders_are_polled_with_one_read_of_the_open_orders(self, mock_api):
        orders = [self.track(order_id=f"HB{i}", exchange_order_id=str(800 + i)) for i in range(6)]
        listed = [order_row(f"HB{i}", 800 + i, "PARTIALLY_FILLED" if i == 1 else "NEW",
                            filled="0.004" if i == 1 else "0") for i in range(1, 6)]
        mock_api.get(url(CONSTANTS.OPEN_ORDERS_PATH), body=json.dumps({"status": "OK", "data": listed}))
        mock_api.get(url(CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH.format(external_id="HB0")), body=json.dumps(
            {"status": "OK", "data": [order_row("HB0", 800, "CANCELLED")]}))

        await self.connector._update_orders()
        await self.settle()

        self.assertEqual(1, len(self.requests_to(mock_api, "GET", CONSTANTS.OPEN_ORDERS_PATH)))
        self.assertEqual(["HB0"], [str(request_url).rsplit("/", 1)[1] for (verb, request_url) in mock_api.requests
                                   if "/orders/external/" in str(request_url)])
        self.assertEqual(OrderState.CANCELED, orders[0].current_state)
        self.assertEqual(OrderState.PARTIALLY_FILLED, orders[1].current_state)
        self.assertEqual(["HB0"], [event.order_id for event in self.events[MarketEvent.OrderCancelled].event_log])


class NetworkCheckBudgetTests(FillRecoveryTestCase):
    @aioresponses()
    async def test_the_network_check_passes_while_order_traffic_has_used_its_whole_budget(self, mock_api):
        mock_api.get(url(CONSTANTS.POSITIONS_PATH), body='{"status": "OK", "data": []}', repeat=True)
        mock_api.get(prefix(CONSTANTS.MARKETS_PATH), body='{"status": "OK", "data": []}', repeat=True)
        pool = next(limit.limit for limit in self.connector._throttler._rate_limits
                    if limit.limit_id == CONSTANTS.ALL_ENDPOINTS_LIMIT)
        for _ in range(pool):
            await self.connector._transactions.request(RESTMethod.GET, CONSTANTS.POSITIONS_PATH)
        # The pool is spent: the next ordinary request waits for the window to move on.
        waiting = asyncio.get_running_loop().create_task(
            self.connector._transactions.request(RESTMethod.GET, CONSTANTS.POSITIONS_PATH))
        self.addCleanup(waiting.cancel)
        await asyncio.sleep(0.3)
        self.assertFalse(waiting.done())

        status = await asyncio.wait_for(self.connector.check_network(), timeout=2)

        self.assertEqual(NetworkStatus.CONNECTED, status)
        self.assertFalse(waiting.done())
        self.assertEqual(1, len(self.requests_to(mock_api, "GET", CONSTANTS.MARKETS_PATH)))
