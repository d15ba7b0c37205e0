"""Every write of the contests module, one function per operation (see docs/contests.md).

setup: contests, rounds, quotas, the question bank and its import — organisers' writes, audited.
taking: registration, starting an attempt, saving an answer, submitting — the contestants' hot path.
results: the official ranking, prizes, the prediction's true figure, publication.
fairplay: rate limits, flags and their review.
"""
