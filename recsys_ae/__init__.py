"""recsys_ae: autoencoders for collaborative filtering on explicit ratings.

The package behind the *recsys_ae* teaching book. It is small on purpose:

================  ==========================================================
module            holds
================  ==========================================================
``data``          file loaders, the dataset registry (pooch), the synthetic
                  Beauty-shaped stand-in
``preprocess``    validation, duplicates, filters (seed rule, k-core), the ID
                  index, splits, CSR rating matrices
``training``      batching rows of a CSR matrix, the masked loss
``autorec``       U-AutoRec and I-AutoRec (Sedhain et al. 2015) in Keras 3
``baselines``     global mean and user + item biases
``metrics``       RMSE, MAE, Recall@k, NDCG@k, RMSE by user activity
``experiment``    load → filter → split → fit → evaluate, shared by the CLI
                  and the book
``cli``           ``python -m recsys_ae``
================  ==========================================================

Importing the package does not import TensorFlow; ``recsys_ae.autorec`` does.
"""

import os as _os

# Keras 3 picks its backend from KERAS_BACKEND; this project uses TensorFlow (CPU).
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow prints start-up log lines unless both of these are set before import.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
