package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"qual.cx/operator/internal/store"
)

// TestErasureFindsReplaysRecordedBeforeTheIndex: an answer recorded before migration 12, which
// indexes the ids answers name, is still erased with the interview it names (one that was the
// interview left as a gone marker, holding nothing of it), while another caller's unrelated
// answer of that time stays.
func TestErasureFindsReplaysRecordedBeforeTheIndex(t *testing.T) {
	const iv = "0a7e57ed-0000-4000-8000-0000000000c1"
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			dsn, db := atVersion(t, be, 11)
			if _, err := db.Exec(rawTimes(be, "INSERT INTO interviews (id, team_id, campaign_id, status, created_at, updated_at) VALUES ($1, 'team', $2, 'in_progress', 0, 0)"),
				iv, string(erasedCampaign)); err != nil {
				t.Fatal(err)
			}
			var expires any = time.Now().Add(time.Hour)
			if be.driver != "pgx" {
				expires = time.Now().Add(time.Hour).UnixMicro() // SQLite's time columns hold Unix microseconds
			}
			for key, body := range map[string]string{"names-it": `{"data":{"interview_id":"` + iv + `"}}`, "was-it": `{"data":{"id":"` + iv + `"}}`,
				"unrelated": `{"data":{"id":"` + string(keptCampaign) + `"}}`} {
				if _, err := db.Exec(oldRecord(be), "caller:old", key, []byte{1}, 201, []byte(body), expires); err != nil {
					t.Fatal(err)
				}
			}
			s, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Team("team").DeleteInterview(ctx, store.InterviewID(iv)); err != nil {
				t.Fatal(err)
			}
			records := s.Team("caller:old")
			if _, err := records.GetIdempotency(ctx, "names-it"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the answer naming the erased interview, recorded before the index: %v, want ErrNotFound", err)
			}
			if gone, err := records.GetIdempotency(ctx, "was-it"); err != nil || gone.Gone != iv || len(gone.Body) != 0 || len(gone.RequestHash) != 0 {
				t.Errorf("the interview's own answer, recorded before the index: %+v, %v, want a gone marker", gone, err)
			}
			if _, err := records.GetIdempotency(ctx, "unrelated"); err != nil {
				t.Errorf("an unrelated answer of that time: %v", err)
			}
		})
	}
}

// oldRecord inserts an idempotency record as schema version 11 held it.
func oldRecord(be backend) string {
	q := "INSERT INTO idempotency_records (team_id, key, request_hash, status_code, body, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, now(), $6)"
	if be.driver == "pgx" {
		return q
	}
	return "INSERT INTO idempotency_records (team_id, key, request_hash, status_code, body, created_at, expires_at) VALUES (?, ?, ?, ?, ?, 0, ?)"
}

// TestReplacedReplayForgetsWhatTheOldOneNamed: a key whose answer expired and was recorded
// again, now naming nothing erased, keeps its new answer when the interview the expired one
// named is erased; the ids an answer names go with it.
func TestReplacedReplayForgetsWhatTheOldOneNamed(t *testing.T) {
	onEachStore(t, replaceThenErase)
}

func replaceThenErase(t *testing.T, s store.Store) {
	ctx := context.Background()
	ts := s.Team("team")
	iv := seedParticipant(t, ts, erasedCampaign, "gone")
	records := s.Team("caller:again")
	old := store.IdempotencyRecord{Key: "k", RequestHash: []byte{1}, StatusCode: 201,
		Body: []byte(`{"data":{"id":"` + string(iv) + `"}}`), ExpiresAt: time.Now().Add(-time.Second)}
	if _, err := records.SaveIdempotency(ctx, old); err != nil {
		t.Fatal(err)
	}
	again := store.IdempotencyRecord{Key: "k", RequestHash: []byte{2}, StatusCode: 201, Body: []byte(`{"data":{"id":"` + string(keptCampaign) + `"}}`)}
	if _, err := records.SaveIdempotency(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := ts.DeleteInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	got, err := records.GetIdempotency(ctx, "k")
	if err != nil || string(got.RequestHash) != "\x02" {
		t.Fatalf("the key's new answer after erasing what its expired one named: %+v, %v", got, err)
	}
}
