"""The placement table: an unanswered order POST is never a failure until a look-up proves the order absent."""
import unittest
from unittest.mock import patch

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_placements as placements
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_placements import (
    Placement,
    PlacementEvent,
    Placements,
)

GONE_PATHS = [
    (PlacementEvent.NO_ANSWER, Placement.UNKNOWN),
    (PlacementEvent.INCONCLUSIVE, Placement.UNKNOWN),  # a 429
    (PlacementEvent.ABSENT, Placement.MISSING),
    (PlacementEvent.INCONCLUSIVE, Placement.MISSING),  # a 5xx between the two 404s
    (PlacementEvent.ABSENT, Placement.GONE),
]


class PlacementTableTests(unittest.TestCase):
    def run_events(self, events):
        table = Placements()
        table.sent("HB1")
        return table, [table.on("HB1", event) for event, _ in events]

    def test_only_two_late_404s_prove_absence(self):
        table, states = self.run_events(GONE_PATHS)
        self.assertEqual([state for _, state in GONE_PATHS], states)
        self.assertIsNone(table.state("HB1"))

    def test_seen_wins_at_every_unresolved_step(self):
        for steps in range(4):
            table, _ = self.run_events(GONE_PATHS[:steps])
            self.assertTrue(table.unresolved("HB1"))
            self.assertEqual(Placement.FOUND, table.on("HB1", PlacementEvent.SEEN))

    def test_answers_and_final_states(self):
        self.assertEqual([Placement.ACCEPTED], self.run_events([(PlacementEvent.ANSWERED, None)])[1])
        self.assertEqual([Placement.REFUSED], self.run_events([(PlacementEvent.REFUSED, None)])[1])
        # The stream showed the order before its POST ended: what the POST says afterwards changes nothing.
        table, states = self.run_events([(PlacementEvent.SEEN, None), (PlacementEvent.REFUSED, None)])
        self.assertEqual([Placement.FOUND, Placement.FOUND], states)
        self.assertIsNone(table.state("HB1"))
        self.assertIsNone(table.on("HB2", PlacementEvent.SEEN))

    def test_a_404_within_the_grace_proves_nothing(self):
        table = Placements()
        table.sent("HB1")
        table.on("HB1", PlacementEvent.NO_ANSWER)
        with patch.object(placements.time, "monotonic", return_value=placements.time.monotonic() + 9.9):
            self.assertEqual(Placement.UNKNOWN, table.not_found("HB1"))
        self.assertEqual(["HB1"], table.looking_up())
        with patch.object(placements.time, "monotonic", return_value=placements.time.monotonic() + 10):
            self.assertEqual(Placement.MISSING, table.not_found("HB1"))
            self.assertEqual(Placement.GONE, table.not_found("HB1"))
        self.assertEqual([], table.looking_up())


if __name__ == "__main__":
    unittest.main()
