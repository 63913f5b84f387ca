package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// GetConditions returns the Team's status conditions.
func (t *Team) GetConditions() []metav1.Condition { return t.Status.Conditions }

// GetConditions returns the Campaign's status conditions.
func (c *Campaign) GetConditions() []metav1.Condition { return c.Status.Conditions }

// GetConditions returns the APIKey's status conditions.
func (k *APIKey) GetConditions() []metav1.Condition { return k.Status.Conditions }

// GetConditions returns the Webhook's status conditions.
func (w *Webhook) GetConditions() []metav1.Condition { return w.Status.Conditions }
