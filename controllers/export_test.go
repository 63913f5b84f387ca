package controllers

import (
	"context"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// TeamWebhook is teamWebhook, for the suite in controllers_test: which webhook wakes the
// reconcile that brings the dispatcher back.
func (r *WebhookReconciler) TeamWebhook(ctx context.Context, whs []qualv1alpha1.Webhook) (*qualv1alpha1.Webhook, error) {
	return r.teamWebhook(ctx, whs)
}
