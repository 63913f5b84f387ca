-- What an erasure erased (an interview or a campaign, as the gone markers name them): an
-- answer of a request that raced the erasure and is recorded after it, and that was the erased
-- object itself (an interview's start, a campaign's create), is kept as a gone marker of that
-- kind instead of dropped, so a retry of the start is told the interview was erased rather
-- than run again with the participant's data. Erasures recorded before this column read as
-- '' (kind unknown): such a raced answer is dropped, as before.

-- +goose Up
ALTER TABLE erasures ADD COLUMN kind TEXT NOT NULL DEFAULT '';

