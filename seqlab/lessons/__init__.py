"""Lessons: experiments that each teach one thing about recurrent cells (a cell-type race, a memory probe),
built from ordinary runs started through the job runner and marked as one experiment in their run folders."""
