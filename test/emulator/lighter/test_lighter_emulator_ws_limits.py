"""The per-IP WebSocket limits of Lighter's rate-limits page: client messages a minute (transactions not counted),
open and new connections, subscriptions a connection; each with the venue's error code."""
import aiohttp

from test.emulator.lighter.lighter_emulator_support import WS_TIMEOUT_S, EmulatorTestCase, of_type


class WsLimitTests(EmulatorTestCase):

    async def test_message_over_the_minute_budget_is_refused_and_the_connection_closed(self):
        self.ex.hub.limits.messages_per_minute = 5
        ws = await self.connect()
        other = await self.connect()
        for _ in range(3):
            await ws.send_json({"type": "ping"})
            self.assertEqual({"type": "pong"}, await ws.receive_json(timeout=WS_TIMEOUT_S))
        # The budget is the IP's, whichever connection sends.
        for _ in range(2):
            await other.send_json({"type": "ping"})
            self.assertEqual({"type": "pong"}, await other.receive_json(timeout=WS_TIMEOUT_S))
        await ws.send_json({"type": "ping"})
        self.assertEqual({"error": {"code": 23000, "message": "Too Many Requests!"}},
                         await ws.receive_json(timeout=WS_TIMEOUT_S))
        self.assertEqual(aiohttp.WSMsgType.CLOSE, (await ws.receive(timeout=WS_TIMEOUT_S)).type)
        self.assertEqual(1, len(self.ex.hub.limits.disconnects))

    async def test_transactions_do_not_count(self):
        self.ex.hub.limits.messages_per_minute = 1
        ws = await self.connect()
        for _ in range(3):
            tx_type, tx_info = self.sign_order(client_index=self.nonce + 1)
            await ws.send_json({"type": "jsonapi/sendtx", "data": {"tx_type": tx_type, "tx_info": tx_info}})
            reply = await self.receive_until(ws, of_type("jsonapi/sendtx"))
            self.assertEqual(200, reply["code"])
        await ws.send_json({"type": "ping"})
        self.assertEqual({"type": "pong"}, await ws.receive_json(timeout=WS_TIMEOUT_S))
        self.assertEqual([], self.ex.hub.limits.disconnects)

    async def test_connections_over_the_limits_are_refused(self):
        self.ex.hub.limits.connections = 2
        first = await self.connect()
        await self.connect()
        refused = await self.session.ws_connect(self.ex.ws_url)
        self.assertEqual({"error": {"code": 23003, "message": "Too Many Connections!"}},
                         await refused.receive_json(timeout=WS_TIMEOUT_S))
        self.assertEqual(aiohttp.WSMsgType.CLOSE, (await refused.receive(timeout=WS_TIMEOUT_S)).type)
        await first.close()
        await self.connect()  # a closed connection frees its place

        self.ex.hub.limits.connections = 200
        self.ex.hub.limits.new_connections_per_minute = 4  # 4 opened so far, the refused one included
        refused = await self.session.ws_connect(self.ex.ws_url)
        self.assertEqual(23003, (await refused.receive_json(timeout=WS_TIMEOUT_S))["error"]["code"])

    async def test_subscriptions_over_the_connection_limit_are_refused(self):
        self.ex.hub.limits.subscriptions_per_connection = 2
        ws = await self.connect()
        await self.subscribe(ws, "order_book/0")
        await self.subscribe(ws, "trade/0")
        self.assertEqual({"error": {"code": 23001, "message": "Too Many Subscriptions!"}},
                         await self.subscribe(ws, "order_book/1"))
        await ws.send_json({"type": "ping"})
        self.assertEqual({"type": "pong"}, await ws.receive_json(timeout=WS_TIMEOUT_S))

    async def test_limits_off(self):
        self.ex.hub.limits.enabled = False
        self.ex.hub.limits.messages_per_minute = 1
        ws = await self.connect()
        for _ in range(3):
            await ws.send_json({"type": "ping"})
            self.assertEqual({"type": "pong"}, await ws.receive_json(timeout=WS_TIMEOUT_S))
