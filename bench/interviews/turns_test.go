package interviews

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/interviewer"
	service "qual.cx/operator/internal/interviews"
	"qual.cx/operator/internal/store"
)

// questions is the number of questions of the benchmark's campaign and its maxQuestions: an
// interview takes that many answers, the last one answered by the closing words.
const questions = 50

// answer is long enough (15 words or more) that the protocol interviewer never probes, so
// every interview is exactly `questions` answers.
const answer = "Honestly the first week was confusing. I signed up on a Monday, invited two colleagues, " +
	"and then spent most of Tuesday looking for the import button, which was hidden under the " +
	"account settings rather than on the dashboard where I expected it. Once I found it the import " +
	"itself worked, but by then one of my colleagues had already given up and gone back to the spreadsheet."

// questionText is question i of the campaign, about as long as a real protocol question.
func questionText(i int) string {
	return fmt.Sprintf("Question %d: think of the last time you set up a new tool for your team. "+
		"Walk me through what happened, step by step, what you expected at each point and what you did next.", i+1)
}

func turnCampaign() qualv1alpha1.CampaignSpec {
	qs := make([]string, questions)
	for i := range qs {
		qs[i] = questionText(i)
	}
	return qualv1alpha1.CampaignSpec{Title: "Onboarding research",
		Description: "Why new customers stall in their first week, and what would have kept them going.",
		Objectives:  "Find the three biggest reasons for drop-off.",
		Mode:        qualv1alpha1.ModeResearch, MaxQuestions: questions, Questions: qs,
		Settings: qualv1alpha1.CampaignSettings{Language: "en", Interviewer: qualv1alpha1.InterviewerProtocol}}
}

// rounds is how many slices each measurement is cut into: the store, the service and the API
// take turns, one slice each, so load from anything else on the machine falls on all alike.
const rounds = 5

// benchTurns measures participant turns through the API, the store's own turn (the baseline)
// and the interview service's turn (the API's work without HTTP, authentication and the
// handler's own read of the interview), with 1, 8 and 64 concurrent interviews, on the same
// database.
func benchTurns(b *testing.B, st *stack) {
	t := st.newTeam(b, "turns", turnCampaign())
	d := envDuration(b, "QUAL_BENCH_DURATION", 5*time.Second)
	checkInterview(b, st, t)
	for _, n := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("interviews=%d", n), func(b *testing.B) {
			ts := st.db.Team(store.TeamID(t.uid))
			api, svc, base := make([]worker, n), make([]worker, n), make([]worker, n)
			for i := range n {
				api[i] = &apiWorker{st: st, t: t}
				svc[i] = &serviceWorker{ts: ts, campaign: t.obj}
				base[i] = &storeWorker{ts: ts, campaign: store.CampaignID(t.campaign)}
			}
			// Warm all three (connections, statement caches, the first interviews) before timing.
			for _, w := range [][]worker{base, svc, api} {
				run(b, w, time.Second)
			}
			for b.Loop() {
				load := loadAverage()
				var a, v, s sample
				for range rounds {
					s.add(run(b, base, d/rounds))
					v.add(run(b, svc, d/rounds))
					a.add(run(b, api, d/rounds))
				}
				ar, vr, sr := a.result(b), v.result(b), s.result(b)
				b.ReportMetric(ar.rate, "api-turns/s")
				b.ReportMetric(ar.p50, "api-p50-ms")
				b.ReportMetric(ar.p99, "api-p99-ms")
				b.ReportMetric(sr.rate, "store-turns/s")
				b.ReportMetric(sr.p50, "store-p50-ms")
				b.ReportMetric(sr.p99, "store-p99-ms")
				b.ReportMetric(vr.rate, "service-turns/s")
				b.ReportMetric(vr.p50, "service-p50-ms")
				b.ReportMetric(ar.rate/sr.rate, "api/store")
				b.ReportMetric(vr.rate/sr.rate, "service/store")
				b.Logf("%s, %d interviews: API %d turns and %d starts in %v; service %d turns and %d starts in %v; store %d turns and %d starts in %v; load average %s before, %s after",
					st.be.name, n, len(a.lat), a.starts, a.elapsed.Round(time.Millisecond),
					len(v.lat), v.starts, v.elapsed.Round(time.Millisecond),
					len(s.lat), s.starts, s.elapsed.Round(time.Millisecond), load, loadAverage())
			}
		})
	}
}

// loadAverage is the machine's 1-minute load average: the benchmark shares the CPU with its
// control plane, PostgreSQL, and anything else running.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(raw))[0]
}

