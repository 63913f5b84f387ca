package interviewer

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Protocol is the built-in interviewer. It walks the campaign's questions in order, asks
// at most one follow-up probe per question when an answer is short or vague, and closes
// with thanks when the questions run out. It holds no state: where the interview stands
// is rebuilt from the transcript on every call, so any replica can serve any turn and a
// transcript partly written by another interviewer can be continued.
type Protocol struct{}

// NewProtocol returns the protocol interviewer.
func NewProtocol() *Protocol { return &Protocol{} }

var (
	_ Interviewer = (*Protocol)(nil)
	_ Fallback    = (*Protocol)(nil)
)

// Next returns the next message. It never fails; the error is there for the interface.
// A transcript that ends with an interviewer turn (no answer yet) moves on as if answered.
func (p *Protocol) Next(_ context.Context, c Campaign, transcript []Turn) (Reply, error) {
	return protocolNext(c, transcript, false), nil
}

// StandIn is the reply in place of another interviewer (the LLM) that failed on this turn.
// It asks what Next would, except that where Next closes because every question of the
// guide has been asked, it asks a follow-up not asked yet: the interview is the other
// interviewer's, which would have gone on exploring, and its failing must not end an
// interview whose budget is not spent. It closes only when it has nothing left to ask.
func (p *Protocol) StandIn(_ context.Context, c Campaign, transcript []Turn) (Reply, error) {
	return protocolNext(c, transcript, true), nil
}

func protocolNext(c Campaign, transcript []Turn, standIn bool) Reply {
	t := templatesFor(c.Language)
	pl := newPlan(c, t)
	pos := pl.locate(transcript)
	pos.spare = spareTurns(c.MaxQuestions, askedCount(transcript), pos.unasked())
	if reply, ok := pl.next(pos); ok {
		return reply
	}
	if standIn {
		if q, ok := pl.followUp(transcript); ok {
			return protocolReply(q)
		}
	}
	return Reply{Content: t.closing, Done: true, Source: SourceProtocol}
}

// spareTurns is how many probes the budget still allows after the questions left: a probe
// must not cost a question of the protocol. With no budget known, there is no limit.
func spareTurns(budget, asked, left int) int {
	if budget <= 0 {
		return 1
	}
	return budget - asked - max(left, 0)
}

// plannedQuestion is one question of the plan and the topic its probe refers to.
type plannedQuestion struct {
	text, topic string
}

// plan is what the protocol would ask for a campaign, in order.
type plan struct {
	t         *templates
	title     string
	questions []plannedQuestion
}

// newPlan takes the campaign's questions, or else questions derived from the objectives,
// or else the generic questions; it always has at least one question.
func newPlan(c Campaign, t *templates) plan {
	pl := plan{t: t, title: c.Title}
	for _, q := range c.Questions {
		if q = strings.TrimSpace(q); q != "" {
			pl.questions = append(pl.questions, plannedQuestion{text: q, topic: q})
		}
	}
	if len(pl.questions) == 0 {
		pl.questions = deriveQuestions(c.Objectives, t)
	}
	if len(pl.questions) == 0 {
		pl.questions = genericQuestions(c.Title, t)
	}
	return pl
}

// genericQuestions are open research questions; the first names the title. Their probes
// refer to the title when there is one, else to the question itself.
func genericQuestions(title string, t *templates) []plannedQuestion {
	out := make([]plannedQuestion, len(t.generic))
	for i, g := range t.generic {
		text := g
		if i == 0 {
			text = fmt.Sprintf(g, t.topic(title))
		}
		topic := trimSentence(title)
		if topic == "" {
			topic = text
		}
		out[i] = plannedQuestion{text: text, topic: topic}
	}
	return out
}

// ask is the message that asks question i; the first comes with the greeting.
func (pl plan) ask(i int) string {
	if i == 0 {
		return pl.t.opening(pl.title, pl.questions[0].text)
	}
	return pl.questions[i].text
}

// probe is the follow-up to question i.
func (pl plan) probe(i int) string {
	return pl.t.probe(i, pl.questions[i].topic)
}

// position is where an interview stands.
type position struct {
	// started: the interviewer has spoken.
	started bool
	// asked marks the plan's questions asked so far, by the protocol or recognisably by
	// another interviewer.
	asked []bool
	// last is the question the last interviewer turn asked in the protocol's words; -1 when
	// that turn was another interviewer's.
	last int
	// probed: last has been probed, so it needs no further probe.
	probed bool
	// answer is what the participant said since the last interviewer turn.
	answer string
	// answered: the transcript ends with participant turns.
	answered bool
	// spare is how many turns the budget holds beyond the questions left (spareTurns).
	spare int
}

// unasked is how many questions of the plan are still to be asked.
func (pos position) unasked() int {
	n := 0
	for _, done := range pos.asked {
		if !done {
			n++
		}
	}
	return n
}

