from .support import contest, register, round_  # noqa: F401
