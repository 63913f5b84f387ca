package interviewer

import (
	"context"
	"fmt"
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

var _ Interviewer = (*Protocol)(nil)

// Next returns the next message. It never fails; the error is there for the interface.
// A transcript that ends with an interviewer turn (no answer yet) moves on as if answered.
func (p *Protocol) Next(_ context.Context, c Campaign, transcript []Turn) (Reply, error) {
	t := templatesFor(c.Language)
	pl := newPlan(c, t)
	pos := pl.locate(transcript)
	pos.spare = spareTurns(c.MaxQuestions, askedCount(transcript), len(pl.questions)-pos.current-1)
	return pl.next(pos), nil
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
	// current is the index of the question asked last; -1 before the first.
	current int
	// probed: current needs no (further) probe, because it was probed or was not asked
	// in the protocol's words.
	probed bool
	// answer is what the participant said since the last interviewer turn.
	answer string
	// answered: the transcript ends with participant turns.
	answered bool
	// spare is how many turns the budget holds beyond the questions left (spareTurns).
	spare int
}

// locate replays the transcript's interviewer turns against the plan. A turn that is a
// later question of the plan moves there; the probe of the current question marks it
// probed; any other text (say, written by an LLM interviewer) counts as asking the next
// unasked question, which is then not probed, since its probe would refer to wording the
// participant never saw.
func (pl plan) locate(transcript []Turn) position {
	pos := position{current: -1}
	var answer []string
	for _, turn := range transcript {
		switch turn.Role {
		case RoleInterviewer:
			pos = pl.advance(pos, turn.Content)
			answer = answer[:0]
		case RoleParticipant:
			answer = append(answer, turn.Content)
		}
	}
	pos.answer = strings.Join(answer, "\n")
	pos.answered = len(answer) > 0
	return pos
}

func (pl plan) advance(pos position, said string) position {
	said = normalize(said)
	for i := pos.current + 1; i < len(pl.questions); i++ {
		if said == normalize(pl.ask(i)) || said == normalize(pl.questions[i].text) {
			return position{current: i}
		}
	}
	if pos.current >= 0 && pos.current < len(pl.questions) && said == normalize(pl.probe(pos.current)) {
		return position{current: pos.current, probed: true}
	}
	return position{current: pos.current + 1, probed: true}
}

// next is the reply at a position: the first question, a probe for a thin answer, the
// next question, or the closing words.
func (pl plan) next(pos position) Reply {
	switch {
	case pos.current < 0:
		return protocolReply(pl.ask(0))
	case pos.answered && !pos.probed && pos.spare > 0 && pos.current < len(pl.questions) && needsProbe(pos.answer, pl.t):
		return protocolReply(pl.probe(pos.current))
	case pos.current+1 < len(pl.questions):
		return protocolReply(pl.ask(pos.current + 1))
	default:
		return Reply{Content: pl.t.closing, Done: true, Source: SourceProtocol}
	}
}

func protocolReply(content string) Reply {
	return Reply{Content: content, Source: SourceProtocol}
}
