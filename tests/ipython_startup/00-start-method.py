"""IPython start-up file used by the test run (never by students).

The test command copies this into a throw-away IPYTHONDIR, so every notebook kernel that nbval
starts runs it first. With COURSE_START_METHOD=spawn it makes ``spawn`` the default start method,
which is what Windows and macOS use: a notebook that only works under ``fork`` then fails.
"""
import multiprocessing as _mp
import os as _os

if _os.environ.get("COURSE_START_METHOD"):
    _mp.set_start_method(_os.environ["COURSE_START_METHOD"], force=True)
