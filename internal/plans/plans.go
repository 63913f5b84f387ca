// Package plans holds the plan table of the API: each plan's request, interview and
// analysis budgets.
package plans

import (
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/ratelimit"
)

// Budgets are one plan's limits.
type Budgets struct {
	RequestsPerMinute int
	InterviewsPerHour int
	AnalysisPerHour   int
}

// Table maps plans to their budgets.
type Table map[qualv1alpha1.Plan]Budgets

// Default is the contract's plan table.
var Default = Table{
	qualv1alpha1.PlanStarter:    {RequestsPerMinute: 30, InterviewsPerHour: 10, AnalysisPerHour: 5},
	qualv1alpha1.PlanPro:        {RequestsPerMinute: 60, InterviewsPerHour: 20, AnalysisPerHour: 20},
	qualv1alpha1.PlanGrowth:     {RequestsPerMinute: 120, InterviewsPerHour: 100, AnalysisPerHour: 100},
	qualv1alpha1.PlanEnterprise: {RequestsPerMinute: 300, InterviewsPerHour: 500, AnalysisPerHour: 500},
}

// Of returns a plan's budgets; an unknown plan gets starter's.
func (t Table) Of(p qualv1alpha1.Plan) Budgets {
	if b, ok := t[p]; ok {
		return b
	}
	return Default[qualv1alpha1.PlanStarter]
}

// Requests is the per-minute request limit.
func (b Budgets) Requests() ratelimit.Limit {
	return ratelimit.Limit{Quota: b.RequestsPerMinute, Window: time.Minute}
}

// Interviews is the hourly interview-creation limit.
func (b Budgets) Interviews() ratelimit.Limit {
	return ratelimit.Limit{Quota: b.InterviewsPerHour, Window: time.Hour}
}

// Analyses is the hourly analysis-run limit.
func (b Budgets) Analyses() ratelimit.Limit {
	return ratelimit.Limit{Quota: b.AnalysisPerHour, Window: time.Hour}
}
