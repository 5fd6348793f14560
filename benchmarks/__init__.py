"""faceapp's benchmarks: ``python -m benchmarks`` (``make benchmark``).

Every figure is printed beside a reference measured in the same run, as a ratio, because
this machine's absolute speed drifts. Sections: reference (matmul), embedding, training,
verification, app. See ``python -m benchmarks --help`` and docs/benchmarks.md.
"""
