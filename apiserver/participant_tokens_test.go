package apiserver_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// withToken is the header that carries a participant token ("" sends none), then more.
func withToken(token string, more ...string) []string {
	return append([]string{"X-Qual-Participant-Token", token}, more...)
}

// participantCalls sends the four requests a participant's page makes on interview id (read
// it, its transcript, answer, complete), in that order, and returns their answers by name.
func participantCalls(t *testing.T, base, key, id string, headers ...string) map[string]response {
	t.Helper()
	path := "/api/v1/interviews/" + id
	return map[string]response{
		"read":       callAt(t, base, "GET", path, key, nil, headers...),
		"transcript": callAt(t, base, "GET", path+"/messages", key, nil, headers...),
		"answer":     callAt(t, base, "POST", path+"/messages", key, map[string]any{"content": "Written by someone else."}, headers...),
		"complete":   callAt(t, base, "POST", path+"/complete", key, nil, headers...),
	}
}

// refusedAll checks that every one of the page's requests got the same error.
func refusedAll(t *testing.T, what string, got map[string]response, status int, code string) {
	t.Helper()
	for name, r := range got {
		if e := errorOf(r); r.status != status || e.Code != code {
			t.Errorf("%s, %s: want %d %s, got %d %s", what, name, status, code, r.status, r.body)
		}
	}
}

// errorOf is the envelope's error of r (empty for a success).
func errorOf(r response) apiError {
	var env struct {
		Error apiError `json:"error"`
	}
	_ = json.Unmarshal(r.body, &env)
	return env.Error
}

