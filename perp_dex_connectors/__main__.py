import sys

from perp_dex_connectors.installer import main

sys.exit(main())
