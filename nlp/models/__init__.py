"""Training and evaluation of the learned sentiment and category models.

Imports scikit-learn, so it is only imported by the CLI and by retraining jobs, never
on the analysis path (which evaluates stored coefficients itself, see ``nlp.linear``).
"""
