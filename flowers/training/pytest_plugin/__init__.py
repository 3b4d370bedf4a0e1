"""flowers-bench's pytest plugin: the benchmark cases' options, collection, fixtures, run record,
signals and terminal summary, loaded by ``benchmarks/conftest.py`` through ``pytest_plugins``.

It acts only in sessions that run these benchmarks: the package registers no ``pytest11`` entry
point, so another project's pytest run in the same environment never loads it
(``tests/test_failures.py`` checks that).  Like pytest-benchmark's plugin, one module per concern,
and the session's state in one object (:mod:`.state`):

* :mod:`.options`: the ``--`` options, parsed and checked when pytest starts (a bad one: one
  ``ERROR:`` line, exit 4, no case run); their help made from the profiles.
* :mod:`.collection`: one case per variant and seed, the speed group on demand, ``--shard K/N``.
* :mod:`.fixtures`: ``progress`` and ``case_inputs`` (the case's settings and its data, loaded once
  per session).
* :mod:`.record`: each case's entry, ``machine_info["flowers"]`` and the run record in the JSON.
* :mod:`.signals`: Ctrl-C and SIGTERM, a ``--benchmark-json`` file never truncated, a prompt exit.
* :mod:`.summary`: the table at the end of every run; pytest-benchmark's own table trimmed to what
  one round means, failed cases left out of its ranking.
* :mod:`.update_baseline`: ``--update-baseline FILE``, accepting a change on purpose: the selected
  variants rerun with FILE's seeds, their cases spliced into FILE.

A case uses :func:`.signals.measuring` around its measurement and reads the parsed options with
:func:`.state.options`.
"""

pytest_plugins = [
    f"flowers.training.pytest_plugin.{name}"
    for name in ("options", "collection", "fixtures", "record", "signals", "summary", "update_baseline")
]
