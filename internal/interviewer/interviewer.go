// Package interviewer decides the next message of an AI-held research interview.
//
// Two interviewers implement [Interviewer]:
//
//   - [Protocol] is built in and needs nothing external. It walks the campaign's questions
//     in order (or questions derived from the objectives, or a small generic set mentioning
//     the title), probes once per question when an answer is short or vague, and closes
//     with thanks. It is deterministic: the same campaign and transcript always give the
//     same reply, so it can rebuild its position from the stored transcript alone. Its
//     position is the guide questions actually asked (in its words, or recognisably in
//     another interviewer's), never a count of turns, so it can take over an interview the
//     LLM held, however many follow-ups the model asked.
//   - [LLM] asks an OpenAI-compatible chat model for the next question and falls back to
//     a [Fallback] (normally a Protocol standing in) whenever the model fails, is slow, is
//     rate limited, answers nonsense, or a circuit breaker is open. A participant never
//     sees a provider error and always gets a reply within the configured turn budget.
//
// # Languages
//
// The protocol interviewer has templates for English, German, French and Spanish, chosen
// by the base of [Campaign.Language] ("de-CH" uses German). Any other or empty language
// falls back to English. The LLM interviewer is told the campaign language, whatever it is.
//
// # Personal data
//
// Transcripts hold personal data. Nothing in this package logs turn content or model
// output; logs carry only the model, the provider host, reasons, status codes and timings.
package interviewer

import "context"

// Campaign is what an interviewer knows about the study.
type Campaign struct {
	Title, Objectives, Description string
	// Questions is the protocol; may be empty.
	Questions []string
	// MaxQuestions is 1..50, follow-up probes included; the server enforces it, an
	// interviewer need not (the LLM interviewer tells the model the remaining budget).
	MaxQuestions int
	// Language is settings.language, a BCP 47 tag such as "en" or "de-CH"; "" or an
	// unknown language falls back to English templates.
	Language string
	// Mode is research, hr or marketing.
	Mode string
	// Tenant is the team whose turn it is. The LLM interviewer keeps the failures a turn's
	// content can cause (timeouts) per tenant, so that one team cannot switch the model off
	// for the others; "" is one tenant like any other.
	Tenant string
}

// Role says who spoke a turn.
type Role string

// The roles of a transcript.
const (
	RoleInterviewer Role = "interviewer"
	RoleParticipant Role = "participant"
)

// Turn is one message of the transcript.
type Turn struct {
	Role    Role
	Content string
}

// The values of [Reply.Source].
const (
	SourceProtocol = "protocol"
	SourceLLM      = "llm"
)

// Reply is the interviewer's next message.
type Reply struct {
	Content string
	// Done: the interviewer has nothing more to ask; Content then holds closing words
	// (thanks), which the server shows to the participant but does not store as a question.
	Done bool
	// Source names who produced it: "protocol" or "llm" (the server logs/metrics it).
	Source string
}

// Interviewer produces the next interviewer message.
type Interviewer interface {
	// Next returns the next interviewer message given the transcript so far (empty
	// transcript: the opening question). It must be deterministic for the protocol
	// interviewer.
	Next(ctx context.Context, c Campaign, transcript []Turn) (Reply, error)
}

// Fallback answers a turn in place of an interviewer that failed on it ([Protocol] does).
type Fallback interface {
	// StandIn returns the message in place of the failed interviewer's. It continues an
	// interview the other interviewer holds, so it must not end one merely because its own
	// plan is done: a failed turn must not cost the interview its remaining budget.
	StandIn(ctx context.Context, c Campaign, transcript []Turn) (Reply, error)
}
