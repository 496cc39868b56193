"""Tests of the Lighter exchange emulator."""
