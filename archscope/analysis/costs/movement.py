"""Ops that only create, move, copy or reshape data: declared zero-cost by name.

They are listed rather than ignored, so an op that is neither here nor costed elsewhere is
reported as uncounted instead of silently skipped. Embedding lookups and index/gather ops are
here: they read rows, they do not compute. So is dropout (identity in eval mode; the fused
``native_dropout`` of training is costed in :mod:`.grads`) and nearest-neighbour resampling (a
copy).
"""

from __future__ import annotations

ZERO_COST = sorted(set("""
view view_as _unsafe_view reshape reshape_as _reshape_alias flatten unflatten squeeze unsqueeze permute
transpose t movedim swapaxes swapdims expand expand_as contiguous clone detach detach_ alias
lift_fresh lift as_strided as_strided_ narrow select slice split split_with_sizes unsafe_split
tensor_split chunk unsafe_chunk unbind diagonal tril triu cat concat concatenate stack hstack vstack
constant_pad_nd pad reflection_pad1d reflection_pad2d reflection_pad3d replication_pad1d
replication_pad2d replication_pad3d circular_pad1d circular_pad2d _pad_circular roll flip
repeat tile repeat_interleave pixel_shuffle pixel_unshuffle channel_shuffle native_channel_shuffle
im2col col2im unfold index index_select gather take take_along_dim index_put index_put_ scatter
scatter_ masked_select masked_scatter nonzero embedding embedding_bag _embedding_bag
copy_ _to_copy to type_as fill_ fill zero_ empty empty_like empty_strided new_empty
new_empty_strided zeros zeros_like new_zeros ones ones_like new_ones full full_like new_full
arange linspace scalar_tensor tensor meshgrid resolve_conj resolve_neg _local_scalar_dense item
dropout dropout_ feature_dropout feature_dropout_ alpha_dropout
upsample_nearest1d upsample_nearest2d upsample_nearest3d _upsample_nearest_exact1d
_upsample_nearest_exact2d _upsample_nearest_exact3d
size sym_size Int ScalarImplicit NumToTensor dim numel len __getitem__ stride is_contiguous
is_floating_point result_type _shape_as_tensor _assert_async _assert_tensor_metadata
""".split()))
