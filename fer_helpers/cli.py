"""The ``fer`` command: data summary, train, evaluate, predict, report.

User mistakes (a bad path, a corrupt file, a broken model folder) print one line and exit 2;
Ctrl-C exits 130; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from .errors import FerError


def cmd_data_summary(args) -> int:
    from .data import load_dataset, summary_text

    ds = load_dataset(args.path, on_error="skip" if args.skip_bad else "raise")
    print(summary_text(ds))
    return 0


def cmd_train(args) -> int:
    from .pipeline import parse_overrides, resolve_params_file
    from .params import load_params
    from .training import fit

    params = load_params(resolve_params_file(args.params))  # a path, or a profile name like "smoke"
    overrides = parse_overrides(args.param)
    out = args.out or params.get("model_dir") or f"models/{params.get('run_name', 'default')}"
    data = args.data or params.get("data_dir")
    # Keras' per-batch bar (with time left) on a terminal; one line per epoch in a log file.
    verbose = 1 if sys.stdout.isatty() else 2
    fit(params, data_dir=data, out_dir=out, resume=args.resume, verbose=verbose, **overrides)
    print(f"model folder: {out}")
    return 0


def cmd_evaluate(args) -> int:
    from .evaluation import run_evaluate

    return run_evaluate(args.model_dir, args.data, args.split, args.out, args.tta, args.subset)


def cmd_predict(args) -> int:
    from .faces import run_predict

    return run_predict(args.inputs, args.model, args.json, args.annotate, not args.no_detect)


def cmd_report(args) -> int:
    from .pipeline import run_report_cli

    return run_report_cli(args.params, args.param or [], args.out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="inspect a data set").add_subparsers(dest="data_command", required=True)
    s = data.add_parser("summary", help="images per split and class, protocol exclusions, duplicates")
    s.add_argument("path", nargs="?", help="data folder or fer2013.csv (default: data/ferplus, ../shared/data/ferplus)")
    s.add_argument("--skip-bad", action="store_true", help="skip unreadable images and list them instead of stopping")
    s.set_defaults(func=cmd_data_summary)

    t = sub.add_parser("train", help="train a model into a model folder")
    t.add_argument("--params", default="notebooks/params/full.yaml", help="profile YAML (its 'training' section)")
    t.add_argument("--data", help="data folder (default: the profile's data_dir, then the defaults)")
    t.add_argument("--out", help="model folder to write (default: the profile's model_dir)")
    t.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    t.add_argument("-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"),
                   help="override a training parameter, e.g. -p epochs 5")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="metrics, reports and figures of a model folder")
    e.add_argument("model_dir")
    e.add_argument("--data", help="data folder (default: data/ferplus, ../shared/data/ferplus)")
    e.add_argument("--split", default="test", choices=["train", "valid", "test"])
    e.add_argument("--out", help="output folder (default: the model folder)")
    e.add_argument("--tta", action="store_true", help="also report horizontal-flip test-time augmentation")
    e.add_argument("--subset", type=int, help="evaluate a seeded random subset of this many images")
    e.set_defaults(func=cmd_evaluate)

    pr = sub.add_parser("predict", help="expressions of every face in photos")
    pr.add_argument("inputs", nargs="+", metavar="IMAGE_OR_DIR")
    pr.add_argument("--model", help="model folder (default: the shipped models/default)")
    pr.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pr.add_argument("--annotate", metavar="OUT", help="write copies with boxes and labels into OUT")
    pr.add_argument("--no-detect", action="store_true", help="treat each image as an already-cropped face")
    pr.set_defaults(func=cmd_predict)

    r = sub.add_parser("report", help="run the notebooks and render the HTML/PDF report and slides")
    r.add_argument("--params", default="notebooks/params/full.yaml", help="profile YAML")
    r.add_argument("-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"),
                   help="override a notebook parameter, e.g. -p train true")
    r.add_argument("--out", help="output folder (default: reports/<run_name>)")
    r.set_defaults(func=cmd_report)
    return parser


@contextlib.contextmanager
def _native_stderr_silenced():
    """Hide what native code writes straight to file descriptor 2 meanwhile.

    TensorFlow's C++ start-up notes (absl's "All log messages before ...", oneDNN's "custom
    operations are on") bypass Python and TF_CPP_MIN_LOG_LEVEL; a user asked for none of them.
    """
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _import_keras_quietly() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _native_stderr_silenced():
        import keras  # noqa: F401  (imports TensorFlow, whose notes are printed now)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in ("train", "evaluate", "predict", "report"):
            _import_keras_quietly()
        return args.func(args)
    except FerError as exc:
        print(f"fer: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
