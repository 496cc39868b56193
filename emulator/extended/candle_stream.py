"""The candles stream: /stream.extended.exchange/v1/candles/{market}/{candleType}?interval=PT1M.

The URL selects the stream, as for the other public streams. Frames {"ts", "data": [candle, ...], "seq"} carry the
REST candle shape ("v" only for trades candles); seq 1 is the snapshot (docs: "'1' corresponds to the first snapshot,
and all subsequent numbers correspond to deltas"). The exchange pushes every 1-10 s; this stream pushes every
`CANDLE_PUSH_INTERVAL` seconds. [inferred] The forming candle alone is pushed, and at a period change the closed
candle's final state goes first in the same frame; the snapshot holds the forming candle.
"""
import asyncio
import json

from aiohttp import web

from emulator.extended.app_keys import PING_INTERVAL, STATE, STREAM_PREFIX
from emulator.extended.candles import INTERVALS_MS, build_candles
from emulator.extended.fmt import now_ms
from emulator.extended.responses import http_error
from emulator.extended.rest_public import CANDLE_SOURCES
from emulator.extended.streams import MARKET_NOT_FOUND

CANDLE_PUSH_INTERVAL = 1.0


def _frame(market, source: str, interval_ms: int, end_ms: int, count: int, seq: int) -> str:
    candles = build_candles(getattr(market, source), interval_ms, count, end_ms, market.spec.initial_price,
                            with_volume=source == "trade_ticks")
    return json.dumps({"ts": now_ms(), "data": list(reversed(candles)), "seq": seq})


async def candles(request: web.Request) -> web.WebSocketResponse:
    state = request.app[STATE]
    source = CANDLE_SOURCES.get(request.match_info["candle_type"])
    interval_ms = INTERVALS_MS.get(request.query.get("interval", ""))
    if source is None or interval_ms is None:
        return http_error(400, "Not supported interval.", 1005)
    ws = web.WebSocketResponse(heartbeat=request.app[PING_INTERVAL])
    await ws.prepare(request)
    name = request.match_info["market"]
    if name not in state.markets:
        await ws.send_str(json.dumps(MARKET_NOT_FOUND))
        await ws.close()
        return ws
    market = state.markets[name]

    async def write():
        seq = 1
        period = now_ms() // interval_ms
        await ws.send_str(_frame(market, source, interval_ms, now_ms(), 1, seq))
        while not ws.closed:
            await asyncio.sleep(CANDLE_PUSH_INTERVAL)
            now = now_ms()
            rolled = now // interval_ms != period
            period = now // interval_ms
            seq += 1
            await ws.send_str(_frame(market, source, interval_ms, now, 2 if rolled else 1, seq))

    writer = asyncio.create_task(write())
    try:
        async for _ in ws:
            continue  # clients send nothing meaningful; reading keeps ping/pong and close handling going
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    return ws


def add_routes(app: web.Application):
    app.router.add_get(f"{STREAM_PREFIX}/candles/{{market}}/{{candle_type}}", candles)
