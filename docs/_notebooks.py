"""mkdocs hook: the lab notebooks' outputs as a notebook front end shows them.

mkdocs-jupyter executes the labs (docs/labs/, links to examples/notebooks/) through nbconvert's
ExecutePreprocessor, an nbclient ``NotebookClient``. A progress bar writes each update as its own
stream output, ending in a carriage return; Jupyter draws them over each other, but a page of the
stored outputs would show every update on its own line. ``coalesce_streams`` merges each cell's
streams and drops the text a carriage return overwrote, as the front end does; mkdocs-jupyter
offers no setting for it, so this hook makes it the default of the clients it creates.
"""

from __future__ import annotations

from typing import Any


def on_config(config: Any) -> Any:
    from nbclient import NotebookClient

    NotebookClient.coalesce_streams.default_value = True
    return config
