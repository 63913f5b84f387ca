package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"qual.cx/operator/internal/store"
)

// Campaign ids are UUIDs, as in the API: an idempotent answer is found by the id it names.
const (
	erasedCampaign store.CampaignID = "0a7e57ed-0000-4000-8000-00000000000a"
	keptCampaign   store.CampaignID = "0a7e57ed-0000-4000-8000-00000000000b"
)

// TestParticipantDataErased: after DeleteInterview, and after DeleteCampaignData, no row of any
// table still holds the participant's name, e-mail, external id, metadata, words or a quote of
// them, nor a webhook event payload or delivery attempt excerpt carrying them. The scan reads
// every column of every table, so a table added later is covered too.
func TestParticipantDataErased(t *testing.T) {
	tables := map[string]string{ // the query listing the tables of each backend
		"sqlite":   "SELECT name FROM sqlite_master WHERE type = 'table'",
		"postgres": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
	}
	for _, be := range backends {
		for _, how := range []string{"DeleteInterview", "DeleteCampaignData"} {
			t.Run(be.name+"/"+how, func(t *testing.T) {
				dsn := be.dsn(t)
				s, err := store.Open(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				ts := s.Team("team")
				iv := seedParticipant(t, ts, erasedCampaign, "secret")
				other := seedParticipant(t, ts, keptCampaign, "kept")
				seedReplay(t, s, erasedCampaign, iv, "secret")
				seedReplay(t, s, keptCampaign, other, "kept")
				if how == "DeleteInterview" {
					err = ts.DeleteInterview(context.Background(), iv)
				} else {
					_, err = ts.DeleteCampaignData(context.Background(), erasedCampaign)
				}
				if err != nil {
					t.Fatal(err)
				}
				db := be.open(t, dsn)
				if where := findText(t, db, tables[be.name], "secret"); len(where) != 0 {
					t.Fatalf("participant data left in %v", where)
				}
				// Nor do SQLite's files hold it: not in free pages, not in the write-ahead log.
				if be.name == "sqlite" {
					for _, file := range []string{be.raw(dsn), be.raw(dsn) + "-wal"} {
						raw, err := os.ReadFile(file)
						if err != nil && !os.IsNotExist(err) {
							t.Fatal(err)
						}
						for _, words := range []string{"secret@example.com", "secret answer", "secret quote", "secret name"} {
							if bytes.Contains(raw, []byte(words)) {
								t.Errorf("%q is still in %s", words, file)
							}
						}
					}
				}
				// The scan must see the kept interview's data in each kind of table it lives in.
				kept := findText(t, db, tables[be.name], "kept")
				for _, table := range []string{"interviews", "messages", "events", "delivery_attempts", "idempotency_records"} {
					if !slices.ContainsFunc(kept, func(row string) bool { return strings.HasPrefix(row, table+": ") }) {
						t.Fatalf("the scan found nothing of interview %s, which was not deleted, in %s: %v", other, table, kept)
					}
				}
			})
		}
	}
}

// seedParticipant makes an interview whose every participant field, message and evidence quote
// contains marker, cited by a finding, and an event about it whose payload contains marker,
// delivered to a webhook that echoed marker back, and returns the interview's id.
func seedParticipant(t *testing.T, ts store.TeamStore, campaign store.CampaignID, marker string) store.InterviewID {
	t.Helper()
	ctx := context.Background()
	iv, err := ts.CreateInterview(ctx, store.NewInterview{CampaignID: campaign, Participant: store.Participant{
		Name: marker + " name", Email: marker + "@example.com", ExternalID: marker + "-ext",
		Metadata: map[string]any{"note": marker + " meta"}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ts.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleParticipant, Content: marker + " answer"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := ts.CreateFinding(ctx, store.NewFinding{CampaignID: campaign, Type: store.FindingInsight,
		Title: "a finding", Evidence: []store.Evidence{{InterviewID: iv.ID, MessageID: m.ID, Quote: marker + " quote"}}})
	if err != nil {
		t.Fatal(err)
	}
	// The finding's event quotes the participant, as its REST payload does.
	payload, err := json.Marshal(map[string]any{"id": f.ID, "evidence": []map[string]any{{"interview_id": iv.ID, "quote": marker + " quote"}}})
	if err == nil {
		_, err = ts.AddEvent(ctx, store.NewEvent{Type: "finding.created", Subject: string(f.ID), CampaignID: campaign, Payload: payload})
	}
	if err != nil {
		t.Fatal(err)
	}
	seedDelivery(t, ts, iv, marker)
	return iv.ID
}

// seedDelivery adds an interview.completed event carrying the participant (marker in the
// payload), a delivery of it and a failed attempt whose error and response excerpt echo marker.
func seedDelivery(t *testing.T, ts store.TeamStore, iv store.Interview, marker string) {
	t.Helper()
	ctx := context.Background()
	payload, err := json.Marshal(map[string]any{"id": iv.ID, "participant": iv.Participant})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ts.AddEvent(ctx, store.NewEvent{Type: "interview.completed", Subject: "interview/" + string(iv.ID),
		CampaignID: iv.CampaignID, InterviewID: iv.ID, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	d, err := ts.CreateDelivery(ctx, store.NewDelivery{WebhookID: "wh", EventID: ev.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.RecordAttempt(ctx, d.ID, store.AttemptResult{StatusCode: 422, Error: "rejected " + marker,
		ResponseExcerpt: `{"error":"bad participant ` + marker + `"}`, Status: store.DeliveryPending}); err != nil {
		t.Fatal(err)
	}
}

// findText returns "table: row" for every row of every table with a column containing text.
func findText(t *testing.T, db *sql.DB, tablesQuery, text string) []string {
	t.Helper()
	var tables []string
	rows, err := db.Query(tablesQuery)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var found []string
	for _, table := range tables {
		for _, row := range dumpTable(t, db, table) {
			if strings.Contains(row, text) {
				found = append(found, table+": "+row)
			}
		}
	}
	return found
}

// dumpTable renders every row of a table as text.
func dumpTable(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, v := range vals {
			if raw, ok := v.([]byte); ok {
				v = string(raw)
			}
			fmt.Fprintf(&b, "%v|", v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCampaignEventsOutliveItsData: erasing a campaign's data keeps its own campaign.* events,
// still pending, and the delivery log of those already sent, while an event carrying a
// participant's words goes.
func TestCampaignEventsOutliveItsData(t *testing.T) {
	onEachBackend(t, func(t *testing.T, ts store.TeamStore) {
		ctx := context.Background()
		add := func(typ string) store.Event {
			ev, err := ts.AddEvent(ctx, store.NewEvent{Type: typ, Subject: typ, CampaignID: "camp", Payload: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}
		sent := add("campaign.published")
		d, err := ts.CreateDelivery(ctx, store.NewDelivery{WebhookID: "wh", EventID: sent.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.RecordAttempt(ctx, d.ID, store.AttemptResult{StatusCode: 200, Status: store.DeliverySucceeded}); err != nil {
			t.Fatal(err)
		}
		pending := add("campaign.completed")
		add("finding.created")
		seedParticipant(t, ts, "camp", "gone")
		if _, err := ts.DeleteCampaignData(ctx, "camp"); err != nil {
			t.Fatal(err)
		}
		evs, err := ts.PendingEvents(ctx, store.MaxPageLimit)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, ev := range evs {
			types = append(types, ev.Type)
		}
		if !slices.Contains(types, pending.Type) || slices.ContainsFunc(types, func(typ string) bool { return !strings.HasPrefix(typ, "campaign.") }) {
			t.Fatalf("pending events after the erasure: %v, want the campaign's own only", types)
		}
		if _, err := ts.GetDelivery(ctx, d.ID); err != nil {
			t.Fatalf("the delivery of a campaign event went with the campaign's data: %v", err)
		}
	})
}

// TestDeletedInterviewLeavesFrequencies: a finding citing a deleted interview no longer counts
// it: a manual one counts the interviews its remaining evidence cites, an analysis one (which
// also counts interviews it does not quote) one fewer; both show the change as an update, and
// a finding that does not cite it is untouched.
func TestDeletedInterviewLeavesFrequencies(t *testing.T) {
	onEachBackend(t, func(t *testing.T, ts store.TeamStore) {
		ctx := context.Background()
		var ev []store.Evidence
		for i := range 3 {
			iv, err := ts.CreateInterview(ctx, store.NewInterview{CampaignID: "camp"})
			if err != nil {
				t.Fatal(err)
			}
			m, err := ts.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleParticipant, Content: fmt.Sprint("answer ", i)})
			if err != nil {
				t.Fatal(err)
			}
			ev = append(ev, store.Evidence{InterviewID: iv.ID, MessageID: m.ID, Quote: "answer"})
		}
		create := func(f store.NewFinding) store.Finding {
			f.CampaignID, f.Type, f.Title, f.Sentiment, f.Confidence = "camp", store.FindingTheme, "t", store.SentimentNeutral, 0.5
			got, err := ts.CreateFinding(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		manual := create(store.NewFinding{Evidence: ev[:2], Frequency: 2, Source: store.SourceManual})
		analysed := create(store.NewFinding{Evidence: ev[:1], Frequency: 5, Source: store.SourceAnalysis, Key: "k"})
		other := create(store.NewFinding{Evidence: ev[2:], Frequency: 1, Source: store.SourceManual})
		if err := ts.DeleteInterview(ctx, ev[0].InterviewID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			before  store.Finding
			want    int
			updated bool
		}{{manual, 1, true}, {analysed, 4, true}, {other, 1, false}} {
			got, err := ts.GetFinding(ctx, c.before.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Frequency != c.want || got.UpdatedAt.After(c.before.UpdatedAt) != c.updated {
				t.Fatalf("finding of frequency %d: now %d (want %d), updated %v -> %v",
					c.before.Frequency, got.Frequency, c.want, c.before.UpdatedAt, got.UpdatedAt)
			}
		}
	})
}

// onEachBackend runs test on a fresh store of each backend, as team "team".
func onEachBackend(t *testing.T, test func(t *testing.T, ts store.TeamStore)) {
	onEachStore(t, func(t *testing.T, s store.Store) { test(t, s.Team("team")) })
}

// onEachStore runs test on a fresh store of each backend.
func onEachStore(t *testing.T, test func(t *testing.T, s store.Store)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			s, err := store.Open(context.Background(), be.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			test(t, s)
		})
	}
}

// seedReplay records, for a caller, the answer to an idempotent request about the interview:
// a turn naming the interview and its campaign, with the participant's words and name.
func seedReplay(t *testing.T, s store.Store, campaign store.CampaignID, iv store.InterviewID, marker string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"data": map[string]any{
		"message":   map[string]any{"interview_id": iv, "content": marker + " answer"},
		"interview": map[string]any{"id": iv, "campaign_id": campaign, "participant": map[string]any{"name": marker + " name"}}}})
	if err != nil {
		t.Fatal(err)
	}
	records := s.Team(store.TeamID("caller:someone"))
	ctx := context.Background()
	claim, err := records.SaveIdempotency(ctx, store.IdempotencyRecord{Key: "answer-" + string(iv), RequestHash: []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := records.CompleteIdempotency(ctx, claim, 201, body); err != nil {
		t.Fatal(err)
	}
}

// TestErasureFindsEventsByIndex: the deletions by which an erasure takes an interview's words
// out of the events each read entries of an index (the interview's events, the quotes of
// finding events, the campaign's events of analysis findings as an analysis wrote them) on
// both backends, rather than every event, or every finding event of the campaign.
func TestErasureFindsEventsByIndex(t *testing.T) {
	indexes := map[string][]string{
		"sqlite":   {"events_interview", "sqlite_autoindex_event_quotes_1", "events_analysis_words"},
		"postgres": {"events_interview", "event_quotes_pkey", "events_analysis_words"},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, be.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ts := s.Team("team")
			iv := seedParticipant(t, ts, erasedCampaign, "words")
			seedParticipant(t, ts, erasedCampaign, "others")
			plan, err := store.ExplainErasure(ctx, s, "team", iv, erasedCampaign, true)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("plans:\n%s", plan)
			steps, want := strings.Split(plan, "-- ")[1:], indexes[be.name]
			if len(steps) != len(want) {
				t.Fatalf("%d deletions, want %d:\n%s", len(steps), len(want), plan)
			}
			for i, step := range steps {
				if !strings.Contains(step, want[i]) || strings.Contains(step, "Seq Scan") || strings.Contains(step, "SCAN events") {
					t.Errorf("deletion %d does not find its events by %s alone:\n%s", i+1, want[i], step)
				}
			}
		})
	}
}

// TestErasureFindsFindingEventsByWhatTheyShow: AddEvent records what an erasure looks for in a
// finding event as migration 14 reads it from the events written before it (findingEvents
// erased alike), and refuses a finding event whose payload is not a finding, as nothing could
// tell whose words it holds.
func TestErasureFindsFindingEventsByWhatTheyShow(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := be.dsn(t)
			s, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			iv, err := s.Team("team").CreateInterview(ctx, store.NewInterview{CampaignID: "c1"})
			if err != nil {
				t.Fatal(err)
			}
			db := be.open(t, dsn)
			if _, err := db.Exec("UPDATE interviews SET analysed = TRUE"); err != nil { // as if an analysis had read it
				t.Fatal(err)
			}
			events := findingEvents(string(iv.ID), "0a7e57ed-0000-4000-8000-0000000000d2")
			for _, ev := range events {
				_, err := s.Team(store.TeamID(ev.team)).AddEvent(ctx, store.NewEvent{ID: store.EventID(ev.id), Type: "finding.updated",
					Subject: ev.id, CampaignID: store.CampaignID(ev.campaign), Payload: []byte(ev.payload)})
				if refused := errors.Is(err, store.ErrInvalidInput); refused != ev.refused || (err != nil && !refused) {
					t.Fatalf("%s: %v, want refused %v", ev.id, err, ev.refused)
				}
			}
			checkErased(t, s, iv.ID, events)
		})
	}
}
