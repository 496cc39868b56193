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
    BookConnection,
    ExtendedPerpetualAPIOrderBookDataSource,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.connector.test_support.network_mocking_assistant import NetworkMockingAssistant
from hummingbot.core.data_type.funding_info import FundingInfoUpdate
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType
from test.hummingbot.connector.derivative.extended_perpetual import extended_perpetual_test_helpers as helpers

PAIR = "BTC-USD"
ETH = "ETH-USD"


def level(price: str, size: str, change: str = None) -> dict:
    entry = {"q": change if change is not None else size, "p": price}
    if change is not None:
        entry["c"] = size
    return entry


def snapshot(seq: int, bids: List[dict], asks: List[dict], market: str = PAIR) -> dict:
    return {"type": "SNAPSHOT", "data": {"t": "SNAPSHOT", "m": market, "b": bids, "a": asks}, "ts": 1785778403000,
            "seq": seq}


def delta(seq: int, bids: List[dict], asks: List[dict], market: str = PAIR) -> dict:
    return {"type": "DELTA", "data": {"t": "DELTA", "m": market, "b": bids, "a": asks, "d": "f"},
            "ts": 1785778403488, "seq": seq}


class OrderBookDataSourceTests(helpers.IsolatedConnections, IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.connector = ExtendedPerpetualDerivative(helpers.API_KEY, helpers.STARK_PRIVATE_KEY,
                                                     helpers.STARK_PUBLIC_KEY, helpers.VAULT, trading_pairs=[PAIR])
        self.connector._set_trading_pair_symbol_map(bidict({PAIR: PAIR, ETH: ETH, "SOL-USD": "SOL-USD"}))
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

    async def start_book_stream(self, market: str = PAIR, *pairs: str):
        """The book stream of `market` (None: the all-markets one), with PAIR and `pairs` tracked."""
        for pair in (PAIR, *pairs):
            await self.data_source._track(pair)
        task = asyncio.get_running_loop().create_task(self.data_source._run_stream("orderbooks", market))
        self.tasks.append(task)
        self.data_source._stream_tasks[("orderbooks", market)] = task

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
        await self.start_book_stream()
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
        self.assertEqual(1785778403.488, diffs[0].timestamp)  # the frame's ts, in seconds
        self.assertEqual([(99.0, 2.5)], [(r.price, r.amount) for r in diffs[1].bids])
        bids, asks = self.levels(self.book_of(book_snapshot, diffs))
        self.assertEqual([(100.0, 0.4), (99.0, 2.5)], bids)
        self.assertEqual([(102.0, 3.0)], asks)
        self.assertEqual(0, self.data_source.resync_count)

    async def test_sequence_gap_reconnects_and_resyncs_from_the_fresh_snapshot(self):
        self.feed(snapshot(1, [level("100", "1"), level("99", "2")], [level("101", "1")]))
        await self.start_book_stream()
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
        await self.start_book_stream()
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0.01)
        self.assertEqual(1, self.data_source.resync_count)
        self.assertEqual([], await self.diffs())
        # A connection that never had a snapshot is not retried in a tight loop.
        self.data_source._sleep.assert_awaited_with(CONSTANTS.STREAM_RECONNECT_DELAY)

    async def test_a_gap_after_a_snapshot_reconnects_at_once(self):
        self.feed(snapshot(1, [level("100", "1")], []), delta(3, [level("100", "2", "1")], []))
        await self.start_book_stream()
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0.01)
        self.assertEqual(1, self.data_source.resync_count)
        self.data_source._sleep.assert_awaited_with(0)

    async def test_a_new_connection_does_not_continue_the_previous_connections_seq(self):
        """After a drop, a DELTA that would follow the old connection's seq is not applied: only the new connection's
        snapshot tells where its deltas start."""
        self.feed(snapshot(1, [level("100", "1")], [level("101", "1")]), delta(2, [level("100", "2", "1")], []))
        await self.start_book_stream()
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
        await self.start_book_stream()
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0)
        self.assertEqual([], await self.diffs())
        book_snapshot = await self.data_source._order_book_snapshot(PAIR)
        self.assertEqual([(100.0, 2.0)], [(r.price, r.amount) for r in book_snapshot.bids])

    async def test_error_frame_reconnects_after_a_pause(self):
        self.feed({"status": "ERROR", "error": {"code": 1001, "message": "Market not found."}})
        await self.start_book_stream()
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
        await self.start_book_stream()
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0)
        bids, asks = self.levels(self.book_of(book_snapshot, await self.diffs()))
        self.assertEqual([(76213.0, 1.0)], bids)
        self.assertEqual([(76215.0, 0.2)], asks)

    @aioresponses()
    async def test_stream_book_arriving_during_the_rest_request_wins(self, mock_api):
        url = web_utils.public_rest_url(CONSTANTS.ORDER_BOOK_PATH.format(market=PAIR))

        await self.data_source._track(PAIR)

        def stream_snapshot_meanwhile(*args, **kwargs):
            self.data_source._on_book_frame(BookConnection(PAIR),
                                            snapshot(1, [level("76210", "2")], [level("76216", "3")]))

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

    async def test_shared_stream_frames_of_tracked_markets_are_queued(self):
        await self.data_source._track(PAIR)
        trades = self.data_source._shared_frame_handler("publicTrades")
        funding = self.data_source._shared_frame_handler("funding")
        trade = helpers.payload_objects("extended_12_trades.txt")[1]["data"][0]
        trades({"data": [{**trade, "m": ETH}], "seq": 1})
        trades({"data": [{**trade, "m": ETH}, trade], "seq": 2})
        funding({"data": {"m": ETH, "T": 1701563440000, "f": "0.001"}, "seq": 1})
        funding({"data": {"m": PAIR, "T": 1701563440000, "f": "0.001"}, "seq": 2})
        trade_queue = self.data_source._message_queue[self.data_source._trade_messages_queue_key]
        funding_queue = self.data_source._message_queue[self.data_source._funding_info_messages_queue_key]
        self.assertEqual(1, trade_queue.qsize())
        self.assertEqual([trade], trade_queue.get_nowait()["data"])
        self.assertEqual(1, funding_queue.qsize())
        self.assertEqual(PAIR, funding_queue.get_nowait()["data"]["m"])

    @aioresponses()
    async def test_funding_info_from_rest(self, mock_api):
        entry = helpers.market_entry(PAIR, "BTC", "USD")
        mock_api.get(re.compile(r"^" + re.escape(web_utils.public_rest_url(CONSTANTS.MARKETS_PATH)) + r"\?market=BTC"),
                     body=json.dumps({"status": "OK", "data": [entry]}))
        info = await self.data_source.get_funding_info(PAIR)
        self.assertEqual((Decimal("77259"), Decimal("77299.020412500001"), Decimal("0.000013"), 1777442400),
                         (info.mark_price, info.index_price, info.rate, info.next_funding_utc_timestamp))

    @aioresponses()
    async def test_funding_info_of_every_pair_from_one_read(self, mock_api):
        """Hummingbot asks for each pair in turn at start: one /info/markets read of all tracked markets answers."""
        self.data_source._trading_pairs = [PAIR, ETH]
        url = web_utils.public_rest_url(CONSTANTS.MARKETS_PATH)
        requests = []

        def record(request_url, **kwargs):
            requests.append(str(request_url))

        body = json.dumps({"status": "OK", "data": [helpers.market_entry(PAIR, "BTC", "USD"),
                                                    helpers.market_entry(ETH, "ETH", "USD", mark_price="2950.5")]})
        mock_api.get(re.compile(r"^" + re.escape(url)), body=body, callback=record, repeat=True)
        infos = [await self.data_source.get_funding_info(pair) for pair in (PAIR, ETH)]
        self.assertEqual([Decimal("77259"), Decimal("2950.5")], [info.mark_price for info in infos])
        self.assertEqual(1, len(requests))
        self.assertIn("market=BTC-USD&market=ETH-USD", requests[0])

        # A pair outside the last read, or a read older than the reuse window, reads again.
        with patch.object(self.data_source, "_time", return_value=self.data_source._time() + 60):
            await self.data_source.get_funding_info(PAIR)
        self.assertEqual(2, len(requests))
        with self.assertRaisesRegex(ValueError, "no market statistics for SOL-USD"):
            await self.data_source.get_funding_info("SOL-USD")
        self.assertEqual(3, len(requests))

    async def listen(self) -> List[str]:
        paths = []

        async def fake_connect(path):
            paths.append(path)
            await asyncio.Event().wait()  # connected, nothing sent

        self.data_source._connect = fake_connect
        listener = asyncio.get_running_loop().create_task(self.data_source.listen_for_subscriptions())
        self.tasks.append(listener)
        await asyncio.sleep(0.01)
        return paths

    async def test_a_book_stream_per_market_and_shared_streams_for_the_rest(self):
        paths = await self.listen()
        self.assertEqual({f"/orderbooks/{PAIR}", "/publicTrades", "/funding", "/prices/mark", "/prices/index"},
                         set(paths))
        self.assertTrue(self.data_source._book_stream_running(PAIR))

        await self.data_source.unsubscribe_from_trading_pair(PAIR)
        self.assertFalse(self.data_source._book_stream_running(PAIR))
        self.assertEqual({}, self.data_source._stream_tasks)
        self.assertNotIn(PAIR, self.data_source._trading_pairs)
        self.assertTrue(await self.data_source.subscribe_to_trading_pair(PAIR))
        self.assertTrue(self.data_source._book_stream_running(PAIR))

        self.tasks[-1].cancel()
        await asyncio.gather(self.tasks[-1], return_exceptions=True)
        self.assertFalse(self.data_source._book_stream_running(PAIR))
        self.assertEqual({}, self.data_source._stream_tasks)

    async def test_beyond_the_per_market_limit_one_connection_carries_every_book(self):
        pairs = [f"M{i}-USD" for i in range(CONSTANTS.MARKET_BOOK_STREAMS_MAX)]
        self.connector._set_trading_pair_symbol_map(bidict({pair: pair for pair in [PAIR, *pairs]}))
        self.data_source._trading_pairs = list(pairs)
        paths = await self.listen()
        self.assertEqual(CONSTANTS.MARKET_BOOK_STREAMS_MAX + 4, len(set(paths)))

        # One more pair: the per-market book streams give way to the all-markets one.
        paths.clear()
        await self.data_source.subscribe_to_trading_pair(PAIR)
        await asyncio.sleep(0.01)
        self.assertEqual({"/orderbooks"}, set(paths))
        self.assertEqual({("orderbooks", None), ("publicTrades", None), ("funding", None), ("markPrice", None),
                          ("indexPrice", None)}, set(self.data_source._stream_tasks))
        self.assertTrue(self.data_source._book_stream_running(PAIR))
        self.assertFalse(self.data_source._book_stream_running("SOL-USD"))

        # Another pair on the all-markets stream: a new connection brings its snapshot (the old one skipped it).
        paths.clear()
        self.connector._set_trading_pair_symbol_map(bidict({pair: pair for pair in [PAIR, "SOL-USD", *pairs]}))
        await self.data_source.subscribe_to_trading_pair("SOL-USD")
        await asyncio.sleep(0.01)
        self.assertEqual({"/orderbooks"}, set(paths))

    async def test_all_markets_stream_keeps_every_tracked_book(self):
        self.feed(snapshot(1, [level("100", "1")], [level("101", "1")]),
                  snapshot(2, [level("50", "1")], [level("51", "1")], market="SOL-USD"),
                  snapshot(3, [level("2000", "1")], [level("2001", "1")], market=ETH))
        await self.start_book_stream(None, ETH)
        btc_snapshot = await self.data_source._order_book_snapshot(PAIR)
        eth_snapshot = await self.data_source._order_book_snapshot(ETH)
        # seq counts every frame of the connection, untracked markets' too.
        self.feed(delta(4, [level("100", "3", "2")], []),
                  delta(5, [level("50", "0", "-1")], [], market="SOL-USD"),
                  delta(6, [], [level("2001", "0", "-1"), level("2002", "4", "4")], market=ETH))
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0)
        diffs = await self.diffs()

        self.assertEqual({PAIR, ETH}, {diff.trading_pair for diff in diffs})
        self.assertNotIn("SOL-USD", self.data_source._books)
        btc = self.book_of(btc_snapshot, [d for d in diffs if d.trading_pair == PAIR])
        eth = self.book_of(eth_snapshot, [d for d in diffs if d.trading_pair == ETH])
        self.assertEqual(([(100.0, 3.0)], [(101.0, 1.0)]), self.levels(btc))
        self.assertEqual(([(2000.0, 1.0)], [(2002.0, 4.0)]), self.levels(eth))
        self.assertEqual(0, self.data_source.resync_count)

    async def test_a_gap_on_the_all_markets_stream_resyncs_every_book(self):
        """Its seq spans every market, so a lost frame could be any market's: every book takes the new snapshot."""
        self.feed(snapshot(1, [level("100", "1")], [level("101", "1")]),
                  snapshot(2, [level("2000", "1")], [level("2001", "1")], market=ETH))
        await self.start_book_stream(None, ETH)
        btc_snapshot = await self.data_source._order_book_snapshot(PAIR)
        eth_snapshot = await self.data_source._order_book_snapshot(ETH)
        # seq 4 (an untracked market's) follows 2: 3 was lost, whichever market it was.
        self.feed(delta(4, [level("50", "1", "1")], [], market="SOL-USD"),
                  snapshot(1, [level("100", "2")], [level("101", "1")]),
                  snapshot(2, [level("1999", "1")], [level("2001", "1")], market=ETH),
                  delta(3, [], [level("2003", "1", "1")], market=ETH))
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0.01)
        diffs = await self.diffs()

        self.assertEqual(1, self.data_source.resync_count)
        self.assertTrue(any("gap on the all-markets stream (seq 4 after 2)" in r.getMessage()
                            for r in self.log_records))
        self.data_source._sleep.assert_awaited_with(0)
        btc = self.book_of(btc_snapshot, [d for d in diffs if d.trading_pair == PAIR])
        eth = self.book_of(eth_snapshot, [d for d in diffs if d.trading_pair == ETH])
        self.assertEqual(([(100.0, 2.0)], [(101.0, 1.0)]), self.levels(btc))
        self.assertEqual(([(1999.0, 1.0)], [(2001.0, 1.0), (2003.0, 1.0)]), self.levels(eth))

    async def test_all_markets_snapshot_out_of_sequence_is_a_gap(self):
        """On the all-markets stream a SNAPSHOT does not restart the count: a frame lost before it is noticed."""
        self.feed(snapshot(1, [level("100", "1")], []), snapshot(3, [level("2000", "1")], [], market=ETH))
        await self.start_book_stream(None, ETH)
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0.01)
        self.assertEqual(1, self.data_source.resync_count)
        self.data_source._sleep.assert_awaited_with(0)

    async def test_a_tracked_market_without_a_snapshot_on_the_connection_reconnects(self):
        self.feed(snapshot(1, [level("100", "1")], []), delta(2, [level("2000", "1", "1")], [], market=ETH))
        await self.start_book_stream(None, ETH)
        await self.mocking.run_until_all_aiohttp_messages_delivered(self.ws)
        await asyncio.sleep(0.01)
        self.assertEqual(1, self.data_source.resync_count)
        self.assertTrue(any("gap on ETH-USD (seq 2 after 1)" in r.getMessage() for r in self.log_records))
        self.data_source._sleep.assert_awaited_with(CONSTANTS.STREAM_RECONNECT_DELAY)


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
