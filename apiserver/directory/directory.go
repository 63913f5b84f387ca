// Package directory is the apiserver's read model of the Kubernetes objects behind the API:
// Teams, APIKeys, Campaigns and Webhooks, fed by the informer cache's events. Lookups are map
// reads; each campaign is rendered to JSON once per change, not once per request; lists are
// served from sorted snapshots. Writers wait here for their own write to arrive
// (read-your-writes).
package directory

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// Directory indexes the API's Kubernetes objects. All methods are safe for concurrent use.
type Directory struct {
	mu           sync.RWMutex
	teams        map[string]*Team             // by UID
	teamByNS     map[string]*Team             // only namespaces a team has claimed
	nsOwner      map[string]string            // namespace -> the team UID it is labelled for
	members      map[string]map[string]bool   // "user:<id>" or "email:<lowercase>" -> team UIDs
	keys         map[[sha256.Size]byte]*Key   // digest -> the key a token authenticates as
	claims       map[[sha256.Size]byte][]*Key // digest -> every key naming it (keys.go)
	keyByUID     map[string]*Key
	campaigns    map[string]*Campaign // by UID
	byNS         map[string]*campaignSet
	webhooks     map[string]*qualv1alpha1.Webhook            // by UID
	webhooksByNS map[string]map[string]*qualv1alpha1.Webhook // namespace -> UID -> webhook
	// changed is closed and replaced on every change, waking writers waiting for their write.
	changed chan struct{}
	// origins are the origins public keys accept, for CORS preflights (keys.go).
	origins originIndex
	// firsts caches, per digest, the UID of the key the ledger records as the first that held
	// it (keys.go). A claim never changes, so an entry is never dropped, not even with its
	// key: that is what keeps a copy made after the deletion from answering.
	firsts map[[sha256.Size]byte]types.UID
	// ledger records the first holder of each credential for good; nil takes every key as its
	// credential's first holder (tests of the directory alone).
	ledger store.CredentialClaims
}

// New returns an empty directory that takes every key as the first holder of its
// credential; Watch fills it.
func New() *Directory { return NewWithLedger(nil) }

// NewWithLedger returns an empty directory whose keys authenticate only if ledger records
// them as the first holders of their credentials (KeyForToken); Watch fills it.
func NewWithLedger(ledger store.CredentialClaims) *Directory {
	return &Directory{
		teams: map[string]*Team{}, teamByNS: map[string]*Team{}, nsOwner: map[string]string{}, members: map[string]map[string]bool{},
		keys: map[[sha256.Size]byte]*Key{}, claims: map[[sha256.Size]byte][]*Key{}, keyByUID: map[string]*Key{},
		firsts: map[[sha256.Size]byte]types.UID{}, ledger: ledger,
		campaigns: map[string]*Campaign{}, byNS: map[string]*campaignSet{},
		webhooks: map[string]*qualv1alpha1.Webhook{}, webhooksByNS: map[string]map[string]*qualv1alpha1.Webhook{},
		changed: make(chan struct{}),
	}
}

// Watch subscribes the directory to the cache's Team, APIKey, Campaign, Webhook and Namespace
// informers. The directory is complete once the cache has synced.
func (d *Directory) Watch(ctx context.Context, c cache.Cache) error {
	for _, w := range []struct {
		obj            client.Object
		upsert, delete func(any)
	}{
		{&qualv1alpha1.Team{}, d.onTeam, d.onTeamDelete},
		{&qualv1alpha1.APIKey{}, d.onKey, d.onKeyDelete},
		{&qualv1alpha1.Campaign{}, d.onCampaign, d.onCampaignDelete},
		{&qualv1alpha1.Webhook{}, d.onWebhook, d.onWebhookDelete},
		{&corev1.Namespace{}, d.onNamespace, d.onNamespaceDelete},
	} {
		inf, err := c.GetInformer(ctx, w.obj)
		if err != nil {
			return fmt.Errorf("directory: informer for %T: %w", w.obj, err)
		}
		upsert, del := w.upsert, w.delete
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    upsert,
			UpdateFunc: func(_, obj any) { upsert(obj) },
			DeleteFunc: func(obj any) {
				if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
					obj = tomb.Obj
				}
				del(obj)
			},
		}); err != nil {
			return fmt.Errorf("directory: handler for %T: %w", w.obj, err)
		}
	}
	return nil
}

// Observe adds or updates an object, as the informer does.
func (d *Directory) Observe(obj any) {
	switch obj.(type) {
	case *qualv1alpha1.Team:
		d.onTeam(obj)
	case *qualv1alpha1.APIKey:
		d.onKey(obj)
	case *qualv1alpha1.Campaign:
		d.onCampaign(obj)
	case *qualv1alpha1.Webhook:
		d.onWebhook(obj)
	case *corev1.Namespace:
		d.onNamespace(obj)
	}
}

// notify wakes every waiter; call with d.mu held for writing.
func (d *Directory) notify() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// WaitFor blocks until the object with uid is in the directory at resourceVersion rv or
// newer (or, with rv empty, is gone), or ctx ends. A REST write calls it before answering,
// so the caller's next read sees the write.
func (d *Directory) WaitFor(ctx context.Context, uid, rv string) error {
	for {
		d.mu.RLock()
		seen := d.versionOf(uid)
		ch := d.changed
		d.mu.RUnlock()
		if (rv == "" && seen == "") || (rv != "" && newerOrSame(seen, rv)) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("directory: waiting for %s@%s: %w", uid, rv, ctx.Err())
		}
	}
}

// WaitUntil blocks until cond, called with the directory read-locked, holds or ctx ends.
func (d *Directory) WaitUntil(ctx context.Context, cond func(*Directory) bool) error {
	for {
		d.mu.RLock()
		done, ch := cond(d), d.changed
		d.mu.RUnlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("directory: waiting: %w", ctx.Err())
		}
	}
}

// Claimed reports whether a team has claimed its namespace; call within WaitUntil.
func (d *Directory) Claimed(teamUID string) bool {
	t, ok := d.teams[teamUID]
	return ok && t.Namespace != ""
}

func (d *Directory) versionOf(uid string) string {
	if c, ok := d.campaigns[uid]; ok {
		return c.Object.ResourceVersion
	}
	if t, ok := d.teams[uid]; ok {
		return t.Object.ResourceVersion
	}
	if k, ok := d.keyByUID[uid]; ok {
		return k.Object.ResourceVersion
	}
	if wh, ok := d.webhooks[uid]; ok {
		return wh.ResourceVersion
	}
	return ""
}

// newerOrSame compares resourceVersions. They are opaque to clients, but etcd's are
// increasing integers; anything else only matches exactly.
func newerOrSame(seen, want string) bool {
	if seen == "" {
		return false
	}
	a, errA := strconv.ParseUint(seen, 10, 64)
	b, errB := strconv.ParseUint(want, 10, 64)
	if errA != nil || errB != nil {
		return seen == want
	}
	return a >= b
}
