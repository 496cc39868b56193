"""Local exchange emulators used to test the perpetual DEX connectors without network access."""
