package v1alpha1

// The values of each enum, in the order the API documents them. The REST layer validates
// with these, so a value added to a type here is accepted by kubectl and REST alike.

// Plans are every Plan.
func Plans() []Plan { return []Plan{PlanStarter, PlanPro, PlanGrowth, PlanEnterprise} }

// TeamRoles are every TeamRole, most privileged first.
func TeamRoles() []TeamRole { return []TeamRole{RoleOwner, RoleAdmin, RoleMember, RoleViewer} }

// CampaignModes are every CampaignMode.
func CampaignModes() []CampaignMode { return []CampaignMode{ModeResearch, ModeHR, ModeMarketing} }

// CampaignStates are every CampaignState, in lifecycle order.
func CampaignStates() []CampaignState {
	return []CampaignState{StateDraft, StateActive, StatePaused, StateCompleted}
}

// APIKeyTypes are every APIKeyType.
func APIKeyTypes() []APIKeyType { return []APIKeyType{KeySecret, KeyPublic, KeyScoped} }

// InterviewerKinds lists the interviewers a campaign may choose.
func InterviewerKinds() []InterviewerKind {
	return []InterviewerKind{InterviewerProtocol, InterviewerLLM}
}

// AnalyzerKinds lists the analyzers a campaign may choose.
func AnalyzerKinds() []AnalyzerKind {
	return []AnalyzerKind{AnalyzerBuiltin, AnalyzerLLM}
}
