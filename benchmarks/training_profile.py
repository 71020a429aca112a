"""Where a training step's time goes, block by block, against what this CPU can compute at all.

    python benchmarks/training_profile.py [--model default] [--batch 128] [--repeats 20]

The study aimed at 400 training images/s before the model changes; ``benchmarks/throughput.py``
showed the augmentation is not the cost (19 ms of a 513 ms step). This splits the network without
its augmentation into its blocks (conv-BN-ReLU pairs with their pooling and dropout, then the
dense head), times each block's forward and backward pass on one batch in the precision ``fer
train`` uses, and prints each block's share of the time next to its share of the arithmetic. The
reference, measured in the same run, is a large matrix product in the same precision: about the
most floating-point work per second this CPU does, so it bounds what any layout or thread setting
can buy. A block whose share of the time is far above its share of the arithmetic is where the time
is lost (memory traffic, not arithmetic).
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np


def _median_ms(step, repeats: int) -> float:
    step()  # trace and let oneDNN pick its kernels
    step()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def blocks_of(model) -> list[tuple[str, list]]:
    """The network's layers after ``rescale``, grouped into blocks by name prefix (``block1``,
    ..., then the dense head): the default and wide networks are plain chains of them."""
    groups: dict[str, list] = {}
    seen_rescale = False
    for layer in model.layers:
        if layer.name == "rescale":
            seen_rescale = True
            continue
        if not seen_rescale:
            continue
        block = re.match(r"block\d+", layer.name)
        key = block.group() if block else "head"
        groups.setdefault(key, []).append(layer)
    return list(groups.items())


def forward_flops(layers, shape) -> float:
    """Multiply-adds x 2 of one image through ``layers`` (convolutions and dense layers only)."""
    import keras

    flops, h, w, c = 0.0, *shape
    for layer in layers:
        if isinstance(layer, keras.layers.Conv2D):
            k = layer.kernel_size[0] * layer.kernel_size[1]
            flops += 2 * h * w * k * c * layer.filters
            c = layer.filters
        elif isinstance(layer, keras.layers.MaxPooling2D):
            h, w = h // 2, w // 2
        elif isinstance(layer, keras.layers.Flatten):
            c, h, w = h * w * c, 1, 1
        elif isinstance(layer, keras.layers.Dense):
            flops += 2 * c * layer.units
            c = layer.units
    return flops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "mixed_bfloat16"])
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from fer_helpers.model import build
    from fer_helpers.training import precision_policy, resolve_precision

    precision = resolve_precision(args.precision)
    with precision_policy(precision):
        model = build(args.model, augment="none")
        rng = np.random.default_rng(0)
        rows = []
        shape = (48, 48, 1)
        for name, layers in blocks_of(model):
            inputs = keras.Input(shape)
            x = inputs
            for layer in layers:
                x = layer(x)
            part = keras.Model(inputs, x)
            batch = tf.constant(rng.random((args.batch, *shape), dtype="float32"))

            @tf.function
            def step(b, part=part):
                with tf.GradientTape() as tape:
                    tape.watch(b)
                    out = tf.cast(part(b, training=True), "float32")
                    loss = tf.reduce_mean(out * out)
                return tape.gradient(loss, [b, *part.trainable_variables])

            ms = _median_ms(lambda: step(batch), args.repeats)
            rows.append((name, part.count_params(), 3 * forward_flops(layers, shape) * args.batch, ms))
            shape = tuple(int(d) for d in x.shape[1:])

        # the whole bare network, one optimiser step, as fer train runs it
        model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")
        xs = rng.random((args.batch, 48, 48, 1), dtype="float32") * 255
        ys = np.eye(model.output_shape[-1], dtype="float32")[rng.integers(0, model.output_shape[-1], args.batch)]
        whole_ms = _median_ms(lambda: model.train_on_batch(xs, ys), args.repeats)

    dtype = "bfloat16" if "bfloat16" in precision else "float32"
    a = tf.cast(tf.constant(rng.random((2048, 2048), dtype="float32")), dtype)
    matmul = tf.function(lambda: tf.matmul(a, a))
    peak = 2 * 2048**3 / _median_ms(matmul, args.repeats) / 1e6

    total_ms = sum(r[3] for r in rows)
    total_flops = sum(r[2] for r in rows)
    print(f"network {args.model} without augmentation, batch {args.batch}, {precision}; "
          f"median of {args.repeats} steps")
    print(f"{'block':8} {'parameters':>10} {'GFLOP':>7} {'% work':>7} {'ms':>7} {'% time':>7} {'GFLOP/s':>8}")
    for name, params, flops, ms in rows:
        print(f"{name:8} {params:10,} {flops / 1e9:7.1f} {100 * flops / total_flops:7.1f} {ms:7.1f} "
              f"{100 * ms / total_ms:7.1f} {flops / ms / 1e6:8.0f}")
    print(f"{'sum':8} {model.count_params():10,} {total_flops / 1e9:7.1f} {100.0:7.1f} {total_ms:7.1f} "
          f"{100.0:7.1f} {total_flops / total_ms / 1e6:8.0f}")
    print(f"whole optimiser step: {whole_ms:.1f} ms = {1000 * args.batch / whole_ms:.0f} images/s")
    print(f"reference: a 2048x2048 matrix product in {dtype}: {peak:.0f} GFLOP/s; at that rate this "
          f"network's step would take {total_flops / peak / 1e6:.1f} ms "
          f"({args.batch * peak * 1e9 / total_flops:.0f} images/s)")
    print("GFLOP counts convolutions and dense layers, forward + backward taken as 3x forward")


if __name__ == "__main__":
    main()
