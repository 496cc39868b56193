"""Installer for the lighter_perpetual and extended_perpetual Hummingbot connectors."""
