"""Cron monitors: schedules (crontab and interval) and when a monitor next expects a check-in
(`crontab.py`, `schedule.py`), and the scheduler's job that marks missed and timed-out check-ins
(`overdue.py`). The digest's side of check-ins is in shoal/digest/check_ins.py and
shoal/digest/monitor_check_ins.py; docs/crons.md is the user's view."""
