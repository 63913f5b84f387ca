package analysis

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestTitles checks that every finding's title on every hand-coded set reads as a
// statement rather than a bag of keywords: it has a verb, it is 3 to 12 words long, and
// no two findings of a run share one.
func TestTitles(t *testing.T) {
	fixtures := loadFixtures(t)
	names := make([]string, 0, len(fixtures))
	for n := range fixtures {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		findings, err := New().Analyze(context.Background(), fixtures[name].input())
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, f := range findings {
			words := strings.Fields(strings.TrimSuffix(f.Title, " …"))
			if len(words) < titleMinWords || len(words) > titleMaxWords {
				t.Errorf("%s: title %q has %d words, want %d-%d", name, f.Title, len(words), titleMinWords, titleMaxWords)
			}
			if !hasVerb(words) {
				t.Errorf("%s: title %q has no verb", name, f.Title)
			}
			if k := strings.ToLower(f.Title); seen[k] {
				t.Errorf("%s: title %q is used twice", name, f.Title)
			} else {
				seen[k] = true
			}
		}
	}
}

// TestCleanWordsDropsLikeBeforeAPause: "like" before a comma is a pause, whatever follows.
func TestCleanWordsDropsLikeBeforeAPause(t *testing.T) {
	for in, want := range map[string]string{
		"some like, chat with a nurse": "some chat with a nurse",
		"I didn't like the app":        "I didn't like the app",
		"it was like fifteen minutes":  "it was fifteen minutes",
	} {
		if got := strings.Join(cleanWords(in), " "); got != want {
			t.Errorf("cleanWords(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestClauseTitle turns spoken clauses into neutral statements.
func TestClauseTitle(t *testing.T) {
	for _, c := range []struct{ quote, want string }{
		{"it kept losing my bank connection", "The app kept losing the bank connection"},
		{"Um, honestly, I'd get stuck on some error, you know, every single week.", "People would get stuck on some error"},
		{"So I was constantly racing the clock at eleven fifty-eight.", "People were constantly racing the clock at eleven fifty-eight"},
		{"It's nice to see the team.", "It's nice to see the team"},
		{"Slow as molasses.", ""},
		{"The connection was it was flaky, every week.", "The connection was flaky"},
		{"I told them I would cancel", "People told them people would cancel"},
		{"Is it slow today, I wondered", ""},
		{"Because I said we wanted the early slot", "People said people wanted the early slot"},
		// A statement needs two words a reader can hold on to, whatever the quote around it.
		{"It was the one.", ""},
		{"The app, yes, I have the app.", ""},
		{"They came late.", ""},
		{"The writing is too small, dear.", "The writing is too small"},
		{"Bed was great, I'll say", "Bed was great"},
		// A subordinate clause alone states nothing; the statement is elsewhere.
		{"whereas the black bin, which isn't on the app, I've missed loads.", "People have missed loads"},
		{"Even if I pay a pound for it.", ""},
		{"who's been dead twenty years", ""},
		// Asides while the speaker looks for a word go, and the statement reads across them.
		{"looking at them on the phone is, how do you say, a little piece of home.", "Looking at them on the phone is a little piece of home"},
		// A comparison cut after its first half is no statement; the statement before it is.
		{"The young ones are doing the nights it's as simple as", "The young ones are doing the nights"},
		{"It's as simple as", ""},
		// Two statements run together by a comma are cut at the first; a clause opened by a
		// conjunction or after a relative's head stays whole.
		{"I work fifty hours, I'm tired.", "People work fifty hours"},
		{"The meals are good, I batch on a Monday morning.", "The meals are good"},
		{"Logging food is the part I hate.", "Logging food is the part people hate"},
		{"Returning it was slower than I expected.", "Returning it was slower than people expected"},
		{"By the time I get her through the door I'm sweating.", "By the time people get her through the door people are sweating"},
		{"Being honest, I'm tired.", ""},
		{"I'm a copywriter, I'm a sucker for a good label.", ""},
		// A clause's tail, or an adverb leading into one, has lost its subject.
		{"From the house account, and the wife was not happy.", ""},
		{"Is the temperature of the dough, now it is written.", ""},
		{"Discreetly on the phone, which is lovely.", ""},
		{"Tell you what I'd change: a job number and a date.", "People would change a job number and a date"},
		// Two statements run together with no conjunction are cut at the second's subject.
		{"The pass is good the price is fair.", "The pass is good"},
		{"He's had a look at the gate latch he's handy.", "He's had a look at the gate latch"},
		{"The bigger problem is there's no change in it.", "The bigger problem is there's no change in it"},
		{"The part that's awkward is the billing.", "The part that's awkward is the billing"},
		{"It's not the wear it's what the rubber does.", "It's not the wear it's what the rubber does"},
	} {
		got, ok := clauseTitle(c.quote, "The app")
		if !ok {
			got = ""
		}
		if got != c.want {
			t.Errorf("clauseTitle(%q) = %q, want %q", c.quote, got, c.want)
		}
	}
}

func TestQuestionTopic(t *testing.T) {
	for q, want := range map[string]string{
		"How do you feel about the pay: the way orders are priced?":            "the pay",
		"What do you think of the price, compared with what else is on sale?":  "the price",
		"How has the internet been day to day since then?":                     "the internet",
		"How did the cost and the billing go, including insurance?":            "the cost and the billing",
		"What was your room like: cleanliness, comfort?":                       "the room",
		"How were the staff? Was there a moment that stood out?":               "the staff",
		"How do you feel about what you pay for Chattura, and how you use it?": "what they pay for Chattura",
		"Tell me about a time something went wrong.":                           "",
		"What went well?": "",
		"Tell me about yourself and how you started.": "",
	} {
		if got := questionTopic(q); got != want {
			t.Errorf("questionTopic(%q) = %q, want %q", q, got, want)
		}
	}
}

// TestSpareTitle gives a finding whose titles others took the next unused statement of its
// quotes, and else its first quote in neutral words, never in the speaker's first person.
func TestSpareTitle(t *testing.T) {
	ev := []string{"I put my name on it, too, which I went back and forth on.", "The form kept timing out on me."}
	used := map[string]bool{}
	if got, want := spareTitle(ev, "The app", used), "The form kept timing out on them"; got != want {
		t.Errorf("spareTitle = %q, want %q", got, want)
	}
	used["the form kept timing out on them"] = true
	if got, want := spareTitle(ev, "The app", used), "People put their name on it, too, which people went back and …"; got != want {
		t.Errorf("spareTitle with every statement taken = %q, want %q", got, want)
	}
	// A filler cut out leaves no comma standing alone.
	if got, want := spareTitle([]string{"I saved, I think, eleven thousand dollars."}, "The app", used), "People saved, eleven thousand dollars"; got != want {
		t.Errorf("spareTitle of a quote with a filler = %q, want %q", got, want)
	}
}

// A title without the stance's own words may still name the theme, but never in words of
// the opposite stance: praise is no title for a complaint, unless something ended it.
func TestTitleNeverContradictsTheStance(t *testing.T) {
	anything := func([]token) bool { return true }
	quotes := []string{
		"I watched the pulling bit fifteen times, the half-speed button is genuinely the best feature.",
		"I watched the trimming part over and over in the evenings.",
	}
	for _, c := range titleCandidates(quotes, "", classNeg, anything, false) {
		if strings.Contains(c, "best feature") {
			t.Errorf("praise offered as a complaint's title: %q", c)
		}
	}
	turned := titleCandidates([]string{"After a month I stopped trusting the grocery number at all."}, "", classNeg, anything, false)
	if !slices.ContainsFunc(turned, func(c string) bool { return strings.Contains(c, "stopped trusting") }) {
		t.Errorf("a trust that ended is a complaint's title too; candidates %q", turned)
	}
}
