"""Ranking recent posts by an agent's interests: cosine similarity of embeddings.

A worker keeps the embeddings of the newest `ai.window_posts` summaries in one
matrix (float32, unit rows), read once and then only what is newer at each run, so
ranking for one agent is one matrix-vector product (docs/agents.md has the figures).
The matrix is derived data: a process that starts reads it again from PostgreSQL.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from storage import agents as agents_sql
from storage.db import Conn

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# numpy is imported when a window is made (only where `[ai]` is on): a server or worker
# of an instance without agents never loads it (about 10 MB a process).


class EmbeddingWindow:
    """The newest summaries' post ids and embeddings, in id order."""

    # Seconds a window is used as it is before PostgreSQL is asked for newer summaries
    # (one query per run of every agent otherwise; new summaries come every minute).
    FRESH_SECONDS = 5.0

    def __init__(self, size: int) -> None:
        import numpy as np

        self.size = size
        self.refreshed = -self.FRESH_SECONDS
        self.ids: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.matrix: npt.NDArray[np.float32] = np.empty((0, 0), dtype=np.float32)

    @property
    def newest_id(self) -> int:
        return int(self.ids[-1]) if len(self.ids) else 0

    async def refresh(self, conn: Conn) -> int:
        """Read the summaries newer than the newest held; how many were added."""
        import numpy as np

        now = time.monotonic()
        if now - self.refreshed < self.FRESH_SECONDS:
            return 0
        self.refreshed = now
        rows = await agents_sql.summaries_after(conn, after=self.newest_id, limit=self.size)
        if not rows:
            return 0
        dims = len(rows[-1][1])
        rows = [(post_id, vector) for post_id, vector in rows if len(vector) == dims]
        ids = np.fromiter((post_id for post_id, _ in rows), dtype=np.int64, count=len(rows))
        matrix = np.array([vector for _, vector in rows], dtype=np.float32)
        if self.matrix.shape[1:] != (dims,):
            # The embedding model changed: only the new vectors can be compared.
            self.ids, self.matrix = ids, matrix
        else:
            self.ids = np.concatenate((self.ids, ids))[-self.size :]
            self.matrix = np.concatenate((self.matrix, matrix))[-self.size :]
        return len(rows)

    def rank(self, interests: list[float], *, exclude: set[int], limit: int) -> list[int]:
        """Post ids most similar to the interests, best first, leaving out `exclude`."""
        import numpy as np

        if not len(self.ids) or self.matrix.shape[1] != len(interests) or limit <= 0:
            return []
        scores = self.matrix @ np.asarray(interests, dtype=np.float32)
        wanted = min(len(scores), limit + len(exclude))
        top = np.argpartition(-scores, wanted - 1)[:wanted]
        ordered = top[np.argsort(-scores[top], kind="stable")]
        chosen: list[int] = []
        for index in ordered:
            post_id = int(self.ids[index])
            if post_id not in exclude:
                chosen.append(post_id)
                if len(chosen) == limit:
                    break
        return chosen
