import unittest


class ConformanceSuiteImportTest(unittest.TestCase):
    def test_hummingbot_perpetual_conformance_suite_imports(self):
        # Hummingbot's test_support imports test.isolated_asyncio_wrapper_test_case, which this project provides.
        from hummingbot.connector.test_support.perpetual_derivative_test import AbstractPerpetualDerivativeTests
        from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase

        suite = AbstractPerpetualDerivativeTests.PerpetualDerivativeTests
        self.assertTrue(issubclass(suite, IsolatedAsyncioWrapperTestCase))
        self.assertIn("test_create_buy_limit_order_successfully", dir(suite))
        self.assertTrue(suite.__abstractmethods__)


class IsolatedAsyncioWrapperTestCaseTest(unittest.TestCase):
    def test_runs_coroutines_on_the_test_loop_and_enforces_the_timeout(self):
        import asyncio

        from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase

        outcomes = {}

        class Probe(IsolatedAsyncioWrapperTestCase):
            def test_probe(self):
                async def current_loop():
                    return asyncio.get_running_loop()
                outcomes["same_loop"] = self.run_async_with_timeout(current_loop()) is self.local_event_loop
                with self.assertRaises(asyncio.TimeoutError):
                    self.run_async_with_timeout(asyncio.sleep(1), timeout=0.01)
                outcomes["timed_out"] = True

        result = unittest.TestResult()
        Probe("test_probe").run(result)
        self.assertEqual([], result.errors + result.failures)
        self.assertEqual({"same_loop": True, "timed_out": True}, outcomes)


if __name__ == "__main__":
    unittest.main()
