import asyncio
import json
import re
from decimal import Decimal
from typing import List
from unittest import IsolatedAsyncioTestCase
from unittest.mock import AsyncMock, patch

from aioresponses import aioresponses
from bidict import bidict

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_api_order_book_data_source import (
    ExtendedPerpetualAPIOrderBookDataSource,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.connector.test_support.network_mocking_assistant import NetworkMockingAssistant
from hummingbot.core.data_type.funding_info import FundingInfoUpdate
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType
from test.hummingbot.connector.derivative.extended_perpetual import extended_perpetual_test_helpers as helpers

PAIR = "BTC-USD"


def level(price: str, size: str, change: str = None) -> dict:
    entry = {"q": change if change is not None else size, "p": price}
    if change is not None:
        entry["c"] = size
    return entry


def snapshot(seq: int, bids: List[dict], asks: List[dict]) -> dict:
    return {"type": "SNAPSHOT", "data": {"t": "SNAPSHOT", "m": PAIR, "b": bids, "a": asks}, "ts": 1785778403000,
            "seq": seq}


def delta(seq: int, bids: List[dict], asks: List[dict]) -> dict:
    return {"type": "DELTA", "data": {"t": "DELTA", "m": PAIR, "b": bids, "a": asks, "d": "f"}, "ts": 1785778403488,
            "seq": seq}


class OrderBookDataSourceTests(helpers.IsolatedConnections, IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.connector = ExtendedPerpetualDerivative(helpers.API_KEY, helpers.STARK_PRIVATE_KEY,
                                                     helpers.STARK_PUBLIC_KEY, helpers.VAULT, trading_pairs=[PAIR])
        self.connector._set_trading_pair_symbol_map(bidict({PAIR: PAIR}))
        self.data_source: ExtendedPerpetualAPIOrderBookDataSource = self.connector._orderbook_ds
        # Reconnect pauses are recorded, and still yield to the loop as a real sleep would.
        self.data_source._sleep = AsyncMock(side_effect=self.short_sleep)
        self.mocking = NetworkMockingAssistant()
        await self.mocking.async_init()
        self.ws = self.mocking.configure_web_assistants_factory(self.connector._web_assistants_factory)
        self.tasks: List[asyncio.Task] = []
        self.log_records = []
        self.data_source.logger().setLevel(1)
        self.data_source.logger().addHandler(self)

    async def asyncTearDown(self):
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.data_source.logger().removeHandler(self)
        await super().asyncTearDown()

    level = 0

    @staticmethod
    async def short_sleep(delay: float):
        await asyncio.sleep(0.001)

    def handle(self, record):
        self.log_records.append(record)

    def feed(self, *frames: dict):
        for frame in frames:
            self.mocking.add_websocket_aiohttp_message(self.ws, json.dumps(frame))

    def start_book_stream(self):
        self.tasks.append(asyncio.get_running_loop().create_task(self.data_source._run_stream("orderbooks", PAIR)))
        self.data_source._stream_tasks[PAIR] = list(self.tasks)

    async def diffs(self) -> List[OrderBookMessage]:
        queue = self.data_source._message_queue[self.data_source._diff_messages_queue_key]
        output = asyncio.Queue()
        while not queue.empty():
            await self.data_source._parse_order_book_diff_message(queue.get_nowait(), output)
        return [output.get_nowait() for _ in range(output.qsize())]

    @staticmethod
    def book_of(snapshot_message: OrderBookMessage, diffs: List[OrderBookMessage]) -> OrderBook:
        book = OrderBook()
        book.apply_snapshot(snapshot_message.bids, snapshot_message.asks, snapshot_message.update_id)
        for diff in diffs:
            book.apply_diffs(diff.bids, diff.asks, diff.update_id)
        return book

    @staticmethod
    def levels(book: OrderBook):
        return ([(row.price, row.amount) for row in book.bid_entries()],
                [(row.price, row.amount) for row in book.ask_entries()])

    async def test_stream_snapshot_then_deltas(self):
        self.feed(snapshot(1, [level("100", "1"), level("99", "2")], [level("101", "1.5")]))
        self.start_book_stream()
        book_snapshot = await self.data_source._order_book_snapshot(PAIR)
        self.assertEqual(OrderBookMessageType.SNAPSHOT, book_snapshot.type)
        self.assertEqual([(100.0, 1.0), (99.0, 2.0)],
                         sorted([(r.price, r.amount) for r in book_snapshot.bids], reverse=True))

        # "c" is the size left at the price; a frame with only "q" changes the size by q.
        self.feed(delta(2, [level("100", "0.4", "-0.6")], [level("102", "3", "3")]),
                  delta(3, [{"q": "0.5", "p": "99"}], [level("101", "0", "-1.5")]))
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0)
        diffs = await self.diffs()

        self.assertEqual(2, len(diffs))
        self.assertTrue(book_snapshot.update_id < diffs[0].update_id < diffs[1].update_id)
        self.assertEqual([(99.0, 2.5)], [(r.price, r.amount) for r in diffs[1].bids])
        bids, asks = self.levels(self.book_of(book_snapshot, diffs))
        self.assertEqual([(100.0, 0.4), (99.0, 2.5)], bids)
        self.assertEqual([(102.0, 3.0)], asks)
        self.assertEqual(0, self.data_source.resync_count)

    async def test_sequence_gap_reconnects_and_resyncs_from_the_fresh_snapshot(self):
        self.feed(snapshot(1, [level("100", "1"), level("99", "2")], [level("101", "1")]))
        self.start_book_stream()
        book_snapshot = await self.data_source._order_book_snapshot(PAIR)
        connects = []
        original_connect = self.data_source._connect

        async def counting_connect(path):
            connects.append(path)
            return await original_connect(path)

        self.data_source._connect = counting_connect
        # seq 3 skips 2: that frame must not be applied; the reconnection's snapshot replaces the book.
        self.feed(delta(3, [level("98", "7", "7")], []),
                  snapshot(1, [level("100", "1"), level("97", "4")], [level("101", "0.5"), level("103", "1")]),
                  delta(2, [level("97", "5", "1")], []))
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0.01)
        diffs = await self.diffs()

        self.assertEqual(1, self.data_source.resync_count)
        self.assertEqual([f"/orderbooks/{PAIR}"], connects)
        self.assertTrue(any("gap on BTC-USD (seq 3 after 1)" in r.getMessage() and "1 resyncs so far" in r.getMessage()
                            for r in self.log_records))
        bids, asks = self.levels(self.book_of(book_snapshot, diffs))
        self.assertEqual([(100.0, 1.0), (97.0, 5.0)], bids)
        self.assertEqual([(101.0, 0.5), (103.0, 1.0)], asks)
        self.assertNotIn(98.0, [price for diff in diffs for price, _ in diff.content["bids"]])

    async def test_delta_before_any_snapshot_counts_as_gap(self):
        self.feed(delta(1, [level("100", "1", "1")], []))
        self.start_book_stream()
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0.01)
        self.assertEqual(1, self.data_source.resync_count)
        self.assertEqual([], await self.diffs())
        # A connection that never had a snapshot is not retried in a tight loop.
        self.data_source._sleep.assert_awaited_with(CONSTANTS.STREAM_RECONNECT_DELAY)

    async def test_a_gap_after_a_snapshot_reconnects_at_once(self):
        self.feed(snapshot(1, [level("100", "1")], []), delta(3, [level("100", "2", "1")], []))
        self.start_book_stream()
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0.01)
        self.assertEqual(1, self.data_source.resync_count)
        self.data_source._sleep.assert_awaited_with(0)

    async def test_a_new_connection_does_not_continue_the_previous_connections_seq(self):
        """After a drop, a DELTA that would follow the old connection's seq is not applied: only the new connection's
        snapshot tells where its deltas start."""
        self.feed(snapshot(1, [level("100", "1")], [level("101", "1")]), delta(2, [level("100", "2", "1")], []))
        self.start_book_stream()
        book_snapshot = await self.data_source._order_book_snapshot(PAIR)
        self.feed({"status": "ERROR", "error": {"code": 1001, "message": "dropped"}},
                  delta(3, [level("99", "9", "9")], []),
                  snapshot(1, [level("100", "2"), level("98", "1")], [level("101", "1")]))
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0.01)
        diffs = await self.diffs()

        self.assertEqual(1, self.data_source.resync_count)
        self.assertTrue(any("gap on BTC-USD (seq 3 after None)" in r.getMessage() for r in self.log_records))
        self.assertNotIn(99.0, [price for diff in diffs for price, _ in diff.content["bids"]])
        bids, asks = self.levels(self.book_of(book_snapshot, diffs))
        self.assertEqual([(100.0, 2.0), (98.0, 1.0)], bids)
        self.assertEqual([(101.0, 1.0)], asks)

    async def test_diffs_wait_until_the_book_is_taken(self):
        self.feed(snapshot(1, [level("100", "1")], []), delta(2, [level("100", "2", "1")], []))
        self.start_book_stream()
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0)
        self.assertEqual([], await self.diffs())
        book_snapshot = await self.data_source._order_book_snapshot(PAIR)
        self.assertEqual([(100.0, 2.0)], [(r.price, r.amount) for r in book_snapshot.bids])

    async def test_error_frame_reconnects_after_a_pause(self):
        self.feed({"status": "ERROR", "error": {"code": 1001, "message": "Market not found."}})
        self.start_book_stream()
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0.01)
        self.assertTrue(any("Market not found." in r.getMessage() for r in self.log_records))
        self.data_source._sleep.assert_awaited_with(CONSTANTS.STREAM_RECONNECT_DELAY)

    @aioresponses()
    async def test_rest_book_when_no_stream_runs(self, mock_api):
        url = web_utils.public_rest_url(CONSTANTS.ORDER_BOOK_PATH.format(market=PAIR))
        mock_api.get(url, body=json.dumps(helpers.payload_objects("extended_11_orderbook.txt")[0]))
        book_snapshot = await self.data_source._order_book_snapshot(PAIR)
        self.assertEqual([(76214.0, 14.46084)], [(r.price, r.amount) for r in book_snapshot.bids])
        self.assertEqual([(76215.0, 0.11585)], [(r.price, r.amount) for r in book_snapshot.asks])

        # The stream's first snapshot then corrects the REST book through a diff.
        self.feed(snapshot(1, [level("76213", "1")], [level("76215", "0.2")]))
        self.start_book_stream()
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0)
        bids, asks = self.levels(self.book_of(book_snapshot, await self.diffs()))
        self.assertEqual([(76213.0, 1.0)], bids)
        self.assertEqual([(76215.0, 0.2)], asks)

    @aioresponses()
    async def test_stream_book_arriving_during_the_rest_request_wins(self, mock_api):
        url = web_utils.public_rest_url(CONSTANTS.ORDER_BOOK_PATH.format(market=PAIR))

        def stream_snapshot_meanwhile(*args, **kwargs):
            self.data_source._on_book_frame(PAIR, snapshot(1, [level("76210", "2")], [level("76216", "3")]))

        mock_api.get(url, body=json.dumps(helpers.payload_objects("extended_11_orderbook.txt")[0]),
                     callback=stream_snapshot_meanwhile)
        book_snapshot = await self.data_source._order_book_snapshot(PAIR)
        self.assertEqual([(76210.0, 2.0)], [(r.price, r.amount) for r in book_snapshot.bids])
        self.assertEqual([(76216.0, 3.0)], [(r.price, r.amount) for r in book_snapshot.asks])

    async def test_trades_and_funding_messages(self):
        trade_frame = helpers.payload_objects("extended_12_trades.txt")[1]
        output = asyncio.Queue()
        await self.data_source._parse_trade_message(trade_frame, output)
        trade = output.get_nowait()
        self.assertEqual(OrderBookMessageType.TRADE, trade.type)
        self.assertEqual(("25124", PAIR, Decimal("25670"), Decimal("0.1"), 1.0),
                         (trade.trade_id, trade.trading_pair, trade.content["price"], trade.content["amount"],
                          trade.content["trade_type"]))

        frames = helpers.payload_objects("extended_13_funding.txt")
        for frame in (frames[0], frames[3], frames[4]):
            await self.data_source._parse_funding_info_message(frame, output)
        rate, mark, index = [output.get_nowait() for _ in range(3)]
        self.assertEqual(FundingInfoUpdate(PAIR, rate=Decimal("0.001"), next_funding_utc_timestamp=1701565200), rate)
        self.assertEqual(FundingInfoUpdate(PAIR, mark_price=Decimal("80988.400408625006")), mark)
        self.assertEqual(FundingInfoUpdate(PAIR, index_price=Decimal("81061.372849012506")), index)

    async def test_frames_are_routed_to_their_queues(self):
        trades = self.data_source._frame_handler("publicTrades", PAIR)
        funding = self.data_source._frame_handler("funding", PAIR)
        trades({"data": []})
        funding({"data": {}})
        self.assertEqual(1, self.data_source._message_queue[self.data_source._trade_messages_queue_key].qsize())
        self.assertEqual(1, self.data_source._message_queue[self.data_source._funding_info_messages_queue_key].qsize())

    @aioresponses()
    async def test_funding_info_from_rest(self, mock_api):
        entry = helpers.market_entry(PAIR, "BTC", "USD")
        mock_api.get(re.compile(r"^" + re.escape(web_utils.public_rest_url(CONSTANTS.MARKETS_PATH)) + r"\?market=BTC"),
                     body=json.dumps({"status": "OK", "data": [entry]}))
        info = await self.data_source.get_funding_info(PAIR)
        self.assertEqual((Decimal("77259"), Decimal("77299.020412500001"), Decimal("0.000013"), 1777442400),
                         (info.mark_price, info.index_price, info.rate, info.next_funding_utc_timestamp))

    async def test_one_stream_per_kind_and_unsubscribe_stops_them(self):
        paths = []

        async def fake_connect(path):
            paths.append(path)
            raise ConnectionError("no network in this test")

        self.data_source._connect = fake_connect
        listener = asyncio.get_running_loop().create_task(self.data_source.listen_for_subscriptions())
        self.tasks.append(listener)
        await asyncio.sleep(0.01)
        self.assertEqual({f"/orderbooks/{PAIR}", f"/publicTrades/{PAIR}", f"/funding/{PAIR}",
                          f"/prices/mark/{PAIR}", f"/prices/index/{PAIR}"}, set(paths))
        self.assertTrue(self.data_source._streams_running(PAIR))

        await self.data_source.unsubscribe_from_trading_pair(PAIR)
        self.assertFalse(self.data_source._streams_running(PAIR))
        self.assertNotIn(PAIR, self.data_source._trading_pairs)
        self.assertTrue(await self.data_source.subscribe_to_trading_pair(PAIR))
        self.assertTrue(self.data_source._streams_running(PAIR))

        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        self.assertFalse(self.data_source._streams_running(PAIR))


