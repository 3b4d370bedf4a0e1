"""flowers-bench's pytest plugin: the benchmark cases' options, collection, fixtures, run record,
signals and terminal summary, loaded by ``benchmarks/conftest.py`` through ``pytest_plugins``.

It acts only in sessions that run these benchmarks: the package registers no ``pytest11`` entry
point, so another project's pytest run in the same environment never loads it
(``tests/test_failures.py`` checks that).  Like pytest-benchmark's plugin, one module per concern,
and the session's state in one object (:class:`.session.FlowersSession`):

* :mod:`.options`: the ``--`` options, each declared once with its parser, help and default; their
  help made from the profiles.
* :mod:`.session`: the session's state, made when pytest starts from the options, parsed and checked
  then (a bad one: one ``ERROR:`` line, exit 4, no case run).
* :mod:`.collection`: one case per variant and seed, the speed group on demand, ``--shard K/N``.
* :mod:`.fixtures`: ``progress`` and ``case_inputs`` (the case's settings and its data, loaded once
  per session).
* :mod:`.record`: each case's entry, ``machine_info["flowers"]`` and the run record in the JSON.
* :mod:`.signals`: Ctrl-C and SIGTERM, a ``--benchmark-json`` file never truncated, a prompt exit.
* :mod:`.summary`: the table at the end of every run; pytest-benchmark's own table trimmed to what
  one round means, failed cases left out of its ranking.
* :mod:`.update_baseline`: ``--update-baseline FILE``, accepting a change on purpose: the selected
  variants rerun with FILE's seeds, their cases spliced into FILE.

:mod:`.options` imports no other module of the plugin and :mod:`.session` only it; the others import
:mod:`.session`.  A case uses :func:`.signals.measuring` around its measurement and reads the parsed
options with :func:`.session.options`.
"""

pytest_plugins = [
    f"flowers.training.pytest_plugin.{name}"
    for name in ("options", "session", "collection", "fixtures", "record", "signals", "summary", "update_baseline")
]
