"""The course's benchmark suite: ``python -m benchmarks.run`` (``make bench``)."""
