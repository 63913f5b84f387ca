package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/store"
)

// outboxEvent waits until the team's outbox in d holds an event of type typ about subject
// whose data match accepts (nil accepts any), and returns the newest such event. The body a
// delivery of it carries must be what the document's webhooks entry of its type describes.
func outboxEvent(t *testing.T, d store.Store, team, typ, subject string, match func(map[string]any) bool) store.Event {
	t.Helper()
	var found store.Event
	waitFor(t, typ+" of "+subject+" in the outbox", func() error {
		evs, err := d.Team(store.TeamID(team)).PendingEvents(context.Background(), store.MaxPageLimit)
		if err != nil {
			return err
		}
		found = store.Event{}
		for _, ev := range evs {
			if ev.Type != typ || ev.Subject != subject {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(ev.Payload, &m); err != nil {
				return fmt.Errorf("%s payload %s: %w", typ, ev.Payload, err)
			}
			if match == nil || match(m) {
				found = ev
			}
		}
		if found.ID == "" {
			return fmt.Errorf("no %s about %s yet", typ, subject)
		}
		return nil
	})
	body, err := delivery.Body(found)
	if err != nil {
		t.Fatal(err)
	}
	valMu.Lock()
	validator.CheckEventBody(t, body)
	valMu.Unlock()
	return found
}

// outboxData is the data of outboxEvent's event.
func outboxData(t *testing.T, d store.Store, team, typ, subject string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(outboxEvent(t, d, team, typ, subject, match).Payload, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// fieldDiff names every field where got differs from want, with both values.
func fieldDiff(want, got map[string]any) []string {
	var out []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range []map[string]any{want, got} {
			for k := range m {
				if !seen[k] && !yield(k) {
					return
				}
				seen[k] = true
			}
		}
	}) {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inWant:
			out = append(out, fmt.Sprintf("%s: only in REST (%v)", k, g))
		case !inGot:
			out = append(out, fmt.Sprintf("%s: only in the event (%v)", k, w))
		case !reflect.DeepEqual(w, g):
			out = append(out, fmt.Sprintf("%s: event %v, REST %v", k, w, g))
		}
	}
	return out
}

// restData is the data of a REST answer, as a map.
func restData(t *testing.T, r response) map[string]any {
	t.Helper()
	var m map[string]any
	r.data(t, &m)
	return m
}

// sameAsREST checks, field by field, that an event's data is what read gives: a REST read
// of the same object. The read is repeated for a while, as a controller writes an event
// before the status it announces reaches the API's cache; an event that shows another value
// than any read ever will (nanoseconds where REST has whole seconds) fails once that runs out.
func sameAsREST(t *testing.T, what string, data map[string]any, read func() map[string]any) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		diff := fieldDiff(data, read())
		if len(diff) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the event's data is not the REST object:\n  %s", what, strings.Join(diff, "\n  "))
		}
		// Slow enough to stay well inside the plan's per-minute budget.
		time.Sleep(250 * time.Millisecond)
	}
}

