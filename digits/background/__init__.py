"""Runs in the background: jobs and the tasks they run (jobs, tasks), the engines that run them (engine_local,
engine_ray; engines picks one), and the journal that lets them carry on after a restart (journal)."""
