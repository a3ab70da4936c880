"""The cost of training: one training step counted exactly, forward and backward.

:mod:`.step` runs a step on the meta device; :mod:`.graph` charges each backward op to the
module call whose forward created it, as grad-input or grad-weight work; :mod:`.count` returns
the :class:`~.count.TrainRecord`; :mod:`.view` the per-layer table (``flops --mode train``).
"""
