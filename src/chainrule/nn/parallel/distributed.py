"""``torch.nn.parallel.DistributedDataParallel`` over ``chainrule.distributed`` (MPI).

Each rank holds a full replica of the model and computes the loss of its own shard of the
global batch. With R ranks and the loss of rank r the mean over its B samples,

    L = (1/R) Σᵣ Lᵣ = (1/(R·B)) Σᵣ Σ_{i∈shard r} ℓᵢ      (the mean loss of the global batch)
    ∇θ L = (1/R) Σᵣ ∇θ Lᵣ                                 (differentiation is linear)

so averaging the ranks' gradients with one all-reduce gives every rank the gradient of the
global-batch loss, and identical optimizer steps keep the replicas identical.

The all-reduce overlaps backward: the parameters are grouped into buckets of about
``bucket_cap_mb`` megabytes (by default 25 MB, the first 1 MB so that communication starts
early) in reverse
registration order — roughly the order backward produces their gradients. Each parameter has a
post-accumulate-grad hook (``Tensor.register_post_accumulate_grad_hook``); when every gradient
of a bucket is in, the bucket is flattened into one buffer and its non-blocking all-reduce
starts while backward goes on through the earlier layers. A callback queued on the engine
(``Variable._execution_engine.queue_callback``) waits for all buckets at the end of the backward
pass and writes the averaged gradients back into ``.grad``, before ``backward()`` returns.
Buckets start in index order on every rank, as MPI requires collectives in the same order.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..._graph import AccumulateGrad
from ..._modes import STATE
from ...autograd.variable import Variable
from ...tensor import Tensor
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024     # torch's dist._DEFAULT_FIRST_BUCKET_BYTES
_DEFAULT_BUCKET_CAP_MB = 25


def _dist():
    # chainrule.distributed sits above nn (it leaves the process); imported when first needed
    from ... import distributed
    return distributed


def _flatten(tensors):
    return np.concatenate([t._data.reshape(-1) for t in tensors])


def _broadcast_coalesced(tensors, group):
    """Overwrite ``tensors`` with rank 0's values (of ``group``), one broadcast per dtype."""
    dist = _dist()
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype, []).append(t)
    for ts in by_dtype.values():
        flat = Tensor._make(_flatten(ts))
        dist.broadcast(flat, group=group, group_src=0)
        offset = 0
        for t in ts:
            n = t._data.size
            t._data[...] = flat._data[offset:offset + n].reshape(t._data.shape)
            t._version_box[0] += 1
            offset += n


class _Bucket:
    """Parameters whose gradients are all-reduced together, as one flat buffer."""

    def __init__(self, index, params, indices):
        self.index, self.params, self.indices = index, params, indices
        self.offsets, offset = [], 0
        for p in params:
            self.offsets.append(offset)
            offset += p._data.size
        self.buffer = Tensor._make(np.zeros(offset, params[0]._data.dtype))
        self.pending = len(params)
        self.work = None

    def nbytes(self):
        return self.buffer._data.nbytes


