"""Hummingbot's network check during a soak run: the checks it made, those that failed, and the restarts they caused.

The connector runs on a Hummingbot clock, so Hummingbot's own loop (NetworkIterator) checks it every
`check_network_interval` seconds (10 s by default, each check bounded by `check_network_timeout`, 5 s): a check that
fails takes the status to NOT_CONNECTED (and, when the check answered NOT_CONNECTED, calls stop_network); the next
check that succeeds calls start_network, which stops every task of the connector and starts them again. That
start_network is a restart; the first one is the connector's start.

The watch wraps the connector's check_network, _make_network_check_request, start_network and stop_network on the
instance (Hummingbot's loop and clock look them up on the instance), so nothing of the connector changes. A failed
check is excused when the fault injection hit a request on the check's endpoint while the check ran (an exchange
answering 429, 500, or dropping the check's own request is not the connector's fault); a failed check with no such
fault happened while the exchange was reachable: the request waited in the connector (its rate budget, its event loop)
or failed on its own. A restart whose outage began with such a check is needless.
"""
import asyncio
import itertools
import time
from typing import List, Optional

from hummingbot.core.network_iterator import NetworkStatus
from soak.faults import Injector
from soak.venues import Venue


class NetworkWatch:
    def __init__(self, venue: Venue, connector, injector: Injector):
        self.venue, self.connector, self.injector = venue, connector, injector
        self.interval_s = connector.check_network_interval
        self.timeout_s = connector.check_network_timeout
        self.checks = 0
        self.failed = 0
        self.timed_out = 0  # Hummingbot's own timeout cancelled the check
        self.excused = 0  # failed checks whose own request met an injected fault
        self.disconnects = 0  # checks that took the status from CONNECTED to NOT_CONNECTED
        self.starts = 0
        self.needless: List[str] = []  # one sentence per disconnect that began while the exchange was reachable
        self._started_at = time.monotonic()
        self._failure: Optional[str] = None
        self.stopped = asyncio.Event()  # set once a stop_network with the status STOPPED (the clock's stop) ended
        self._wrap()

    @property
    def restarts(self) -> int:
        return max(0, self.starts - 1)

    def summary(self) -> str:
        return (f"network checks every {self.interval_s:g} s (timeout {self.timeout_s:g} s): {self.checks} made, "
                f"{self.failed} failed ({self.timed_out} timed out, {self.excused} on a request a fault hit); "
                f"{self.disconnects} disconnects, {self.restarts} restarts, {len(self.needless)} needless")

    def _wrap(self):
        connector = self.connector
        check, request, start, stop = (connector.check_network, connector._make_network_check_request,
                                       connector.start_network, connector.stop_network)

        async def checking() -> NetworkStatus:
            was = connector.network_status
            log = self.venue.ex.state.requests
            first, began = len(log), time.monotonic()
            self._failure = None
            status = None
            try:
                status = await check()
                return status
            except asyncio.CancelledError:
                # Hummingbot's wait_for cancels the check at its timeout; the clock's stop cancels it too.
                if time.monotonic() - began >= self.timeout_s - 0.05:
                    self.timed_out += 1
                    self._failure = self._failure or f"no answer within Hummingbot's {self.timeout_s:g} s"
                    status = NetworkStatus.NOT_CONNECTED
                raise
            except Exception as e:
                self._failure = f"{type(e).__name__}: {e}"
                status = NetworkStatus.NOT_CONNECTED
                raise
            finally:
                if status is not None:
                    self._record(was, status, list(itertools.islice(log, first, None)), time.monotonic() - began)

        async def requesting():
            began = time.monotonic()
            try:
                return await request()
            except asyncio.CancelledError:
                self._failure = f"the check's request had no answer after {time.monotonic() - began:.1f} s"
                raise
            except Exception as e:
                self._failure = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
                raise

        async def starting():
            self.starts += 1
            return await start()

        async def stopping():
            final = connector.network_status is NetworkStatus.STOPPED
            try:
                return await stop()
            finally:
                if final:
                    self.stopped.set()

        connector.check_network, connector._make_network_check_request = checking, requesting
        connector.start_network, connector.stop_network = starting, stopping

    def _record(self, was: NetworkStatus, status: NetworkStatus, seen: list, took_s: float):
        self.checks += 1
        if status is NetworkStatus.CONNECTED:
            return
        self.failed += 1
        own = [record for record in seen if self.venue.is_network_check_request(record, self.connector)]
        excused = any(id(record) in self.injector.faulted_requests for record in own)
        self.excused += excused
        if was is not NetworkStatus.CONNECTED:
            return  # the outage had already begun
        self.disconnects += 1
        if not excused:
            at = time.monotonic() - self._started_at
            reached = (f"{len(own)} check request(s) reached the exchange, none faulted" if own
                       else "no check request reached the exchange")
            self.needless.append(f"check at {at:.0f} s failed after {took_s:.1f} s ({self._failure or 'no reason'}); "
                                 f"{reached}")
