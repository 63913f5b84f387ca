package analysis

import "testing"

// A finding is described by as many picks as the threshold asks and any beyond as strong as
// the best; it shows the two clearest, then only those within a tenth of the best.
func TestQuoteCuts(t *testing.T) {
	a := New().(*analyzer)
	scores := func(s ...float64) []pick {
		out := make([]pick, len(s))
		for i, v := range s {
			out[i] = pick{rec: i, score: v}
		}
		return out
	}
	for _, c := range []struct {
		name             string
		picks            []pick
		thr              int
		described, shown int
	}{
		{"weak after two", scores(5, 4.5, 3, 3, 3), 4, 4, 2},
		{"near the best", scores(5, 4.8, 4.6, 4.5, 3), 4, 4, 4},
		{"cut at the fourth", scores(5, 4.7, 4.6, 4.4, 3), 4, 4, 3},
		{"as strong beyond the threshold", scores(5, 5, 5, 5, 5, 4), 4, 5, 5},
		{"the two clearest even when weak", scores(5, 1, 1), 4, 3, 2},
		{"fewer than two", scores(5), 4, 1, 1},
		{"capped by the most evidence", scores(5, 5, 5, 5, 5, 5, 5, 5, 5, 5), 4, 8, 8},
	} {
		described, shown := a.quoteCuts(c.picks, c.thr)
		if described != c.described || shown != c.shown {
			t.Errorf("%s: described %d, shown %d; want %d, %d", c.name, described, shown, c.described, c.shown)
		}
	}
}
