package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const shareLinkColumns = "id, team_id, campaign_id, token_hash, expires_at, revoked_at, created_at, created_by_key, created_by_user"

func scanShareLink(r rowScanner) (ShareLink, error) {
	var l ShareLink
	var hash []byte
	var key, user sql.NullString
	err := r.Scan(&l.ID, &l.TeamID, &l.CampaignID, &hash, timeCol{&l.ExpiresAt}, nullTimeCol{&l.RevokedAt}, timeCol{&l.CreatedAt}, &key, &user)
	copy(l.TokenHash[:], hash)
	l.CreatedBy = ShareCreator{KeyID: key.String, UserID: user.String}
	return l, err
}

// CreateShareLink replaces the campaign's live link.
func (ts *teamStore) CreateShareLink(ctx context.Context, in NewShareLink) (ShareLink, error) {
	if in.CampaignID == "" || in.ExpiresAt.IsZero() {
		return ShareLink{}, fmt.Errorf("store: create share link: campaign and expiry required: %w", ErrInvalidInput)
	}
	if in.CreatedBy.KeyID != "" && in.CreatedBy.UserID != "" {
		return ShareLink{}, fmt.Errorf("store: create share link: made by a key or a user, not both: %w", ErrInvalidInput)
	}
	t := now()
	l := ShareLink{ID: ShareLinkID(newID()), TeamID: ts.team, CampaignID: in.CampaignID, TokenHash: in.TokenHash,
		ExpiresAt: in.ExpiresAt.UTC().Truncate(time.Microsecond), CreatedAt: t, CreatedBy: in.CreatedBy}
	err := ts.atomically(ctx, func(tx *teamStore) error {
		if _, err := tx.revokeLive(ctx, in.CampaignID, t); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO share_links (id, team_id, campaign_id, token_hash, expires_at, created_at, created_by_key, created_by_user)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, l.ID, tx.team, l.CampaignID, l.TokenHash[:], tx.t(l.ExpiresAt), tx.t(t),
			nullIfEmpty(l.CreatedBy.KeyID), nullIfEmpty(l.CreatedBy.UserID))
		if tx.s.d.isUnique(err) {
			return ErrConflict
		}
		return err
	})
	if err != nil {
		return ShareLink{}, fmt.Errorf("store: create share link: %w", err)
	}
	return l, nil
}

// GetShareLink returns the campaign's live link.
func (ts *teamStore) GetShareLink(ctx context.Context, campaign CampaignID) (ShareLink, error) {
	return getOne(ctx, ts, "get share link of campaign", campaign, scanShareLink,
		"SELECT "+shareLinkColumns+` FROM share_links
		WHERE team_id = ? AND campaign_id = ? AND revoked_at IS NULL AND expires_at > ?`, ts.team, campaign, ts.t(now()))
}

// RevokeShareLink revokes the campaign's live link. An expired one is no link to revoke
// (ErrNotFound), as it is none to read; the next CreateShareLink clears it.
func (ts *teamStore) RevokeShareLink(ctx context.Context, campaign CampaignID) error {
	t := now()
	res, err := ts.exec(ctx, `UPDATE share_links SET revoked_at = ?
		WHERE team_id = ? AND campaign_id = ? AND revoked_at IS NULL AND expires_at > ?`, ts.t(t), ts.team, campaign, ts.t(t))
	ok := false
	if err == nil {
		ok, err = affected(res)
	}
	if err == nil && !ok {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: revoke share link of campaign %s: %w", campaign, err)
	}
	return nil
}

// revokeLive revokes the campaign's unrevoked link and reports whether there was one.
func (ts *teamStore) revokeLive(ctx context.Context, campaign CampaignID, at time.Time) (bool, error) {
	res, err := ts.exec(ctx, `UPDATE share_links SET revoked_at = ?
		WHERE team_id = ? AND campaign_id = ? AND revoked_at IS NULL`, ts.t(at), ts.team, campaign)
	if err != nil {
		return false, err
	}
	return affected(res)
}

// ResolveShareLink finds a live link by token hash, in any team.
func (s *sqlStore) ResolveShareLink(ctx context.Context, hash TokenHash) (ShareLink, error) {
	q := s.d.rebind("SELECT " + shareLinkColumns + ` FROM share_links
		WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?`)
	l, err := scanShareLink(s.rd.QueryRowContext(ctx, q, hash[:], s.d.timeArg(now())))
	if err != nil {
		return ShareLink{}, notFound("resolve share link", "token", err)
	}
	return l, nil
}
