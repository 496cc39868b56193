"""aiohttp application keys shared by the REST, stream and middleware modules."""
from aiohttp import web

from emulator.extended.engine import Engine
from emulator.extended.faults import Faults
from emulator.extended.ratelimit import RateLimiter
from emulator.extended.state import ExchangeState

API_PREFIX = "/api/v1"
STREAM_PREFIX = "/stream.extended.exchange/v1"

STATE = web.AppKey("extended_state", ExchangeState)
ENGINE = web.AppKey("extended_engine", Engine)
FAULTS = web.AppKey("extended_faults", Faults)
LIMITER = web.AppKey("extended_limiter", RateLimiter)
PING_INTERVAL = web.AppKey("extended_ping_interval", float)
