package analysis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// syntheticInput builds n interviews of eight answers each from a pool of spoken-style
// sentences: recurring complaints, praise and wishes, their negated, hypothetical and
// second-hand look-alikes, and one-off filler, so the benchmark exercises every rule at
// realistic answer lengths (40-120 words).
func syntheticInput(n int) Input {
	questions := []string{
		"Could you tell me a bit about yourself and how you started using the service?",
		"Walk me through a typical week. How did it fit in?",
		"What did you enjoy most?",
		"What frustrated you, or didn't work the way you hoped?",
		"How did you think about the price?",
		"How was getting help from support and the docs?",
		"How easy was the app to use?",
		"Is there anything that would make you come back?",
	}
	pool := []string{
		"Um, honestly the price was way too high for what we got, like eighty dollars a week.",
		"The packaging drove me nuts, so much plastic and all those little bags.",
		"It took forever to load, I'd click and go make a coffee.",
		"I learned a lot, I can actually cook fish now without being scared of it.",
		"Support was great, a real person answered within ten minutes.",
		"The docs were out of date, the screenshots showed menus that don't exist anymore.",
		"Skipping a week was a nightmare, I missed the cutoff twice and boxes kept coming.",
		"If they did a cheaper plan, I'd come back tomorrow.",
		"I did not find it confusing at all, to be fair.",
		"If I'd ever had a problem with support I'd have complained, but I never did.",
		"My brother always moaned about the price, but it was fine for me.",
		"We live in a flat with two cats and a very loud neighbour.",
		"You know, it was kind of quality time with my partner on Fridays.",
		"The app crashed when I tried to update my card, which was annoying.",
		"Honestly I think it was fine, nothing special, I just used it on Sundays.",
		"The recipes were clear and the pictures helped a lot.",
		"Value for money? I honestly couldn't tell you.",
		"The produce arrived wilted twice, the herbs were black already.",
		"Let us choose how many meals we get each week, that would fix most of it.",
		"I get home at seven and the prep takes an hour, so it just didn't fit weeknights.",
	}
	r := rand.New(rand.NewPCG(1, uint64(n)))
	in := Input{Campaign: Campaign{
		Title:      "Synthetic study",
		Objectives: "Understand why people use the service, what frustrates them and what would bring them back.",
		Questions:  questions,
		Language:   "en",
	}}
	for i := range n {
		iv := Interview{ID: fmt.Sprintf("s%05d", i)}
		for q, question := range questions {
			var sb strings.Builder
			for k := 0; k < 2+r.IntN(4); k++ {
				if k > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(pool[r.IntN(len(pool))])
			}
			iv.Messages = append(iv.Messages,
				Message{ID: fmt.Sprintf("%s-q%d", iv.ID, q), Role: RoleInterviewer, Content: question},
				Message{ID: fmt.Sprintf("%s-a%d", iv.ID, q), Role: RoleParticipant, Content: sb.String()})
		}
		in.Interviews = append(in.Interviews, iv)
	}
	return in
}

// BenchmarkAnalyze measures a whole run at 100, 1,000 and 10,000 interviews, beside its
// baseline in the same run: reading every answer once (sentences, clauses, stance), the
// work no analysis can skip, so the ratio says what clustering and labelling add.
func BenchmarkAnalyze(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		in := syntheticInput(n)
		a := New().(*analyzer)
		b.Run(fmt.Sprintf("interviews=%d/read", n), func(b *testing.B) {
			tok, err := sentenceTokenizer()
			if err != nil {
				b.Fatal(err)
			}
			protocol := protocolStems(in.Campaign)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := a.readAll(context.Background(), in, protocol, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("interviews=%d/analyze", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Analyze(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSyntheticScale checks the synthetic corpus yields findings with exact quotes, so
// the benchmark measures real work.
func TestSyntheticScale(t *testing.T) {
	in := syntheticInput(200)
	got, err := New().Analyze(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no findings on the synthetic corpus")
	}
}
