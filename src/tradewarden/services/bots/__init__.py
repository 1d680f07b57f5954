"""Bots: a strategy on a connection's pairs, paper or live, driven by the runner (runner.py).

service.py holds the verbs (create, start, stop, ...), driver.py one bot's steps, runner.py the loop
over every bot this process holds, leases.py the sharing of bots between runner processes.
"""
