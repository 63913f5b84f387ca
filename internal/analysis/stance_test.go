package analysis

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// classesOf analyses one answer to one question and returns, for each concept the
// answer's own-stance clauses carry, the stances it is carried with.
func classesOf(t *testing.T, question, answer string) map[string][]polClass {
	t.Helper()
	a := New().(*analyzer)
	out := map[string][]polClass{}
	for _, r := range recordsOf(t, a, question, answer) {
		for _, cw := range r.concepts {
			if r.class != classNone && present(cw.weight, r.explicit) {
				id := a.lex.concepts[cw.concept].id
				if !slices.Contains(out[id], r.class) {
					out[id] = append(out[id], r.class)
				}
			}
		}
	}
	return out
}

// recordsOf reads one answer to one question into its clause records.
func recordsOf(t *testing.T, a *analyzer, question, answer string) []clauseRec {
	t.Helper()
	tok, err := sentenceTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	in := Input{
		Campaign: Campaign{Questions: []string{question}},
		Interviews: []Interview{{ID: "x", Messages: []Message{
			{ID: "q", Role: RoleInterviewer, Content: question},
			{ID: "a", Role: RoleParticipant, Content: answer},
		}}},
	}
	recs, _, err := a.readAll(context.Background(), in, protocolStems(in.Campaign), tok)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestLukewarmPraise: praise hedged to adequacy or granted as a concession is only the
// absence of a complaint (dropLukewarm), while plain praise is warm.
func TestLukewarmPraise(t *testing.T) {
	const q = "How did you find the app?"
	for answer, want := range map[string]bool{
		"The form online was fine.":                             true,
		"The app's easy enough to use, honestly.":               true,
		"Credit where it's due, the app is dead easy to use.":   true,
		"To be fair the booking page is quick.":                 true,
		"The app is dead easy to use, I love it.":               false,
		"The booking page is brilliant, so quick.":              false,
		"There was enough room for everyone and it was lovely.": false,
	} {
		var pos, luke int
		for _, r := range recordsOf(t, New().(*analyzer), q, answer) {
			if r.class == classPos && r.explicit {
				pos++
				if r.lukewarm {
					luke++
				}
			}
		}
		if pos == 0 || (luke == pos) != want {
			t.Errorf("%q: %d of %d praise records lukewarm, want lukewarm %v", answer, luke, pos, want)
		}
	}
}

func TestStanceRules(t *testing.T) {
	const q = "Tell me about your experience."
	const change = "If you could change one thing, what would it be?"
	cases := []struct {
		name, question, answer, concept string
		// want is the stance the concept must be carried with; classNone: the concept
		// must not be evidence at all; a negative class: never with that stance.
		want polClass
	}{
		{"plain complaint", q, "Honestly the app was really confusing.", "usability", classNeg},
		{"negation", q, "I did not find it confusing at all.", "usability", classNone},
		{"dismissal", "What frustrated you the most?", "The packaging is not a big deal to me, I recycle it.", "packaging", classNone},
		{"dismissal, no", "What frustrated you the most?", "The price is no big deal.", "cost", classNone},
		{"denied belief", "What frustrated you the most?", "I don't think there's much to worry about with the packaging.", "packaging", -classNeg},
		{"denied belief of praise", q, "I don't think the price was worth it, honestly.", "cost", classNeg},
		{"negated verb flips", q, "The packaging didn't bother me, we just flattened the boxes.", "packaging", classPos},
		{"can't fault", q, "Honestly, I can't fault the support team.", "support", classPos},
		{"can't beat", q, "You can't beat the price for what you get.", "cost", classPos},
		{"never had trouble", q, "We never had trouble skipping weeks, that part was fine.", "scheduling", classPos},
		{"counterfactual", q, "If I'd ever gotten a slimy bag of spinach I'd have complained.", "quality", classNone},
		{"supposition", q, "Though if the delivery were ever late I'd be annoyed because I work nights.", "delivery", classNone},
		{"might have been", q, "If money was tighter it might've been an issue, I guess.", "cost", classNone},
		{"second-hand", q, "My brother always moaned about the price.", "cost", classNone},
		{"second-hand at a distance", q, "A friend at another nonprofit said their support team is lovely.", "support", classNone},
		{"a relative's own story", q, "My sister moved with another firm and the price was ridiculous.", "cost", classNone},
		{"a relative's story, said plainly", q, "So my flatmate, she waited three weeks for support.", "support", classNone},
		{"the speaker with a relative", q, "My husband and I thought the price was way too high.", "cost", classNeg},
		{"dead easy", q, "Honestly the setup was dead easy, ten minutes.", "setup", classPos},
		{"dead quiet is no complaint", q, "The new office was dead quiet, no distractions.", "focus", -classNeg},
		{"own price complaint", q, "The price was way too high for the two of us.", "cost", classNeg},
		{"not cheap", q, "The monthly price is not cheap, honestly.", "cost", classNeg},
		{"a supposed feeling", q, "If I was paying per minute I'd probably be annoyed about the price.", "cost", classNone},
		{"a probable wish", q, "If the price were lower I'd probably come back.", "cost", classWish},
		{"irrealis might", q, "If I lived further out I might worry about the price.", "cost", classNone},
		{"others struggle", q, "A lot of people struggle with the price, I know that.", "cost", classNone},
		{"spared a fight", q, "I haven't had to fight for an appointment slot, touch wood.", "appointments", -classNeg},
		{"reproach", q, "You should have warned me about the fee before I paid.", "cost", classNeg},
		{"own could have", q, "I could've complained about the fee, but I didn't.", "cost", classNone},
		{"term of address", change, "Lower the price, love.", "cost", classWish},
		{"request with its purpose", change, "Fix the price so I don't have to keep checking it.", "cost", classWish},
		{"a wish spelled out", change, "Something smaller. A lower price for the small box, like half.", "cost", classWish},
		{"verdict on the last topic", q, "The staff were lovely. We looked at the price last month. Honestly, it was way too much.", "cost", classNeg},
		{"the fine is no praise", q, "I paid the fine on the parking, the price of it.", "cost", -classPos},
		{"a chore repeated", q, "I had to ask about the price three times before they answered.", "cost", classNeg},
		{"a change suffered again", q, "The price keeps getting changed after I've paid.", "cost", classNeg},
		{"drives me up the wall", q, "It drives me up the wall how the price jumps about.", "cost", classNeg},
		{"a chore every time", q, "I have to ask about the price every single time.", "cost", classNeg},
		{"left in the dark", q, "I was left in the dark about the price for three weeks.", "cost", classNeg},
		{"a faff", q, "Sorting out the price is such a faff.", "cost", classNeg},
		{"a complaint idiom", q, "The price is doing my head in, honestly.", "cost", classNeg},
		{"hit and miss", q, "The support team is hit and miss.", "support", classNeg},
		{"a shambles", q, "The support, it's a shambles.", "support", classNeg},
		{"could be better", q, "The support team could be better, honestly.", "support", classNeg},
		{"the only downside", q, "The only downside is the price, really.", "cost", classNeg},
		{"what gets me", q, "What gets me is the price every month.", "cost", classNeg},
		{"not ideal", q, "The price is not ideal for a family, honestly.", "cost", classNeg},
		{"more trouble than it's worth", q, "The support line is more trouble than it's worth.", "support", classNeg},
		{"on hold", q, "About the price, I sat on hold for forty minutes to get it corrected.", "cost", classNeg},
		{"a long time taken", q, "It took three weeks to get the price corrected on my account.", "cost", classNeg},
		{"a short time taken", q, "It only took five minutes to get the price corrected.", "cost", -classNeg},
		{"talk to", change, "Talk to us about the price before you change it.", "cost", classWish},
		{"contrast concedes", q, "I know people fight over the rooms, but I've honestly never had a problem.", "office", classNone},
		{"denial after but", q, "I know per seat gets expensive when everyone needs to view, but that wasn't us.", "cost", classNone},
		{"homonym quality time", q, "It was kind of quality time with the roommates.", "quality", classNone},
		{"homonym whole package", q, "I'd say the whole package was a genuinely good idea.", "packaging", classNone},
		{"homonym skipping lunch", q, "I'd be skipping lunch at work anyway.", "scheduling", classNone},
		{"interviewer echo", "How did you think about value for money?", "Value for money? Um, I honestly never worked it out.", "cost", classNone},
		{"echo then stance", "What frustrated you?", "Frustrated? The skipping was a nightmare.", "scheduling", classNeg},
		{"question prior", "What frustrated you, or didn't work the way you hoped?", "The skipping thing.", "scheduling", classNeg},
		{"pushed to the next morning", q, "The delivery got pushed to the next morning and nobody said a word.", "delivery", -classPos},
		{"flat denial cancels prior", "What frustrated you?", "Honestly not much. Packaging, I guess, we have a big recycling bin.", "packaging", classNone},
		{"wish", q, "I'd come back tomorrow if they did a cheaper plan.", "plan", classWish},
		{"wish after an adverb", change, "I'd really love a lower price for the small box.", "cost", classWish},
		{"wish after an adverb is no praise", q, "I'd really love the price to come down.", "cost", -classPos},
		{"want now", q, "I just want to be able to see the price before I book.", "cost", classWish},
		{"all I want", q, "All I want is a price that doesn't change every week.", "cost", classWish},
		{"an ability supposed", q, "If we could just see the price up front, that would save everybody a headache.", "cost", classWish},
		{"a hope", q, "I hope they bring the price down for students.", "cost", classWish},
		{"there needs to be", q, "There needs to be a cheaper price for the small box.", "cost", classWish},
		{"what would help", q, "What would help is a lower price for the small box.", "cost", classWish},
		{"would be a godsend", q, "A lower price for students would be a godsend.", "cost", classWish},
		{"we need more", q, "We really need a better price for the small box.", "cost", classWish},
		{"a task is no wish", q, "I need to check the price every week before it goes out.", "cost", -classWish},
		{"want as a frame", q, "I want to say the price was fine, honestly.", "cost", -classWish},
		{"first thing I'd do", change, "First thing I'd do is drop the price for the small box.", "cost", classWish},
		{"all I ask", change, "A lower price for the small box, that's all I ask.", "cost", classWish},
		{"refusal is no wish", q, "I don't care if they make it cheaper or give me more options.", "plan", -classWish},
		{"reported wish", q, "My wife says she'd go back if they ever did a cheaper family plan.", "plan", classNone},
		{"correction", "What frustrated you?", "It's not hard, it's just long, the prep takes forever.", "speed", classNeg},
		{"adverb before have", q, "If the price had gone up again I'd probably have complained.", "cost", classNone},
		{"a group's view", q, "The pickers hate the price of the canteen, I hear it all day.", "cost", classNone},
		{"things keep failing", q, "The scanners keep crashing, it's the reliability that kills me.", "reliability", classNeg},
		{"a name's report", q, "Carol on nights keeps saying the price is too high, she lives out Keynsham way.", "cost", classNone},
		{"a name says", q, "Les says the price went up again, and he's fuming.", "cost", classNone},
		{"a role by its initials", q, "My PA always says the price is ridiculous, she does all my planning.", "cost", classNone},
		{"a clause opener is no name", q, "When the app says confirmed, the price was still too high for me.", "cost", classNeg},
		{"a thing that keeps failing", q, "Booking keeps crashing, the reliability is awful.", "reliability", classNeg},
		{"disowned", q, "I'm the wrong person to ask about the price, my partner pays.", "cost", classNone},
		{"praise in an idiom", q, "The new price has made such a difference to my week.", "cost", classPos},
		{"couldn't live without", q, "I couldn't live without the cheaper price now.", "cost", classPos},
		{"couldn't have been more", q, "The support team couldn't have been more helpful.", "support", classPos},
		{"a breeze", q, "Returning the delivery box was a breeze, I'll give them that.", "delivery", classPos},
		{"a grandchild's story", q, "My granddaughter pays far too much for the delivery every week.", "delivery", classNone},
		{"a group tells", q, "The girls tell me the price is far too high.", "cost", classNone},
		{"a relative tells me", q, "My husband reads about it online and tells me the delivery is always late.", "delivery", classNone},
		{"a name tells", q, "Dwight tells everybody the delivery was late again.", "delivery", classNone},
		{"a group always complains", q, "My labmates always complain the price is far too high.", "cost", classNone},
		{"a relative's story", q, "My flatmate's always getting the delivery late, it's a mess.", "delivery", classNone},
		{"some folk", q, "Some folk complain the delivery always comes late.", "delivery", classNone},
		{"a borrowed topic", q, "Ha, the only delivery problem in my life is my cat, she knocks everything over, it's a nightmare.", "delivery", classNone},
		{"the topic I worry about", q, "The price I worry about is the vet's, that's a nightmare.", "cost", classNone},
		{"the only problem is the topic", q, "The only problem is the delivery, it's always late.", "delivery", classNeg},
		{"does not come into it", q, "The price does not really come into it for us.", "cost", classNone},
		{"idiot-proof", q, "The setup was idiot-proof, honestly.", "setup", classPos},
		{"nailed it", q, "The delivery is the one thing they've nailed.", "delivery", classPos},
		{"like clockwork", q, "The delivery comes like clockwork every Tuesday.", "delivery", classPos},
		{"an idiom denied", q, "The lower price hasn't made a difference to me.", "cost", -classPos},
		{"speed told as a story", q, "The support team got back to me within the hour.", "support", classPos},
		{"never on time", q, "The delivery was never on time, not once.", "delivery", -classPos},
		{"a steal", q, "For what you get, the price is a steal, honestly.", "cost", classPos},
		{"cheap as chips", q, "The monthly price? Cheap as chips for what's in there.", "cost", classPos},
		{"pays for itself", q, "The plan pays for itself, the price is nothing next to a plumber.", "cost", classPos},
		{"a price rise", q, "They put the price up again in March, forty dollars.", "cost", classNeg},
		{"a rent that has gone up", q, "The rent's gone up twice since we moved in.", "cost", classNeg},
		{"a premium hike", q, "Another premium hike this year, same dog, same cover.", "cost", classNeg},
		{"a price that did not rise", q, "The price hasn't gone up once in three years.", "cost", -classNeg},
		{"a reported rise", q, "My neighbour says the rent went up again.", "cost", classNone},
		{"a sore spot", q, "The price, now that's a sore spot.", "cost", classNeg},
		{"a penalty", q, "They hit me with a penalty because the delivery came late.", "delivery", classNeg},
		{"calmer", q, "The delivery is so much calmer now, no more chasing it.", "delivery", classPos},
		{"a blessing", q, "Honestly the support line has been a blessing.", "support", classPos},
		{"stealing is no praise", q, "Someone tried to steal the box from the porch, the price of living here.", "cost", -classPos},
		{"never made me wait", q, "The app never made me wait, it's always sitting there.", "speed", -classNeg},
		{"never tried", q, "I've never tried the delivery, so the slow part, no idea.", "delivery", classNone},
		{"can't say", q, "The price of the big plan? I can't say it bothered me or didn't, my partner pays.", "cost", classNone},
		{"nothing to say", q, "I couldn't tell you about the packaging being a problem, it goes straight in the recycling.", "packaging", classNone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := classesOf(t, c.question, c.answer)[c.concept]
			switch {
			case c.want < 0 && slices.Contains(got, -c.want):
				t.Errorf("%q: %s is evidence with stance %v", c.answer, c.concept, -c.want)
			case c.want < 0:
			case c.want == classNone && len(got) > 0:
				t.Errorf("%q: %s is evidence with stance %v, want none", c.answer, c.concept, got)
			case c.want != classNone && !slices.Contains(got, c.want):
				t.Errorf("%q: %s stances %v, want %v", c.answer, c.concept, got, c.want)
			}
		})
	}
}