class DistributedDataParallel(Module):
    r"""Data parallelism over ranks: wrap a model so that ``backward()`` leaves on every rank
    the gradient averaged over all ranks (``torch.nn.parallel.DistributedDataParallel``).

    .. math:: \bar g = \frac{1}{R}\sum_{r=0}^{R-1} \nabla_\theta L_r

    which is the gradient of the global batch's mean loss when each rank's loss is the mean over
    an equal share of it. Call ``init_process_group`` first; every rank builds the same model.

    At wrap time the parameters and buffers of rank 0 are broadcast to all ranks (so ranks
    need not seed alike). In training, each ``forward`` under grad mode arms the reducer:
    during the following backward each bucket of gradients (``bucket_cap_mb`` MB each, the
    first 1 MB, in reverse registration order) is all-reduced as soon as all of its gradients
    are accumulated, overlapping the rest of backward, and all are waited for before
    ``backward()`` returns.

    Args:
        module: the model (its parameters on every rank have equal shapes, checked here).
        device_ids, output_device: must be None (CPU only), as torch's for CPU modules.
        dim: accepted for torch's signature (the batch is split by the user / sampler).
        broadcast_buffers: copy rank 0's buffers (BatchNorm running statistics) to all ranks at
            the start of each forward (default True, as torch).
        init_sync: broadcast rank 0's parameters and buffers at wrap time (default True).
        process_group: the group to average over (default: the world).
        bucket_cap_mb: bucket size in MB (default 25 with a first bucket of 1 MB, as torch).
        find_unused_parameters: after each forward, find the parameters the output does not
            depend on and count them as ready (with zero gradient) so that the buckets can
            complete; a parameter unused on every rank keeps ``grad`` None.
        gradient_as_bucket_view, static_graph, check_reduction: accepted for torch's signature;
            gradients are copied into and out of the buckets either way (same values).

    Attributes:
        module: the wrapped model; ``state_dict()`` keys carry the prefix ``module.`` as torch's.

    Shapes: whatever ``module`` takes and returns.

    Example::

        dist.init_process_group("mpi")
        model = DistributedDataParallel(MLP(...))
        loss = F.cross_entropy(model(x_shard), y_shard)
        loss.backward()                      # .grad is the mean over ranks here
        optimizer.step()
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a chainrule.nn.Module, "
                            f"got {type(module).__name__}")
        if device_ids is not None or output_device is not None:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters "
                "{device(type='cpu')}.")
        dist = _dist()
        self.module = module
        self.process_group = process_group
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.world_size = dist.get_world_size(process_group)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self._param_names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._verify_same_shapes(dist)
        if init_sync:
            _broadcast_coalesced(list(module.parameters()) + list(module.buffers()),
                                 process_group)
        cap = (_DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024
        self.bucket_bytes_cap = int(cap)
        # as torch: a small first bucket (so communication starts early) only by default
        first = _DEFAULT_FIRST_BUCKET_BYTES if bucket_cap_mb is None else int(cap)
        self._buckets = self._assign_buckets([min(first, int(cap)), int(cap)])
        self._bucket_of = {}
        for b in self._buckets:
            for i in b.indices:
                self._bucket_of[i] = b
        for i, p in enumerate(self._params):
            p.register_post_accumulate_grad_hook(self._make_hook(i))
        self._armed = False          # the last forward asked for a synchronised backward
        self._reset()

    # ------------------------------------------------------------------ set-up
    def _verify_same_shapes(self, dist):
        mine = [[n, list(p.shape), str(p.dtype)] for n, p in zip(self._param_names, self._params)]
        everyone = [None] * self.world_size
        dist.all_gather_object(everyone, mine, group=self.process_group)
        for r, theirs in enumerate(everyone):
            if theirs != mine:
                raise RuntimeError(
                    f"DistributedDataParallel: the module's parameters differ between ranks "
                    f"(this rank: {len(mine)} parameters, rank {r}: {len(theirs)}); every rank "
                    "must build the same model")

    def _assign_buckets(self, limits):
        """torch's compute_bucket_assignment_by_size: reverse registration order, one open
        bucket per dtype, closed once it reaches its limit (the first limit, then the next)."""
        buckets, open_, limit_index = [], {}, {}
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            key = p._data.dtype
            entry = open_.setdefault(key, [[], [], 0])
            entry[0].append(p)
            entry[1].append(i)
            entry[2] += p._data.nbytes
            li = limit_index.get(key, 0)
            if entry[2] >= limits[li]:
                buckets.append(entry)
                del open_[key]
                limit_index[key] = min(li + 1, len(limits) - 1)
        buckets.extend(open_.values())
        return [_Bucket(k, ps, idx) for k, (ps, idx, _) in enumerate(buckets)]

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.world_size > 1:
            buffers = list(self.module.buffers())
            if buffers:
                _broadcast_coalesced(buffers, self.process_group)
        self._reset()
        self._armed = STATE.grad_enabled and self.require_backward_grad_sync
        out = self.module(*inputs, **kwargs)
        if self._armed and self.find_unused_parameters:
            used = _leaves_reached(out)
            self._unused = [i for i, p in enumerate(self._params) if id(p) not in used]
        return out

    @contextmanager
    def no_sync(self):
        """Within this context the backward passes of forwards run here accumulate gradients
        locally without all-reduce; the first synchronised backward after it averages the
        accumulated sums (``DistributedDataParallel.no_sync``)::

            with ddp.no_sync():
                ddp(x1).sum().backward()     # local
            ddp(x2).sum().backward()         # all-reduces grad(x1) + grad(x2)
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ------------------------------------------------------------------ backward
    def _reset(self):
        self._ready = [False] * len(self._params)
        self._used = np.zeros(len(self._params), np.int32)
        self._unused = []
        self._next_bucket = 0
        self._in_backward = False
        for b in self._buckets:
            b.pending = len(b.params)
            b.work = None

    def _make_hook(self, i):
        def ddp_grad_ready(param):
            if self._armed:
                self._grad_ready(i)
        return ddp_grad_ready

    def _grad_ready(self, i):
        if not self._in_backward:
            self._in_backward = True
            Variable._execution_engine.queue_callback(self._finish_backward)
            for j in self._unused:
                self._mark_ready(j)
        self._used[i] = 1
        self._mark_ready(i)
        for b in self._buckets[:self._next_bucket]:   # MPI advances a request when polled
            if b.work is not None:
                b.work.is_completed()

    def _mark_ready(self, i):
        if self._ready[i]:
            raise RuntimeError(
                f"DistributedDataParallel: expected to mark a variable ready only once; "
                f"parameter {self._param_names[i]} got its gradient twice in one backward pass")
        self._ready[i] = True
        self._bucket_of[i].pending -= 1
        while (self._next_bucket < len(self._buckets)
               and self._buckets[self._next_bucket].pending == 0):
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1

    def _launch(self, bucket):
        flat = bucket.buffer._data
        for p, off in zip(bucket.params, bucket.offsets):
            n = p._data.size
            if p.grad is None:
                flat[off:off + n] = 0
            else:
                flat[off:off + n] = p.grad._data.reshape(-1)
        dist = _dist()
        bucket.work = dist.all_reduce(bucket.buffer, op=dist.ReduceOp.AVG,
                                      group=self.process_group, async_op=True)

    def _finish_backward(self):
        """End of the backward pass: wait for every bucket, write the averages into .grad."""
        self._armed = False
        missing = [self._param_names[i] for i, r in enumerate(self._ready) if not r]
        if missing:
            for b in self._buckets:
                if b.work is not None:
                    b.work.wait()
            self._reset()
            raise RuntimeError(
                "DistributedDataParallel: expected every parameter to receive a gradient in "
                "this backward pass, but these did not: " + ", ".join(missing) + ". The module "
                "has parameters that were not used in producing the loss; pass "
                "find_unused_parameters=True to DistributedDataParallel, or make sure every "
                "output of forward takes part in the loss.")
        global_used = None
        if self.find_unused_parameters:
            dist = _dist()
            used = Tensor._make(self._used.copy())
            dist.all_reduce(used, group=self.process_group)
            global_used = used._data
        for b in self._buckets:
            b.work.wait()
            flat = b.buffer._data
            for p, i, off in zip(b.params, b.indices, b.offsets):
                n = p._data.size
                values = flat[off:off + n].reshape(p._data.shape)
                if p.grad is not None:
                    p.grad._data[...] = values
                elif global_used is not None and global_used[i]:
                    p.grad = Tensor._make(values.astype(p._data.dtype, copy=True))
        self._reset()


def _leaves_reached(out):
    """ids of the leaf tensors the tensors in ``out`` (nested lists/tuples/dicts) depend on."""
    stack, tensors = [out], []
    while stack:
        o = stack.pop()
        if isinstance(o, Tensor):
            tensors.append(o)
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif isinstance(o, dict):
            stack.extend(o.values())
    found, seen = set(), set()
    nodes = []
    for t in tensors:
        if t.grad_fn is not None:
            nodes.append(t.grad_fn)
        elif t.requires_grad:
            found.add(id(t))
    while nodes:
        node = nodes.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, AccumulateGrad):
            found.add(id(node.variable))
            continue
        for nxt in node._next:
            if nxt is not None and nxt not in seen:
                nodes.append(nxt)
    return found
