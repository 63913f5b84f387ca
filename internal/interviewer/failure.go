package interviewer

import (
	"errors"
	"time"

	"qual.cx/operator/internal/chatmodel"
)

// logFallback records why a turn went to the fallback. Only the failure's kind and
// transport-level details are logged: never turn content, and never the text of errors
// that could quote a model reply (a reply may echo what the participant said). An open
// breaker is logged at V(1): during an outage it would otherwise log every turn.
func (l *LLM) logFallback(err error, attempts int, elapsed time.Duration) {
	reason, kv := describeFailure(err)
	kv = append(kv, "reason", reason, "attempts", attempts, "elapsed", elapsed.Round(time.Millisecond).String())
	if breakerRejected(err) {
		l.log.V(1).Info("LLM interviewer skipped, falling back to protocol", kv...)
		return
	}
	l.log.Info("LLM interviewer failed, falling back to protocol", kv...)
}

// describeFailure names a failure and the details that are safe to log.
func describeFailure(err error) (string, []any) {
	switch {
	case breakerRejected(err):
		return "circuit open", nil
	case errors.Is(err, errCallerGone):
		return "caller gone", nil
	}
	if invalid, ok := errors.AsType[*invalidReply](err); ok {
		return invalid.Error(), nil
	}
	if reason, kv, ok := chatmodel.Describe(err); ok {
		return reason, kv
	}
	return "malformed response", nil
}
