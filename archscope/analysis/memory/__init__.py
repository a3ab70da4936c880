"""The memory of training and inference, estimated on the meta device: per-layer parameter,
gradient, optimizer-state and saved-activation bytes, and the peaks of a step.

:mod:`.estimate` runs it; :mod:`.timeline` follows every storage; :mod:`.saved` observes what
autograd saves; :mod:`.optim` builds torch's optimizer; :mod:`.amp` re-enacts autocast;
:mod:`.view` is the table (``archscope memory``).
"""
