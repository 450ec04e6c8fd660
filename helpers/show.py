"""Show a helper's source code, or a file such as a job script, inside a notebook, so students
read every line they run."""

import inspect
from pathlib import Path

from IPython.display import Markdown


def show_source(*objects):
    """Render the source of functions or classes as a highlighted code block.

    The notebooks import their worker functions from ``helpers`` (a process pool needs that),
    and this puts the code back in front of the reader. The output holds only the source text,
    so it is the same on every machine and nbval can compare it.
    """
    blocks = [inspect.getsource(obj).rstrip() for obj in objects]
    return Markdown("```python\n" + "\n\n\n".join(blocks) + "\n```")


def show_file(path, language=None):
    """Render a text file (a job script, a settings file) as a highlighted code block under its
    name, so students read the very file the lesson talks about. The name is given from the
    repository's root (``hpc/bootstrap_array.sbatch``), never as a path of this machine; where the
    course was installed as a package only (Colab), the file is not there, and this says so."""
    path = Path(path)
    root = Path(__file__).resolve().parents[1]
    try:
        name = path.resolve().relative_to(root).as_posix()
    except ValueError:
        name = "/".join(part for part in path.parts if part not in ("..", "."))
    if not path.is_file():
        return Markdown(f"`{name}` is a file of the course's repository, which this installation does not "
                        "have: read it there.")
    language = language or {".sh": "bash", ".sbatch": "bash", ".py": "python"}.get(path.suffix, "")
    return Markdown(f"`{name}`:\n\n```{language}\n{path.read_text(encoding='utf-8').rstrip()}\n```")
