"""Analysis: what a trained model relies on.

``attribution`` (Captum: which cue, frame or flow, drives a decision),
``attention`` (read-outs of RCAM's gates and the BPM pyramids from a trace) and
``hazards`` (which synthetic trap, look-alike or moving background, caught a
model). Import the submodule you need; they may use the model, data and
training layers, never the course layer.
"""
