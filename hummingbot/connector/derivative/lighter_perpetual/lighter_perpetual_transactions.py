"""Signing, nonces and transport of Lighter transactions.

The official signer (lighter-sdk's Go library) signs every transaction on one worker thread, always with an explicit
nonce and API key index (with nonce -1 the Go library would block on its own HTTP call). Nonces come from the SDK's
OptimisticNonceManager, seeded and resynchronised from /nextNonce through Hummingbot's WebAssistant and throttler.

Transactions that are ready at the same moment leave together: one dispatcher per API key drains everything queued,
signs it in one hop to the worker thread and sends it as one sendtx or sendtxbatch (at most 15). They travel over a
WebSocket of their own: the exchange reads one connection's frames in order, so the next batch can leave before the
previous one is answered and nonces still arrive in order. Without that socket they go over REST, one request at a
time, since concurrent HTTP requests may overtake each other. A batch is signed only once the rate budget has room for
it, so no signed nonce waits; an order that waits for that room past its maximum age fails unsent instead of leaving
at a stale price.

After any failure nothing new is sent until every frame in the air has been answered (or given up on); then each
failed frame is decided by one table (DECISIONS), from the kind of its error and whether an earlier frame failed too.
A transaction whose frame got no answer is in doubt: it keeps its nonce and its signed bytes and is sent again exactly
as it was. Lighter takes one transaction per nonce of a key, in order, so of the two sends at most one executes; a
nonce error on the second means the first took the nonce (accepted once /nextNonce shows it). In doubt, a transaction
is never reported failed: if no send settles it within MAX_STRIKES it is reported unknown (LighterOutcomeUnknown) and
the order stays tracked until the exchange shows it or its absence; the key is not held for it: the next transactions
are signed from the nonce /nextNonce shows, so either its earlier send executes first (and theirs are signed again) or
one of them takes its nonce and it can never execute. One failure never causes a second: what never ran only because
of it is sent again at its nonce, or signed again at a new one if a nonce ahead of it was freed; one in doubt there is
signed again at its own nonce, the first of such a run with SkipTxNonce (Lighter then takes it above the freed nonces,
which stay unused) and only once every frame ahead of it is answered, the rest in order behind it, so that none passes
over another; again at most one of its two versions executes and it is decided by the answer, not left unknown. After
a transaction reported unknown, the next one takes the highest such nonce (with SkipTxNonce over freed nonces below
it), so every one of them is decided by that one transaction.
"""
import asyncio
import contextlib
import itertools
import json
import logging
import re
import time
import traceback
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Deque, Dict, List, Optional, Set, Tuple

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_parsers as parsers,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.core.web_assistant.connections.data_types import RESTMethod, WSJSONRequest
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.core.web_assistant.ws_assistant import WSAssistant
from hummingbot.logger import HummingbotLogger

# Signing on the event loop costs ~6 ms per transaction (cgo re-reads /proc/self/maps on the main thread); on a
# worker thread ~0.7 ms. A second thread gives no speed-up, and one thread keeps the Go library's state serial.
_SIGNER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lighter-signer")

SEND_TIMEOUT = 10.0
# After the transaction WebSocket could not be opened, REST carries transactions this long before the next try.
SOCKET_RETRY_INTERVAL = 60.0
# After it opened but stopped answering (SEND_TIMEOUT), REST carries transactions this long before it is reopened.
STALLED_SOCKET_PAUSE = 15.0
# While the rate budget has no room for a frame, it is checked again this often, in seconds.
RATE_ROOM_POLL_INTERVAL = 0.1
# How long stopping waits for answers to frames in the air, in seconds.
STOP_ANSWER_WAIT = 2.0
# Transactions waiting to be signed and sent: over two minutes of a Standard account's 60 transaction requests a
# minute (15 a batch), far above any burst (the benches send 100 orders at once). One more is refused.
MAX_QUEUED_TRANSACTIONS = 2000
# /nextNonce is trusted once it covers every accepted transaction and has not moved for this long, in seconds (inferred:
# lighter-python's ApiNonceManager advises at least 350 ms between execution and reuse of a key).
EXECUTION_SETTLE = 0.5
# After a nonce error on a transaction in doubt, /nextNonce is watched this long for the earlier send's execution
# (inferred: the sequencer executes an accepted transaction within a few seconds).
NONCE_USED_PATIENCE = 10.0
NONCE_POLL_INTERVAL = 0.25
# However busy the key, the nonce read after this long (since the first read) is the one used.
SETTLE_LIMIT = 30.0
# A /nextNonce read that fails (429, connection error, timeout) is retried after these pauses, for at most
# NONCE_READ_PATIENCE seconds in all; only then does what waits for it fail.
NONCE_READ_BACKOFF = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
NONCE_READ_PATIENCE = 30.0
# Pause before a transaction refused as "too many requests" (23000) or "too many pending txs" (21506) leaves again,
# by how many of its sends failed for its own sake (strikes); after the last it fails (about 15 s in all: an order that
# cannot leave within that is better reported failed than left pending). A transaction in doubt leaves again at once,
# then after these pauses.
BUSY_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)
# A transaction whose sends failed this many times for its own sake fails, or is reported unknown if it is in doubt. A
# send that met a nonce error behind an earlier failure, or never left, is no strike: that was another's failure. Its
# signed bytes stay valid for the signer's 10 minutes (ExpiredAt), far longer than this takes.
MAX_STRIKES = len(BUSY_BACKOFF) + 1
_KEY_SHAPE = re.compile(rf"(0x)?[0-9a-fA-F]{{{CONSTANTS.API_PRIVATE_KEY_HEX_LENGTH}}}")
_BAD_KEY_MESSAGE = ("The Lighter API private key is not a valid key; copy it again from the API key you created on "
                    "Lighter.")


class LighterTransactionError(Exception):
    """The exchange (or the signer) refused a transaction. `code` is Lighter's result code where there is one."""

    def __init__(self, message: str, code: Optional[int] = None):
        super().__init__(message)
        self.code = code


class LighterKeyError(LighterTransactionError):
    """The API key cannot be used: malformed, or not registered for the account."""


class LighterOutcomeUnknown(LighterTransactionError):
    """Not a refusal: the transaction was sent and Lighter may have executed it, but no answer or nonce proved either.
    Whoever tracks what it does (an order) keeps tracking it until the exchange shows it or its absence. The signed
    transaction can execute only at `nonce` and before `expired_at_ms` (its ExpiredAt): once the key's /nextNonce is
    past that nonce, or that time has passed, what it did is on the exchange or never will be."""

    def __init__(self, message: str, nonce: Optional[int] = None, expired_at_ms: Optional[int] = None):
        super().__init__(message)
        self.nonce = nonce
        self.expired_at_ms = expired_at_ms

    @classmethod
    def of(cls, tx: "_PendingTx", message: str) -> "LighterOutcomeUnknown":
        try:
            expired_at_ms = int(json.loads(tx.tx_info)["ExpiredAt"])
        except (ValueError, KeyError, TypeError):
            expired_at_ms = None
        return cls(message, nonce=tx.nonce if tx.nonce >= 0 else None, expired_at_ms=expired_at_ms)


