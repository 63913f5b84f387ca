//go:build analysisdump

// A tool, not a test: built only with -tags analysisdump, so the suite never skips it.
//
//	ANALYSIS_DUMP=fixture:id,id go test -tags analysisdump -run DumpClauses -v ./internal/analysis/

package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
)

// TestDumpClauses prints every own-stance clause record of the interviews named by
// ANALYSIS_DUMP ("fixture:id,id"), for working on the rules.
func TestDumpClauses(t *testing.T) {
	spec := os.Getenv("ANALYSIS_DUMP")
	if spec == "" {
		t.Fatal("set ANALYSIS_DUMP=fixture:id,id")
	}
	name, ids, _ := strings.Cut(spec, ":")
	all := loadFixtures(t)
	maps.Copy(all, loadHoldout(t))
	f := all[name]
	if f == nil {
		t.Fatalf("no fixture %s", name)
	}
	in := f.input()
	a := New().(*analyzer)
	tok, err := sentenceTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	recs, stats, err := a.readAll(context.Background(), in, protocolStems(in.Campaign), tok)
	if err != nil {
		t.Fatal(err)
	}
	applyAnswerPriors(recs, stats)
	want := map[string]bool{}
	for _, id := range strings.Split(ids, ",") {
		want[id] = true
	}
	for _, r := range recs {
		iv := in.Interviews[r.iv]
		if len(want) > 0 && !want[iv.ID] && ids != "" {
			continue
		}
		var cs []string
		for _, cw := range r.concepts {
			cs = append(cs, fmt.Sprintf("%s:%g", lexiconIDs[cw.concept], cw.weight))
		}
		var fs []string
		for _, f := range r.families {
			fs = append(fs, a.thes.families[f].word)
		}
		t.Logf("%s %s q%d class=%d explicit=%v %v %v %v | %s", iv.ID, iv.Messages[r.msg].ID, r.qid, r.class, r.explicit, cs, fs, r.stems,
			iv.Messages[r.msg].Content[r.start:r.end])
	}
}

// TestDumpSentences prints the clause records of each line of SENTS read as an answer to
// the question Q, for trying a stance rule on a sentence:
//
//	Q='How was it?' SENTS='It was fine.' go test -tags analysisdump -run DumpSentences -v ./internal/analysis/
func TestDumpSentences(t *testing.T) {
	a := New().(*analyzer)
	tok, _ := sentenceTokenizer()
	q := os.Getenv("Q")
	for _, ans := range strings.Split(os.Getenv("SENTS"), "\n") {
		if ans == "" {
			continue
		}
		in := Input{Campaign: Campaign{Questions: []string{q}}, Interviews: []Interview{{ID: "x", Messages: []Message{
			{ID: "q", Role: RoleInterviewer, Content: q}, {ID: "a", Role: RoleParticipant, Content: ans}}}}}
		recs, _, _ := a.readAll(context.Background(), in, protocolStems(in.Campaign), tok)
		t.Logf("== %s", ans)
		for _, r := range recs {
			t.Logf("   class=%d expl=%v fromAns=%v | %s", r.class, r.explicit, r.fromAnswer, ans[r.start:r.end])
		}
	}
}

// TestDumpAll prints one JSON line per own-stance clause of every hand-coded set, for
// mining the stance rules' misses: ANALYSIS_DUMP_ALL=path.
func TestDumpAll(t *testing.T) {
	path := os.Getenv("ANALYSIS_DUMP_ALL")
	if path == "" {
		t.Fatal("set ANALYSIS_DUMP_ALL=path")
	}
	all := loadFixtures(t)
	maps.Copy(all, loadHoldout(t))
	tok, err := sentenceTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	enc := json.NewEncoder(out)
	for name, f := range all {
		in := f.input()
		a := New().(*analyzer)
		recs, stats, err := a.readAll(context.Background(), in, protocolStems(in.Campaign), tok)
		if err != nil {
			t.Fatal(err)
		}
		applyAnswerPriors(recs, stats)
		for _, r := range recs {
			iv := in.Interviews[r.iv]
			var fs []string
			for _, f := range r.families {
				fs = append(fs, a.thes.families[f].word)
			}
			var cs []string
			for _, cw := range r.concepts {
				cs = append(cs, lexiconIDs[cw.concept])
			}
			_ = enc.Encode(map[string]any{"set": name, "iv": iv.ID, "msg": iv.Messages[r.msg].ID, "class": r.class,
				"explicit": r.explicit, "qid": r.qid, "fam": r.famStance, "stems": r.stems, "families": fs, "concepts": cs,
				"text": iv.Messages[r.msg].Content[r.start:r.end]})
		}
	}
}
