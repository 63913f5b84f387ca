package v1alpha1

// Condition types and reasons shared by every kind.
const (
	// ConditionReady is True when the object's desired state has been reached.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the controller is still converging the object.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when the controller cannot make progress without a spec change.
	ConditionStalled = "Stalled"
)

// Plan is a team's billing plan; it sets the team's rate limits.
// +kubebuilder:validation:Enum=starter;pro;growth;enterprise
type Plan string

// The plans of the Qual API.
const (
	PlanStarter    Plan = "starter"
	PlanPro        Plan = "pro"
	PlanGrowth     Plan = "growth"
	PlanEnterprise Plan = "enterprise"
)

// LocalSecretReference names a Secret in the object's own namespace.
type LocalSecretReference struct {
	// name is the name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}
