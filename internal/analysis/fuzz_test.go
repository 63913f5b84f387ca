package analysis

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAnalyze feeds arbitrary text as participant answers: the analyzer must not panic,
// every quote must be an exact substring of the participant message it names, and two
// runs (with different worker counts) must agree exactly.
func FuzzAnalyze(f *testing.F) {
	f.Add("The price was way too high.\x00I didn't find it confusing.\x00Value for money? Um, I never worked it out.", "What frustrated you?")
	f.Add("If I'd ever gotten a slimy bag I'd have complained, but it was fine.\x00My brother moaned about the price.", "How was the value for money?")
	f.Add("Skipping was a nightmare!!\n\nBoxes kept coming.\x00\u00a0\u2019\u201c\x00", "")
	f.Add(strings.Repeat("slow slow. ", 50)+"\x00ääää ’’’ ... — ; : ( )", "Is there anything that would make you come back?")
	many := New(WithMinSupport(2))
	one := New(WithMinSupport(2), WithWorkers(1))
	f.Fuzz(func(t *testing.T, answers, question string) {
		parts := strings.Split(answers, "\x00")
		var in Input
		in.Campaign.Questions = []string{question}
		// Five interviews share the answers (rotated), so that some text recurs and
		// clusters form.
		for i := 0; i < 5; i++ {
			iv := Interview{ID: string(rune('a' + i))}
			for j := range parts {
				p := parts[(i+j)%len(parts)]
				iv.Messages = append(iv.Messages,
					Message{ID: iv.ID + "q" + string(rune('0'+j%10)), Role: RoleInterviewer, Content: question},
					Message{ID: iv.ID + "a" + string(rune('0'+j%10)) + string(rune('a'+j/10%26)), Role: RoleParticipant, Content: p})
			}
			in.Interviews = append(in.Interviews, iv)
		}
		got, err := many.Analyze(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		msgs := map[string]Message{}
		for _, iv := range in.Interviews {
			for _, m := range iv.Messages {
				msgs[iv.ID+"/"+m.ID] = m
			}
		}
		for _, fd := range got {
			if fd.Title == "" || fd.Key == "" || fd.Frequency < 2 || fd.Confidence < 0 || fd.Confidence > 1 {
				t.Fatalf("malformed finding %+v", fd)
			}
			checkBounds(t, fd)
			for _, e := range fd.Evidence {
				m, ok := msgs[e.InterviewID+"/"+e.MessageID]
				if !ok || m.Role != RoleParticipant {
					t.Fatalf("evidence names %s/%s, not a participant message", e.InterviewID, e.MessageID)
				}
				if e.Quote == "" || !strings.Contains(m.Content, e.Quote) {
					t.Fatalf("quote %q is not a substring of %q", e.Quote, m.Content)
				}
			}
		}
		again, err := one.Analyze(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("two runs differ:\n%+v\n%+v", got, again)
		}
	})
}

// TestDeterministic runs every hand-coded set twice, with different worker counts, and
// wants identical findings.
// checkBounds fails when a finding breaks a bound the API holds what a client writes to:
// a finding read from the API must be one a client can send back.
func checkBounds(t *testing.T, fd Finding) {
	t.Helper()
	runes := utf8.RuneCountInString
	if runes(fd.Title) > maxTitle || runes(fd.Summary) > maxSummary {
		t.Fatalf("title of %d or summary of %d characters", runes(fd.Title), runes(fd.Summary))
	}
	for _, e := range fd.Evidence {
		if runes(e.Quote) > maxQuote {
			t.Fatalf("a quote of %d characters", runes(e.Quote))
		}
	}
	for _, tag := range fd.Tags {
		if runes(tag) > maxTag {
			t.Fatalf("a tag of %d characters", runes(tag))
		}
	}
}

// An answer may be one run-on clause of ten thousand characters, or a "word" as long: the
// findings it makes stay within the API's bounds, their quotes still the participant's own
// words.
func TestFindingsKeepTheAPIBounds(t *testing.T) {
	runOn := "the pricing was confusing and too expensive" + strings.Repeat(" and the setup was slow and painful", 280)
	word := "Setup was " + strings.Repeat("x", 9000) + " and far too slow."
	for _, answer := range []string{runOn, word} {
		in := oneQuestion("What frustrated you?", slices.Repeat([]string{answer}, 5))
		got := analyzed(t, in)
		if len(got) == 0 {
			t.Fatalf("no finding from five alike answers of %d characters", len(answer))
		}
		for _, fd := range got {
			checkBounds(t, fd)
			for _, e := range fd.Evidence {
				if !strings.Contains(answer, e.Quote) {
					t.Fatalf("quote is not the participant's words: %.80q", e.Quote)
				}
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	for name, f := range loadFixtures(t) {
		in := f.input()
		a, err := New(WithWorkers(1)).Analyze(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(WithWorkers(7)).Analyze(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: findings differ between runs", name)
		}
	}
}

// TestKeysStable: a finding's key names its theme, not the run: reversing the order of
// the interviews keeps every key, and analysing a grown set (all interviews after the
// first ten) keeps most themes found both times under their keys once CarryKeys, as a
// re-analysis does, has carried over the keys of themes that crossed to another path.
func TestKeysStable(t *testing.T) {
	for name, f := range loadFixtures(t) {
		in := f.input()
		full, err := New().Analyze(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		rev := in
		rev.Interviews = slices.Clone(in.Interviews)
		slices.Reverse(rev.Interviews)
		reversed, err := New().Analyze(context.Background(), rev)
		if err != nil {
			t.Fatal(err)
		}
		keyFreq := func(fs []Finding) map[string]int {
			m := map[string]int{}
			for _, f := range fs {
				m[f.Key] = f.Frequency
			}
			return m
		}
		if a, b := keyFreq(full), keyFreq(reversed); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: keys and frequencies depend on interview order:\n%v\n%v", name, a, b)
		}
		small := in
		small.Interviews = in.Interviews[:min(10, len(in.Interviews))]
		early, err := New().Analyze(context.Background(), small)
		if err != nil {
			t.Fatal(err)
		}
		fullKeys, carriedKeys := keyFreq(full), keyFreq(CarryKeys(early, full))
		raw, kept := 0, 0
		for _, f := range early {
			if _, ok := fullKeys[f.Key]; ok {
				raw++
			}
			if _, ok := carriedKeys[f.Key]; ok {
				kept++
			}
		}
		t.Logf("%s: %d of %d findings on the first 10 interviews keep their key on all %d (%d before carrying keys)",
			name, kept, len(early), len(in.Interviews), raw)
		// A blind set's findings are mostly noise until it meets the targets, and noise
		// has no stable key: like its scores, its key churn is logged, not failed.
		if kept*2 < len(early) {
			report := t.Errorf
			if blindSets[name] {
				report = t.Logf
			}
			report("%s: most keys changed when the set grew", name)
		}
	}
}

// TestEdgeInputs: no interviews, empty messages and interviews without an interviewer
// turn give no findings and no error.
func TestEdgeInputs(t *testing.T) {
	for name, in := range map[string]Input{
		"nothing":        {},
		"empty messages": {Interviews: []Interview{{ID: "a", Messages: []Message{{ID: "m", Role: RoleParticipant}}}}},
		"no questions": {Interviews: []Interview{{ID: "a", Messages: []Message{
			{ID: "m", Role: RoleParticipant, Content: "The price was too high."}}}}},
	} {
		got, err := New().Analyze(context.Background(), in)
		if err != nil || len(got) != 0 {
			t.Errorf("%s: %v, %v", name, got, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Analyze(ctx, syntheticInput(100)); err == nil {
		t.Error("a cancelled context gives no error")
	}
}
