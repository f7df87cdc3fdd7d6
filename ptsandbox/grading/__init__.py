"""Grading C submissions against the reference devices (`ptsandbox grade`).

model.py    scenarios, limits and results
build.py    a submission (folder or zip) -> compiled client programs
context.py  what a scenario sees: spawn a client, expect, the trace, fail
runner.py   run a suite for one or many submissions, with limits
report.py   text, Gradescope results.json, JUnit XML, GitHub Classroom, CSV
suites/     one scenario suite per assignment
"""
