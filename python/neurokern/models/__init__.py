"""Models: Sequential, functional Model(inputs, outputs), and the training engine they share (model.py)."""
from neurokern.models.model import Model
from neurokern.models.sequential import Sequential
from neurokern.models.functional import Functional
from neurokern.models.saving import load_model

__all__ = ["Model", "Sequential", "Functional", "load_model"]