// Every event whose data is a REST object carries exactly that object: the same fields with
// the same values, timestamps included, as a GET of the object right after the change gives
// (a share link's as its creation answered, a new member's as the member list shows it). The
// controllers write the events of Kubernetes objects (campaigns, keys, members) to the suite's
// store; interviews, findings, analyses and share links write theirs to the store of the
// replica that changed them, so the store-backed ones are checked on both backends.
func TestEventDataIsTheRESTObject(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			tn := newTenant(t, "payloads-"+b.name, qualv1alpha1.PlanEnterprise)
			get := func(path string) func() map[string]any {
				return func() map[string]any {
					return restData(t, callAt(t, b.url, "GET", path, tn.secret, nil).expect(t, 200))
				}
			}
			kube := func(typ, subject string) map[string]any { return outboxData(t, db, tn.id, typ, subject, nil) }
			// The suite's controllers count a campaign's interviews in the suite's store; a
			// replica over another store counts its own, so there the counts differ by setup.
			counted := func(m map[string]any) map[string]any {
				if b.db != db {
					delete(m, "interview_count")
				}
				return m
			}
			campaignEvent := func(typ, id string) map[string]any { return counted(kube(typ, id)) }
			getCampaign := func(path string) func() map[string]any {
				return func() map[string]any { return counted(get(path)()) }
			}
			rows := func(typ, subject string) map[string]any { return outboxData(t, b.db, tn.id, typ, subject, nil) }

			var c campaign
			callAt(t, b.url, "POST", "/api/v1/campaigns", tn.secret, map[string]any{"title": "Payload study",
				"questions": []string{"What almost stopped you?", "What would you change?"}, "max_questions": 5}).
				expect(t, 201).data(t, &c)
			cmpPath := "/api/v1/campaigns/" + c.ID
			sameAsREST(t, "campaign.created", campaignEvent("campaign.created", c.ID), getCampaign(cmpPath))
			callAt(t, b.url, "PATCH", cmpPath, tn.secret, map[string]any{"title": "Payload study, renamed"}).expect(t, 200)
			sameAsREST(t, "campaign.updated", campaignEvent("campaign.updated", c.ID), getCampaign(cmpPath))
			callAt(t, b.url, "POST", cmpPath+"/publish", tn.secret, nil).expect(t, 200)
			sameAsREST(t, "campaign.published", campaignEvent("campaign.published", c.ID), getCampaign(cmpPath))

			iv := start(t, b.url, tn.secret, c.ID, map[string]any{"participant": map[string]any{
				"name": "Ada", "email": "ada@example.com", "external_id": "crm-1", "metadata": map[string]any{"plan": "pro"}}})
			ivPath := "/api/v1/interviews/" + iv.ID
			sameAsREST(t, "interview.started", rows("interview.started", iv.ID), get(ivPath))
			tr := answer(t, b.url, tn.secret, iv.ID, pricingAnswers[0])
			callAt(t, b.url, "POST", ivPath+"/complete", tn.secret, nil).expect(t, 200)
			sameAsREST(t, "interview.completed", rows("interview.completed", iv.ID), get(ivPath))

			var f finding
			callAt(t, b.url, "POST", "/api/v1/findings", tn.secret, map[string]any{"campaign_id": c.ID, "type": "pain_point",
				"title": "The price is in the way", "summary": "Price comes up first.", "tags": []string{"pricing"},
				"evidence": []map[string]any{{"interview_id": iv.ID, "message_id": tr.Message.ID, "quote": "far too expensive"}}}).
				expect(t, 201).data(t, &f)
			fPath := "/api/v1/findings/" + f.ID
			sameAsREST(t, "finding.created", rows("finding.created", f.ID), get(fPath))
			callAt(t, b.url, "PATCH", fPath, tn.secret, map[string]any{"sentiment": "negative", "confidence": 0.8}).expect(t, 200)
			sameAsREST(t, "finding.updated", rows("finding.updated", f.ID), get(fPath))

			job := analyzed(t, b.url, tn.secret, c.ID)
			sameAsREST(t, "analysis.completed", rows("analysis.completed", job.ID), get("/api/v1/analyses/"+job.ID))

			link := restData(t, callAt(t, b.url, "POST", cmpPath+"/graph/share", tn.secret, nil).expect(t, 201))
			delete(link, "token") // the event carries the link without its credential
			delete(link, "url")
			sameAsREST(t, "graph.shared", rows("graph.shared", c.ID), func() map[string]any { return link })

			callAt(t, b.url, "POST", cmpPath+"/pause", tn.secret, nil).expect(t, 200)
			sameAsREST(t, "campaign.paused", campaignEvent("campaign.paused", c.ID), getCampaign(cmpPath))
			callAt(t, b.url, "POST", cmpPath+"/complete", tn.secret, nil).expect(t, 200)
			sameAsREST(t, "campaign.completed", campaignEvent("campaign.completed", c.ID), getCampaign(cmpPath))
			last := getCampaign(cmpPath)()
			callAt(t, b.url, "DELETE", cmpPath, tn.secret, nil).expect(t, 204)
			sameAsREST(t, "campaign.deleted", campaignEvent("campaign.deleted", c.ID), func() map[string]any { return last })

			var k struct {
				ID string `json:"id"`
			}
			callAt(t, b.url, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"name": "payload key", "type": "secret"}).
				expect(t, 201).data(t, &k)
			keyPath := "/api/v1/api-keys/" + k.ID
			sameAsREST(t, "api_key.created", kube("api_key.created", k.ID), get(keyPath))
			callAt(t, b.url, "DELETE", keyPath, tn.secret, nil).expect(t, 204)
			sameAsREST(t, "api_key.revoked", kube("api_key.revoked", k.ID), get(keyPath))

			email := "joiner-" + b.name + "@example.com"
			callAt(t, b.url, "POST", "/api/v1/teams/"+tn.id+"/members", tn.owner, map[string]any{"email": email, "role": "viewer"}).
				expect(t, 201)
			joined := outboxData(t, db, tn.id, "team.member_added", tn.id, func(m map[string]any) bool { return m["email"] == email })
			sameAsREST(t, "team.member_added", joined, func() map[string]any {
				var ms []map[string]any
				callAt(t, b.url, "GET", "/api/v1/teams/"+tn.id+"/members", tn.owner, nil).expect(t, 200).data(t, &ms)
				for _, m := range ms {
					if m["email"] == email {
						m["team_id"] = tn.id // the event says which team; the list is the team's
						return m
					}
				}
				return nil
			})
			callAt(t, b.url, "DELETE", "/api/v1/teams/"+tn.id+"/members/"+email, tn.owner, nil).expect(t, 204)
			left := outboxData(t, db, tn.id, "team.member_removed", tn.id, func(m map[string]any) bool { return m["email"] == email })
			if want := map[string]any{"team_id": tn.id, "email": email}; !reflect.DeepEqual(left, want) {
				t.Fatalf("team.member_removed carries %v, want %v", left, want)
			}
		})
	}
}

