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
* ``calls``: every call the autograd probes run (generic inputs, hand cases, OpInfo and ModuleInfo
  samples, degenerate arguments such as ``p=0.0``), each with its inputs by key (``"self"``,
  ``"0"``..., keyword names, a module's ``"params"``/``"buffers"``).
* ``probe``: one call under autograd: its argument pattern, the tensors it saved (read from the
  autograd nodes it created and confirmed by writing into each and running backward, each
  position of a returned tuple alone too; or, for the verifier, seen by a ``saved_tensors_hooks``
  pack hook), what it returned (a tuple of what length), whether the result requires grad.
* ``patterns``: the argument patterns ("scalar", "tensors", "dim", "flags", "inplace") a call
  falls in, ``pattern_args`` / ``return_flags`` (the positions and keywords that decide it, from
  signatures and aten schemas), so that the analysis classifies calls as the sweep did.
* ``saving``: ``saves_output`` / ``output_not_saved`` (whether autograd holds on to a returned
  tensor), ``saves_inputs`` (which inputs, per pattern), ``saved_output_positions`` (per pattern,
  which positions of a returned tuple) and ``inplace_written_saved`` (whether an in-place op saved
  the tensor it wrote or a copy of its original), from the probes.
* ``saved_when``: ``saved_when`` (per pattern, which inputs must require grad for autograd to save
  each input, and the result: ``a * b`` saves ``b`` only for ``a``'s gradient), from each call of
  the sweep run again with one input at a time requiring grad.
* ``tuples``: ``tuple_returns`` (which calls return a tuple, and its length, per pattern).
* ``aliasing``: ``may_alias_input`` / ``no_input_alias`` (functionals and modules that may return
  their input, and when), from the probes.
* ``grad``: ``no_grad_output``, from the probes.
* ``shapes``: ``shape_preserving`` and ``keepdim_reductions``.
* ``tensor_only``: ``tensor_only_methods``.
* ``complex_traps``: in-place ops whose two forms part on a complex tensor (``abs_`` raises in
  place where ``abs`` returns real values; with grad, ``F.silu(inplace=True)`` runs where
  ``F.silu`` raises).
* ``layout``: ``layout_changing`` (in-place ops whose out-of-place form returns a contiguous tensor
  for a non-contiguous one: ``tril``, ``cumsum``, ``masked_fill``...).
* ``arity``: ``method_max_positional`` (the most positional arguments each Tensor method takes).
* ``table``: the whole table in order, the evidence file, the printed summary, the command line.
* ``verify``: the same facts measured again another way (``verify_optable.py --facts``).

The generator never runs on the fixer's path: ``outplace check``/``fix`` read the JSON only.
"""