// worker drives its own interviews, one at a time.
type worker interface {
	// step makes one request: the start of a new interview when the worker has none in
	// progress, else one turn, whose latency it returns. It reports failures on b.
	step(b *testing.B) (latency time.Duration, turn, ok bool)
}

// sample is what some workers did in some time: each turn's latency, and the starts.
type sample struct {
	lat     []time.Duration
	starts  int
	elapsed time.Duration
}

func (s *sample) add(o sample) {
	s.lat, s.starts, s.elapsed = append(s.lat, o.lat...), s.starts+o.starts, s.elapsed+o.elapsed
}

type result struct {
	rate     float64 // turns per second
	p50, p99 float64 // ms
}

func (s sample) result(b *testing.B) result {
	if len(s.lat) == 0 {
		b.Fatal("no turn completed")
	}
	slices.Sort(s.lat)
	ms := func(p int) float64 { return float64(s.lat[(len(s.lat)-1)*p/100].Microseconds()) / 1000 }
	return result{rate: float64(len(s.lat)) / s.elapsed.Seconds(), p50: ms(50), p99: ms(99)}
}

// run runs every worker on its own goroutine, closed loop, for d, and waits for the requests
// in flight: elapsed runs until the last one is answered.
func run(b *testing.B, workers []worker, d time.Duration) sample {
	var mu sync.Mutex
	var out sample
	begin := time.Now()
	deadline := begin.Add(d)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			var lat []time.Duration
			starts := 0
			for time.Now().Before(deadline) {
				l, turn, ok := w.step(b)
				if !ok {
					break
				}
				if turn {
					lat = append(lat, l)
				} else {
					starts++
				}
			}
			mu.Lock()
			out.add(sample{lat: lat, starts: starts})
			mu.Unlock()
		})
	}
	wg.Wait()
	out.elapsed = time.Since(begin)
	if b.Failed() {
		b.FailNow()
	}
	return out
}

// apiWorker answers its interview through the REST API and checks every response.
type apiWorker struct {
	st       *stack
	t        team
	iv       string
	answered int
}

var answerBody = func() string {
	raw, _ := json.Marshal(map[string]string{"content": answer})
	return string(raw)
}()

type wireMessage struct {
	ID       string `json:"id"`
	Role     string `json:"role"`
	Sequence int64  `json:"sequence"`
}

type wireInterview struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	MessageCount  int    `json:"message_count"`
	QuestionCount int    `json:"question_count"`
}

func (w *apiWorker) step(b *testing.B) (time.Duration, bool, bool) {
	if w.iv == "" || w.answered == questions {
		status, body, err := w.post("/campaigns/"+w.t.campaign+"/interviews", "{}")
		var started struct {
			Data struct {
				wireInterview
				Messages []wireMessage `json:"messages"`
			} `json:"data"`
		}
		if err == nil && status == http.StatusCreated {
			err = json.Unmarshal(body, &started)
		}
		if err != nil || status != http.StatusCreated || len(started.Data.Messages) != 1 || started.Data.Messages[0].Sequence != 1 {
			b.Errorf("start: %d %s (%v)", status, body, err)
			return 0, false, false
		}
		w.iv, w.answered = started.Data.ID, 0
		return 0, false, true
	}
	begin := time.Now()
	status, body, err := w.post("/interviews/"+w.iv+"/messages", answerBody)
	latency := time.Since(begin)
	var turn struct {
		Data struct {
			Message   wireMessage   `json:"message"`
			Reply     *wireMessage  `json:"reply"`
			Interview wireInterview `json:"interview"`
			Closing   *string       `json:"closing"`
		} `json:"data"`
	}
	if err == nil && status == http.StatusCreated {
		err = json.Unmarshal(body, &turn)
	}
	if err != nil || status != http.StatusCreated {
		b.Errorf("answer %d: %d %s (%v)", w.answered+1, status, body, err)
		return 0, false, false
	}
	w.answered++
	got, seq := turn.Data, int64(2*w.answered)
	ok := got.Message.Sequence == seq && got.Message.Role == "participant"
	if w.answered < questions {
		ok = ok && got.Reply != nil && got.Reply.Sequence == seq+1 && got.Closing == nil &&
			got.Interview.Status == "in_progress" && got.Interview.QuestionCount == w.answered+1
	} else {
		ok = ok && got.Reply == nil && got.Closing != nil && got.Interview.Status == "completed"
	}
	if !ok {
		b.Errorf("answer %d of interview %s: unexpected turn %s", w.answered, w.iv, body)
		return 0, false, false
	}
	return latency, true, true
}

