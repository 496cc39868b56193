"""Tests of the local exchange emulators."""
