package analysis

import "context"

// Chooser is the Analyzer each campaign asks for (Campaign.Analyzer): the chat model's when
// it asks for AnalyzerLLM and one is configured, the built-in one otherwise.
type Chooser struct {
	Builtin Analyzer
	// Model returns the chat model's analyzer, or nil while none is configured. Nil: none.
	Model func(context.Context) Analyzer
}

var _ Analyzer = Chooser{}

// Analyze implements Analyzer.
func (c Chooser) Analyze(ctx context.Context, in Input) ([]Finding, error) {
	if in.Campaign.Analyzer == AnalyzerLLM && c.Model != nil {
		if m := c.Model(ctx); m != nil {
			return m.Analyze(ctx, in)
		}
	}
	return c.Builtin.Analyze(ctx, in)
}