class TxErrorKind(Enum):
    """Why a frame of transactions was not accepted."""
    NONCE = "nonce"            # refused for its nonce: not executed, nonce not consumed
    BUSY = "busy"              # too many requests / pending transactions: not executed, try again later
    KEY = "key"                # the API key is unknown or invalid for the account
    REFUSED = "refused"        # any other code; a batch may have been executed up to the refused transaction
    UNANSWERED = "unanswered"  # no usable answer (timeout, connection lost, HTTP 429/5xx): executed or not
    NOT_SENT = "not sent"      # the socket was lost while the frame waited for the throttler: it never left


def classify(code: Optional[int], message: str) -> TxErrorKind:
    """The kind of an answer that is not CODE_OK. A nonce error is recognised by its code or by its text, whatever
    the code: the exchange has answered {"code": 400, "message": "invalid nonce"} too (lighter-python issue #60)."""
    if code is None:
        return TxErrorKind.UNANSWERED
    if code in CONSTANTS.NONCE_ERROR_CODES or "invalid nonce" in message.lower():
        return TxErrorKind.NONCE
    if code in CONSTANTS.BUSY_CODES:
        return TxErrorKind.BUSY
    if code in CONSTANTS.KEY_ERROR_CODES:
        return TxErrorKind.KEY
    return TxErrorKind.REFUSED


class Action(Enum):
    FAIL = "fail"
    SEND_AGAIN = "send again at its nonce"
    BACK_OFF = "send again at its nonce after a pause"
    NONCE_USED = "in doubt: its earlier send took the nonce (accepted once /nextNonce shows it, else sent again); " \
                 "otherwise the nonce was out of step (another program used the key): read /nextNonce and sign " \
                 "again at new nonces"
    SIGN_AGAIN = "read /nextNonce and sign again at new nonces"
    EXECUTED_OR_FAIL = "of those not executed, the one at the nonce fails and those after it are signed again at " \
                       "new nonces; if none was executed, each is signed again and sent alone, so the refusal " \
                       "falls on its own transaction only"


# What becomes of a failed frame's transactions. "Behind" means a frame sent earlier failed too: a nonce error is then
# explained by that failure alone. Whatever the row, three rules hold:
# - a transaction below the nonce the exchange has reached (every frame accepted after it, or /nextNonce where an
#   outcome needs it) was executed: it is accepted; unless one signed with SkipTxNonce above it may have passed over
#   its nonce: it can then no longer execute, and is reported unknown, for its order to be looked up;
# - a transaction sent again keeps its nonce and signed bytes, unless a nonce ahead of it was freed (a transaction
#   that failed): then it is signed again at a new nonce;
# - a transaction in doubt (a send of it got no answer) is never failed nor signed at another nonce: where it would be
#   failed, or after MAX_STRIKES, it is reported unknown (LighterOutcomeUnknown) and the next transactions are signed
#   from /nextNonce (its nonce, if it did not execute); where a freed nonce ahead of it would have it signed at a new
#   nonce, it is signed again at its own instead, with SkipTxNonce if the nonce below it is freed.
#                          first failure                  behind an earlier failure
DECISIONS = {
    TxErrorKind.NONCE:      (Action.NONCE_USED,         Action.SEND_AGAIN),
    TxErrorKind.BUSY:       (Action.BACK_OFF,           Action.BACK_OFF),
    TxErrorKind.KEY:        (Action.FAIL,               Action.FAIL),
    TxErrorKind.REFUSED:    (Action.EXECUTED_OR_FAIL,   Action.EXECUTED_OR_FAIL),
    TxErrorKind.UNANSWERED: (Action.SEND_AGAIN,         Action.SEND_AGAIN),
    TxErrorKind.NOT_SENT:   (Action.SEND_AGAIN,         Action.SEND_AGAIN),
}


# A signing call receives the SDK's SignerClient, the nonce, the API key index and skip_nonce (1: the nonce need only be
# above the key's last executed one, Lighter's L2TxAttributes SkipTxNonce) and returns the SDK's 4-tuple
# (tx_type, tx_info, tx_hash, error).
SignCall = Callable[[Any, int, int, int], Tuple[Optional[int], Optional[str], Optional[str], Optional[str]]]


@dataclass(eq=False)  # each is itself: found in the queue by identity
class _PendingTx:
    sign: SignCall
    future: asyncio.Future
    # Submission order: transactions signed again keep their place.
    index: int = 0
    # -1 until signed; a signed transaction put back to be sent again leaves with these same bytes.
    nonce: int = -1
    tx_type: int = 0
    tx_info: str = ""
    tx_hash: str = ""
    sends: int = 0
    # Sends that failed for its own sake (see MAX_STRIKES): they alone pace it and end it.
    strikes: int = 0
    # When it was placed (monotonic clock), and how long it may wait unsigned before it fails unsent (None: forever).
    queued_at: float = 0.0
    max_age: Optional[float] = None
    # A send of it got no answer: it may have executed.
    in_doubt: bool = False
    # Leaves in a frame of its own: it was in a refused batch of which it is unknown which transaction was refused.
    alone: bool = False
    # In doubt behind a freed nonce: signed again at its own nonce before it leaves again; with SkipTxNonce if the
    # nonce just below it is freed (the first of a run: the rest follow it in order).
    skip_gap: bool = False
    # Its signed bytes carry SkipTxNonce, or will once signed again (skip_gap): it leaves after every frame ahead.
    passes_gap: bool = False


@dataclass
class _Flight:
    """Transactions sent in one frame, waiting for the exchange's answer."""
    txs: List[_PendingTx]
    seq: int
    timer: asyncio.TimerHandle


@dataclass
class _Failed:
    """A frame that was not accepted, waiting for its decision; `seq` is the order frames left in."""
    txs: List[_PendingTx]
    seq: int
    kind: TxErrorKind
    error: LighterTransactionError


