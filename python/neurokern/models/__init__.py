"""Models: Sequential (and the Model training engine it shares with future functional models)."""
from neurokern.models.model import Model
from neurokern.models.sequential import Sequential
from neurokern.models.saving import load_model

__all__ = ["Model", "Sequential", "load_model"]
