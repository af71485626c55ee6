"""``chainrule export RUN_DIR --format onnx [-o FILE]``: write the model of a trained run folder
as an ONNX file, to run without chainrule (ONNX Runtime, a browser, a phone).

The file takes a batch of *preprocessed* inputs named ``input`` (any batch size: axis 0 is
dynamic) and returns ``output`` (class scores, or the regression prediction on the
standardized target scale); the preprocessing x ↦ (x / scale − mean) / std and the run's
facts are stored in the model's metadata (``chainrule.preprocess``, ``chainrule.run``, JSON).
"""
from __future__ import annotations

import json
import os

from . import CLIError

FORMATS = ("onnx",)


def add_parser(sub):
    from .evaluate import add_model_options
    p = sub.add_parser("export", help="write a trained run's model as an ONNX file",
                       description="Write the model of a `chainrule train` run folder (with its "
                       "checkpoint's weights) as an ONNX file that runs without chainrule; its "
                       "input is a batch of preprocessed samples of any size.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--format", choices=FORMATS, default="onnx",
                   help="the file format (default: onnx)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where to write the model (default: RUN_DIR/model.onnx)")
    p.add_argument("--opset", type=int, default=17, metavar="N",
                   help="the ONNX opset version (default 17)")
    add_model_options(p)
    p.set_defaults(func=main)
    return p


def export_run(run_dir: str, output: str | None = None, opset: int = 17,
               trust_model_code: bool = False, which: str = "last") -> tuple[str, dict]:
    """Write the run's model to ``output`` (default ``RUN_DIR/model.onnx``); returns the path
    and a description {input: shape, output: shape, opset}. Failures are CLIErrors."""
    import numpy as np

    import chainrule as cr

    from .. import onnx as cr_onnx
    from .._extras import require
    from . import factories
    from .evaluate import load_run
    from .paths import check_output_file

    output = output or os.path.join(run_dir, "model.onnx")
    config, model, pre = load_run(run_dir, trust_model_code, which)
    check_output_file(output, "-o")
    shape = tuple(config["input_shape"])
    if factories.is_estimator(model):      # GLM, Perceptron: (N, features)
        shape = (int(np.prod(shape)),)
    onnx = require("onnx", "chainrule export --format onnx")
    newest = onnx.defs.onnx_opset_version()
    if not cr_onnx.MIN_OPSET <= opset <= newest:
        raise CLIError(f"--opset {opset} is not valid; expected {cr_onnx.MIN_OPSET} … {newest} "
                       "(the installed onnx's newest)")
    try:
        proto = cr_onnx.to_model_proto(
            model, cr.zeros((1,) + shape), input_names=["input"], output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
            opset_version=opset)
    except (RuntimeError, ValueError) as e:     # no ONNX mapping, not capturable, bad opset
        raise CLIError(f"{run_dir}: {e}") from None
    facts = {k: config[k] for k in ("model", "dataset", "task", "num_outputs", "input_shape")
             if k in config}
    if "target_scale" in config:
        facts["target_scale"] = config["target_scale"]
    onnx.helper.set_model_props(proto, {"chainrule.preprocess": json.dumps(pre.to_dict()),
                                        "chainrule.run": json.dumps(facts)})
    from ..onnx._export import _write
    _write(output, proto.SerializeToString())
    out = proto.graph.output[0].type.tensor_type.shape
    return output, {"input": ["batch", *shape], "opset": opset,
                    "output": [d.dim_param or d.dim_value for d in out.dim]}


def main(args) -> int:
    """``chainrule export``: write the file and say what it takes and gives."""
    path, info = export_run(args.run_dir, args.output, args.opset, args.trust_model_code,
                            args.checkpoint)
    print(f"wrote {path} (ONNX opset {info['opset']}): input 'input' {info['input']} float32 "
          f"(preprocessed: see the metadata chainrule.preprocess), output 'output' "
          f"{info['output']}")
    return 0
