"""Facts about torch, measured from the installed torch and written to ``optable.json``.

Entry point: ``scripts/generate_optable.py`` (``torchfacts.table.main``).  One module per fact
family; see design.md §2, §3 and §6 for the facts this reproduces.

* ``common``: notes, running a call, describing inputs, storage identity.
* ``inputs``: small deterministic inputs and the generic argument patterns.
* ``schemas``: aten schemas and their alias annotations.
* ``inplace``: ``methods`` (every public ``torch.Tensor`` method ending in a single ``_``, with a
  kind, its out-of-place twin or an expression template, and a dtype class decided by running the
  in-place and the out-of-place form side by side, plus PyTorch's OpInfo samples for the value
  check), ``functions`` (public ``torch.*_`` functions whose aten schema writes their first
  argument), ``functional`` / ``modules_inplace`` (``inplace=`` parameters, from
  ``inspect.signature``).
* ``returns``: ``tensor_methods`` / ``torch_functions`` (a fresh tensor, an alias of an input, or no
  tensor, from aten alias annotations corrected by measurement and by a hand table for Python-level
  methods, each hand entry with its reason) and ``float_only``.
* ``saving``: ``saves_output`` / ``output_not_saved`` (whether autograd holds on to a returned
  tensor), measured by introspecting the autograd nodes a call creates and confirmed by writing into
  the output and running backward.
* ``table``: the whole table in order, the printed summary, the command line.

The generator never runs on the fixer's path: ``outplace check``/``fix`` read the JSON only.
"""