// locate replays the transcript's interviewer turns against the plan. A turn in the
// protocol's words (a question of the plan, wherever it stands, or a question's probe)
// marks that question asked. Any other turn was written by another interviewer (the LLM):
// it marks a question asked only when it recognisably asks it in other words, and is
// otherwise a follow-up that leaves the plan where it was. Progress is never inferred from
// the number of turns: an LLM asks follow-ups the plan knows nothing of, and counting them as
// questions would run the plan out, and close the interview, long before its guide is asked.
func (pl plan) locate(transcript []Turn) position {
	pos := position{asked: make([]bool, len(pl.questions)), last: -1}
	var answer []string
	for _, turn := range transcript {
		switch turn.Role {
		case RoleInterviewer:
			pl.advance(&pos, normalize(turn.Content))
			answer = answer[:0]
		case RoleParticipant:
			answer = append(answer, turn.Content)
		}
	}
	pos.answer = strings.Join(answer, "\n")
	pos.answered = len(answer) > 0
	return pos
}

// advance records one interviewer turn, said (normalized). A turn another interviewer
// worded is never probed: its probe would refer to wording the participant never saw.
func (pl plan) advance(pos *position, said string) {
	pos.started, pos.last, pos.probed = true, -1, false
	if i, ok := pl.find(pos.asked, func(i int) bool {
		return said == normalize(pl.ask(i)) || said == normalize(pl.questions[i].text)
	}); ok {
		pos.asked[i], pos.last = true, i
		return
	}
	if i, ok := pl.find(pos.asked, func(i int) bool { return said == normalize(pl.probe(i)) }); ok {
		pos.asked[i], pos.last, pos.probed = true, i, true
		return
	}
	if i, ok := pl.reworded(pos.asked, said); ok {
		pos.asked[i] = true
	}
}

// find is the first question not asked yet that match accepts, else the first asked one
// it accepts: a guide may hold the same question twice, and each asking counts for one.
func (pl plan) find(asked []bool, match func(int) bool) (int, bool) {
	found := -1
	for i := range pl.questions {
		if !match(i) {
			continue
		}
		if !asked[i] {
			return i, true
		}
		if found < 0 {
			found = i
		}
	}
	return found, found >= 0
}

// minRewordShare is how much of a question's wording another interviewer's turn must
// hold to count as asking it: "Thanks! What made you decide to sign up?" asks "What made
// you sign up?", while a follow-up that shares its small words ("What made you choose
// us?", three of five) does not. A rewording with other words cannot be told from a new
// question, and is then taken for one: asking a guide question twice costs less than
// never asking it.
const minRewordShare = 0.75

// reworded is the question not asked yet that another interviewer's turn asks in its own
// words: the one with the largest share (at least minRewordShare) of its distinct words in
// the turn, the earliest on a tie.
func (pl plan) reworded(asked []bool, said string) (int, bool) {
	turn := words(said)
	best, bestShare := -1, 0.0
	for i, q := range pl.questions {
		if asked[i] {
			continue
		}
		if share := wordShare(words(q.text), turn); share >= minRewordShare && share > bestShare {
			best, bestShare = i, share
		}
	}
	return best, best >= 0
}

// next is the reply at a position while the plan has something to ask: the first question,
// a probe for a thin answer, or the first question not asked yet (so the guide is asked in
// order, and what another interviewer skipped is asked when the protocol takes over). ok
// is false once every question has been asked.
func (pl plan) next(pos position) (Reply, bool) {
	switch {
	case !pos.started:
		return protocolReply(pl.ask(0)), true
	case pos.answered && pos.last >= 0 && !pos.probed && pos.spare > 0 && needsProbe(pos.answer, pl.t):
		return protocolReply(pl.probe(pos.last)), true
	}
	if i := slices.Index(pos.asked, false); i >= 0 {
		return protocolReply(pl.questions[i].text), true
	}
	return Reply{}, false
}

// followUp is what a stand-in asks once every question of the plan has been asked: a
// probe of one of the plan's topics in a wording not asked yet (each topic in turn, then
// the probes' other wordings), and last the invitation to add anything else. ok is false
// when all of them have been asked: only then does a stand-in close the interview.
func (pl plan) followUp(transcript []Turn) (string, bool) {
	said := make(map[string]bool) // looked up only
	for _, turn := range transcript {
		if turn.Role == RoleInterviewer {
			said[normalize(turn.Content)] = true
		}
	}
	for round := range pl.t.probes {
		for i, q := range pl.questions {
			if text := pl.t.probe(i+round, q.topic); !said[normalize(text)] {
				return text, true
			}
		}
	}
	if last := pl.t.anythingElse(); !said[normalize(last)] {
		return last, true
	}
	return "", false
}

func protocolReply(content string) Reply {
	return Reply{Content: content, Source: SourceProtocol}
}
