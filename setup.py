from setuptools import setup

# The connector folders ship inside the installer package as its payload (perp_dex_connectors/connectors/<name>/),
# never as hummingbot.* packages: pip would otherwise write over Hummingbot's own lighter_perpetual file by file.
# `perp-dex-connectors install` then places them where Hummingbot's connector discovery looks.
CONNECTORS = ("lighter_perpetual", "extended_perpetual")

setup(
    packages=["perp_dex_connectors"] + [f"perp_dex_connectors.connectors.{name}" for name in CONNECTORS],
    package_dir={f"perp_dex_connectors.connectors.{name}": f"hummingbot/connector/derivative/{name}"
                 for name in CONNECTORS},
)
