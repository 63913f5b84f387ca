package interviews

import (
	"context"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/interviewer"
)

// Interviewers picks the interviewer of each campaign.
type Interviewers struct {
	// Protocol is the built-in interviewer, the default and every fall-back.
	Protocol interviewer.Interviewer
	// LLM returns the interviewer of the operator's chat model, or nil when none is
	// configured (then llm campaigns are held by Protocol). Nil is the same as none.
	LLM func(context.Context) interviewer.Interviewer
}

// For is the interviewer a campaign asked for, else the protocol one.
func (x Interviewers) For(ctx context.Context, c *qualv1alpha1.Campaign) interviewer.Interviewer {
	if c.Spec.Settings.Interviewer == qualv1alpha1.InterviewerLLM && x.LLM != nil {
		if llm := x.LLM(ctx); llm != nil {
			return llm
		}
	}
	return x.Protocol
}

// Brief is what an interviewer knows of a campaign.
func Brief(c *qualv1alpha1.Campaign) interviewer.Campaign {
	maxQuestions := int(c.Spec.MaxQuestions)
	if maxQuestions < 1 {
		maxQuestions = 10 // the schema's default, for an object stored without it
	}
	return interviewer.Campaign{
		Title: c.Spec.Title, Objectives: c.Spec.Objectives, Description: c.Spec.Description,
		Questions: c.Spec.Questions, MaxQuestions: maxQuestions,
		Language: c.Spec.Settings.Language, Mode: string(c.Spec.Mode),
		// A campaign lives in its team's namespace, which names the team.
		Tenant: c.Namespace,
	}
}
