import sys

from fastloss._cli.main import main

sys.exit(main())
