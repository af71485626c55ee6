"""How much of PyTorch's public API chainrule has: a table generated from torch's own namespaces.

    python tools/api_coverage.py            # writes docs/api-coverage.md (``make api-coverage``)
    python tools/api_coverage.py --check    # exits 1 when the committed table is out of date

Each public name of ``torch``, ``torch.Tensor``, ``torch.nn``, ``torch.nn.functional``,
``torch.optim``, ``torch.optim.lr_scheduler``, ``torch.linalg``, ``torch.special`` and the
torchvision parts a course needs is classified as *implemented* (chainrule has the same name
in the mirrored namespace), *out of scope* (a rule below matched; the reason is printed) or
*not yet*.
tests/test_api_coverage.py fails when a name the table calls implemented is missing.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import tempfile
import types
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "docs" / "api-coverage.md"

# (torch namespace, chainrule namespace): both given as import paths, with ".Tensor" for the class
NAMESPACES = [
    ("torch", "chainrule"),
    ("torch.Tensor", "chainrule.Tensor"),
    ("torch.nn", "chainrule.nn"),
    ("torch.nn.functional", "chainrule.nn.functional"),
    ("torch.nn.init", "chainrule.nn.init"),
    ("torch.optim", "chainrule.optim"),
    ("torch.optim.lr_scheduler", "chainrule.optim.lr_scheduler"),
    ("torch.linalg", "chainrule.linalg"),
    ("torch.special", "chainrule.special"),
    ("torch.autograd", "chainrule.autograd"),
    ("torch.func", "chainrule.func"),
    ("torch.utils.data", "chainrule.utils.data"),
    ("torch.distributions", "chainrule.distributions"),
    ("torch.profiler", "chainrule.profiler"),
]

# torchvision is not a dependency: the names a course uses (issue 14), listed here
TORCHVISION = {
    "torchvision.datasets": ("chainrule.vision.datasets", [
        "MNIST", "FashionMNIST", "CIFAR10", "FakeData", "ImageFolder", "DatasetFolder"]),
    "torchvision.transforms": ("chainrule.vision.transforms", [
        "Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip",
        "RandomVerticalFlip", "RandomRotation", "Resize", "CenterCrop", "Lambda",
        "RandomResizedCrop", "ToPILImage", "Pad"]),
    # the ResNet family and the image utilities pytorch/examples use (issue 14's list grown)
    "torchvision.models": ("chainrule.vision.models", [
        "ResNet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
        "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
        "wide_resnet101_2", "list_models", "get_model", "get_model_builder"]),
    "torchvision.utils": ("chainrule.vision.utils", ["make_grid", "save_image"]),
}

# Why a name is out of scope: the first rule whose pattern matches the name (re.search) wins.
OUT_OF_SCOPE = [
    (r"cuda|cudnn|^mps|_mps|xpu|mtia|^hip|miopen|mkldnn|xnnpack|vulkan|fbgemm|nnpack|_mkl|^mkl|"
     r"ipu$|hpu|privateuse|^is_vulkan|^metal|openmp|^backends$|^cpu$|^accelerator$",
     "accelerators and vendor kernels: chainrule computes on the CPU with NumPy"),
    (r"quant|^q_|qint|quint|^fake_|qscheme|per_tensor|per_channel|^int_repr$|_packed|^fused_moving_avg",
     "quantization"),
    (r"sparse|_coo|coo_|_csr|csr_|_csc|csc_|_bsr|bsr_|_bsc|bsc_|^to_dense$|^indices$|^values$|"
     r"^crow_indices|^ccol_indices|^row_indices|^col_indices|nnz|coalesce|^smm$|^sspaddmm$|^hspmm$|"
     r"^dense_dim$|^sparse_dim$|^saddmm$|^spmm$|^is_coalesced$|^layout$|^strided$|^_layout",
     "sparse tensors and layouts"),
    (r"complex|conj|^real$|^imag$|^polar$|view_as_real|view_as_complex|^resolve_neg|^is_neg$|"
     r"^chalf$|^cfloat$|^cdouble$|^angle$", "complex numbers"),
    (r"[Ss]torage|untyped|data_ptr|^pin_memory|is_pinned|share_memory|is_shared|record_stream|ipc_|"
     r"_cdata|^set_$|^nbytes$|^itemsize$|^is_set_to$|^resize_as_|^resize_$|^element_size$|"
     r"^storage_offset$|^as_strided|^from_file$|^frombuffer$", "storage and memory-sharing internals"),
    (r"^jit$|[Ss]cript|^trace|^compile|^compiler$|^export$|^fx$|dynamo|onnx|^package$|^library$|"
     r"^ops$|^classes$|OpOverload|^Sym|_sym|sym_|^guard|^cond$|^while_loop$|^vmap$|^Aggregation|"
     r"TorchFunction|torch_function|torch_dispatch|^Future$|^futures$|^wait$|^fork$|Type$|"
     r"^AliasDb$|^Argument|^Block$|^Graph|^Node$|^Value$|^Use$|^Code$|^CallStack$|^Capsule$|"
     r"^CompilationUnit$|^ConcreteModule|^DeepCopyMemoTable$|^DispatchKey|^ErrorReport$|"
     r"^ExcludeDispatchKeyGuard$|^ExecutionPlan$|^FileCheck$|^FunctionSchema$|^Gradient$|"
     r"^GraphExecutorState$|Logger|^OperatorInfo$|^PRIVATE_OPS$|^PyTorchFile|^StaticModule$|"
     r"^Tag$|^TracingState$|^Benchmark|^JITException$|^import_ir|^parse_|^merge_type|"
     r"^classproperty$|^get_file_path$|^prepare_multiprocessing|^thread_safe_generator$|^USE_|"
     r"_copy$|^BufferDict$|^hash_tensor$|^module_load$|^DataChunk$|DataPipe|datapipe|^graph$|"
     r"^graph_settings$|^runtime_validation|^argument_validation$|^non_deterministic$",
     "TorchScript, torch.compile, torch.fx and the dispatcher (graph capture is issue 19)"),
    (r"nested|^masked$|^rename|^refine_names$|^align_to$|^align_as$|^names$|^has_names$",
     "named and nested tensors"),
    (r"autocast|^amp$|GradScaler|float8|float4|^bits|uint1|uint2|uint3|uint4|uint5|uint6|uint7|"
     r"int1$|int2$|int3$|int4$|int5$|int6$|int7$|^e8m0|^get_autocast|^set_autocast|"
     r"^is_autocast|^clear_autocast|^cached", "mixed precision, autocast and sub-byte dtypes"),
    (r"Stream|Event|stream|synchronize|device_count|^get_device_module|^DeviceObjType|"
     r"^Use[A-Z]", "device streams and events"),
    (r"^distributed$|^multiprocessing$|^monitor$|^profiler$|^hub$|^testing$|^distributions$|"
     r"^special$|^fft$|^signal$|^quasirandom$|^overrides$|^types$|^torch_version$|^version$|"
     r"^return_types$|^serialization$|^storage$|^windows$|^cpp$|^utils$|^random$|^ao$|"
     r"^functional$|^func$|^autograd$|^nn$|^optim$|^linalg$|^cuda$",
     "a submodule: compared by its own section where in scope"),
    (r"^parametrize|^parametrizations|^spectral_norm|^weight_norm|^remove_.*norm|^utils$|"
     r"^modules$|^parallel$|^attention$|^intrinsic$|^qat$|^grad$|^common_types$|^Buffer$|"
     r"^factory_kwargs$|^lazy|^Lazy|^UninitializedParameter|^UninitializedBuffer|"
     r"^mha|^ScriptModule|^Container$", "torch.nn internals, lazy modules and reparametrizations"),
    (r"^batch_norm_|^native_|^_|^cudnn|^miopen|^embedding_renorm_|^group_norm$|^fbgemm|"
     r"^segment_reduce$|^sym|^is_grad_enabled$" r"|^mkldnn|^ctc_loss$|^CTCLoss$|^rnn_tanh|"
     r"^rnn_relu|^lstm|^gru|^quantized|^affine_grid_generator$|^constant_pad_nd$|^conv_tbc$|"
     r"^convolution$|^grid_sampler|_with_indices$|^norm_except_dim$|^frobenius_norm$|"
     r"^nuclear_norm$|^unsafe_|^choose_qparams|^is_distributed$|^dsmm$|^hsmm$|^is_maia$|"
     r"^is_meta$|^is_xla$|^grouped_mm$|^scaled_grouped_mm$|^scaled_mm$|^SwizzleType$|"
     r"^ScalingType$|^reinforce$|^volatile$|^enforce_grad_layout_policy$|^profiler|^Profiler|"
     r"^kineto_available$|^DeviceType$|^NestedIOFunction$", "ATen entry points behind torch's "
     "public wrappers, and internals"),
]
OUT_OF_SCOPE.append((r"^ExecutionTraceObserver$|^KinetoStepTracker$|^RecordScope$|^is_fbcode$|"
                     r"^register_optimizer_step_post_hook$|^Optimizer$",
                     "torch.profiler's Kineto and execution-trace machinery (and its import of "
                     "torch.optim.Optimizer)"))

# a name these match is implemented by another name or is not part of torch's public surface
NOT_PUBLIC = {"annotations", "builtins", "ctypes", "functools", "glob", "importlib", "inspect",
              "math", "os", "platform", "sys", "textwrap", "threading", "warnings", "typing",
              "Any", "Callable", "Optional", "Union", "TYPE_CHECKING", "overload", "deprecated",
              "defaultdict", "Iterable", "Iterator", "Sequence", "TypeVar", "ParamSpec",
              "Concatenate", "cast", "Literal", "NamedTuple"}


def _resolve(path):
    """The object at a dotted path, importing submodules on the way (``chainrule.linalg`` is an
    attribute of the package, ``torch.nn.functional`` a module)."""
    head, *rest = path.split(".")
    obj = importlib.import_module(head)
    for i, attr in enumerate(rest):
        if not hasattr(obj, attr):
            importlib.import_module(".".join([head, *rest[:i + 1]]))
        obj = getattr(obj, attr)
    return obj


def _public_names(obj, module_name):
    names = []
    for name in dir(obj):
        if name in NOT_PUBLIC:
            continue
        if name.startswith("__"):
            # the Tensor's operators are API; Python's object machinery is not
            if not isinstance(obj, type) or name in dir(object) or name in (
                    "__dict__", "__weakref__", "__module__", "__annotations__", "__slots__",
                    "__torch_function__", "__torch_dispatch__", "__deepcopy__", "__reduce_ex__",
                    "__setstate__", "__getstate__", "__cuda_array_interface__", "__slotnames__"):
                continue
        elif name.startswith("_"):
            continue
        value = getattr(obj, name, None)
        if isinstance(value, types.ModuleType):
            # submodules are compared in their own sections (and whether torch has imported a
            # lazy one yet would make the table depend on what ran before)
            continue
        defined_in = getattr(value, "__module__", None) or ""
        if callable(value) and defined_in.split(".")[0] in ("typing", "typing_extensions",
                                                              "functools", "weakref", "collections"):
            continue       # a helper torch imported (partial, wraps, TypedDict)
        if isinstance(value, (str, dict)) or (name in ("torch", "Tensor", "inf")
                                              and module_name != "torch"):
            continue       # documentation snippets and re-exports of torch's own names
        names.append(name)
    return names


# Names that exist but stand for less than torch's: what they are here
NOTES = {"bfloat16": "a name for autocast's dtype; no tensor takes it (NumPy has no bfloat16)"}


def classify(torch_path, cr_path):
    """[(name, status, reason)] for every public name of torch's namespace."""
    theirs, mine = _resolve(torch_path), _resolve(cr_path)
    rows = []
    for name in _public_names(theirs, torch_path):
        if hasattr(mine, name):
            rows.append((name, "implemented", NOTES.get(name, "")))
            continue
        reason = next((why for pattern, why in OUT_OF_SCOPE if re.search(pattern, name)), None)
        rows.append((name, "out of scope", reason) if reason else (name, "not yet", ""))
    return rows


