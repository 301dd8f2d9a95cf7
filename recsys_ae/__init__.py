"""recsys_ae: autoencoders for collaborative filtering on explicit ratings.

The package behind the *recsys_ae* teaching book. It is small on purpose:

==================  ========================================================
module              holds
==================  ========================================================
``data``            file loaders, the dataset registry (pooch), the synthetic
                    Beauty-shaped stand-in
``preprocess``      validation, duplicates, filters (one-pass, k-core), the ID
                    index, splits, CSR rating matrices
``base``            the model contract: ``Recommender`` (fit, recommend) and
                    ``RatingPredictor`` (predict, cold-start fallback, clipping)
``configs``         every model's config dataclass and named presets
``registry``        model name -> class, config, presets; ``make_model``
``autorec``         U-AutoRec and I-AutoRec (Sedhain et al. 2015) in Keras 3
``sparse``          AutoRec's sparse backend (computes at observed ratings only)
``training``        batching rows of a CSR matrix, the masked loss
``baselines``       global mean and user + item biases
``mf``              biased matrix factorization (ALS)
``topn``            popularity, EASE, top-N evaluation
``multvae``         Mult-DAE and Mult-VAE (Liang et al. 2018) in Keras 3
``protocol``        strong generalisation: held-out users, fold-in, Recall@k,
                    NDCG@k (Liang et al. 2018)
``metrics``         RMSE, MAE, ``evaluate`` (the one scoring rule), Recall@k,
                    NDCG@k, RMSE by user activity
``persist``         save and load a fitted AutoRec
``experiment``      load -> filter -> split -> fit -> evaluate (the CLI's run)
``tuning``          the validation search behind the tuned presets
``results``         the evaluation results table (``results`` command)
``plots``           every figure, one function each
``cli``             ``python -m recsys_ae``
``chapters``        the book's own layer (which data a page runs on, chapter
                    experiments, table rendering, recorded numbers); the
                    library never imports it
==================  ========================================================

Importing the package does not import TensorFlow; ``recsys_ae.autorec`` does.
"""

import os as _os

# Keras 3 picks its backend from KERAS_BACKEND; this project uses TensorFlow (CPU).
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow prints start-up log lines unless both of these are set before import.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
