package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// webhookFinalizer holds a deleted Webhook until its delivery log is gone from the store.
const webhookFinalizer = "qual.cx/webhook-deliveries"

// WebhookData is the store's side of a webhook: the deliveries, attempts and health the
// dispatcher recorded for it.
type WebhookData interface {
	// DeleteWebhookData deletes the webhook's delivery log. It is called again after a
	// failure, so it must be idempotent.
	DeleteWebhookData(ctx context.Context, wh *qualv1alpha1.Webhook) error
}

// WebhookStore is WebhookData in the store, keyed by the team that owns the webhook's
// namespace and the webhook's UID.
type WebhookStore struct {
	// Namespaces reads the webhook's namespace, whose label names the team: the manager's
	// cached client, since namespaces are in its cache anyway.
	Namespaces client.Reader
	Store      store.Store
}

// DeleteWebhookData deletes the webhook's deliveries, their attempts and its health row. A
// webhook outside any team namespace has none: the dispatcher delivers only teams' events.
func (s WebhookStore) DeleteWebhookData(ctx context.Context, wh *qualv1alpha1.Webhook) error {
	team, err := s.teamOf(ctx, wh.Namespace)
	if err != nil || team == "" {
		return err
	}
	if err := s.Store.Team(team).DeleteWebhookData(ctx, store.WebhookID(wh.UID)); err != nil {
		return fmt.Errorf("team %s: %w", team, err)
	}
	return nil
}

// teamOf returns the team owning a namespace, or "" when the namespace is gone or no team's.
func (s WebhookStore) teamOf(ctx context.Context, namespace string) (store.TeamID, error) {
	ns := &corev1.Namespace{}
	if err := s.Namespaces.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("namespace %s: %w", namespace, err)
	}
	return store.TeamID(ns.Labels[qualv1alpha1.LabelTeamUID]), nil
}
