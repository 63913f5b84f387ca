-- An analysis records the analyzer that made its findings ('builtin' or 'llm'): a campaign
-- that asks for the chat model's gets the built-in one's whenever the model fails. Empty
-- while the analysis has not succeeded, and for analyses finished before this column.

-- +goose Up
ALTER TABLE analyses ADD COLUMN analyzer TEXT NOT NULL DEFAULT '';
