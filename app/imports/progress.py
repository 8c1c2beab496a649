"""An import's counts as its batches commit, and the job's progress row written inside each batch.

The progress update used to be a transaction of its own after each batch's commit: a round trip
and a commit (with its WAL flush) more a batch, on the importing thread, and a window where the
bar showed rows a crash then lost. Now a batch that commits as one transaction carries the job's
row as it will stand once it commits (`JobContext.progress_statement`): done, total and counts
commit with the records and their log lines, or not at all. The update returns whether a cancel
was asked, so the import learns it without a query of its own. A batch replayed row by row
reports its progress after it, as before.
"""

from __future__ import annotations

from collections.abc import Callable

from app.jobs import JobContext

from .overlap import Staged


class Tally:
    """Counts by outcome of the committed batches; notes each batch's progress row before it commits."""

    def __init__(self, job: JobContext | None, total: int | None, counts: dict[str, int],
                 grown: Callable[[int], None]):
        self.job, self.total, self.counts, self.grown = job, total, counts, grown
        self.heard = False  # the last settled batch's own progress row said whether a cancel was asked
        self.cancel = False  # what it said

    def note(self, staged: Staged) -> None:
        """The job's row as it stands once `staged` commits (every batch before it settled)."""
        if self.job is None:
            return
        counts = dict(self.counts)
        for outcome in staged.outcomes:
            counts[outcome] += 1
        staged.progress = self.job.progress_statement(staged.reached, self.total, **counts)

    def settle(self, batches: list[Staged]) -> None:
        """Batches committed (or replayed row by row), in file order."""
        for staged in batches:
            for outcome in staged.outcomes:
                self.counts[outcome] += 1
            self.grown(self.counts["created"])
            if self.job is None:
                continue
            self.heard = staged.progress is not None
            if self.heard:
                self.cancel = self.job.heard(staged.cancel)
            else:
                self.job.progress(staged.reached, self.total, **self.counts)

    def cancelled(self) -> bool:
        """A cancel asked: as the last batch's progress row said, or (none) asked of the database."""
        if self.job is None:
            return False
        if self.heard:
            return self.cancel
        return self.job.cancelled()
