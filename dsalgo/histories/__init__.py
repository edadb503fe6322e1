"""Import and export of histories: Jepsen/Knossos logs and EDN in, Porcupine and ShiViz out.

Every reader returns the project's history table (``op_id, process, f, key, value,
result, t_invoke, t_complete, status``), so :func:`dsalgo.check.linearizable` checks a
history recorded from a real system exactly as it checks a simulated one.

Examples
--------
>>> from dsalgo import histories
>>> sorted(n for n in histories.__all__ if n.startswith(("read", "to_")))
['read_edn', 'read_jepsen_log', 'to_porcupine_json', 'to_shiviz']
"""

from .generate import max_concurrency, process_register_history, stretched_register_history
from .readers import HISTORY_COLUMNS, history_table, read_edn, read_jepsen_log
from .writers import to_porcupine_json, to_shiviz

__all__ = [
    "max_concurrency", "process_register_history", "stretched_register_history",
           "HISTORY_COLUMNS",
           "history_table",
           "read_edn",
           "read_jepsen_log",
           "to_porcupine_json",
           "to_shiviz",
]
