package analysis

import (
	"cmp"
	"context"
)

// Reporter is an Analyzer that also names the analyzer that made a run's findings, which
// may not be the one asked for: the chat model's hands a run it cannot do to the built-in
// one.
type Reporter interface {
	Analyzer
	// AnalyzeReport is Analyze, and the analyzer that made the findings (AnalyzerBuiltin or
	// AnalyzerLLM).
	AnalyzeReport(ctx context.Context, in Input) ([]Finding, string, error)
}

// Run analyzes in with a and names the analyzer that made the findings: what a Reporter
// says, "" for any other Analyzer.
func Run(ctx context.Context, a Analyzer, in Input) ([]Finding, string, error) {
	if r, ok := a.(Reporter); ok {
		return r.AnalyzeReport(ctx, in)
	}
	found, err := a.Analyze(ctx, in)
	return found, "", err
}

// Chooser is the Analyzer each campaign asks for (Campaign.Analyzer): the chat model's when
// it asks for AnalyzerLLM and one is configured, the built-in one otherwise.
type Chooser struct {
	Builtin Analyzer
	// Model returns the chat model's analyzer, or nil while none is configured. Nil: none.
	Model func(context.Context) Analyzer
}

var _ Reporter = Chooser{}

// Analyze implements Analyzer.
func (c Chooser) Analyze(ctx context.Context, in Input) ([]Finding, error) {
	found, _, err := c.AnalyzeReport(ctx, in)
	return found, err
}

// AnalyzeReport implements Reporter.
func (c Chooser) AnalyzeReport(ctx context.Context, in Input) ([]Finding, string, error) {
	if in.Campaign.Analyzer == AnalyzerLLM && c.Model != nil {
		if m := c.Model(ctx); m != nil {
			found, ran, err := Run(ctx, m, in)
			return found, cmp.Or(ran, AnalyzerLLM), err
		}
	}
	found, err := c.Builtin.Analyze(ctx, in)
	return found, AnalyzerBuiltin, err
}
