"""``python -m service``: the service's commands (see ``service.entrypoints.cli``)."""

import sys

from service.entrypoints.cli import main

if __name__ == "__main__":
    sys.exit(main())
