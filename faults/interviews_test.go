package faults_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// liveInterview is an interview started on a published campaign, and a webhook of the same
// team, for the outage tests.
type liveInterview struct{ title, campaign, id, webhook string }

// startInterview publishes a campaign and starts an interview on it.
func startInterview(t *testing.T, c *apiClient) liveInterview {
	t.Helper()
	const title = "interviews under faults"
	status, _, campaign := c.create(title)
	if status != http.StatusCreated {
		t.Fatalf("create a campaign: %d", status)
	}
	c.expect(t, "POST", "/campaigns/"+campaign+"/publish", "", http.StatusOK)
	status, _, body := c.send("POST", "/campaigns/"+campaign+"/interviews", "")
	var out struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &out) != nil || out.Data.ID == "" {
		t.Fatalf("start an interview: %d %s", status, body)
	}
	iv := out.Data.ID
	status, _, body = c.send("POST", "/webhooks", `{"url": "https://receiver.example/hook", "events": ["*"]}`)
	if status != http.StatusCreated || json.Unmarshal(body, &out) != nil || out.Data.ID == "" {
		t.Fatalf("create a webhook: %d %s", status, body)
	}
	return liveInterview{title: title, campaign: campaign, id: iv, webhook: out.Data.ID}
}

const anAnswer = `{"content": "The setup took most of a week, mostly connecting our data sources."}`

// refusedWhileDown checks that every interview route (with a participant filter too), a
// campaign's analyses and share link and the webhook delivery log answer 503 with Retry-After while the
// store is down: the turn, the start and the reads all need it, and none may say 500.
func (iv liveInterview) refusedWhileDown(t *testing.T, c *apiClient) {
	t.Helper()
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/interviews/" + iv.id, ""},
		{"GET", "/interviews/" + iv.id + "/messages", ""},
		{"GET", "/interviews?limit=5", ""},
		{"GET", "/interviews?participant_email=ada%40example.com", ""},
		{"GET", "/campaigns/" + iv.campaign + "/analyses", ""},
		{"GET", "/campaigns/" + iv.campaign + "/graph/share", ""},
		{"POST", "/interviews/" + iv.id + "/messages", anAnswer},
		{"POST", "/campaigns/" + iv.campaign + "/interviews", ""},
		{"GET", "/webhooks/" + iv.webhook + "/deliveries", ""},
	} {
		if status, hdr, body := c.send(r.method, r.path, r.body); !unavailable(status, hdr, body) {
			t.Errorf("%s %s with the store down: %d %s, want 503 SERVICE_UNAVAILABLE with Retry-After", r.method, r.path, status, body)
		}
	}
}

// answeredAgain checks that the interview takes its answer once the store is back.
func (iv liveInterview) answeredAgain(t *testing.T, c *apiClient) {
	t.Helper()
	c.expect(t, "POST", "/interviews/"+iv.id+"/messages", anAnswer, http.StatusCreated)
}
