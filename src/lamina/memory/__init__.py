"""Associative memories: the Hopfield network (Hebbian, pseudo-inverse, desaturation) and its modern form."""
__all__: list[str] = []
