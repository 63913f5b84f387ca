package interviewer

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/openai/openai-go/v3"
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
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", nil
	case errors.Is(err, errNoChoice):
		return "no choices", nil
	}
	if invalid, ok := errors.AsType[*invalidReply](err); ok {
		return invalid.Error(), nil
	}
	if budget, ok := errors.AsType[*retryBudgetError](err); ok {
		reason, kv := describeFailure(budget.err)
		return "retry would pass deadline after " + reason, append(kv, "wait", budget.wait.String())
	}
	if apiErr, ok := errors.AsType[*openai.Error](err); ok {
		return "http status", []any{"status", apiErr.StatusCode}
	}
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		return "transport", []any{"error", urlErr.Err.Error()}
	}
	return "malformed response", nil
}
