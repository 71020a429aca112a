"""The CNNs: the seed project's baseline and our default, plus reading and writing model folders.

Both models take raw pixels (0-255, shape ``(48, 48, 1)``) and return 8 softmax probabilities in
``labels.FERPLUS_CLASSES`` order. Rescaling and training-time augmentation are layers of the
model (inactive at inference), so a saved ``model.keras`` is all a user needs. Only Keras 3
layers are used: the same code trains on the TensorFlow, JAX or PyTorch backend.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from .quiet import import_keras_quietly

import_keras_quietly()  # before Keras: TensorFlow's C++ start-up notes muted, also in a notebook's kernel (which echoes them)

import keras  # noqa: E402
from keras import layers  # noqa: E402

from .engine import read_classes  # labels.json, shared with the Keras-free predict path
from .errors import FerError
from .files import ensure_dir, save_model, write_json
from .labels import FERPLUS_CLASSES

INPUT_SHAPE = (48, 48, 1)
MODEL_FILE = "model.keras"
LABELS_FILE = "labels.json"


def augmentation(strength: str = "default", seed: int | None = None) -> list[layers.Layer]:
    """Training-time augmentation on 0-255 pixels; every layer is a no-op at inference.

    ``"seed"``: what the seed project used (small rotations, flips, brightness/contrast).
    ``"default"``: adds small shifts and zoom (faces are not perfectly centred in FER2013).
    ``"strong"``: adds what cameras and detectors do to a face that FER2013's crops rarely show:
    Gaussian blur and erased patches (occlusion); JPEG artefacts are added by the batches
    (``training.Batches``), since no Keras layer encodes JPEG. The robustness evaluation found
    blur and JPEG the shifts that cost the most.
    ``"none"``: nothing.
    """
    if strength == "none":
        return []
    if strength not in ("seed", "default", "strong"):
        raise FerError(f"augmentation must be 'none', 'seed', 'default' or 'strong', got {strength!r}")
    augs = [
        layers.RandomFlip("horizontal", seed=seed, name="aug_flip"),
        layers.RandomRotation(10 / 360, fill_mode="nearest", seed=seed, name="aug_rotate"),
        layers.RandomBrightness(0.2, value_range=(0, 255), seed=seed, name="aug_brightness"),
        layers.RandomContrast(0.3, value_range=(0, 255), seed=seed, name="aug_contrast"),
    ]
    if strength in ("default", "strong"):
        augs[2:2] = [
            layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed, name="aug_shift"),
            layers.RandomZoom(0.1, fill_mode="nearest", seed=seed, name="aug_zoom"),
        ]
    if strength == "strong":
        augs += [
            layers.RandomGaussianBlur(factor=(0.0, 1.0), kernel_size=5, sigma=(0.1, 1.5), value_range=(0, 255),
                                      seed=seed, name="aug_blur"),
            layers.RandomErasing(factor=0.25, scale=(0.02, 0.15), fill_value=None, value_range=(0, 255),
                                 seed=seed, name="aug_erase"),
        ]
    return augs


def _conv_bn_relu(x, filters: int, name: str):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def build_baseline(num_classes: int = 8, augment: str = "seed", seed: int | None = None,
                   dropout: float = 0.5) -> keras.Model:
    """The seed project's CNN as it describes itself: Conv-BN-ReLU-MaxPool blocks, dropout, dense softmax.

    ``dropout`` is the dense layer's rate; each conv block drops half of it (the seed's 0.25 at 0.5).
    """
    inputs = keras.Input(INPUT_SHAPE, name="pixels")
    x = inputs
    for layer in augmentation(augment, seed):
        x = layer(x)
    x = layers.Rescaling(1 / 255.0, name="rescale")(x)
    for i, filters in enumerate((32, 64, 128), start=1):
        x = _conv_bn_relu(x, filters, f"block{i}")
        x = layers.MaxPooling2D(name=f"block{i}_pool")(x)
        x = layers.Dropout(dropout / 2, name=f"block{i}_drop")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, activation="relu", name="fc")(x)
    x = layers.Dropout(dropout, name="fc_drop")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name="baseline")


def build_default(num_classes: int = 8, augment: str = "default", seed: int | None = None,
                  widths: tuple[int, ...] = (32, 64, 128, 256), dropout: float = 0.5) -> keras.Model:
    """Ours: a VGG-style stack (two 3x3 Conv-BN-ReLU per block, four blocks) sized for a CPU.

    VGG13 reached 85.1% on FER+ with 8.8M parameters at 64x64; the same shape at 48x48 with
    a quarter of the width keeps most of the accuracy at about 1/6 of the compute.
    ``dropout`` is the dense layer's rate; block ``i`` drops ``0.2 * dropout * min(i, 3)``
    (0.1, 0.2, 0.3, 0.3 at 0.5), so one number sets the whole network's regularisation.
    """
    inputs = keras.Input(INPUT_SHAPE, name="pixels")
    x = inputs
    for layer in augmentation(augment, seed):
        x = layer(x)
    x = layers.Rescaling(1 / 255.0, name="rescale")(x)
    for i, filters in enumerate(widths, start=1):
        x = _conv_bn_relu(x, filters, f"block{i}a")
        x = _conv_bn_relu(x, filters, f"block{i}b")
        x = layers.MaxPooling2D(name=f"block{i}_pool")(x)
        x = layers.Dropout(0.2 * dropout * min(i, 3), name=f"block{i}_drop")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(name="fc_bn")(x)
    x = layers.Activation("relu", name="fc_relu")(x)
    x = layers.Dropout(dropout, name="fc_drop")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name="default")


def build_wide(num_classes: int = 8, augment: str = "default", seed: int | None = None,
               dropout: float = 0.5) -> keras.Model:
    """The default network at 1.5 times its width: 3.5M parameters, within the 5M parameter budget,
    about 2.2 times the compute. For a GPU, or as a teacher to distil into the default."""
    model = build_default(num_classes, augment, seed, widths=(48, 96, 192, 384), dropout=dropout)
    model.name = "wide"
    return model


def build_narrow_stem(num_classes: int = 8, augment: str = "default", seed: int | None = None,
                      dropout: float = 0.5) -> keras.Model:
    """The default network with 16 channels instead of 32 in its first block, for training speed.

    That block (two convolutions at the full 48x48) does 19% of a training step's arithmetic but
    takes 44% of its time on a CPU: it is bound by memory traffic over its activations, not by
    arithmetic (``benchmarks/training_profile.py``). Halving its channels halves that traffic and
    keeps 99% of the parameters; whether it keeps the accuracy, only a full run on validation says.
    """
    model = build_default(num_classes, augment, seed, widths=(16, 64, 128, 256), dropout=dropout)
    model.name = "narrow_stem"
    return model


BUILDERS = {"baseline": build_baseline, "default": build_default, "wide": build_wide,
            "narrow_stem": build_narrow_stem}


def build(name: str = "default", num_classes: int = 8, **kwargs) -> keras.Model:
    """Build a model by name (``"default"``, ``"baseline"``, ``"wide"`` or ``"narrow_stem"``)."""
    if name not in BUILDERS:
        raise FerError(f"unknown model {name!r}; expected one of {', '.join(BUILDERS)}")
    return BUILDERS[name](num_classes=num_classes, **kwargs)


def last_conv_layer_name(model: keras.Model) -> str:
    """Name of the last convolution: Grad-CAM's default layer."""
    convs = [l.name for l in model.layers if isinstance(l, layers.Conv2D)]
    if not convs:
        raise FerError(f"model {model.name!r} has no Conv2D layer")
    return convs[-1]


