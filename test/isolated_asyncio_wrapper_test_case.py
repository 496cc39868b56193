import asyncio
import unittest
from typing import Any, Awaitable, Optional


class IsolatedAsyncioWrapperTestCase(unittest.IsolatedAsyncioTestCase):
    """The base class Hummingbot's connector test_support expects (not shipped in the Hummingbot sdist).

    Each test runs on its own event loop (IsolatedAsyncioTestCase); synchronous test methods drive coroutines on
    that same loop through `run_async_with_timeout`, and the loop that was current before the class ran is restored.
    """

    main_event_loop: Optional[asyncio.AbstractEventLoop] = None

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        try:
            cls.main_event_loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:  # no loop in a non-main thread
            cls.main_event_loop = asyncio.new_event_loop()
            asyncio.set_event_loop(cls.main_event_loop)

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.main_event_loop is not None and not cls.main_event_loop.is_closed():
            asyncio.set_event_loop(cls.main_event_loop)
        cls.main_event_loop = None
        super().tearDownClass()

    @property
    def local_event_loop(self) -> asyncio.AbstractEventLoop:
        return self._asyncioRunner.get_loop()

    def run_async_with_timeout(self, coroutine: Awaitable, timeout: float = 1) -> Any:
        return self.local_event_loop.run_until_complete(asyncio.wait_for(coroutine, timeout))
