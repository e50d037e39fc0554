"""The one error type of the release: it names the assignment, and the question when known."""

from __future__ import annotations


class ReleaseError(Exception):
    """A build or gate failure. str() reads 'ps1 q1a: what is wrong (where)', or
    'ps1 q1a: leaks gate: what is wrong' when a named gate failed.

    `problems` holds every problem found (a lint reports all of them at once);
    the message lists them one per line.
    """

    def __init__(
        self,
        assignment: str,
        problems: list[str] | str,
        question: str | None = None,
        gate: str | None = None,
    ):
        self.assignment = assignment
        self.question = question
        self.gate = gate
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        head = f"{assignment} {question}" if question else assignment
        if gate:
            head += f": {gate} gate"
        if len(self.problems) == 1:
            text = f"{head}: {self.problems[0]}"
        else:
            text = f"{head}: {len(self.problems)} problems\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(text)

    def in_gate(self, gate: str) -> ReleaseError:
        """The same error, saying which gate found it."""
        return ReleaseError(self.assignment, self.problems, self.question, gate)
