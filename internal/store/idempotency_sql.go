package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// clockSkew is how far apart the clocks of the replicas that claim an idempotency key and
// erase an interview may be.
const clockSkew = time.Minute

const idempotencyColumns = "key, request_hash, status_code, body, created_at, expires_at, gone"

func scanIdempotency(r rowScanner) (IdempotencyRecord, error) {
	var rec IdempotencyRecord
	var gone string
	err := r.Scan(&rec.Key, &rec.RequestHash, &rec.StatusCode, &rec.Body, timeCol{&rec.CreatedAt}, timeCol{&rec.ExpiresAt}, &gone)
	// SQLite reads an empty BLOB back as nil; make both backends return empty slices.
	rec.RequestHash, rec.Body = append([]byte{}, rec.RequestHash...), append([]byte{}, rec.Body...)
	rec.GoneKind, rec.Gone = goneFrom(gone)
	return rec, err
}

// goneColumn is what the gone column holds for an object of kind deleted: a campaign's bare id,
// as migration 10 wrote it (and replicas not yet upgraded read it), another kind's prefixed.
func goneColumn(kind, id string) string {
	if kind == GoneCampaign {
		return id
	}
	return kind + ":" + id
}

// goneFrom reads the gone column back into the kind and id goneColumn wrote.
func goneFrom(col string) (kind, id string) {
	if col == "" {
		return "", ""
	}
	if k, id, ok := strings.Cut(col, ":"); ok {
		return k, id
	}
	return GoneCampaign, col
}

// unboundRecord selects the records that no longer bind their key (see IdempotencyRecord):
// expired, unless a claim younger than IdempotencyTTL. Its arguments are unboundArgs. A claim
// whose lease ran out keeps binding its key to its request, so that a different request under
// the key is refused, as it would be had the claim been answered, rather than run beside
// whatever the dead run made (it would miss that run's claim stamp, and make a second object).
const unboundRecord = "expires_at <= ? AND (status_code <> 0 OR created_at <= ?)"

func (ts *teamStore) unboundArgs(at time.Time) []any {
	return []any{ts.t(at), ts.t(at.Add(-IdempotencyTTL))}
}

// GetIdempotency returns the record binding key.
func (ts *teamStore) GetIdempotency(ctx context.Context, key string) (IdempotencyRecord, error) {
	return getOne(ctx, ts, "get idempotency record", key, scanIdempotency,
		"SELECT "+idempotencyColumns+" FROM idempotency_records WHERE team_id = ? AND key = ? AND NOT ("+unboundRecord+")",
		append([]any{ts.team, key}, ts.unboundArgs(now())...)...)
}

// SaveIdempotency stores a record, replacing an expired one with the same key, or a claim
// whose lease ran out that r repeats (the same request hash) and so takes over.
func (ts *teamStore) SaveIdempotency(ctx context.Context, r IdempotencyRecord) (IdempotencyRecord, error) {
	if r.Key == "" {
		return IdempotencyRecord{}, fmt.Errorf("store: save idempotency record: empty key: %w", ErrInvalidInput)
	}
	r.CreatedAt = now()
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = r.CreatedAt.Add(IdempotencyTTL)
	}
	r.ExpiresAt = r.ExpiresAt.UTC().Truncate(time.Microsecond)
	if r.Body == nil {
		r.Body = []byte{}
	}
	if r.RequestHash == nil {
		r.RequestHash = []byte{}
	}
	err := ts.atomically(ctx, func(tx *teamStore) error {
		if _, err := tx.exec(ctx, "DELETE FROM idempotency_records WHERE team_id = ? AND key = ? AND expires_at <= ? AND ("+unboundRecord+" OR request_hash = ?)",
			append(append([]any{tx.team, r.Key, tx.t(r.CreatedAt)}, tx.unboundArgs(r.CreatedAt)...), r.RequestHash)...); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO idempotency_records (team_id, "+idempotencyColumns+", named) VALUES (?, ?, ?, ?, ?, ?, ?, '', 1)",
			tx.team, r.Key, r.RequestHash, r.StatusCode, r.Body, tx.t(r.CreatedAt), tx.t(r.ExpiresAt))
		if tx.s.d.isUnique(err) {
			return ErrConflict
		}
		if err != nil {
			return err
		}
		return tx.recordNames(ctx, r.Key, r.Body)
	})
	if err != nil {
		return IdempotencyRecord{}, fmt.Errorf("store: save idempotency record %q: %w", r.Key, err)
	}
	return r, nil
}