// A participant's page holds a public key, which anyone has, and its interview's participant
// token, which only it has: with both it resumes, answers and completes that one interview.
// Another interview's or team's token, a key of another team, no token, a mistyped one, a
// token in the query string or after the interview's erasure reach nothing; on both backends.
func TestParticipantTokenReachesOneInterview(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			a := newTenant(t, "ptok-a-"+b.name, qualv1alpha1.PlanEnterprise)
			other := newTenant(t, "ptok-b-"+b.name, qualv1alpha1.PlanEnterprise)
			guide := map[string]any{"title": "Resume", "max_questions": 20,
				"questions": []string{"How did your first week go?", "What almost made you give up?", "What would you change?"}}
			ca := activeCampaign(t, b.url, a.secret, guide)
			cb := activeCampaign(t, b.url, other.secret, guide)
			who := map[string]any{"participant": map[string]any{"name": "Ada", "email": "ada@example.com", "metadata": map[string]any{"segment": "churn-risk"}}}
			const origin = "https://survey.example.com"
			mine := start(t, b.url, a.public, ca.ID, who, "Origin", origin)
			neighbour := start(t, b.url, a.public, ca.ID, nil)
			elsewhere := start(t, b.url, other.public, cb.ID, nil)
			for _, iv := range []interview{mine, neighbour, elsewhere} {
				if iv.ParticipantToken == nil || !strings.HasPrefix(*iv.ParticipantToken, "qual_pt_") {
					t.Fatalf("start answered participant_token %v", iv.ParticipantToken)
				}
			}
			tok, neighbourTok, elsewhereTok := *mine.ParticipantToken, *neighbour.ParticipantToken, *elsewhere.ParticipantToken

			// The page reloads: with its token it reads its interview and transcript, from its
			// origin, and sees no participant data, its own included.
			r := callAt(t, b.url, "GET", "/api/v1/interviews/"+mine.ID, a.public, nil, withToken(tok, "Origin", origin)...).expect(t, 200)
			var got interview
			r.data(t, &got)
			if got.ID != mine.ID || got.Participant != nil || got.MessageCount != 1 || r.header.Get("Access-Control-Allow-Origin") != origin {
				t.Fatalf("resumed interview %+v, headers %v", got, r.header)
			}
			if strings.Contains(string(r.body), "ada@") || strings.Contains(string(r.body), "churn-risk") {
				t.Fatalf("the token shows personal data: %s", r.body)
			}
			var transcript []message
			callAt(t, b.url, "GET", "/api/v1/interviews/"+mine.ID+"/messages", a.public, nil, withToken(tok)...).expect(t, 200).data(t, &transcript)
			if len(transcript) != 1 || transcript[0].ID != mine.Messages[0].ID {
				t.Fatalf("transcript %+v", transcript)
			}
			tr := answer(t, b.url, a.public, mine.ID, longAnswer, withToken(tok, "Origin", origin)...)
			if tr.Reply == nil || tr.Interview.Participant != nil {
				t.Fatalf("answer with the token: %+v", tr)
			}

			// Without a token a public key reads nothing (it lacks interviews:read) and writes
			// nothing, refused before the interview is looked up: the same answers for an id
			// that exists as for one that does not.
			for _, id := range []string{mine.ID, uuidLike} {
				got := participantCalls(t, b.url, a.public, id)
				for name, want := range map[string]string{"read": "INSUFFICIENT_SCOPE", "transcript": "INSUFFICIENT_SCOPE", "answer": "FORBIDDEN", "complete": "FORBIDDEN"} {
					if e := errorOf(got[name]); got[name].status != 403 || e.Code != want {
						t.Errorf("no token, %s of %s: %d %s", name, id, got[name].status, got[name].body)
					}
				}
			}

			// Every token that is not the interview's is the 404 of an interview that does not
			// exist, with any key, on every route.
			for what, c := range map[string]struct{ key, id, token string }{
				"another interview's token":                    {a.public, mine.ID, neighbourTok},
				"another team's token":                         {a.public, mine.ID, elsewhereTok},
				"another team's interview and token":           {a.public, elsewhere.ID, elsewhereTok},
				"a key of another team":                        {other.public, mine.ID, tok},
				"the other team's secret key":                  {other.secret, mine.ID, tok},
				"a mistyped token":                             {a.public, mine.ID, mistyped(tok)},
				"not a token":                                  {a.public, mine.ID, "hunter2"},
				"a public key as the token":                    {a.public, mine.ID, a.public},
				"an interview that does not exist":             {a.public, uuidLike, tok},
				"a wrong token with a key that reads them all": {a.secret, mine.ID, neighbourTok},
			} {
				refusedAll(t, what, participantCalls(t, b.url, c.key, c.id, withToken(c.token)...), 404, "NOT_FOUND")
			}
			// The token goes in its header, once, and nowhere else: in the query string it is
			// a parameter the routes do not take.
			for _, path := range []string{"/api/v1/interviews/" + mine.ID, "/api/v1/interviews/" + mine.ID + "/messages"} {
				for _, name := range []string{"participant_token", "X-Qual-Participant-Token"} {
					e := callAt(t, b.url, "GET", path+"?"+name+"="+tok, a.public, nil).expectError(t, 400, "VALIDATION_ERROR")
					if len(e.Details) != 1 || e.Details[0].Field != name {
						t.Errorf("%s?%s: %+v", path, name, e)
					}
				}
			}
			e := callAt(t, b.url, "POST", "/api/v1/interviews/"+mine.ID+"/messages?participant_token="+tok, a.public,
				map[string]any{"content": longAnswer}).expectError(t, 400, "VALIDATION_ERROR")
			if len(e.Details) != 1 || e.Details[0].Field != "participant_token" {
				t.Errorf("answer with the token in the query: %+v", e)
			}
			e = callAt(t, b.url, "GET", "/api/v1/interviews/"+mine.ID, a.public, nil, withToken(tok, "X-Qual-Participant-Token", tok)...).
				expectError(t, 400, "VALIDATION_ERROR")
			if len(e.Details) != 1 || e.Details[0].Field != "X-Qual-Participant-Token" {
				t.Errorf("the token sent twice: %+v", e)
			}
			// None of that touched an interview.
			for id, want := range map[string]int{mine.ID: 3, neighbour.ID: 1} {
				var now interview
				callAt(t, b.url, "GET", "/api/v1/interviews/"+id, a.secret, nil).expect(t, 200).data(t, &now)
				if now.MessageCount != want || now.Status != "in_progress" {
					t.Fatalf("interview %s after the refusals: %+v", id, now)
				}
			}

			// A replay is no way around the token: the answer recorded under an
			// Idempotency-Key is given back only to a request that holds it.
			replayed := withToken(tok, "Idempotency-Key", "ptok-answer-1")
			first := callAt(t, b.url, "POST", "/api/v1/interviews/"+mine.ID+"/messages", a.public, map[string]any{"content": longAnswer}, replayed...).expect(t, 201)
			again := callAt(t, b.url, "POST", "/api/v1/interviews/"+mine.ID+"/messages", a.public, map[string]any{"content": longAnswer}, replayed...).expect(t, 201)
			if again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
				t.Fatalf("replay with the token: %v %s", again.header, again.body)
			}
			callAt(t, b.url, "POST", "/api/v1/interviews/"+mine.ID+"/messages", a.public, map[string]any{"content": longAnswer},
				withToken(neighbourTok, "Idempotency-Key", "ptok-answer-1")...).expectError(t, 404, "NOT_FOUND")
			callAt(t, b.url, "POST", "/api/v1/interviews/"+mine.ID+"/messages", a.public, map[string]any{"content": longAnswer},
				"Idempotency-Key", "ptok-answer-1").expectError(t, 403, "FORBIDDEN")

			// Server-side keys run interviews without tokens; given one, it must be right. A key
			// that may only run interviews reads one with its token, and no participant data.
			runner := makeKeyWith(t, a.team, "ptok-runner", qualv1alpha1.KeyScoped, []qualv1alpha1.Scope{"interviews:write"})
			waitUsable(t, "runner key", runner)
			answer(t, b.url, runner, neighbour.ID, longAnswer)
			callAt(t, b.url, "GET", "/api/v1/interviews/"+neighbour.ID, runner, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
			callAt(t, b.url, "GET", "/api/v1/interviews/"+mine.ID, runner, nil, withToken(tok)...).expect(t, 200).data(t, &got)
			if got.Participant != nil {
				t.Fatalf("a runner key with the token sees the participant: %+v", got.Participant)
			}
			for _, h := range [][]string{nil, withToken(tok)} {
				callAt(t, b.url, "GET", "/api/v1/interviews/"+mine.ID, a.secret, nil, h...).expect(t, 200).data(t, &got)
				if got.Participant["email"] != "ada@example.com" {
					t.Fatalf("the secret key reads interviews, so it sees the participant: %+v", got.Participant)
				}
			}

			// The page completes its interview; reads go on, answers are refused for its state.
			var done interview
			callAt(t, b.url, "POST", "/api/v1/interviews/"+mine.ID+"/complete", a.public, nil, withToken(tok)...).expect(t, 200).data(t, &done)
			if done.Status != "completed" || done.Participant != nil {
				t.Fatalf("completed with the token: %+v", done)
			}
			callAt(t, b.url, "GET", "/api/v1/interviews/"+mine.ID, a.public, nil, withToken(tok)...).expect(t, 200)
			callAt(t, b.url, "POST", "/api/v1/interviews/"+mine.ID+"/messages", a.public, map[string]any{"content": longAnswer}, withToken(tok)...).
				expectError(t, 409, "INVALID_STATE")

			// Erased, the interview takes its token with it.
			callAt(t, b.url, "DELETE", "/api/v1/interviews/"+mine.ID, a.owner, nil).expect(t, 204)
			refusedAll(t, "after the erasure", participantCalls(t, b.url, a.public, mine.ID, withToken(tok)...), 404, "NOT_FOUND")
		})
	}
}

