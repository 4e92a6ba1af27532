"""mkdocs hook: the lab notebooks' outputs as a notebook front end shows them.

mkdocs-jupyter executes the labs (docs/labs/, links to examples/notebooks/) through nbconvert's
ExecutePreprocessor, an nbclient ``NotebookClient``. A progress bar writes each update as its own
stream output, ending in a carriage return; Jupyter draws them over each other, but a page of the
stored outputs would show every update on its own line. nbclient's ``coalesce_streams`` merges
each cell's streams and drops the text a carriage return overwrote, as the front end does. It is
not a configurable trait (nbconvert's configuration files cannot set it) and mkdocs-jupyter has
no setting for it, so this hook makes it the default of the ExecutePreprocessors nbconvert
creates during this build.
"""

from __future__ import annotations

from typing import Any


def on_config(config: Any) -> Any:
    from nbconvert.preprocessors import ExecutePreprocessor

    init = ExecutePreprocessor.__init__
    if not getattr(init, "_cnnzoo_coalesces", False):

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("coalesce_streams", True)
            init(self, *args, **kwargs)

        __init__._cnnzoo_coalesces = True  # type: ignore[attr-defined]
        ExecutePreprocessor.__init__ = __init__  # type: ignore[method-assign]
    return config
