"""Inference: the fast predictor, running a model over a dataset, DenseCRF refinement.

``predictor`` (BN folding, one-time precision cast, pre-packed oneDNN
convolutions from ``onednn``), ``runner`` (``fsnet infer``: a dataset in,
8-bit probability maps out) and ``crf`` (the authors' DenseCRF step, an
optional extra). Import the submodule you need.
"""