// An empty or blank X-Qual-Participant-Token is no token (the header's schema takes none) and
// not its absence either: 400 VALIDATION_ERROR naming it on each route that reads the header,
// with any key, so a page sending an unset variable learns of it instead of running on the
// key's own rights (a secret key would read the interview and its participant).
func TestEmptyParticipantTokenIsRefused(t *testing.T) {
	tn := newTenant(t, "ptok-empty", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Empty token", "questions": []string{"Why?"}})
	iv := start(t, api.URL, tn.public, c.ID, nil)
	refused := func(what string, r response) {
		t.Helper()
		if e := errorOf(r); r.status != 400 || e.Code != "VALIDATION_ERROR" || len(e.Details) != 1 || e.Details[0].Field != "X-Qual-Participant-Token" {
			t.Errorf("%s: %d %s", what, r.status, r.body)
		}
	}
	for _, key := range []string{tn.secret, tn.public} {
		for _, blank := range []string{" ", "\t", " \t "} {
			for name, r := range participantCalls(t, api.URL, key, iv.ID, withToken(blank)...) {
				refused(name+" with a blank token", r)
			}
		}
		// An empty value, which callAt would not send.
		req, err := http.NewRequest("GET", api.URL+"/api/v1/interviews/"+iv.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header["X-Qual-Participant-Token"] = []string{""}
		refused("read with an empty token", exchange(t, http.DefaultClient, req))
	}
	var now interview
	callAt(t, api.URL, "GET", "/api/v1/interviews/"+iv.ID, tn.secret, nil).expect(t, 200).data(t, &now)
	if now.MessageCount != 1 || now.Status != "in_progress" {
		t.Fatalf("the refusals touched the interview: %+v", now)
	}
}

// A token is only half a credential: once the key it came with is revoked, it reads nothing.
func TestParticipantTokenNeedsALiveKey(t *testing.T) {
	tn := newTenant(t, "ptok-revoke", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Revoked", "questions": []string{"How did it go?", "Anything else?"}})
	var key struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	call(t, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"name": "survey page", "type": "public", "scopes": []string{"interviews:write"}}).
		expect(t, 201).data(t, &key)
	iv := start(t, api.URL, key.Key, c.ID, nil)
	tok := *iv.ParticipantToken
	call(t, "GET", "/api/v1/interviews/"+iv.ID, key.Key, nil, withToken(tok)...).expect(t, 200)
	call(t, "DELETE", "/api/v1/api-keys/"+key.ID, tn.secret, nil).expect(t, 204)
	refusedAll(t, "a revoked key", participantCalls(t, api.URL, key.Key, iv.ID, withToken(tok)...), 401, "UNAUTHORIZED")
	// The team's other public key still runs it with the token: the token is the interview's.
	answer(t, api.URL, tn.public, iv.ID, longAnswer, withToken(tok)...)
}

// A browser may send the token: CORS preflights allow its header.
func TestPreflightAllowsTheParticipantToken(t *testing.T) {
	newTenant(t, "ptok-cors", qualv1alpha1.PlanEnterprise) // its public key accepts any origin
	for _, method := range []string{"GET", "POST"} {
		req, err := http.NewRequest(http.MethodOptions, api.URL+"/api/v1/interviews/"+uuidLike+"/messages", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://survey.example.com")
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", "authorization, x-qual-participant-token")
		r := send(t, http.DefaultClient, req)
		checkShared(t, req, r, map[int]string{204: "Preflight"})
		allowed := strings.Split(r.header.Get("Access-Control-Allow-Headers"), ", ")
		if r.status != 204 || !slices.Contains(allowed, "X-Qual-Participant-Token") {
			t.Fatalf("%s preflight: %d, allowed headers %q", method, r.status, allowed)
		}
	}
}
