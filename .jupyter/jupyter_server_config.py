# The project's Jupyter server settings, read by a JupyterLab started as the README says
# (JUPYTER_CONFIG_PATH=$PWD/.jupyter jupyter lab).
#
# Each numbered notebook is a jupytext pair (jupytext.toml): notebooks/0N_name.py and
# notebooks/0N_name.ipynb, both committed, the .ipynb without outputs. jupytext writes the
# notebook model as it is into the .ipynb; this hook first takes out what running the kernel
# adds (outputs, execution counts, language_info, cell run times, the trusted and scrolled
# flags), so that saving an unedited notebook, autosave included, leaves both files byte for byte
# (tests/test_notebooks.py). Executed notebooks (reports/<run>/, runs/...) keep their outputs.
import re
import warnings

#: The paired notebooks, by their path from JupyterLab's root folder.
PAIRED_NOTEBOOK = re.compile(r"(^|/)notebooks/[0-9][0-9]_[^/]*\.ipynb$")
#: Notebook metadata kept: the kernel and jupytext's pairing (jupytext drops its version itself).
KEEP_NOTEBOOK_METADATA = ("kernelspec", "jupytext")
#: Cell metadata kept: what the .py keeps (jupytext.toml's cell_metadata_filter) and the layout
#: jupytext records in the .ipynb to write the .py back as it was.
KEEP_CELL_METADATA = ("tags", "slideshow", "cell_marker", "lines_to_next_cell", "lines_to_end_of_cell_marker")


def strip_paired_notebook(model, path, **kwargs):
    """Pre-save hook: a paired notebook's .ipynb as ``jupytext --sync`` writes it, no outputs."""
    if model.get("type") != "notebook" or not PAIRED_NOTEBOOK.search(path):
        return
    nb = model["content"]
    cells = []
    for cell in nb["cells"]:
        cell = {**cell, "metadata": {k: v for k, v in cell.get("metadata", {}).items() if k in KEEP_CELL_METADATA}}
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cells.append(cell)
    metadata = {k: v for k, v in nb.get("metadata", {}).items() if k in KEEP_NOTEBOOK_METADATA}
    model["content"] = {**nb, "metadata": metadata, "cells": cells}  # a copy: the .py is written from the original


# jupytext's server extension sets the contents manager's configuration twice, and the second
# time jupyter_server warns that this hook overrides itself: it does not.
warnings.filterwarnings("ignore", r"Overriding existing pre_save_hook \(strip_paired_notebook\)", UserWarning)

c = get_config()  # noqa: F821 (defined by the config loader)
c.ContentsManager.pre_save_hook = strip_paired_notebook