func (w *apiWorker) post(path, body string) (int, []byte, error) {
	req, err := http.NewRequest("POST", w.st.url+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+w.t.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.st.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// storeWorker makes the store's share of the same turns: the two appends the API makes in
// one transaction, each at the sequence read before, and the same starts (an interview and
// its opening question in one transaction) every `questions` turns.
type storeWorker struct {
	ts       store.TeamStore
	campaign store.CampaignID
	iv       store.InterviewID
	answered int
}

func (w *storeWorker) step(b *testing.B) (time.Duration, bool, bool) {
	ctx := context.Background()
	if w.iv == "" || w.answered == questions {
		err := w.ts.InTx(ctx, func(tx store.TeamStore) error {
			iv, err := tx.CreateInterview(ctx, store.NewInterview{CampaignID: w.campaign})
			if err != nil {
				return err
			}
			w.iv = iv.ID
			_, err = tx.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleInterviewer, Content: questionText(0)})
			return err
		})
		if err != nil {
			b.Errorf("store start: %v", err)
			return 0, false, false
		}
		w.answered = 0
		return 0, false, true
	}
	seq := int64(2*w.answered + 2)
	begin := time.Now()
	err := w.ts.InTx(ctx, func(tx store.TeamStore) error {
		if _, err := tx.AppendMessage(ctx, w.iv, store.NewMessage{Role: store.RoleParticipant, Content: answer, Sequence: seq}); err != nil {
			return err
		}
		_, err := tx.AppendMessage(ctx, w.iv, store.NewMessage{Role: store.RoleInterviewer, Content: questionText(w.answered + 1), Sequence: seq + 1})
		return err
	})
	latency := time.Since(begin)
	if err != nil {
		b.Errorf("store turn %d: %v", w.answered+1, err)
		return 0, false, false
	}
	w.answered++
	return latency, true, true
}

// serviceWorker answers its interview through internal/interviews.Service, as the API's
// handler does once it has authenticated the request and found the interview: the same store
// reads and transaction, the same protocol interviewer, no HTTP.
type serviceWorker struct {
	ts       store.TeamStore
	campaign *qualv1alpha1.Campaign
	iv       store.InterviewID
	answered int
}

var svc = &service.Service{Interviewers: service.Interviewers{Protocol: interviewer.NewProtocol()}, Log: logr.Discard()}

func (w *serviceWorker) step(b *testing.B) (time.Duration, bool, bool) {
	ctx := context.Background()
	if w.iv == "" || w.answered == questions {
		iv, _, err := svc.Start(ctx, w.ts, w.campaign, store.Participant{}, nil) // the caller spends the budget, none here
		if err != nil {
			b.Errorf("service start: %v", err)
			return 0, false, false
		}
		w.iv, w.answered = iv.ID, 0
		return 0, false, true
	}
	begin := time.Now()
	iv, err := w.ts.GetInterview(ctx, w.iv) // the handler's lookup
	if err != nil {
		b.Errorf("service answer %d: %v", w.answered+1, err)
		return 0, false, false
	}
	turn, err := svc.Answer(ctx, w.ts, w.campaign, iv, answer)
	latency := time.Since(begin)
	if err != nil {
		b.Errorf("service answer %d: %v", w.answered+1, err)
		return 0, false, false
	}
	w.answered++
	if turn.Answer.Sequence != int64(2*w.answered) || (turn.Reply == nil) != (w.answered == questions) {
		b.Errorf("service answer %d of interview %s: unexpected turn %+v", w.answered, w.iv, turn)
		return 0, false, false
	}
	return latency, true, true
}

// checkInterview runs one interview start to end through the API, every response checked,
// then reads it back: 1 + 2*questions - 1 messages in order, the last question the 50th.
func checkInterview(b *testing.B, st *stack, t team) {
	w := &apiWorker{st: st, t: t}
	for i := 0; i <= questions; i++ {
		if _, _, ok := w.step(b); !ok {
			b.FailNow()
		}
	}
	want := 2 * questions
	status, body := st.do(b, t, "GET", "/interviews/"+w.iv+"/messages?limit=100", "")
	var page struct {
		Data       []wireMessage `json:"data"`
		Pagination struct {
			TotalCount int  `json:"total_count"`
			HasMore    bool `json:"has_more"`
		} `json:"pagination"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Data) != want || page.Pagination.TotalCount != want || page.Pagination.HasMore {
		b.Fatalf("transcript of %s: %d %.300s", w.iv, status, body)
	}
	for i, m := range page.Data {
		role := "interviewer"
		if i%2 == 1 {
			role = "participant"
		}
		if m.Sequence != int64(i+1) || m.Role != role {
			b.Fatalf("transcript of %s: message %d is %+v", w.iv, i, m)
		}
	}
}