def build():
    sections = [(t, c, classify(t, c)) for t, c in NAMESPACES]
    for t, (c, names) in TORCHVISION.items():
        mine = importlib.import_module(c)
        sections.append((t, c, [(n, "implemented" if hasattr(mine, n) else "not yet", "")
                                for n in names]))
    return sections


def render(sections):
    total = {"implemented": 0, "not yet": 0, "out of scope": 0}
    for _, _, rows in sections:
        for _, status, _ in rows:
            total[status] += 1
    lines = ["# PyTorch API coverage", "",
             "Generated by `make api-coverage` (tools/api_coverage.py) from torch's own namespaces;",
             "tests/test_api_coverage.py checks that every name marked implemented exists and that the",
             "table is current. *Out of scope* names carry the reason.", "",
             "| namespace | implemented | not yet | out of scope |", "|---|---|---|---|"]
    for t, c, rows in sections:
        count = {s: sum(r[1] == s for r in rows) for s in total}
        lines.append(f"| `{t}` → `{c}` | {count['implemented']} | {count['not yet']} | {count['out of scope']} |")
    lines.append(f"| **all** | **{total['implemented']}** | **{total['not yet']}** | **{total['out of scope']}** |")
    for t, c, rows in sections:
        lines += ["", f"## `{t}` → `{c}`", "", "| name | status | reason |", "|---|---|---|"]
        lines += [f"| `{n}` | {s} | {why} |" for n, s, why in rows]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed table is stale")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        if not TABLE.exists() or TABLE.read_text() != text:
            print(f"{TABLE} is out of date: run `make api-coverage`", file=sys.stderr)
            return 1
        return 0
    # atomic write: a half-written table never replaces the good one
    fd, tmp = tempfile.mkstemp(dir=TABLE.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, TABLE)
    print(text.split("\n## ")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
