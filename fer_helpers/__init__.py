"""Facial expression recognition on FER2013 images with the 8-class FER+ labels.

The package holds the logic; the numbered notebooks in ``notebooks/`` tell the story.
"""

__version__ = "0.1.0"
