"""Every captured Lighter payload (test/fixtures) has a counterpart from the emulator with the
same field names and JSON types. Extra emulator fields are allowed; a captured null matches anything."""
import asyncio
import json
import time
from decimal import Decimal
from typing import Dict, List, Optional

from test.emulator.lighter.lighter_emulator_support import EmulatorTestCase, of_type
from test.reference_payloads import PAYLOADS

# captured shapes of things the emulator deliberately does not serve
UNSERVED = {"ws:update/account_tx", "ws:subscribed/account_tx", "ws:update/height", "ws:subscribed/ticker",
            "ws:update/ticker", "ws:subscribed/candle", "ws:update/candle", "ws:subscribed/spot_market_stats",
            "ws:update/spot_market_stats", "ws:update/account_orders", "rest:orderBookDepth", "ws:error-typed",
            "ws:subscribe-request", "spot-market", "auth-vector", "signing-oracle"}


def json_blocks(text: str) -> List[dict]:
    """JSON objects that start a line of a payload .txt file (comment lines and fragments are skipped)."""
    decoder = json.JSONDecoder()
    blocks, position = [], 0
    for line in text.splitlines(keepends=True):
        start = position
        position += len(line)
        if not line.startswith("{"):
            continue
        try:
            block, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(block, dict):
            blocks.append(block)
    return blocks


def classify(block: dict) -> Optional[str]:
    if "vectors" in block or "primitive" in block:
        return "signing-oracle"
    if "token" in block and "deadline" in block:
        return "auth-vector"
    if "order_index" in block and "client_order_index" in block:
        return "order"
    kind = block.get("type")
    if isinstance(kind, str):
        if kind in ("subscribe", "unsubscribe"):
            return "ws:subscribe-request"
        if kind.startswith("jsonapi/"):
            if "data" in block:
                return "ws:subscribe-request"
            return f"ws:{kind}:{'ok' if block.get('code') == 200 else 'err'}"
        if kind == "error":
            return "ws:error-typed"
        return f"ws:{kind}"
    if isinstance(block.get("error"), dict):
        return "ws:error"
    if "order_book_details" in block:
        return "rest:orderBookDetails"
    if "order_books" in block:
        return "rest:orderBooks"
    if "total_asks" in block:
        return "rest:orderBookOrders"
    if "asks" in block and "nonce" in block:
        return "rest:orderBookDepth"
    if "accounts" in block:
        return "rest:account"
    if "funding_rates" in block:
        return "rest:fundingRates"
    if "fundings" in block and "resolution" in block:
        return "rest:fundings"
    if "r" in block and "c" in block:
        return "rest:candles"
    if "orders" in block and "code" in block:
        return "rest:orders"
    if "trades" in block and "code" in block:
        return "rest:trades"
    if "tx_hash" in block and "code" in block:
        return "rest:sendTxBatch" if isinstance(block["tx_hash"], list) else "rest:sendTx"
    if set(block) <= {"code", "message", "nonce"} and "nonce" in block:
        return "rest:nextNonce"
    if block.get("market_type") == "spot":
        return "spot-market"
    if "index_price" in block and "mark_price" in block:
        return "market-stats-entry"
    if "code" in block and "message" in block and "trades" not in block:
        return "rest:trades" if "next_cursor" in block else None
    return None


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def shape_problems(real, ours, path: str = "$") -> List[str]:
    """Differences in field names and JSON types; a null in the capture says nothing about type or presence."""
    if real is None:
        return []
    if isinstance(real, bool):
        return [] if isinstance(ours, bool) else [f"{path}: bool expected, got {type(ours).__name__}"]
    if _is_number(real):
        return [] if _is_number(ours) else [f"{path}: number expected, got {type(ours).__name__}"]
    if isinstance(real, str):
        return [] if isinstance(ours, str) else [f"{path}: string expected, got {type(ours).__name__}"]
    if isinstance(real, list):
        if not isinstance(ours, list):
            return [f"{path}: list expected, got {type(ours).__name__}"]
        if real and not ours:
            return [f"{path}: emulator list is empty"]
        return shape_problems(real[0], ours[0], path + "[0]") if real else []
    if not isinstance(ours, dict):
        return [f"{path}: object expected, got {type(ours).__name__}"]
    if real and all(key.isdigit() for key in real):
        # maps keyed by market / asset id: compare one entry's shape
        if not ours:
            return [f"{path}: emulator map is empty"]
        return shape_problems(next(iter(real.values())), next(iter(ours.values())), path + "{id}")
    problems = []
    for key, value in real.items():
        if value is None:
            continue
        if key not in ours:
            problems.append(f"{path}.{key}: missing")
        else:
            problems.extend(shape_problems(value, ours[key], f"{path}.{key}"))
    return problems


