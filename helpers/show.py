"""Show a helper's source code inside a notebook, so students read every line they run."""

import inspect

from IPython.display import Markdown


def show_source(*objects):
    """Render the source of functions or classes as a highlighted code block.

    The notebooks import their worker functions from ``helpers`` (a process pool needs that),
    and this puts the code back in front of the reader. The output holds only the source text,
    so it is the same on every machine and nbval can compare it.
    """
    blocks = [inspect.getsource(obj).rstrip() for obj in objects]
    return Markdown("```python\n" + "\n\n\n".join(blocks) + "\n```")
