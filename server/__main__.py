"""`python -m swarm_lsp.server`: the same program as the `swarm-lsp` command."""

import sys

from swarm_lsp.server.cli import main

sys.exit(main())
