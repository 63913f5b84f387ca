package analysis

import (
	"slices"
	"testing"
)

// quoting is a finding of type typ and key quoting one answer of each interview.
func quoting(key, typ string, interviews ...string) Finding {
	f := Finding{Key: key, Type: typ}
	for _, iv := range interviews {
		f.Evidence = append(f.Evidence, Evidence{InterviewID: iv, MessageID: iv + "-a1", Quote: "q"})
	}
	return f
}

func keysOf(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Key)
	}
	return out
}

func TestCarryKeys(t *testing.T) {
	cases := []struct {
		name       string
		prev, next []Finding
		want       []string
	}{{
		name: "continued, kept, retyped and new themes",
		prev: []Finding{
			quoting("pain_point:topic:q2", TypePainPoint, "a", "b", "c", "d"),
			quoting("pain_point:cost", TypePainPoint, "e", "f", "g", "h"),
			quoting("theme:topic:q5", TypeTheme, "i", "j", "k", "l"),
			quoting("opportunity:plan", TypeOpportunity, "m", "n", "o", "p"),
		},
		next: []Finding{
			// The same theme found on another path: most of its people are quoted again.
			quoting("pain_point:appointments", TypePainPoint, "a", "b", "c", "x"),
			// Kept under its own key.
			quoting("pain_point:cost", TypePainPoint, "e", "f", "y", "z"),
			// The same people, another type: another theme.
			quoting("pain_point:topic:q5", TypePainPoint, "i", "j", "k", "l"),
			// New people: a new theme.
			quoting("opportunity:topic:q7", TypeOpportunity, "m", "q", "r", "s"),
		},
		want: []string{"pain_point:topic:q2", "pain_point:cost", "pain_point:topic:q5", "opportunity:topic:q7"},
	}, {
		// Each old finding is continued at most once, by the new one that shares most of
		// its people; a key the new run uses itself is never carried onto another finding.
		name: "best first, keys unique",
		prev: []Finding{
			quoting("pain_point:topic:q2", TypePainPoint, "a", "b", "c", "d"),
			quoting("pain_point:speed", TypePainPoint, "e", "f", "g", "h"),
		},
		next: []Finding{
			quoting("pain_point:topic:q3", TypePainPoint, "a", "b", "x", "y"),
			quoting("pain_point:waiting", TypePainPoint, "a", "b", "c", "z"),
			quoting("pain_point:speed", TypePainPoint, "x", "y", "z", "w"),
			quoting("pain_point:topic:q6", TypePainPoint, "e", "f", "g", "h"),
		},
		want: []string{"pain_point:topic:q3", "pain_point:topic:q2", "pain_point:speed", "pain_point:topic:q6"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := keysOf(c.next)
			if got := keysOf(CarryKeys(c.prev, c.next)); !slices.Equal(got, c.want) {
				t.Fatalf("keys %v, want %v", got, c.want)
			}
			if !slices.Equal(keysOf(c.next), before) {
				t.Fatal("CarryKeys changed its input")
			}
		})
	}
}