// CompleteIdempotency fills in the response of a pending claim. The claim is told from a
// repeat's that took it over once its lease ran out (the same key and request) by when it was
// made, so a run that outlived its lease never records over the repeat's claim. An answer
// naming an interview or campaign erased since the claim was made (the request raced the
// erasure) is not kept. When the answer was that object itself (a start of the interview, a
// create of the campaign), the claim becomes the gone marker the erasure would have left had
// the answer come first: dropping it would let a repeat run the start again and store the
// erased participant's data anew. Any other such answer's claim is dropped, and a repeat runs
// again and finds nothing to give back.
// The erasure and this write take one lock (exclusive and shared), so either the erasure
// sees the answer and deletes it, or this write sees the erasure.
func (ts *teamStore) CompleteIdempotency(ctx context.Context, claim IdempotencyRecord, status int, body []byte) error {
	key := claim.Key
	if status == 0 {
		return fmt.Errorf("store: complete idempotency record %q: status 0: %w", key, ErrInvalidInput)
	}
	if body == nil {
		body = []byte{}
	}
	// The answer is kept for IdempotencyTTL from now, whatever lease the claim had; a claim
	// whose lease ran out may already belong to a repeat, which then records its own answer.
	at := now()
	err := ts.atomically(ctx, func(tx *teamStore) error {
		if err := tx.lockReplays(ctx, tx.s.d.replayLockShared); err != nil {
			return err
		}
		var pending int
		err := tx.queryRow(ctx, "SELECT COUNT(*) FROM idempotency_records WHERE team_id = ? AND key = ? AND created_at = ? AND status_code = 0",
			[]any{&pending}, tx.team, key, tx.t(claim.CreatedAt))
		if err != nil {
			return err
		}
		if pending == 0 {
			return ErrNotFound
		}
		// Erasures from a little before the claim too: replicas' clocks differ.
		since := claim.CreatedAt.Add(-clockSkew)
		raced, err := tx.erasedSince(ctx, body, since)
		if err != nil {
			return err
		}
		if raced {
			return tx.settleRaced(ctx, claim, status, body, since, at)
		}
		res, err := tx.exec(ctx, `UPDATE idempotency_records SET status_code = ?, body = ?, expires_at = ?
			WHERE team_id = ? AND key = ? AND created_at = ? AND status_code = 0 AND expires_at > ?`,
			status, body, tx.t(at.Add(IdempotencyTTL)), tx.team, key, tx.t(claim.CreatedAt), tx.t(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return ErrNotFound
		}
		return tx.recordNames(ctx, key, body)
	})
	if err != nil {
		return fmt.Errorf("store: complete idempotency record %q: %w", key, err)
	}
	return nil
}

// settleRaced settles a claim whose answer names an object erased since since: as a gone
// marker when the answer was that object (see CompleteIdempotency), else by dropping it.
func (ts *teamStore) settleRaced(ctx context.Context, claim IdempotencyRecord, status int, body []byte, since, at time.Time) error {
	id := answerID(body)
	kind := ""
	if status >= 200 && status <= 299 && id != "" {
		err := ts.queryRow(ctx, "SELECT kind FROM erasures WHERE id = ? AND erased_at >= ?", []any{&kind}, id, ts.t(since))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if kind == "" { // not the answer's own object, or erased by a replica that does not say what
		_, err := ts.exec(ctx, "DELETE FROM idempotency_records WHERE team_id = ? AND key = ? AND created_at = ? AND status_code = 0",
			ts.team, claim.Key, ts.t(claim.CreatedAt))
		return err
	}
	if _, err := ts.exec(ctx, "UPDATE idempotency_records SET status_code = ?, expires_at = ? WHERE team_id = ? AND key = ? AND created_at = ? AND status_code = 0",
		status, ts.t(at.Add(IdempotencyTTL)), ts.team, claim.Key, ts.t(claim.CreatedAt)); err != nil {
		return err
	}
	return ts.markGone(ctx, string(ts.team), claim.Key, kind, id)
}

// uuidPattern finds the ids an answer names: interviews, messages and campaigns are UUIDs.
var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// maxNamedIDs bounds the ids of one answer looked up among the erasures; an answer naming more
// is not kept (a POST's answer names a handful).
const maxNamedIDs = 500

// namedIDs are the distinct ids body names, in order; more than maxNamedIDs is not ok.
func namedIDs(body []byte) ([]string, bool) {
	found := uuidPattern.FindAll(body, maxNamedIDs+1)
	if len(found) > maxNamedIDs {
		return nil, false
	}
	ids := make([]string, 0, len(found))
	for _, id := range found {
		if !slices.Contains(ids, string(id)) {
			ids = append(ids, string(id))
		}
	}
	return ids, true
}

// recordNames indexes the ids a recorded answer names (idempotency_names), which eraseReplays
// looks them up by. An answer naming more than maxNamedIDs is left unindexed (named = 0), to
// be found by reading its body.
func (ts *teamStore) recordNames(ctx context.Context, key string, body []byte) error {
	ids, ok := namedIDs(body)
	if !ok {
		_, err := ts.exec(ctx, "UPDATE idempotency_records SET named = 0 WHERE team_id = ? AND key = ?", ts.team, key)
		return err
	}
	rows := make([][]any, len(ids))
	for i, id := range ids {
		rows[i] = []any{ts.team, key, id}
	}
	if err := ts.insertRows(ctx, "idempotency_names (team_id, key, name)", rows); err != nil {
		return fmt.Errorf("index the ids the answer names: %w", err)
	}
	return nil
}

// erasedSince says whether body names an interview or campaign erased since since: it looks
// up each id the answer names, so a burst of erasures costs an answer nothing.
func (ts *teamStore) erasedSince(ctx context.Context, body []byte, since time.Time) (bool, error) {
	ids, ok := namedIDs(body)
	if !ok {
		return true, nil
	}
	if len(ids) == 0 {
		return false, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, ts.t(since))
	for _, id := range ids {
		args = append(args, id)
	}
	var n int
	q := "SELECT COUNT(*) FROM erasures WHERE erased_at >= ? AND id IN (?" + strings.Repeat(", ?", len(args)-2) + ")"
	if err := ts.queryRow(ctx, q, []any{&n}, args...); err != nil {
		return false, err
	}
	return n > 0, nil
}

// lockReplays takes the replay lock (see dialect.replayLock) for the rest of the transaction.
func (ts *teamStore) lockReplays(ctx context.Context, stmt string) error {
	if stmt == "" {
		return nil
	}
	if _, err := ts.exec(ctx, stmt); err != nil {
		return fmt.Errorf("replay lock: %w", err)
	}
	return nil
}

// DeleteIdempotency removes a record, told by when it was made from one that replaced it
// under its key: a run that outlived its claim's lease, giving the key up, leaves the claim of
// the repeat that took it over.
func (ts *teamStore) DeleteIdempotency(ctx context.Context, r IdempotencyRecord) error {
	if _, err := ts.exec(ctx, "DELETE FROM idempotency_records WHERE team_id = ? AND key = ? AND created_at = ?",
		ts.team, r.Key, ts.t(r.CreatedAt)); err != nil {
		return fmt.Errorf("store: delete idempotency record %q: %w", r.Key, err)
	}
	return nil
}

// PurgeIdempotency deletes the team's records that no longer bind their key.
func (ts *teamStore) PurgeIdempotency(ctx context.Context) (int64, error) {
	res, err := ts.exec(ctx, "DELETE FROM idempotency_records WHERE team_id = ? AND "+unboundRecord, append([]any{ts.team}, ts.unboundArgs(now())...)...)
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency records: %w", err)
	}
	return res.RowsAffected()
}

// eraseReplays deletes every caller's idempotency records whose stored answer names id (an
// interview or a campaign, kind, whose UUID appears in no other object's answer): a replay
// must not give back the participant data and words that deleting it erased. Records are
// keyed by caller, not team, so it finds them by the ids their answers name (namingReplays).
//
// The records whose answer was the object itself (its create or start, its actions) are kept,
// their answers erased, as gone: a retry of the create is told the object was deleted instead
// of making a new one, which for an interview's start would store the erased participant's
// data again from the retried body. Every other record naming it (an interview's start names
// its campaign, an answer its interview) goes.
//
// It records the erasure for a day, for the answers of requests that raced it and are
// recorded after it (CompleteIdempotency).
func (ts *teamStore) eraseReplays(ctx context.Context, id, kind string) error {
	err := ts.atomically(ctx, func(tx *teamStore) error {
		if err := tx.lockReplays(ctx, tx.s.d.replayLock); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "INSERT INTO erasures (id, erased_at, kind) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET erased_at = excluded.erased_at, kind = excluded.kind",
			id, tx.t(now()), kind); err != nil {
			return err
		}
		if err := tx.markReplaysGone(ctx, id, kind); err != nil {
			return err
		}
		for _, naming := range tx.namingReplays(id) {
			if _, err := tx.writer().ExecContext(ctx, tx.s.d.rebind("DELETE FROM idempotency_records WHERE "+naming.where), naming.arg); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase idempotent answers naming %s: %w", id, err)
	}
	return nil
}

// replayFilter is a condition on idempotency_records and its one argument.
type replayFilter struct {
	where string
	arg   any
}

// namingReplays select the records whose answer names id: by the index of the ids answers
// name, and, for answers left unindexed (recorded before the index existed, or naming too many
// ids), by reading their bodies. Only callers record answers (the apiserver keys them by
// caller), so neither filters on the caller, which would lead PostgreSQL to walk every
// caller's rows.
func (ts *teamStore) namingReplays(id string) [2]replayFilter {
	return [2]replayFilter{
		{"(team_id, key) IN (SELECT team_id, key FROM idempotency_names WHERE name = ?)", id},
		{"named = 0 AND " + fmt.Sprintf(ts.s.d.holdsBytes, "body"), []byte(id)},
	}
}

// markReplaysGone erases the answers that were the object id itself (a 2xx whose data's id
// is id) and marks their records gone; the rest naming id are left for the caller to delete.
// An interview's records lose their request hash too, a fingerprint of the participant's data
// its start sent: such a record answers every request under its key as gone.
func (ts *teamStore) markReplaysGone(ctx context.Context, id, kind string) error {
	type recordKey struct{ team, key string }
	var own []recordKey
	for _, naming := range ts.namingReplays(id) {
		rows, err := ts.writer().QueryContext(ctx, ts.s.d.rebind("SELECT team_id, key, body FROM idempotency_records WHERE status_code BETWEEN 200 AND 299 AND "+naming.where), naming.arg)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k recordKey
			var body []byte
			if err := rows.Scan(&k.team, &k.key, &body); err != nil {
				_ = rows.Close()
				return err
			}
			if answerID(body) == id {
				own = append(own, k)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
	}
	for _, k := range own {
		if err := ts.markGone(ctx, k.team, k.key, kind, id); err != nil {
			return err
		}
	}
	return nil
}

// markGone makes the record of caller team under key the gone marker of the object id of
// kind: its answer erased, and, for an interview, its request hash. An emptied answer names
// nothing any more, so its names go too. team is the record's caller, not ts's team: an
// erasure reaches every caller's records.
func (ts *teamStore) markGone(ctx context.Context, team, key, kind, id string) error {
	if _, err := ts.writer().ExecContext(ctx, ts.s.d.rebind(`UPDATE idempotency_records SET body = ?, gone = ?, named = 1,
		request_hash = CASE WHEN ? THEN request_hash ELSE ? END WHERE team_id = ? AND key = ?`),
		[]byte{}, goneColumn(kind, id), kind == GoneCampaign, []byte{}, team, key); err != nil {
		return err
	}
	if _, err := ts.writer().ExecContext(ctx, ts.s.d.rebind("DELETE FROM idempotency_names WHERE team_id = ? AND key = ?"), team, key); err != nil {
		return err
	}
	return nil
}

// answerID is the id of the object an answer's data is, or "".
func answerID(body []byte) string {
	var env struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &env) != nil {
		return ""
	}
	return env.Data.ID
}

// PurgeReplays deletes the idempotency records of every caller that no longer bind their key,
// and erasures older than any record they could still concern, up to limit rows of each.
func (s *sqlStore) PurgeReplays(ctx context.Context, limit int) (int64, error) {
	if err := checkBatchLimit(limit); err != nil {
		return 0, fmt.Errorf("store: purge replays: %w", err)
	}
	at := now()
	n, err := s.execCount(ctx, `DELETE FROM idempotency_records WHERE (team_id, key) IN
		(SELECT team_id, key FROM idempotency_records WHERE `+unboundRecord+` LIMIT ?)`,
		s.d.timeArg(at), s.d.timeArg(at.Add(-IdempotencyTTL)), limit)
	if err != nil {
		return 0, fmt.Errorf("store: purge expired idempotency records: %w", err)
	}
	m, err := s.execCount(ctx, "DELETE FROM erasures WHERE id IN (SELECT id FROM erasures WHERE erased_at < ? LIMIT ?)",
		s.d.timeArg(at.Add(-IdempotencyTTL-clockSkew)), limit)
	if err != nil {
		return n, fmt.Errorf("store: purge erasures: %w", err)
	}
	return max(n, m), nil
}
