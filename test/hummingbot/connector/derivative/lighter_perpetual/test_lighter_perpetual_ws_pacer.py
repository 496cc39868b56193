import asyncio
import time
import unittest

from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_ws_pacer import WsMessagePacer, pacer_for


class WsMessagePacerTests(unittest.IsolatedAsyncioTestCase):

    async def test_no_window_ever_holds_more_than_its_count(self):
        pacer = WsMessagePacer(windows=((6, 0.5), (3, 0.1)))
        sent = []

        async def sender():
            for _ in range(4):
                await pacer.wait()
                sent.append(time.monotonic())

        await asyncio.gather(sender(), sender(), sender())

        self.assertEqual(12, len(sent))
        for count, seconds in ((6, 0.5), (3, 0.1)):
            for i in range(count, len(sent)):
                self.assertGreaterEqual(sent[i] - sent[i - count], seconds - 0.005)

    async def test_windows_count_when_messages_left_not_when_they_were_due(self):
        pacer = WsMessagePacer(windows=((1, 0.2),))
        await pacer.wait()
        second = asyncio.get_running_loop().create_task(pacer.wait())  # due 0.2 s later
        await asyncio.sleep(0)
        time.sleep(0.3)  # the loop is busy: the second message leaves 0.1 s late
        await second
        # The next is free 0.2 s after the second actually left, not 0.2 s after it was due.
        self.assertGreater(pacer.delay(), 0.15)

    def test_one_pacer_per_stream_url(self):
        self.assertIs(pacer_for("wss://a/stream"), pacer_for("wss://a/stream"))
        self.assertIsNot(pacer_for("wss://a/stream"), pacer_for("wss://b/stream"))
