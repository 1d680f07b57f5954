"""Pure strategies (DCA, grid) and the risk rules they share; see base.py for the engine contract."""
