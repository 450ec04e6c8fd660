"""Helper package of the Concurrency in Python course.

Every function that a process pool runs in the notebooks lives here, in a module per lesson
topic: under the ``spawn`` start method (Windows, macOS) and ``forkserver`` (Linux from
Python 3.14) a worker process imports the function by module and name, which a function
defined in a notebook cell does not have.
"""
