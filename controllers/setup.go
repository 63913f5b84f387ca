package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	kevents "k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/cachetrim"
	"qual.cx/operator/internal/campaigndata"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/events"
	"qual.cx/operator/internal/keyindex"
	"qual.cx/operator/internal/store"
)

// Options configure the controllers.
type Options struct {
	// Dispatcher is how the webhook delivery Deployment in SystemNamespace runs.
	Dispatcher DispatcherConfig
	// CampaignData deletes a deleted campaign's rows in the store; nil skips that step.
	CampaignData CampaignData
	// WebhookData deletes a deleted webhook's delivery log in the store; nil adds no
	// finalizer to webhooks and deletes nothing.
	WebhookData WebhookData
	// Events receives the webhook events of changes to campaigns, team members and API keys
	// (events.Outbox); nil writes none.
	Events Outbox
	// Credentials records the first APIKey to hold each credential hash, for good; a key
	// naming a hash another key held first is marked CredentialConflict. Nil compares only
	// with the APIKeys that exist (the REST API still refuses the copy).
	Credentials store.CredentialClaims
	// Concurrency is how many objects of one kind reconcile at once (default 1).
	Concurrency int
	// SystemNamespace is the operator's own namespace (qualv1alpha1.SystemNamespace when
	// empty): no Team may own it, and the dispatcher runs there.
	SystemNamespace string
	// Egress is the policy webhook URLs are held to, the dispatcher's and the apiserver's: a
	// Webhook whose URL it refuses is not Ready. The zero Policy is the production one.
	Egress egress.Policy
}

// WithStore fills the store-backed options: a deleted campaign's rows and a deleted webhook's
// delivery log are deleted, changes to campaigns, members and keys write their events, and
// the first key to hold each credential is recorded.
func (o Options) WithStore(c client.Client, db store.Store) Options {
	o.CampaignData = campaigndata.Cleaner{Namespaces: c, Store: db}
	o.WebhookData = WebhookStore{Namespaces: c, Store: db}
	o.Events = events.Outbox{Namespaces: c, Store: db}
	o.Credentials = db
	return o
}

// Reconcilers are the four reconcilers Setup registered.
type Reconcilers struct {
	Team     *TeamReconciler
	Campaign *CampaignReconciler
	APIKey   *APIKeyReconciler
	Webhook  *WebhookReconciler
}

// Setup registers every reconciler, the APIKey hash index and the index of Teams by the
// namespace they own with a manager.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) (*Reconcilers, error) {
	if err := keyindex.Register(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	if err := registerTeamNamespaceIndex(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	c := client.WithFieldOwner(mgr.GetClient(), qualv1alpha1.ControllerFieldManager)
	system := orSystemNamespace(opts.SystemNamespace)
	recorder := func(name string) kevents.EventRecorder {
		return skipInGoingNamespaces(mgr.GetEventRecorder(name), mgr.GetClient(), mgr.GetLogger().WithName(name))
	}
	rs := &Reconcilers{
		Team: &TeamReconciler{Client: c, APIReader: mgr.GetAPIReader(), Recorder: recorder("qual-team"),
			SystemNamespace: system, Events: opts.Events},
		Campaign: &CampaignReconciler{Client: c, Recorder: recorder("qual-campaign"), Data: opts.CampaignData,
			Events: opts.Events},
		APIKey: &APIKeyReconciler{Client: c, APIReader: mgr.GetAPIReader(), Recorder: recorder("qual-apikey"),
			SystemNamespace: system, Events: opts.Events, Credentials: opts.Credentials},
		Webhook: &WebhookReconciler{Client: c, APIReader: mgr.GetAPIReader(), Recorder: recorder("qual-webhook"),
			Dispatcher: opts.Dispatcher, SystemNamespace: system, Data: opts.WebhookData, Egress: opts.Egress},
	}
	copts := controller.Options{MaxConcurrentReconciles: max(1, opts.Concurrency)}
	for _, r := range []interface {
		SetupWithManager(ctrl.Manager, controller.Options) error
	}{rs.Team, rs.Campaign, rs.APIKey, rs.Webhook} {
		if err := r.SetupWithManager(mgr, copts); err != nil {
			return nil, fmt.Errorf("set up %T: %w", r, err)
		}
	}
	return rs, nil
}

// orSystemNamespace is namespace, or qualv1alpha1.SystemNamespace when it is empty: the
// operator's own namespace as a reconciler's SystemNamespace names it.
func orSystemNamespace(namespace string) string {
	if namespace == "" {
		return qualv1alpha1.SystemNamespace
	}
	return namespace
}

// CacheOptions limits the manager's cache to what the controllers need: Secrets,
// Deployments, Roles and RoleBindings only when the operator made them (a cluster's Secrets
// are many and none of its business), Deployments only in the operator's namespace
// (systemNamespace, or qualv1alpha1.SystemNamespace when empty), the one place the dispatcher
// runs and the manager may write them, and everything only in the given namespaces when any
// are given: then the operator's own must be among them.
func CacheOptions(systemNamespace string, namespaces []string) cache.Options {
	managed := labels.SelectorFromSet(labels.Set{qualv1alpha1.LabelManagedBy: qualv1alpha1.ManagedByValue})
	opts := cache.Options{DefaultTransform: cachetrim.Transform, ByObject: map[client.Object]cache.ByObject{
		&corev1.Secret{}: {Label: managed},
		&appsv1.Deployment{}: {Namespaces: map[string]cache.Config{
			orSystemNamespace(systemNamespace): {LabelSelector: managed},
		}},
		&rbacv1.Role{}:        {Label: managed},
		&rbacv1.RoleBinding{}: {Label: managed},
	}}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}
