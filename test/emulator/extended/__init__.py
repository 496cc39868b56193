"""Tests of the Extended exchange emulator."""
