# Hummingbot's official image with the lighter_perpetual and extended_perpetual connectors installed.
#
# The connectors support Hummingbot 20260922 only: the PyPI release whose package reports VERSION "dev-2.18.0", i.e.
# the 2.18.0 release, which Hummingbot publishes on Docker Hub as hummingbot/hummingbot:version-2.18.0. A pinned
# release tag (never `latest`) keeps rebuilds on the Hummingbot these connectors were tested with. If the tag ever
# holds another Hummingbot, the installer below refuses it in one sentence and the build stops; pick another tag with
# `docker build --build-arg HUMMINGBOT_TAG=...` only together with a connector release that supports it.
ARG HUMMINGBOT_TAG=version-2.18.0
FROM hummingbot/hummingbot:${HUMMINGBOT_TAG}

LABEL org.opencontainers.image.title="hummingbot-lighter-extended" \
      org.opencontainers.image.description="Hummingbot with the lighter_perpetual and extended_perpetual connectors"

# Only what the installer needs: itself (standard library only) and the two connector folders. The copy stays in the
# image so `status` and `uninstall` can be run in a container later.
COPY perp_dex_connectors/ /opt/perp-dex-connectors/perp_dex_connectors/
COPY hummingbot/connector/derivative/lighter_perpetual/ \
     /opt/perp-dex-connectors/hummingbot/connector/derivative/lighter_perpetual/
COPY hummingbot/connector/derivative/extended_perpetual/ \
     /opt/perp-dex-connectors/hummingbot/connector/derivative/extended_perpetual/

# The same command as a manual install into this image: pip-installs lighter-sdk and x10-python-trading-starknet into
# the conda env, moves Hummingbot's own lighter_perpetual aside and copies both connectors into /home/hummingbot.
# `verify` then runs Hummingbot's own connector discovery, so an image in which the connectors do not load never
# gets built. pip keeps no cache in the layer.
WORKDIR /opt/perp-dex-connectors
RUN PIP_NO_CACHE_DIR=1 /opt/conda/envs/hummingbot/bin/python -m perp_dex_connectors install \
        --hummingbot-dir /home/hummingbot --python /opt/conda/envs/hummingbot/bin/python && \
    /opt/conda/envs/hummingbot/bin/python -m perp_dex_connectors verify \
        --hummingbot-dir /home/hummingbot --python /opt/conda/envs/hummingbot/bin/python

# Back to the base image's working directory: its CMD starts Hummingbot from there.
WORKDIR /home/hummingbot
