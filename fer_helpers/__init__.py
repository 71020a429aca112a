"""Facial expression recognition on FER2013 images with the 8-class FER+ labels.

The package holds the logic; the numbered notebooks in ``notebooks/`` tell the story.
"""

import os

# TensorFlow's C++ start-up chatter hides the lines a user needs; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
