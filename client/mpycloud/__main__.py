import sys

from mpycloud.cli import main

sys.exit(main())
