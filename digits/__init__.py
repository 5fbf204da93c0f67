"""digits: train, evaluate and use handwritten-digit classifiers on MNIST.

A plain library under the Streamlit app and the CLI; it never imports Streamlit, and imports
TensorFlow only where a function needs it.
"""

import os

# TensorFlow's C++ start-up chatter (CUDA probing, CPU feature notes) means nothing to our users.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