// handOver gives the replica's store (to) the event of type typ about subject that the suite's
// controllers wrote to the suite's store, as they wrote it: a replica relays its own store's
// outbox, and the controllers write to one store only.
func handOver(t *testing.T, to store.Store, team, typ, subject string) {
	t.Helper()
	ev := outboxEvent(t, db, team, typ, subject, nil)
	_, err := to.Team(store.TeamID(team)).AddEvent(context.Background(), store.NewEvent{ID: ev.ID, Type: ev.Type,
		Subject: ev.Subject, CampaignID: ev.CampaignID, InterviewID: ev.InterviewID, Payload: ev.Payload})
	if err != nil {
		t.Fatal(err)
	}
}

// receivedOf waits until rc has received an event of type typ, and returns that request.
func receivedOf(t *testing.T, rc *receiver, typ string) received {
	t.Helper()
	var got received
	waitFor(t, typ+" delivered", func() error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for _, r := range rc.got {
			var env struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(r.body, &env) == nil && env.Type == typ {
				got = r
				return nil
			}
		}
		return fmt.Errorf("%d deliveries, none of %s", len(rc.got), typ)
	})
	return got
}

// Deliveries are what the document's webhooks describe: for each event type, a receiver gets
// the documented headers, signed so that the Standard Webhooks library verifies them, and the
// envelope with that type and its data schema (the outbox checks above hold every other type
// to its schema too).
func TestDeliveriesAreTheDocumentedWebhooks(t *testing.T) {
	b := webhookStacks(t)[0]
	tn := hookTenant(t, b.url, "hooks-documented")
	rc := newReceiver(t)
	wh, _ := createHook(t, b.url, tn.secret, map[string]any{"url": rc.URL + "/qual", "events": []string{"*"}})

	c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Documented deliveries", "questions": []string{"Why?"}})
	handOver(t, b.db, tn.id, "campaign.created", c.ID)
	var k struct {
		ID string `json:"id"`
	}
	callAt(t, b.url, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"name": "documented", "type": "secret"}).
		expect(t, 201).data(t, &k)
	handOver(t, b.db, tn.id, "api_key.created", k.ID)
	start(t, b.url, tn.secret, c.ID, nil) // interview.started, in the replica's own store
	callAt(t, b.url, "POST", "/api/v1/webhooks/"+wh.ID+"/test", tn.secret, nil).expect(t, 200)

	for _, typ := range []string{"campaign.created", "api_key.created", "interview.started", "webhook.test"} {
		got := receivedOf(t, rc, typ)
		if !got.verifies(t, *wh.Secret) {
			t.Errorf("%s: the Standard Webhooks library cannot verify %v", typ, got.header)
		}
		valMu.Lock()
		validator.CheckDelivery(t, got.header, got.body)
		valMu.Unlock()
	}
}
