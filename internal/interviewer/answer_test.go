package interviewer

import "testing"

func TestWords(t *testing.T) {
	got := words("  “N/A,” I don’t know... K.A.! (maybe) — ok")
	want := []string{"n/a", "i", "don't", "know", "k.a", "maybe", "ok"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestNeedsProbe(t *testing.T) {
	for _, tc := range []struct {
		answer string
		t      *templates
		want   bool
	}{
		{"Yes.", english, true},
		{"one two three four five six seven", english, true},
		{"one two three four five six seven eight", english, false},
		{"Maybe, I have not really thought about it that much yet.", english, true},
		{"Maybenot is the name of the shop I always use for groceries.", english, false},
		{"Je ne sais pas vraiment, je n'y ai jamais pensé avant.", french, true},
		{"No sé, la verdad es que nunca lo he pensado mucho.", spanish, true},
		{"I don't know, I never really thought about it before today.", german, true}, // English too
		{"Keine Ahnung, darüber habe ich mir nie Gedanken gemacht.", english, false},  // only en phrases
		{"Nothing much, I just log in, check my balance and log out again every single morning.", english, false},
	} {
		if got := needsProbe(tc.answer, tc.t); got != tc.want {
			t.Errorf("needsProbe(%q, %s) = %v, want %v", tc.answer, tc.t.tag, got, tc.want)
		}
	}
}

func TestShorten(t *testing.T) {
	if got := shorten("short", 10); got != "short" {
		t.Fatalf("got %q", got)
	}
	if got := shorten("How do you usually decide, between two options, which one", 30); got != "How do you usually decide…" {
		t.Fatalf("got %q", got)
	}
	if got := shorten("ääääääääää", 4); got != "ääää…" {
		t.Fatalf("got %q", got)
	}
}