def captured_payloads() -> List[tuple]:
    found = []
    for path in sorted(PAYLOADS.glob("lighter_*.txt")):
        found.extend((path.name, block) for block in json_blocks(path.read_text()))
    for path in sorted((PAYLOADS / "raw").rglob("*.json")):
        if "lighter" not in str(path) and "nautilus" not in str(path):
            continue
        block = json.loads(path.read_text())
        if isinstance(block, dict) and "data" in block and "captured_at" in block:
            block = block["data"]
        if isinstance(block, dict) and ("summary" not in path.name):
            found.append((str(path.relative_to(PAYLOADS)), block))
    return found


class PayloadShapeTests(EmulatorTestCase):

    async def _corpus(self) -> Dict[str, List[dict]]:
        """Drives the emulator through orders, a fill, a cancel and funding, collecting every response shape."""
        corpus: Dict[str, List[dict]] = {}

        def add(key: str, payload: dict):
            corpus.setdefault(key, []).append(payload)

        self.ex.set_fees(maker=Decimal("0.0002"), taker=Decimal("0.0005"))
        maker = self.ex.create_account()
        self.ex.place_order(maker, 0, True, Decimal("1"), Decimal("2600"))
        self.ex.place_order(maker, 0, False, Decimal("1"), Decimal("2300"))
        token = self.auth_token()
        ws = await self.connect()
        for channel in ("order_book/0", "trade/0", "market_stats/0", "market_stats/all"):
            frame = await self.subscribe(ws, channel)
            add(f"ws:{frame['type']}", frame)
        for channel in ("account_all", "account_all_orders", "account_all_trades", "account_all_positions",
                        "account_all_assets", "user_stats"):
            frame = await self.subscribe(ws, f"{channel}/{self.account}", auth=token)
            add(f"ws:{frame['type']}", frame)
        status, body = await self.send_tx(*self.sign_order(client_index=7, base=1000, price=249000))
        add("rest:sendTx", body)
        add("rest:sendTx", (await self.send_tx(*self.sign_order(client_index=8, nonce=0)))[1])
        self.ex.submit_taker(0, True, Decimal("0.04"))
        self.ex.place_order(maker, 0, True, Decimal("1"), Decimal("2610"))
        self.ex.apply_funding([0])
        batch = [self.sign_order(client_index=9, price=240000), self.sign_order(client_index=6, price=258000,
                                                                                is_ask=True)]
        add("rest:sendTxBatch", (await self.send_batch(batch))[1])
        await self.send_tx(*self.sign_cancel(9))
        for frame in await self.drain(ws):
            add(f"ws:{frame['type']}", frame)
        await ws.send_json({"type": "jsonapi/sendtx", "data": {"tx_type": 14, "tx_info": "{}"}})
        add("ws:jsonapi/sendtx:err", await self.receive_until(ws, of_type("jsonapi/sendtx")))
        signed = self.sign_order(client_index=10)[1]
        await ws.send_json({"type": "jsonapi/sendtx", "data": {"tx_type": 14, "tx_info": signed}})
        add("ws:jsonapi/sendtx:ok", await self.receive_until(ws, of_type("jsonapi/sendtx")))
        await self.drain(ws)
        add("ws:error", await self.subscribe(ws, "trade/0"))
        for channel in ("trade/0", f"account_all/{self.account}"):
            await ws.send_json({"type": "unsubscribe", "channel": channel})
            await ws.receive_str(timeout=2)
            frame = await self.subscribe(ws, channel, auth=token)
            add(f"ws:{frame['type']}", frame)
        rest = {
            "rest:orderBookDetails": ("/api/v1/orderBookDetails", {"market_id": 0}),
            "rest:orderBooks": ("/api/v1/orderBooks", None),
            "rest:orderBookOrders": ("/api/v1/orderBookOrders", {"market_id": 0, "limit": 5}),
            "rest:account": ("/api/v1/account", {"by": "index", "value": self.account}),
            "rest:fundingRates": ("/api/v1/funding-rates", None),
            # Milliseconds, as lighter-sdk and nautilus_trader send them: the last five hours' rounds.
            "rest:fundings": ("/api/v1/fundings", {"market_id": 0, "resolution": "1h", "start_timestamp": 0,
                                                   "end_timestamp": int(time.time() * 1000), "count_back": 5}),
            "rest:candles": ("/api/v1/candles", {"market_id": 0, "resolution": "1m", "start_timestamp": 0,
                                                 "end_timestamp": 2 ** 45, "count_back": 5}),
            "rest:nextNonce": ("/api/v1/nextNonce", {"account_index": self.account, "api_key_index": self.key}),
        }
        for key, (path, params) in rest.items():
            add(key, (await self.get(path, params))[1])
        add("rest:orders", (await self.get("/api/v1/accountActiveOrders",
                                           {"account_index": self.account, "market_id": 0, "auth": token}))[1])
        add("rest:orders", (await self.get("/api/v1/accountInactiveOrders",
                                           {"account_index": self.account, "limit": 5, "auth": token}))[1])
        add("rest:trades", (await self.get("/api/v1/recentTrades", {"market_id": 0, "limit": 5}))[1])
        add("rest:trades", (await self.get("/api/v1/trades", {"account_index": self.account, "sort_by": "timestamp",
                                                              "limit": 5, "auth": token}))[1])
        corpus["order"] = [order for frame in corpus["rest:orders"] for order in frame["orders"]]
        corpus["market-stats-entry"] = [frame["market_stats"] for frame in corpus["ws:update/market_stats"]
                                        if "market_id" in frame["market_stats"]]
        await ws.close()
        return corpus

    @staticmethod
    async def drain(ws, quiet_s: float = 0.3) -> List[dict]:
        """Every frame that arrives until the stream has been quiet for `quiet_s`."""
        frames = []
        while True:
            try:
                frames.append(await ws.receive_json(timeout=quiet_s))
            except asyncio.TimeoutError:
                return frames

    async def test_every_captured_payload_has_a_matching_emulator_shape(self):
        corpus = await self._corpus()
        payloads = captured_payloads()
        compared = 0
        for source, block in payloads:
            kind = classify(block)
            if kind is None or kind in UNSERVED:
                continue
            with self.subTest(source=source, kind=kind):
                candidates = corpus.get(kind)
                self.assertTrue(candidates, f"emulator produced no {kind}")
                attempts = [shape_problems(block, candidate) for candidate in candidates]
                best = min(attempts, key=len)
                self.assertEqual([], best, f"{source} ({kind})")
                compared += 1
        # the payload files and fixtures hold about seventy comparable shapes; fail loudly if parsing broke
        self.assertGreater(compared, 50)

    def test_classifier_recognises_the_payload_files(self):
        kinds = {classify(block) for _, block in captured_payloads()}
        for expected in ("rest:orderBookDetails", "rest:account", "rest:orders", "rest:sendTx", "rest:fundingRates",
                         "ws:subscribed/order_book", "ws:update/order_book", "ws:update/account_all",
                         "ws:update/account_all_trades", "ws:jsonapi/sendtx:ok", "ws:error"):
            self.assertIn(expected, kinds)
