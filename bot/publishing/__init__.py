"""Publishing: the job, what it reports, and the commit message it writes."""