def save_model_dir(model: keras.Model, folder: str | os.PathLike, classes=FERPLUS_CLASSES) -> Path:
    """Write ``model.keras`` and ``labels.json`` into ``folder`` (created).

    Each file atomically: a kill mid-save leaves the previous model loadable, not a truncated zip.
    """
    folder = ensure_dir(folder, "model folder")
    save_model(model, folder / MODEL_FILE)
    write_json(folder / LABELS_FILE, list(classes))
    return folder


def load_model_dir(folder: str | os.PathLike) -> tuple[keras.Model, list[str]]:
    """Load a model folder: ``(model, classes)``; a clear ``FerError`` when it is missing or broken."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FerError(f"model folder not found: {folder}")
    path = folder / MODEL_FILE
    if not path.is_file():
        raise FerError(f"{path}: missing (a model folder holds {MODEL_FILE} and {LABELS_FILE})")
    classes = read_classes(folder)
    # Keras reports a truncated .keras file (a copy or download cut short) as "File not found";
    # a .keras file is a zip archive, whose index sits at its very end, so check that first.
    if not os.access(path, os.R_OK):
        raise FerError(f"{path}: not readable (permission denied)")
    if not zipfile.is_zipfile(path):
        raise FerError(f"{path}: cannot load model: damaged or incomplete .keras file "
                       "(not a complete zip archive; copy or download it again)")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # keras raises many types for a damaged file
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        raise FerError(f"{path}: cannot load model: damaged, incomplete or incompatible .keras file "
                       f"({exc.__class__.__name__}: {detail})") from None
    if model.output_shape[-1] != len(classes):
        raise FerError(f"{folder}: model has {model.output_shape[-1]} outputs but {LABELS_FILE} lists {len(classes)} classes")
    return model, classes
