"""Test package. It shadows the standard library's `test` on purpose: Hummingbot's test_support imports
`test.isolated_asyncio_wrapper_test_case`, which the Hummingbot sdist does not ship."""
