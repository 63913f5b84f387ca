//go:build analysisdump

package analysis

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDumpStanceCoverage prints each coded supporting quote whose clauses carry no stance
// of the theme's sentiment, for working on the stance rules:
//
//	ANALYSIS_SETS='testdata/*.json' go test -tags analysisdump -run DumpStanceCoverage -v ./internal/analysis/
func TestDumpStanceCoverage(t *testing.T) {
	files, _ := filepath.Glob(os.Getenv("ANALYSIS_SETS"))
	a := New().(*analyzer)
	tok, err := sentenceTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	var hit, total int
	for _, path := range files {
		var raw struct {
			Themes []struct {
				Key, Type, Sentiment string
				Supporting           []struct {
					InterviewID string `json:"interview_id"`
					AnswerIndex int    `json:"answer_index"`
					Quote       string `json:"quote"`
				} `json:"supporting"`
			} `json:"themes"`
		}
		b, _ := os.ReadFile(path)
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		var f fixture
		_ = json.Unmarshal(b, &f)
		in := f.input()
		recs, stats, err := a.readAll(context.Background(), in, protocolStems(in.Campaign), tok)
		if err != nil {
			t.Fatal(err)
		}
		applyAnswerPriors(recs, stats)
		ivIndex := map[string]int32{}
		for i, iv := range in.Interviews {
			ivIndex[iv.ID] = int32(i)
		}
		for _, th := range raw.Themes {
			want := classNeg
			switch {
			case th.Type == "opportunity":
				want = classWish
			case th.Sentiment == "positive":
				want = classPos
			case th.Sentiment != "negative":
				continue
			}
			for _, s := range th.Supporting {
				iv, msg := ivIndex[s.InterviewID], int32(2*s.AnswerIndex+1)
				content := in.Interviews[iv].Messages[msg].Content
				qs := int32(strings.Index(content, s.Quote))
				qe := qs + int32(len(s.Quote))
				var got []string
				ok := false
				for _, r := range recs {
					if r.iv != iv || r.msg != msg || r.end <= qs || r.start >= qe {
						continue
					}
					got = append(got, string("0-+w"[r.class]))
					if r.class == want {
						ok = true
					}
				}
				total++
				if ok {
					hit++
					continue
				}
				t.Logf("MISS %s %s want=%c got=%v | %s", filepath.Base(path), th.Key, "0-+w"[want], got, s.Quote)
			}
		}
	}
	t.Logf("coverage %d of %d", hit, total)
}
