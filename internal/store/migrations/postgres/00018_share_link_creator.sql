-- Who made each share link, so that a link lives no longer than its maker's right to make it:
-- the API key that made it (its UID) or the session user (their id), one of the two. The
-- public read path checks the maker against the apiserver's in-memory directory (the key
-- revoked or deleted, the user no longer a member who may share: the link is gone), and
-- GET /campaigns/{id}/graph/share shows it. Links made before this migration name no maker
-- (both NULL): they keep their expiry and revocation alone.

-- +goose Up
ALTER TABLE share_links ADD COLUMN created_by_key TEXT COLLATE "C";
ALTER TABLE share_links ADD COLUMN created_by_user TEXT COLLATE "C";
