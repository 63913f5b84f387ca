package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WebhookEvent names an event a webhook can subscribe to; `*` subscribes to all of them.
// webhook.test is sent on demand and cannot be subscribed.
// +kubebuilder:validation:Enum="*";campaign.created;campaign.updated;campaign.published;campaign.paused;campaign.completed;campaign.deleted;interview.started;interview.completed;finding.created;finding.updated;analysis.completed;graph.shared;team.member_added;team.member_removed;api_key.created;api_key.revoked
type WebhookEvent string

// EventAll subscribes a webhook to every event.
const EventAll WebhookEvent = "*"

// WebhookSpec is the desired state of a Webhook.
type WebhookSpec struct {
	// url is the endpoint events are POSTed to: https, or http to a host the operator allows,
	// without a #fragment (an HTTP client never sends one, so the receiver would be asked for
	// another URL than the one written), written as it is sent: ASCII with no space or control
	// character, every % starting an escape of two hex digits, as the REST API asks.
	// +required
	// +kubebuilder:validation:MinLength=8
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['https', 'http'] && url(self).getHostname() != ''",message="url must be an absolute http or https URL"
	// +kubebuilder:validation:XValidation:rule="!self.contains('#')",message="url must not carry a #fragment: it is never sent to the receiver (write a literal # as %23)"
	// +kubebuilder:validation:XValidation:rule="self.matches('^[!-~]*$')",message="url must be an ASCII URI with no spaces: write an international domain in its xn-- form and percent-encode the rest"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([^%]|%[0-9A-Fa-f]{2})*$')",message="url has a % that does not start an escape of two hex digits"
	URL string `json:"url"`

	// events are the events delivered to the endpoint, or `*` alone for all of them.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=17
	// +kubebuilder:validation:XValidation:rule="!('*' in self) || size(self) == 1",message="'*' cannot be combined with other events"
	Events []WebhookEvent `json:"events"`

	// description says what the endpoint is for.
	// +optional
	// +kubebuilder:validation:MaxLength=500
	// +kubebuilder:validation:Pattern=`^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$`
	Description string `json:"description,omitempty"`

	// enabled turns delivery on or off. Setting it to true re-enables an endpoint that was
	// disabled after repeated failures.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// secretRef names a Secret (key `secret`, `whsec_` plus base64) that signs deliveries.
	// When omitted the controller generates one named `<webhook>-signing`.
	// +optional
	SecretRef *LocalSecretReference `json:"secretRef,omitempty"`
}

// EventNames are the spec's subscribed events as plain names.
func (s *WebhookSpec) EventNames() []string {
	out := make([]string, len(s.Events))
	for i, e := range s.Events {
		out[i] = string(e)
	}
	return out
}

// WebhookStatus is the observed state of a Webhook.
type WebhookStatus struct {
	// secretRef names the Secret that signs deliveries.
	// +optional
	SecretRef *LocalSecretReference `json:"secretRef,omitempty"`

	// consecutiveFailures counts delivery attempts (retries included) that failed since the
	// last successful one.
	// +optional
	// +kubebuilder:validation:Minimum=0
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`

	// lastDeliveryAt is when a delivery was last attempted.
	// +optional
	LastDeliveryAt *metav1.Time `json:"lastDeliveryAt,omitempty"`

	// lastSuccessAt is when a delivery last succeeded.
	// +optional
	LastSuccessAt *metav1.Time `json:"lastSuccessAt,omitempty"`

	// disabledAt is when delivery was disabled automatically; empty while enabled.
	// +optional
	DisabledAt *metav1.Time `json:"disabledAt,omitempty"`

	// disabledReason says why delivery was disabled automatically.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	DisabledReason string `json:"disabledReason,omitempty"`

	// observedGeneration is the metadata.generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the webhook's state: Ready, Degraded (True while deliveries to an
	// enabled endpoint keep failing), Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ConditionDegraded is True on an enabled Webhook whose latest deliveries failed
// (status.consecutiveFailures above zero), until one succeeds or the endpoint is disabled.
const ConditionDegraded = "Degraded"

// ReasonURLRefused is the reason of a Webhook's Ready (False) and Stalled (True) conditions
// while the operator's egress policy refuses spec.url; their message says why.
const ReasonURLRefused = "URLRefused"

// URLRefused is why the controller refuses the webhook's spec.url, as its Ready condition
// says, or "" when it does not. A verdict on an earlier generation may be on another URL, so
// it counts only once the controller has looked at this one.
func (w *Webhook) URLRefused() string {
	c := meta.FindStatusCondition(w.Status.Conditions, ConditionReady)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != ReasonURLRefused || c.ObservedGeneration != w.Generation {
		return ""
	}
	return c.Message
}

// Stall is the controller's verdict that it cannot make the webhook deliver as written, as
// its Stalled condition gives it: the reason (SecretNotFound, SecretInvalid, SecretConflict,
// URLRefused, NoTeam, ...) and the message, or two empty strings when it is not stalled. As
// with URLRefused, a verdict on an earlier generation may be on another spec, so it counts
// only once the controller has looked at this one.
func (w *Webhook) Stall() (reason, message string) {
	c := meta.FindStatusCondition(w.Status.Conditions, ConditionStalled)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != w.Generation {
		return "", ""
	}
	return c.Reason, c.Message
}

// Webhook is an endpoint that receives signed events of its team.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=qwh,categories=qual
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name: at most 63 characters: it is the label value of the signing Secret made for it"
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Enabled",type=boolean,JSONPath=`.spec.enabled`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Degraded",type=string,JSONPath=`.status.conditions[?(@.type=="Degraded")].status`
// +kubebuilder:printcolumn:name="Failures",type=integer,JSONPath=`.status.consecutiveFailures`
// +kubebuilder:printcolumn:name="Last Success",type=date,JSONPath=`.status.lastSuccessAt`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Webhook struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the webhook.
	// +required
	Spec WebhookSpec `json:"spec"`

	// status is the observed state of the webhook.
	// +optional
	Status WebhookStatus `json:"status,omitempty"`
}

// WebhookList is a list of Webhooks.
// +kubebuilder:object:root=true
type WebhookList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's standard metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the webhooks.
	Items []Webhook `json:"items"`
}
