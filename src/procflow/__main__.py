"""`python -m procflow`: the command line.

Importing it allocates hundreds of thousands of objects that live as long as the process
and almost no garbage, so the cyclic collector only rescans them: it is off meanwhile.
"""

import gc

gc.disable()
from procflow.cli.main import app  # noqa: E402

gc.enable()
app()
