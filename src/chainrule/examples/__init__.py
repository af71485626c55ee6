"""Small runnable examples (``python -m chainrule.examples.xor``)."""
