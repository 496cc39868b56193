"""The soak's short version (`make soak` runs the long one): 40 randomized orders per exchange through the connector
against its emulator, with the fault kinds each connector already survives, and every invariant must hold."""
import asyncio
import unittest

from soak.checks import INVARIANTS
from soak.faults import INJECTORS, uncovered_switches
from soak.run import run_once

ORDERS = 40
SEED = 1
# Per workload step: high enough that a 40-order run meets each kind a few times.
RATE = 0.15
QUIESCE_TIMEOUT_S = 20
# Hummingbot checks the network every 10 s; a short run checks every 2 s so that several checks meet the faults. The
# REST faults spare the check's own endpoint here, so a restart can only be the connector's (`python -m soak` faults
# it too and tells the restarts those faults caused from the needless ones).
CHECK_INTERVAL_S = 2
# The kinds each connector survives today within the short wait; `python -m soak` turns every kind on.
HANDLED = {
    "lighter_perpetual": ("tx_429", "tx_500", "tx_lost", "tx_slow", "tx_23000", "tx_23000_disconnect", "tx_21506",
                          "tx_answer_lost", "nonce_error", "rest_429", "rest_500", "rest_dropped_5s", "ws_close",
                          "book_update_skipped", "answers_without_id", "nonce_error_as_400_text",
                          "rest_index_delay_2s", "error_frames_as_objects", "next_nonce_lag_350ms", "tx_held_11s"),
    "extended_perpetual": ("post_held_12s", "post_answer_lost_11s", "post_dropped", "rest_429", "rest_503",
                           "rest_slow_3s", "stream_close", "book_gap", "rest_latency_300ms", "stream_latency_500ms",
                           "trade_rows_without_client_id", "word_error_codes"),
}


class ShortSoakTest(unittest.TestCase):
    def soak(self, exchange: str):
        rates = {name: RATE for name in HANDLED[exchange]}
        result = asyncio.run(run_once(exchange, SEED, ORDERS, rates, QUIESCE_TIMEOUT_S,
                                      check_interval=CHECK_INTERVAL_S, spare_network_check=True))
        broken = {name: result.mismatches[name] for name in INVARIANTS if result.mismatches[name]}
        self.assertEqual({}, broken, result.examples)
        self.assertTrue(result.healed)
        # Hummingbot's network check ran (the connector runs on its clock) and never restarted the connector.
        self.assertGreater(result.checks, 3)
        self.assertEqual(0, result.restarts, result.network)
        self.assertEqual(ORDERS, result.orders)
        self.assertGreater(result.fills, 0)
        self.assertGreater(sum(result.injected[name] for name in HANDLED[exchange]), 0)
        return result

    def test_lighter_perpetual(self):
        self.soak("lighter_perpetual")

    def test_extended_perpetual(self):
        self.soak("extended_perpetual")

    def test_every_emulator_fault_switch_is_a_soak_fault_kind(self):
        for exchange in INJECTORS:
            with self.subTest(exchange):
                self.assertEqual([], uncovered_switches(exchange),
                                 "add a fault kind using these switches to soak/faults.py")


if __name__ == "__main__":
    unittest.main()