func TestMinSupport(t *testing.T) {
	a := New().(*analyzer)
	for n, want := range map[int]int{1: 4, 14: 4, 25: 4, 40: 4, 41: 5, 100: 10, 10000: 1000} {
		if got := a.minSupport(n); got != want {
			t.Errorf("minSupport(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestWordCluster: a complaint the lexicon has no concept for still surfaces when enough
// people make it in their own words, and a one-off remark does not.
func TestWordCluster(t *testing.T) {
	answers := []string{
		"The elevator was broken again, which is so annoying.",
		"Honestly the elevator is awful, it's always out of order.",
		"I hate the elevator, I end up waiting forever for it.",
		"That elevator is terrible, we took the stairs all week.",
		"The elevator broke twice and it was frustrating.",
		"The canteen coffee is terrible.",
		"Nothing much, it was fine.",
	}
	var in Input
	in.Campaign.Questions = []string{"What frustrated you?"}
	for i, a := range answers {
		id := string(rune('a' + i))
		in.Interviews = append(in.Interviews, Interview{ID: id, Messages: []Message{
			{ID: id + "q", Role: RoleInterviewer, Content: in.Campaign.Questions[0]},
			{ID: id + "a", Role: RoleParticipant, Content: a},
		}})
	}
	got, err := New().Analyze(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range got {
		t.Logf("%s %q %d", f.Key, f.Title, f.Frequency)
		if f.Key == "pain_point:word:elev" && f.Frequency == 5 {
			found = true
		}
		if strings.Contains(f.Key, "canteen") {
			t.Errorf("one-off remark became a finding: %+v", f)
		}
	}
	if !found {
		t.Errorf("no word finding for the elevator")
	}
}

// A question asks for a wish when it asks what the participant would change, not when it
// speaks of a change that happens.
func TestQuestionsThatAskForAChange(t *testing.T) {
	a := New().(*analyzer)
	for q, want := range map[string]polClass{
		"If you could change one thing, what would it be?":                               classWish,
		"What would you change about the app?":                                           classWish,
		"Any changes you'd make to the plan?":                                            classWish,
		"How do you and your dispatcher stay in touch when something changes on a load?": classNone,
	} {
		if got := a.readQuestion(q, newStemmer()).prior; got != want {
			t.Errorf("%q: prior %v, want %v", q, got, want)
		}
	}
}