class LighterTransactionClient:
    _logger: Optional[HummingbotLogger] = None

    @classmethod
    def logger(cls) -> HummingbotLogger:
        if cls._logger is None:
            cls._logger = logging.getLogger(__name__)
        return cls._logger

    def __init__(self, api_factory: WebAssistantsFactory, account_index: int, api_key_index: int,
                 api_private_key: str, domain: str = CONSTANTS.DEFAULT_DOMAIN):
        self._api_factory = api_factory
        self._account_index = account_index
        self._api_key_index = api_key_index
        self._private_key = api_private_key
        self._domain = domain
        self._signer = None
        self._nonce_manager = None
        self._nonce_stale = True
        # How long the nonce must stay still before a stale one is trusted (see _settled_nonce).
        self._stale_settle = 0.0
        # Queued transactions; `_resend` holds those to sign again, which go first, in their original order.
        self._queue: Deque[_PendingTx] = deque()
        self._resend: List[_PendingTx] = []
        self._submissions = itertools.count()
        self._wakeup = asyncio.Event()
        self._dispatcher: Optional[asyncio.Task] = None
        self._ready = asyncio.Event()
        # Frames sent on the socket and not answered yet, in the order they left.
        self._flights: "OrderedDict[str, _Flight]" = OrderedDict()
        self._request_ids = itertools.count(1)
        self._frame_seqs = itertools.count()
        # Frames not accepted since the last recovery.
        self._failed: List[_Failed] = []
        # One past the highest nonce the exchange accepted: /nextNonce reaches it once they all executed.
        self._accepted_floor = 0
        # The highest nonce of a transaction reported unknown since the last nonce re-read, and a nonce to sign with
        # SkipTxNonce because the nonces below it were freed (see _resync).
        self._unknown_nonce: Optional[int] = None
        self._skip_at: Optional[int] = None
        # Nonces signed with SkipTxNonce: once one executed, a nonce below it may have been passed over, not executed.
        self._skip_nonces: Set[int] = set()
        self._socket: Optional[WSAssistant] = None
        self._socket_reader: Optional[asyncio.Task] = None
        self._socket_retry_at = 0.0
        self._closing: Set[asyncio.Task] = set()
        self._auth_token: Optional[str] = None
        self._auth_token_deadline = 0.0
        self._auth_lock = asyncio.Lock()
        self._signer_lock = asyncio.Lock()

    @property
    def account_index(self) -> int:
        return self._account_index

    @property
    def api_key_index(self) -> int:
        return self._api_key_index

    @property
    def running(self) -> bool:
        return self._dispatcher is not None and not self._dispatcher.done()

    def nonce_taken(self, nonce: int) -> bool:
        """Whether this client saw the key's nonce `nonce` taken (a transaction at it or above accepted, or /nextNonce
        past it): a transaction signed at it can then no longer execute. Asks nothing of the exchange."""
        return self._accepted_floor > nonce

    def _scrub(self, text: str) -> str:
        key = self._private_key.strip().removeprefix("0x")
        return re.sub(re.escape(key), "***", text, flags=re.IGNORECASE) if key else text

    async def _ensure_signer(self):
        """Builds the SDK's SignerClient. It opens an HTTP client of its own, which is closed at once: this connector
        sends everything through Hummingbot's WebAssistant."""
        async with self._signer_lock:
            if self._signer is None:
                await self._build_signer()
        return self._signer

    async def _build_signer(self):
        import lighter
        from lighter import nonce_manager

        # The SDK opens an HTTP session before it looks at the key; a key of the wrong shape is refused first.
        if not _KEY_SHAPE.fullmatch(self._private_key.strip()):
            raise LighterKeyError(_BAD_KEY_MESSAGE)
        try:
            self._signer = lighter.SignerClient(
                url=web_utils.rest_base_url(self._domain), account_index=self._account_index,
                api_private_keys={self._api_key_index: self._private_key},
                nonce_management_type=nonce_manager.NonceManagerType.OPTIMISTIC,
                chain_id=CONSTANTS.CHAIN_IDS[self._domain])
        except Exception as e:
            # The Go library's message may quote the key; never pass it on.
            self.logger().debug(f"Lighter signer rejected the API key: {self._scrub(str(e))}")
            raise LighterKeyError(_BAD_KEY_MESSAGE) from None
        await self._signer.api_client.close()
        self._nonce_manager = self._signer.nonce_manager

    async def start(self):
        """Returns once the dispatcher has read the nonce and opened its socket (or tried to)."""
        self._ensure_dispatcher()
        await self._ensure_signer()
        await self._ready.wait()

    def _ensure_dispatcher(self):
        # Synchronous, so orders submitted in one tick all reach the queue in that tick and leave together.
        if self._dispatcher is None or self._dispatcher.done():
            self._ready.clear()
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch_loop())

    async def stop(self):
        # Frames in the air get a moment to be answered: failing an order Lighter executes would leave it untracked.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._flights_landed(), STOP_ANSWER_WAIT)
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            dispatcher.cancel()
        reader = self._socket_reader
        stopped = LighterTransactionError("The connector stopped before Lighter answered.")
        for flight in self._flights.values():
            for tx in flight.txs:
                self._fail([tx], LighterOutcomeUnknown.of(tx, f"{stopped}"))
        socket = self._abandon_socket("The connector stopped")
        if socket is not None:
            await socket.disconnect()
        # Nothing of the client outlives the stop: the cancelled tasks and the sockets still closing are awaited.
        await asyncio.gather(*[task for task in (dispatcher, reader) if task is not None], *self._closing,
                             return_exceptions=True)
        self._give_up(self._resend + list(self._queue) + [tx for group in self._failed for tx in group.txs], stopped)
        self._resend, self._failed = [], []
        self._queue.clear()
        self._signer = None
        self._nonce_stale, self._stale_settle = True, 0.0
        self._unknown_nonce = None

    async def _flights_landed(self):
        while self._flights:
            self._wakeup.clear()
            await self._wakeup.wait()

    # --- signing helpers run on the worker thread -------------------------------------------------------------------

    async def _on_signer_thread(self, fn: Callable, *args):
        return await asyncio.get_running_loop().run_in_executor(_SIGNER_THREAD, fn, *args)

    async def auth_token(self) -> str:
        """A read token for private REST endpoints and WebSocket channels, refreshed before it expires."""
        async with self._auth_lock:
            now = time.time()
            if self._auth_token is None or self._auth_token_deadline - now < CONSTANTS.AUTH_TOKEN_REFRESH_MARGIN:
                signer = await self._ensure_signer()
                timestamp = int(now)
                token, error = await self._on_signer_thread(
                    lambda: signer.create_auth_token_with_expiry(
                        CONSTANTS.AUTH_TOKEN_LIFETIME, timestamp=timestamp, api_key_index=self._api_key_index))
                if error:
                    raise LighterKeyError(f"Could not create a Lighter auth token: {self._scrub(error)}")
                self._auth_token, self._auth_token_deadline = token, timestamp + CONSTANTS.AUTH_TOKEN_LIFETIME
            return self._auth_token

    # --- submission ----------------------------------------------------------------------------------------------

    async def submit(self, sign: SignCall, max_age: Optional[float] = None, placed_at: Optional[float] = None) -> str:
        """Queues one transaction; returns its hash once the exchange accepted it, or raises LighterTransactionError.
        One still unsigned `max_age` seconds after `placed_at` (monotonic clock; default now) fails unsent instead of
        leaving late."""
        if len(self._queue) >= MAX_QUEUED_TRANSACTIONS:
            raise LighterTransactionError(f"{MAX_QUEUED_TRANSACTIONS} transactions were already waiting to be sent to "
                                          f"Lighter; this one was not sent.")
        self._ensure_dispatcher()
        future = asyncio.get_running_loop().create_future()
        tx = _PendingTx(sign=sign, future=future, index=next(self._submissions), max_age=max_age,
                        queued_at=time.monotonic() if placed_at is None else placed_at)
        self._queue.append(tx)
        if max_age is not None:
            asyncio.get_running_loop().call_later(max(0.0, tx.queued_at + max_age - time.monotonic()),
                                                  self._expire_waiting, tx)
        self._wakeup.set()
        return await future

    def create_order(self, market_index: int, client_order_index: int, base_amount: int, price: int, is_ask: bool,
                     order_type: int, time_in_force: int, reduce_only: bool, order_expiry: int) -> SignCall:
        def sign(signer, nonce: int, api_key_index: int, skip_nonce: int = 0):
            return signer.sign_create_order(
                market_index, client_order_index, base_amount, price, int(is_ask), order_type, time_in_force,
                int(reduce_only), 0, order_expiry, skip_nonce=skip_nonce, nonce=nonce, api_key_index=api_key_index)
        return sign

    @staticmethod
    def cancel_order(market_index: int, order_index: int) -> SignCall:
        """Cancels by order index or, below 2^48, by client order index: no look-up of the exchange's index."""
        def sign(signer, nonce: int, api_key_index: int, skip_nonce: int = 0):
            return signer.sign_cancel_order(market_index, order_index, skip_nonce=skip_nonce, nonce=nonce,
                                            api_key_index=api_key_index)
        return sign

    @staticmethod
    def cancel_all_orders() -> SignCall:
        def sign(signer, nonce: int, api_key_index: int, skip_nonce: int = 0):
            return signer.sign_cancel_all_orders(CONSTANTS.CANCEL_ALL_IMMEDIATE, 0, skip_nonce=skip_nonce, nonce=nonce,
                                                 api_key_index=api_key_index)
        return sign

    @staticmethod
    def schedule_cancel_all_orders(at_ms: int) -> SignCall:
        """The dead man's switch: Lighter cancels every open order of the account at `at_ms` (unix milliseconds)."""
        def sign(signer, nonce: int, api_key_index: int, skip_nonce: int = 0):
            return signer.sign_cancel_all_orders(CONSTANTS.CANCEL_ALL_SCHEDULED, at_ms, skip_nonce=skip_nonce,
                                                 nonce=nonce, api_key_index=api_key_index)
        return sign

    @staticmethod
    def abort_scheduled_cancel_all() -> SignCall:
        def sign(signer, nonce: int, api_key_index: int, skip_nonce: int = 0):
            return signer.sign_cancel_all_orders(CONSTANTS.CANCEL_ALL_ABORT, 0, skip_nonce=skip_nonce, nonce=nonce,
                                                 api_key_index=api_key_index)
        return sign

    @staticmethod
    def update_leverage(market_index: int, initial_margin_fraction: int) -> SignCall:
        def sign(signer, nonce: int, api_key_index: int, skip_nonce: int = 0):
            return signer.sign_update_leverage(market_index, initial_margin_fraction, CONSTANTS.CROSS_MARGIN_MODE,
                                               skip_nonce=skip_nonce, nonce=nonce, api_key_index=api_key_index)
        return sign

    # --- dispatcher ---------------------------------------------------------------------------------------------

    async def _dispatch_loop(self):
        # Only this task touches nonces, so a re-read can never rewind one a batch being signed has drawn. The nonce
        # is read and the socket opened now rather than in front of the first order.
        try:
            await self._ensure_signer()
            self._set_next_nonce(await self.fetch_next_nonce())
            await self._transaction_socket()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.logger().warning(f"Could not read the Lighter nonce yet ({e.__class__.__name__}); will retry.")
        self._ready.set()
        while True:
            try:
                batch = await self._next_batch()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A fault here must not end the dispatcher, or everything queued would wait forever.
                self.logger().error(f"Unexpected error preparing Lighter transactions: "
                                    f"{self._scrub(traceback.format_exc())}")
                self._nonce_stale, self._stale_settle = True, EXECUTION_SETTLE
                await asyncio.sleep(NONCE_POLL_INTERVAL)
                continue
            try:
                await self._dispatch(batch)
            except asyncio.CancelledError:
                # Stopped while signing or waiting for the throttler: these did not leave (again).
                self._give_up(batch, LighterTransactionError("The connector stopped before sending."))
                raise
            except LighterTransactionError as e:
                self._give_up(batch, e)
            except Exception as e:
                # The traceback is scrubbed too: an exception from the signer may quote the key.
                self.logger().error(f"Unexpected error sending Lighter transactions: "
                                    f"{self._scrub(traceback.format_exc())}")
                self._give_up(batch, LighterTransactionError(f"Unexpected error: {self._scrub(str(e))}"))
                self._nonce_stale, self._stale_settle = True, EXECUTION_SETTLE

    def _undecided(self, failed: List[_Failed], held: List[_PendingTx]):
        """A fault in the recovery's own code ends what it was deciding as a failed nonce read would, so that nothing
        waits forever: what may have executed (in doubt, or part of a refused batch) is reported unknown, the rest
        failed or not sent; the nonce is read again before the next send."""
        self.logger().error(f"Unexpected error recovering Lighter transactions: {self._scrub(traceback.format_exc())}")
        ended = set()
        for group in failed:
            for tx in group.txs:
                tx.in_doubt = tx.in_doubt or group.kind is TxErrorKind.REFUSED
            self._give_up(group.txs, LighterTransactionError(f"{group.error}; the connector could not settle it",
                                                             group.error.code))
            ended.update(map(id, group.txs))
        self._give_up(held, LighterTransactionError("Not sent: the connector could not settle an earlier transaction"))
        ended.update(map(id, held))
        self._resend = [tx for tx in self._resend if id(tx) not in ended]
        self._nonce_stale, self._stale_settle = True, EXECUTION_SETTLE

    async def _next_batch(self) -> List[_PendingTx]:
        while True:
            # Those sent again at their nonces first, in nonce order; then those to sign, in submission order.
            self._resend.sort(key=lambda tx: (tx.nonce < 0, tx.nonce, tx.index))
            if self._failed:
                await self._recover()
            elif self._nonce_stale and (self._resend or self._queue):
                await self._resync()
            elif self._flights and self._resend and self._resend[0].passes_gap:
                # SkipTxNonce would pass over a transaction in the air that is then refused, which could never
                # execute after it: the one that passes a freed nonce leaves once every frame ahead is answered.
                await self._flights_landed()
            elif self._resend or self._queue:
                break
            else:
                self._wakeup.clear()
                await self._wakeup.wait()
                # Orders submitted together reach the queue over a few loop iterations (the derivative starts a
                # burst a few per iteration): they leave together once the queue stops growing. Signing them while
                # they still arrive is slower: the signer thread and the loop then take turns at the GIL.
                queued = -1
                while queued != len(self._queue) and len(self._queue) < CONSTANTS.MAX_TX_PER_BATCH:
                    queued = len(self._queue)
                    await asyncio.sleep(0)
        taken = 0
        while taken < min(len(self._resend), CONSTANTS.MAX_TX_PER_BATCH) and not (
                taken and (self._resend[0].alone or self._resend[taken].alone or self._resend[taken].passes_gap)):
            taken += 1
        # A signed one leaves even if its submitter gave up: its nonce must be used, and it may have executed already.
        batch = [tx for tx in self._resend[:taken] if tx.nonce >= 0 or not tx.future.done()]
        del self._resend[:taken]
        while (len(batch) < CONSTANTS.MAX_TX_PER_BATCH and self._queue and not self._resend
               and not (batch and batch[0].alone)):
            tx = self._queue.popleft()
            if not tx.future.done():  # its submitter gave up before it was signed
                batch.append(tx)
        return batch

    async def _dispatch(self, txs: List[_PendingTx]):
        if not txs:
            return
        await self._ensure_signer()
        socket = await self._transaction_socket()
        await self._room_to_send(txs)
        if self._failed or self._nonce_stale:
            # A failure was reported meanwhile: these wait for its recovery, in their place.
            self._resend.extend(txs)
            return
        unsigned = [tx for tx in txs if tx.nonce < 0 or tx.skip_gap]
        if unsigned:
            for tx, error in await self._on_signer_thread(self._sign_batch, unsigned):
                self._give_up([tx], LighterTransactionError(f"The signer refused the transaction: "
                                                            f"{self._scrub(error)}"))
        signed = [tx for tx in txs if tx.nonce >= 0]
        if not signed:
            return
        for tx in signed:
            tx.sends += 1
        seq = next(self._frame_seqs)
        if socket is not None and self._socket is socket:
            await self._send_frame(socket, signed, seq)
        else:
            self._conclude(signed, seq, *(await self._send_rest(signed)))

    async def _room_to_send(self, txs: List[_PendingTx]):
        """Waits until the rate budget has room for a frame, so that nothing is signed (given a nonce) only to wait;
        what reaches its maximum age meanwhile fails unsent."""
        room = self._rate_room()
        while txs and not room.within_capacity():
            now = time.monotonic()
            for tx in [tx for tx in txs if tx.nonce < 0 and tx.max_age is not None
                       and now - tx.queued_at >= tx.max_age]:
                txs.remove(tx)
                self._fail([tx], self._too_old(tx))
            await asyncio.sleep(RATE_ROOM_POLL_INTERVAL)

    def _expire_waiting(self, tx: _PendingTx):
        """At its maximum age, a transaction still queued unsigned fails unsent if the rate budget has no room for it.
        The age bounds only that wait: one held behind an earlier transaction's recovery is not failed for it (one
        failure never fails another transaction); it is checked again when its batch waits for room."""
        if tx.future.done() or tx.nonce >= 0 or self._rate_room().within_capacity():
            return
        # One look at the budget serves every transaction as old: each of a burst paid for its own (~0.6 ms, and a
        # removal from the queue), so that the last of 500 failed a second after its maximum age.
        now = time.monotonic()

        def expired(waiting: _PendingTx) -> bool:
            return waiting.nonce < 0 and waiting.max_age is not None and now - waiting.queued_at >= waiting.max_age

        old = [waiting for waiting in itertools.chain(self._queue, self._resend) if expired(waiting)]
        if not old:
            return
        kept = [waiting for waiting in self._queue if not expired(waiting)]
        self._queue.clear()
        self._queue.extend(kept)
        self._resend = [waiting for waiting in self._resend if not expired(waiting)]
        for waiting in old:
            self._fail([waiting], self._too_old(waiting))

    def _rate_room(self):
        room = self._api_factory.throttler.execute_task(limit_id=CONSTANTS.SEND_TX_BATCH_PATH)
        room.flush()
        return room

    @staticmethod
    def _too_old(tx: _PendingTx) -> LighterTransactionError:
        return LighterTransactionError(
            f"Not sent (rate limit): the order was still waiting for room in the rate budget "
            f"{time.monotonic() - tx.queued_at:.1f} s after it was placed, its maximum age (max_order_age_seconds "
            f"{tx.max_age:g}).")

    # --- recovery -------------------------------------------------------------------------------------------------

    async def _recover(self):
        """Waits until no frame is in the air, then decides every failed frame (DECISIONS), in the order they left.
        /nextNonce is read only where an outcome depends on it; otherwise the next nonce follows from the decisions."""
        await self._flights_landed()
        failed, self._failed = sorted(self._failed, key=lambda group: group.seq), []
        held = list(self._resend)
        try:
            await self._decide(failed)
        except asyncio.CancelledError:
            raise
        except Exception:
            self._undecided(failed, held)

    async def _decide(self, failed: List[_Failed]):
        actions = [DECISIONS[group.kind][position > 0] for position, group in enumerate(failed)]
        self.logger().debug("Lighter recovery: " + "; ".join(
            f"frame {group.seq} {group.kind.value}, nonces {[tx.nonce for tx in group.txs]}, in doubt "
            f"{[tx.nonce for tx in group.txs if tx.in_doubt]}, sends {max(tx.sends for tx in group.txs)}"
            f"{'' if group.error.code is None else f', code {group.error.code}'}"
            for group in failed) + f"; accepted below {self._accepted_floor}")
        for position, group in enumerate(failed):
            if position == 0 or group.kind not in (TxErrorKind.NONCE, TxErrorKind.NOT_SENT):
                for tx in group.txs:
                    tx.strikes += 1
        head = failed[0].txs[0]
        if actions[0] is Action.NONCE_USED:
            # Not in doubt: the frame was refused at the API, which consumes no nonce, and a batch's nonces are
            # consecutive, so only its first can be out of step: nothing of the frame executed.
            actions[0] = Action.SEND_AGAIN if head.in_doubt else Action.SIGN_AGAIN
        executed_below = self._accepted_floor
        try:
            if failed[0].kind is TxErrorKind.NONCE and head.in_doubt:
                executed_below = await self._executed_past(head.nonce)
            elif any(action is Action.EXECUTED_OR_FAIL and len(group.txs) > 1
                     for action, group in zip(actions, failed)):
                # Which of a refused batch executed before the refused one: /nextNonce once it stops moving.
                executed_below = await self._settled_nonce(EXECUTION_SETTLE)
        except asyncio.CancelledError:
            for group in failed:
                self._give_up(group.txs, LighterTransactionError("The connector stopped before Lighter answered."))
            raise
        except LighterTransactionError as e:
            for group in failed:
                for tx in group.txs:
                    # Part of a refused batch may have executed: without the nonce it cannot be told.
                    tx.in_doubt = tx.in_doubt or group.kind is TxErrorKind.REFUSED
                self._give_up(group.txs, LighterTransactionError(f"{group.error}; {e}", group.error.code))
            self._fail_waiting(self._not_sent(e))
            return
        # Signed transactions not sent yet follow the failed ones at their nonces.
        waiting = [tx for tx in self._resend if tx.nonce >= 0]
        self._resend = [tx for tx in self._resend if tx.nonce < 0]
        plan = [(action, group.txs, group.error) for action, group in zip(actions, failed)]
        if waiting:
            plan.append((Action.SEND_AGAIN, waiting, LighterTransactionError("Not sent")))
        pause = self._carry_out(plan, executed_below, nonce_known=actions[0] is not Action.SIGN_AGAIN)
        self.logger().debug(
            f"Lighter recovery: executed below {executed_below}; sent again at their nonces "
            f"{[tx.nonce for tx in self._resend if tx.nonce >= 0 and not tx.skip_gap]}, signed again at them "
            f"{[tx.nonce for tx in self._resend if tx.skip_gap]} (SkipTxNonce at "
            f"{[tx.nonce for tx in self._resend if tx.passes_gap]}), {sum(tx.nonce < 0 for tx in self._resend)} to "
            f"sign; "
            f"next nonce {'to re-read' if self._nonce_stale else self._nonce_manager.nonce[self._api_key_index] + 1}")
        if pause:
            await asyncio.sleep(pause)

    def _carry_out(self, plan: List[Tuple[Action, List[_PendingTx], LighterTransactionError]], executed_below: int,
                   nonce_known: bool) -> float:
        """Carries out the decisions in nonce order; returns the pause to take before sending again. Until a nonce is
        freed, what is sent again keeps its nonce; after it, it is signed again from the freed nonce on."""
        next_nonce: Optional[int] = None
        freed = False
        pause = 0.0
        for action, txs, error in plan:
            executed = [tx for tx in txs if tx.nonce < executed_below]
            rest = [tx for tx in txs if tx.nonce >= executed_below]
            # A nonce passed by /nextNonce or by an accepted transaction was executed, unless a transaction signed
            # with SkipTxNonce above it may have passed over it: it then only can no longer execute. Whether it did is
            # for whoever tracks it to look up (an order is looked up by its client order index).
            passed = [tx for tx in executed
                      if any(tx.nonce < skip < executed_below for skip in self._skip_nonces)]
            for tx in passed:
                tx.in_doubt = True
            self._give_up(passed, LighterTransactionError(
                "its nonce was passed over, so it can no longer execute, but whether it did is not known"))
            self._resolve_in_slices([(tx, tx.tx_hash) for tx in executed if tx not in passed])
            if action is Action.FAIL or (action is Action.EXECUTED_OR_FAIL and len(rest) == 1):
                refused, again = rest, []
            elif action is Action.EXECUTED_OR_FAIL and not executed:
                # Which one the exchange refused is unknown (a batch may be atomic): each leaves again alone.
                refused, again = [], rest
                for tx in rest:
                    tx.alone = True
                if not freed:
                    freed, next_nonce = True, rest[0].nonce
            elif action is Action.SIGN_AGAIN:
                refused, again = [], rest
                freed = True
            elif action is Action.EXECUTED_OR_FAIL:
                refused, again = rest[:1], rest[1:]  # executed up to the refused one; those after it never ran
            else:
                refused, again = [], rest
            again, spent = ([tx for tx in again if tx.strikes < MAX_STRIKES],
                            [tx for tx in again if tx.strikes >= MAX_STRIKES])
            for tx in refused + spent:
                if not freed:
                    freed, next_nonce = True, tx.nonce
                # A transaction in doubt leaves its nonce's use unknown: the next nonce must be read.
                nonce_known = nonce_known and not tx.in_doubt
            self._give_up(refused + spent, error)
            for tx in again:
                if not freed:
                    next_nonce = tx.nonce + 1
                elif tx.in_doubt:
                    # Its earlier send may still execute, at its nonce only: signed again at that same nonce, skipping
                    # the freed ones, so that at most one of the two ever executes.
                    tx.skip_gap = True
                else:
                    tx.nonce = -1
                self._resend.append(tx)
            if again and action is not Action.EXECUTED_OR_FAIL:
                strikes = max(tx.strikes for tx in again)
                if action is Action.BACK_OFF:
                    pause = max(pause, BUSY_BACKOFF[min(strikes, len(BUSY_BACKOFF)) - 1])
                elif strikes > 1:
                    pause = max(pause, BUSY_BACKOFF[min(strikes - 1, len(BUSY_BACKOFF)) - 1])
        kept = [tx.nonce for tx in self._resend if tx.skip_gap]
        if kept and next_nonce is not None:
            # What is signed again at a new nonce follows those signed again at their own.
            next_nonce = max(next_nonce, max(kept) + 1)
        leaving = {tx.nonce for tx in self._resend if tx.nonce >= 0}
        for tx in self._resend:
            if tx.skip_gap:
                # Only the first of a run signed again at their own nonces passes the freed nonce below it with
                # SkipTxNonce; the rest follow it in order. Were each signed with it, one refused in the run would be
                # passed over by those after it, which would then execute without it.
                tx.passes_gap = executed_below <= tx.nonce - 1 and tx.nonce - 1 not in leaving
            elif tx.nonce < 0:
                tx.passes_gap = False
        if not nonce_known:
            self._nonce_stale, self._stale_settle = True, EXECUTION_SETTLE
        elif next_nonce is not None:
            # Not _set_next_nonce: what is sent again at its nonce has not been accepted yet.
            self._nonce_manager.nonce[self._api_key_index] = next_nonce - 1
            self._nonce_stale = False
        return pause

    async def _resync(self):
        try:
            await self._ensure_signer()
            self._set_next_nonce(await self._settled_nonce(self._stale_settle))
        except LighterKeyError as e:
            self._fail_waiting(e)
            return
        except LighterTransactionError as e:
            self._fail_waiting(self._not_sent(e))
            return
        # What is sent again at its nonce leaves first; new transactions are signed after it.
        kept = [tx.nonce for tx in self._resend if tx.nonce >= 0]
        next_nonce = self._nonce_manager.nonce[self._api_key_index] + 1
        unknown, self._unknown_nonce = self._unknown_nonce, None
        if kept:
            self._nonce_manager.nonce[self._api_key_index] = max(next_nonce - 1, max(kept))
        elif unknown is not None and unknown >= next_nonce:
            # The next transaction takes the nonce of the highest one reported unknown: either that one executed and
            # this one meets a nonce error (and is signed again), or none of them can execute any more, which is what
            # decides their orders. Nonces below it that were freed would otherwise have to be used up one transaction
            # at a time first; SkipTxNonce passes them (nothing of this client waits at them).
            self._nonce_manager.nonce[self._api_key_index] = unknown - 1
            self._skip_at = unknown if unknown > next_nonce else None
        self.logger().debug(f"Lighter nonce re-read: next {next_nonce}; sent again at their nonces {kept}; highest "
                            f"nonce reported unknown {unknown}; next transaction at "
                            f"{self._nonce_manager.nonce[self._api_key_index] + 1}"
                            f"{' with SkipTxNonce' if self._skip_at is not None else ''}")

    def _fail_waiting(self, error: LighterTransactionError):
        """Ends the transactions waiting to be sent: the key is unusable, or the nonce unreadable for long."""
        waiting = self._resend + list(self._queue)
        self._resend = []
        self._queue.clear()
        self._give_up(waiting, error)
        self._nonce_stale = True

    def _give_up(self, txs: List[_PendingTx], error: LighterTransactionError):
        """Fails what never executed; what may have (in doubt) is reported unknown instead."""
        for tx in txs:
            if tx.in_doubt:
                if tx.nonce >= 0:
                    self._unknown_nonce = max(tx.nonce, -1 if self._unknown_nonce is None else self._unknown_nonce)
                self.logger().debug(f"Lighter transaction at nonce {tx.nonce} reported unknown after {tx.sends} "
                                    f"sends: {error}")
                self._fail([tx], LighterOutcomeUnknown.of(tx, f"Unknown whether Lighter executed the transaction: "
                                                              f"{error}"))
            else:
                self._fail([tx], error)

    @staticmethod
    def _not_sent(error: LighterTransactionError) -> LighterTransactionError:
        reason = str(error)
        return LighterTransactionError(f"Not sent: {reason[0].upper()}{reason[1:]}")

    async def _executed_past(self, nonce: int) -> int:
        """/nextNonce once it shows `nonce` executed, watched for NONCE_USED_PATIENCE s; else what was accepted."""
        deadline = time.monotonic() + NONCE_USED_PATIENCE
        while True:
            try:
                value = await self.fetch_next_nonce()
                if value > nonce:
                    return max(value, self._accepted_floor)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.logger().debug(f"Lighter nonce read failed ({e.__class__.__name__}); asking again.")
            if time.monotonic() >= deadline:
                return self._accepted_floor
            await asyncio.sleep(NONCE_POLL_INTERVAL)

    async def _settled_nonce(self, settle: float) -> int:
        """Reads /nextNonce until it can be trusted: it covers every accepted transaction and has not moved for
        `settle` seconds (a transaction the exchange accepted shows there only once executed)."""
        started = time.monotonic()
        value, since = None, started
        while True:
            nonce = await self._read_nonce()
            now = time.monotonic()
            if nonce != value:
                value, since = nonce, now
            if (value >= self._accepted_floor and now - since >= settle) or now - started >= SETTLE_LIMIT:
                return max(value, self._accepted_floor)
            await asyncio.sleep(NONCE_POLL_INTERVAL)

    async def _read_nonce(self) -> int:
        """/nextNonce, asked again after a pause while it fails (429, connection error, timeout)."""
        started = time.monotonic()
        for pause in itertools.chain(NONCE_READ_BACKOFF, itertools.repeat(NONCE_READ_BACKOFF[-1])):
            try:
                return await self.fetch_next_nonce()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                failure = e.__class__.__name__
                if time.monotonic() - started + pause > NONCE_READ_PATIENCE:
                    break
                self.logger().debug(f"Lighter nonce read failed ({failure}); asking again in {pause} s.")
                await asyncio.sleep(pause)
        raise LighterTransactionError(f"the Lighter nonce could not be re-read for {NONCE_READ_PATIENCE:.0f} s "
                                      f"({failure})")

    def _set_next_nonce(self, next_nonce: int):
        self._skip_at = None
        self._nonce_manager.nonce[self._api_key_index] = next_nonce - 1
        self._accepted_floor = max(self._accepted_floor, next_nonce)
        self._nonce_stale = False

    # --- answers ----------------------------------------------------------------------------------------------

    def _resolve_in_slices(self, results: List[Tuple[_PendingTx, str]]):
        """Each accepted order wakes Hummingbot's order tracking (~0.1 ms): a batch wakes them a few per loop
        iteration, so the loop never stalls behind a whole batch."""
        for tx, tx_hash in results[:CONSTANTS.ORDERS_PER_LOOP_ITERATION]:
            self._resolve(tx, tx_hash)
        if len(results) > CONSTANTS.ORDERS_PER_LOOP_ITERATION:
            asyncio.get_running_loop().call_soon(self._resolve_in_slices,
                                                 results[CONSTANTS.ORDERS_PER_LOOP_ITERATION:])

    @staticmethod
    def _resolve(tx: _PendingTx, tx_hash: str):
        if not tx.future.done():
            tx.future.set_result(tx_hash)

    @staticmethod
    def _fail(txs: List[_PendingTx], error: Exception):
        for tx in txs:
            if not tx.future.done():
                tx.future.set_exception(error)

    def _conclude(self, txs: List[_PendingTx], seq: int, code: Optional[int], message: str, hashes: List[str]):
        """Applies the exchange's answer (code None: no usable answer) to the transactions of one frame. A frame
        not accepted is decided once no frame is in the air any more (see _recover)."""
        if code == CONSTANTS.CODE_OK:
            self._resolve_in_slices([(tx, hashes[index] if index < len(hashes) and hashes[index] else tx.tx_hash)
                                     for index, tx in enumerate(txs)])
            self._accepted_floor = max(self._accepted_floor, txs[-1].nonce + 1)
            return
        kind = classify(code, message)
        if kind is TxErrorKind.UNANSWERED:
            for tx in txs:
                tx.in_doubt = True
            error = LighterTransactionError(message)
        else:
            error_class = LighterKeyError if kind is TxErrorKind.KEY else LighterTransactionError
            error = error_class(f"Lighter rejected the transaction: {message} (code {code})", code)
        self._failed.append(_Failed(txs=txs, seq=seq, kind=kind, error=error))
        self._wakeup.set()

    async def fetch_next_nonce(self) -> int:
        rest = await self._api_factory.get_rest_assistant()
        response = await rest.execute_request(
            url=web_utils.public_rest_url(CONSTANTS.NEXT_NONCE_PATH, self._domain),
            params={"account_index": self._account_index, "api_key_index": self._api_key_index},
            throttler_limit_id=CONSTANTS.NEXT_NONCE_PATH, timeout=SEND_TIMEOUT)
        return int(response["nonce"])

    def _sign_batch(self, txs: List[_PendingTx]) -> List[Tuple[_PendingTx, str]]:
        """Runs on the worker thread. Nonces are drawn one by one so a transaction the signer refuses gives its
        nonce back and the rest stay consecutive."""
        refused = []
        for tx in txs:
            if tx.skip_gap:
                nonce = tx.nonce
            else:
                _, nonce = self._nonce_manager.next_nonce(self._api_key_index)
            skip_nonce = int(tx.passes_gap if tx.skip_gap else nonce == self._skip_at)
            if skip_nonce:
                self._skip_nonces.add(nonce)
            tx_type, tx_info, tx_hash, error = tx.sign(self._signer, nonce, self._api_key_index, skip_nonce)
            if error:
                if not tx.skip_gap:
                    self._nonce_manager.acknowledge_failure(self._api_key_index)
                refused.append((tx, error))
            else:
                tx.nonce, tx.tx_type, tx.tx_info, tx.tx_hash = nonce, tx_type, tx_info, tx_hash
                tx.skip_gap, tx.passes_gap = False, bool(skip_nonce)
        return refused

    # --- transport: WebSocket -----------------------------------------------------------------------------------

    async def _transaction_socket(self) -> Optional[WSAssistant]:
        """The open transaction socket; None while REST carries transactions."""
        if self._socket is not None or time.monotonic() < self._socket_retry_at:
            return self._socket
        socket = await self._api_factory.get_ws_assistant()
        try:
            await asyncio.wait_for(socket.connect(ws_url=web_utils.wss_url(self._domain),
                                                  ping_timeout=CONSTANTS.WS_HEARTBEAT_INTERVAL), SEND_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self._socket_retry_at = time.monotonic() + SOCKET_RETRY_INTERVAL
            self.logger().warning(f"Lighter transactions go over REST for now: their WebSocket could not be opened "
                                  f"({e.__class__.__name__}).")
            return None
        self._socket = socket
        self._socket_reader = asyncio.get_running_loop().create_task(self._read_answers(socket))
        return socket

    @staticmethod
    def _send_fields(txs: List[_PendingTx]) -> Tuple[str, Dict[str, Any]]:
        """The sendTx (one transaction) or sendTxBatch path and fields, as REST and the WebSocket both take them."""
        if len(txs) == 1:
            return CONSTANTS.SEND_TX_PATH, {"tx_type": txs[0].tx_type, "tx_info": txs[0].tx_info}
        return CONSTANTS.SEND_TX_BATCH_PATH, {"tx_types": json.dumps([tx.tx_type for tx in txs]),
                                              "tx_infos": json.dumps([tx.tx_info for tx in txs])}

    async def _send_frame(self, socket: WSAssistant, txs: List[_PendingTx], seq: int):
        request_id = str(next(self._request_ids))
        path, fields = self._send_fields(txs)
        if path == CONSTANTS.SEND_TX_PATH:
            # A single transaction's tx_info travels as a JSON object on the WebSocket.
            fields["tx_info"] = json.loads(fields["tx_info"])
        kind = CONSTANTS.WS_SEND_TX if path == CONSTANTS.SEND_TX_PATH else CONSTANTS.WS_SEND_TX_BATCH
        payload = {"type": kind, "data": {"id": request_id, **fields}}
        async with self._api_factory.throttler.execute_task(limit_id=path):
            if self._socket is not socket:
                # Lost while this batch waited for the throttler: it never left.
                error = LighterTransactionError("The Lighter connection was lost before the transaction left")
                self._failed.append(_Failed(txs=txs, seq=seq, kind=TxErrorKind.NOT_SENT, error=error))
                self._wakeup.set()
                return
            self._flights[request_id] = _Flight(txs=txs, seq=seq, timer=asyncio.get_running_loop().call_later(
                SEND_TIMEOUT, self._stalled, request_id))
            try:
                await socket.send(WSJSONRequest(payload=payload))
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self._land(request_id, None, f"Sending to Lighter failed: {e.__class__.__name__}")

    def _stalled(self, request_id: str):
        """A frame got no answer in time: the socket is given up on, and REST carries transactions for a while."""
        self._socket_retry_at = time.monotonic() + STALLED_SOCKET_PAUSE
        self.logger().warning(f"Lighter did not answer a transaction within {SEND_TIMEOUT:.0f} s; transactions go "
                              f"over REST for {STALLED_SOCKET_PAUSE:.0f} s.")
        self._land(request_id, None, f"No answer from Lighter within {SEND_TIMEOUT:.0f} s")

    def _land(self, request_id: Optional[str], code: Optional[int], message: str, hashes: Optional[List[str]] = None):
        """Concludes a frame with its answer (code None: no answer)."""
        if request_id is None and self._flights:
            # The exchange answers one connection's frames in order: an answer without an id is the oldest frame's.
            request_id = next(iter(self._flights))
        flight = self._flights.pop(request_id, None)
        if flight is None:
            return
        flight.timer.cancel()
        self._conclude(flight.txs, flight.seq, code, message, hashes or [])
        if code is None:
            # A socket that lost one answer is not trusted with the others: they are concluded the same way.
            socket = self._abandon_socket(message)
            if socket is not None:
                task = asyncio.get_running_loop().create_task(socket.disconnect())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        self._wakeup.set()

    def _abandon_socket(self, reason: str) -> Optional[WSAssistant]:
        """Drops the transaction socket (returned, to disconnect) and concludes every frame in the air unanswered."""
        socket, reader = self._socket, self._socket_reader
        self._socket, self._socket_reader = None, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
        flights = list(self._flights.values())
        self._flights.clear()
        for flight in flights:
            flight.timer.cancel()
            self._conclude(flight.txs, flight.seq, None, reason, [])
        return socket

    async def _read_answers(self, socket: WSAssistant):
        reason = "The Lighter connection closed before it answered"
        try:
            async for response in socket.iter_messages():
                message = response.data
                if not isinstance(message, dict):
                    continue
                if await web_utils.answer_ping(socket, message):
                    continue
                answer = parsers.parse_tx_answer(message)
                if answer is None:
                    continue
                if self._socket is not socket:
                    break  # dropped meanwhile: its frames were concluded already
                if answer.request_id is None and answer.code != CONSTANTS.CODE_OK:
                    # An error that names no transaction may concern the connection: the nonce decides.
                    self._land(None, None, f"Lighter answered: {answer.message} (code {answer.code})")
                else:
                    self._land(answer.request_id, answer.code, answer.message, answer.tx_hashes)
                    # Answers that arrived together are taken one per loop iteration: each wakes up to 15 orders.
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            reason = f"The Lighter connection failed before it answered ({e.__class__.__name__})"
        if self._socket is socket:
            self._abandon_socket(reason)
            await socket.disconnect()

    # --- transport: REST ----------------------------------------------------------------------------------------

    async def _send_rest(self, txs: List[_PendingTx]) -> Tuple[Optional[int], str, List[str]]:
        """Returns (code, message, tx hashes); code is None when the outcome is unknown (no usable answer)."""
        path, data = self._send_fields(txs)
        rest = await self._api_factory.get_rest_assistant()
        try:
            response = await rest.execute_request_and_get_response(
                url=web_utils.public_rest_url(path, self._domain), throttler_limit_id=path, data=data,
                method=RESTMethod.POST, return_err=True, timeout=SEND_TIMEOUT)
            status = response.status
            body = await response.text()
        except asyncio.CancelledError:
            raise
        except asyncio.TimeoutError:
            return None, f"No answer from Lighter within {SEND_TIMEOUT:.0f} s", []
        except Exception as e:
            return None, f"Sending to Lighter failed: {e.__class__.__name__}", []
        if status == 429:
            return None, "Lighter rate limit hit (HTTP 429)", []
        if status >= 500:
            return None, f"Lighter server error (HTTP {status})", []
        try:
            answer = parsers.parse_tx_answer(json.loads(body))
        except ValueError:
            answer = None
        if answer is not None and answer.code is not None:
            return answer.code, answer.message, answer.tx_hashes
        if status >= 400:
            # Refused before anything was executed, without Lighter's usual {code, message}.
            return status, f"Lighter refused the request (HTTP {status})", []
        return None, f"Unexpected answer from Lighter (HTTP {status})", []
