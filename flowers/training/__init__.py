"""The training side: data -> model -> train and evaluate -> the result a case records.

Nothing on the reading side (results, check, report, trends) imports this package, and importing
it imports nothing: the pytest plugin (:mod:`.pytest_plugin`) loads through it when pytest starts.
"""
