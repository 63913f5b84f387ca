package interviewer

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"qual.cx/operator/internal/chatmodel/chatmodeltest"
)

// newFakeProvider starts a local chat-completions endpoint for the test.
func newFakeProvider(t *testing.T, respond func(i int, w http.ResponseWriter, r *http.Request)) *chatmodeltest.Provider {
	t.Helper()
	return chatmodeltest.New(t, respond)
}

// configFor is an LLMConfig for provider p with the given timeout.
func configFor(p *chatmodeltest.Provider, timeout time.Duration) LLMConfig {
	return LLMConfig{Config: p.Config(), Timeout: timeout}
}

var (
	completion = chatmodeltest.Completion
	failure    = chatmodeltest.Failure
	always     = chatmodeltest.Always
)

// logLines collects log output so tests can check what was (not) logged.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, prefix+" "+args)
	}, funcr.Options{Verbosity: 1})
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