class WebUtilsTests(IsolatedAsyncioTestCase):
    async def test_env_override_is_logged_once(self):
        web_utils._logged_overrides.discard(CONSTANTS.REST_URL_ENV_VAR)
        with patch.dict("os.environ", {CONSTANTS.REST_URL_ENV_VAR: "http://127.0.0.1:9/api/v1/"}):
            with self.assertLogs(web_utils.__name__, level="INFO") as logs:
                self.assertEqual("http://127.0.0.1:9/api/v1/user/order", web_utils.private_rest_url("/user/order"))
                web_utils.public_rest_url("/info/markets")
        self.assertEqual(1, len(logs.output))
        self.assertEqual(CONSTANTS.REST_URLS[CONSTANTS.TESTNET_DOMAIN] + "/info/markets",
                         web_utils.public_rest_url("/info/markets", CONSTANTS.TESTNET_DOMAIN))
        self.assertEqual(CONSTANTS.WSS_URLS[CONSTANTS.DEFAULT_DOMAIN] + "/account", web_utils.stream_url("/account"))

    async def test_throttler_has_one_pool_for_every_path_and_a_reserved_share(self):
        limits = {limit.limit_id: limit for limit in CONSTANTS.rate_limits()}
        # Extended's 1,000 a minute: 12 for network checks and 3 for the dead man's switch at its default 60 s window,
        # the rest for orders and reads; at the shortest window (10 s) the switch takes 18.
        self.assertEqual((985, 60), (limits[CONSTANTS.ALL_ENDPOINTS_LIMIT].limit,
                                     limits[CONSTANTS.ALL_ENDPOINTS_LIMIT].time_interval))
        self.assertEqual((15, 60), (limits[CONSTANTS.RESERVED_LIMIT].limit,
                                    limits[CONSTANTS.RESERVED_LIMIT].time_interval))
        shortest = {limit.limit_id: limit.limit for limit in CONSTANTS.rate_limits(dead_man_switch_seconds=10)}
        self.assertEqual((970, 30), (shortest[CONSTANTS.ALL_ENDPOINTS_LIMIT], shortest[CONSTANTS.RESERVED_LIMIT]))
        switch_off = {limit.limit_id: limit.limit for limit in CONSTANTS.rate_limits(dead_man_switch_seconds=0)}
        self.assertEqual(12, switch_off[CONSTANTS.RESERVED_LIMIT])
        for path in CONSTANTS.REST_PATHS:
            pool = CONSTANTS.RESERVED_LIMIT if path == CONSTANTS.DEAD_MAN_SWITCH_PATH else CONSTANTS.ALL_ENDPOINTS_LIMIT
            self.assertEqual([pool], [p.limit_id for p in limits[path].linked_limits])
        self.assertEqual([CONSTANTS.RESERVED_LIMIT],
                         [p.limit_id for p in limits[CONSTANTS.NETWORK_CHECK_LIMIT_ID].linked_limits])
        market_maker = {limit.limit_id: limit for limit in CONSTANTS.rate_limits("market_maker")}
        self.assertEqual((59_925, 75, 300), (market_maker[CONSTANTS.ALL_ENDPOINTS_LIMIT].limit,
                                             market_maker[CONSTANTS.RESERVED_LIMIT].limit,
                                             market_maker[CONSTANTS.ALL_ENDPOINTS_LIMIT].time_interval))
        self.assertGreater(await web_utils.get_current_server_time(), 1.7e9)
