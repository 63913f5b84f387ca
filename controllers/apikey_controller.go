package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	qualevents "qual.cx/operator/internal/events"
	"qual.cx/operator/internal/keyindex"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/store"
)

// APIKeySecretKey is the data key of the Secret holding a minted key's plaintext.
const APIKeySecretKey = "key"

// APIKeyReconciler mints keys for APIKeys applied without a credential, and tracks their
// revocation and expiry.
type APIKeyReconciler struct {
	client.Client
	Recorder events.EventRecorder
	// Events receives the webhook events of keys becoming usable and being revoked; nil
	// writes none.
	Events Outbox
	// Now returns the current time; tests may pin it.
	Now func() time.Time
	// APIReader finds a Secret the label-filtered cache does not show (lookup).
	APIReader client.Reader
	// SystemNamespace is the operator's own namespace (qualv1alpha1.SystemNamespace when
	// empty): its keys are platform admins', which belong to no team.
	SystemNamespace string
	// Credentials records, for good, the first key to hold each credential hash; nil
	// compares only with the APIKeys that exist.
	Credentials store.CredentialClaims
}

// +kubebuilder:rbac:groups=qual.cx,resources=apikeys,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=qual.cx,resources=apikeys/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;delete

// Reconcile converges one APIKey. The key's Secret is owned by it, so Kubernetes deletes the
// plaintext with the key; no finalizer is needed.
func (r *APIKeyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	key := &qualv1alpha1.APIKey{}
	if err := r.Get(ctx, req.NamespacedName, key); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !key.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}

	before := key.Status.DeepCopy()
	defer func() {
		retErr = errors.Join(retErr, patchStatus(ctx, r.Client, key, before, &key.Status))
	}()

	var err error
	if key.Spec.Revoked {
		// Revocation only takes away, so it runs wherever the key lives.
		err = r.reconcileRevocation(ctx, key)
		if err == nil {
			err = r.keepClaim(ctx, key)
		}
	} else {
		err = r.claimCredential(ctx, key)
		if err == nil {
			err = r.checkHome(ctx, key)
		}
		if err == nil {
			err = r.reconcileCredential(ctx, key)
		}
		if err == nil && before.HashRef == "" && key.Spec.Credential == nil {
			// The hash this pass minted: nothing could name it before, but it is claimed
			// now, so a copy made once the key is gone finds it taken.
			err = r.claimCredential(ctx, key)
		}
	}
	err = reconcileReaderAfter(err, func(mayGrant bool) error { return r.reconcileReader(ctx, key, mayGrant) })
	requeue := r.reconcileExpiry(ctx, key)
	if emitErr := r.announceChanges(ctx, key, before); emitErr != nil {
		// Record none of this reconcile's changes, so the retry sees them again and writes
		// the events it missed under the same ids.
		key.Status = *before.DeepCopy()
		err = emitErr
	}
	warnOnNewStall(ctx, r.Recorder, key, key.Status.Conditions, err)
	key.Status.ObservedGeneration = key.Generation
	err = summarize(&key.Status.Conditions, key.Generation, err, r.readiness(key))
	return ctrl.Result{RequeueAfter: requeue}, err
}

// checkHome stalls a key that no team's namespace holds (NoTeam): the REST API refuses it, so
// no plaintext is minted for it and no credential recorded. The operator's namespace is the
// exception: its keys are platform admins', which REST takes there and only there.
func (r *APIKeyReconciler) checkHome(ctx context.Context, key *qualv1alpha1.APIKey) error {
	if key.Namespace == orSystemNamespace(r.SystemNamespace) {
		return nil
	}
	return requireTeam(ctx, r.Client, key.Namespace, "the REST API refuses the key and none is minted")
}

// reconcileCredential records what may be known of the key: from spec.credential when its
// creator minted it, else from the Secret this controller minted it into. The Secret is the
// source of truth, so a reconcile that dies between creating it and writing status mints
// nothing twice.
func (r *APIKeyReconciler) reconcileCredential(ctx context.Context, key *qualv1alpha1.APIKey) error {
	if c := key.Spec.Credential; c != nil {
		key.Status.HashRef, key.Status.Prefix, key.Status.LastFour = c.HashRef, c.Prefix, c.LastFour
		return nil
	}
	secret, err := r.keySecret(ctx, key)
	if err != nil {
		return err
	}
	plaintext := string(secret.Data[APIKeySecretKey])
	if t, err := keys.Parse(plaintext); err != nil || t != key.Spec.Type {
		return stalled("InvalidKeySecret", "secret %s does not hold a %s key", secret.Name, key.Spec.Type)
	}
	k := keys.Describe(plaintext)
	key.Status.HashRef, key.Status.Prefix, key.Status.LastFour = k.HashRef, k.Prefix, k.LastFour
	key.Status.SecretRef = &qualv1alpha1.LocalSecretReference{Name: secret.Name}
	return nil
}

// reconcileReader lets the key's creator, while they manage the team, read the Secret its
// plaintext was minted into, and takes that away from a key whose Secret is gone (revoked):
// the plaintext is then useless, and a grant left behind would name a Secret that no longer
// exists. A key with spec.credential has no Secret, and so no reader; nor has one a step
// before failed for (mayGrant false: reconcileReaderAfter), such as one outside a serving
// team or refused its credential.
func (r *APIKeyReconciler) reconcileReader(ctx context.Context, key *qualv1alpha1.APIKey, mayGrant bool) error {
	grant := secretGrant{owner: key, secret: keySecretName(key), labels: keyLabels(key)}
	return reconcileSecretRead(ctx, r.Client, r.APIReader, grant, mayGrant && key.Status.SecretRef != nil && !key.Spec.Revoked)
}

// keySecretName is the Secret a key's plaintext is minted into.
func keySecretName(key *qualv1alpha1.APIKey) string { return key.Name + "-key" }

// keyLabels are the labels of what the controller makes for a key.
func keyLabels(key *qualv1alpha1.APIKey) map[string]string {
	return managedLabels("qual.cx/apikey", key.Name)
}

// claimCredential refuses, for good, a credential that another key holds: a hash is readable
// by whoever reads a team's keys, and a copy must not take the key over, revive it once
// revoked, or inherit its token when it is deleted, nor be the original re-created after its
// deletion (the store remembers the original's UID; a re-created APIKey has a new one). The
// rule, which the REST API's directory holds to too (it serves the oldest key naming a hash
// that is not marked conflicting, none while two tie, and only the one the store records):
//   - a key marked conflicting stays so;
//   - a key newer than another naming the hash is refused without asking the store, since a
//     copy reconciled before its unclaimed original (at a manager's start, keys reconcile in
//     any order) would otherwise be recorded as the first holder;
//   - otherwise the store's record decides, claiming the hash for this key when it has none:
//     of keys made in the same second (creation times are whole seconds) the first to be
//     recorded holds the hash, and the others are marked once reconciled.
//
// Keys already marked conflicting count against no one: the copy the original beat must not
// turn the original off at its next reconcile. It runs in any namespace, a team's or not: a
// copy parked outside a team until the original is gone would otherwise pass once its
// namespace became a team's.
func (r *APIKeyReconciler) claimCredential(ctx context.Context, key *qualv1alpha1.APIKey) error {
	hashRef := keyindex.HashRef(key)
	if hashRef == "" {
		return nil // not minted yet: there is nothing to copy
	}
	if keyindex.Conflicting(key) {
		return errCredentialInUse()
	}
	older, tied, err := r.rivals(ctx, key, hashRef)
	switch {
	case err != nil:
		return err
	case older:
		return markConflict(key, "an older APIKey holds this credential's hash")
	case r.Credentials == nil:
		// Nothing records who came first, so a tie is refused; the tied key, reconciled
		// next, finds this one conflicting and holds the hash alone.
		if tied {
			return markConflict(key, "an APIKey made in the same second names this credential's hash")
		}
		return nil
	}
	first, err := r.Credentials.ClaimCredential(ctx, hashRef, string(key.UID))
	if err != nil {
		return fmt.Errorf("claim the credential's hash: %w", err)
	}
	if first != string(key.UID) {
		return markConflict(key, "another APIKey held this credential's hash first (the store remembers it once deleted)")
	}
	return nil
}

// rivals says whether another APIKey naming hashRef, not itself marked conflicting, was made
// before key (older) or in the same second (tied).
func (r *APIKeyReconciler) rivals(ctx context.Context, key *qualv1alpha1.APIKey, hashRef string) (older, tied bool, err error) {
	holders := &qualv1alpha1.APIKeyList{}
	if err := r.List(ctx, holders, client.MatchingFields{keyindex.HashField: hashRef}); err != nil {
		return false, false, fmt.Errorf("list keys with the credential's hash: %w", err)
	}
	for i := range holders.Items {
		other := &holders.Items[i]
		switch {
		case other.UID == key.UID || keyindex.Conflicting(other):
		case keyindex.Older(other, key):
			older = true
		case !keyindex.Older(key, other):
			tied = true
		}
	}
	return older, tied, nil
}

// errCredentialInUse is the stall of a key refused its credential.
func errCredentialInUse() error {
	return stalled("CredentialInUse", "another APIKey held this credential first; make a new key")
}

// markConflict marks key CredentialConflict, for good, saying why, and stalls it.
func markConflict(key *qualv1alpha1.APIKey, message string) error {
	meta.SetStatusCondition(&key.Status.Conditions, metav1.Condition{Type: qualv1alpha1.ConditionCredentialConflict,
		Status: metav1.ConditionTrue, Reason: "CredentialInUse", Message: message})
	return errCredentialInUse()
}

// keepClaim records a revoked key as its hash's first holder when no other key held it
// first, so that an APIKey re-created naming the hash once this one is deleted finds it
// taken (a key revoked before the store recorded claims has no claim until now). A revoked
// key authenticates nothing whatever the answer, so a refusal only marks it.
func (r *APIKeyReconciler) keepClaim(ctx context.Context, key *qualv1alpha1.APIKey) error {
	var st *stalledError
	if err := r.claimCredential(ctx, key); err != nil && !errors.As(err, &st) {
		return err
	}
	return nil
}

// keySecret returns the Secret holding the key's plaintext, minting the key into a new one
// the first time.
func (r *APIKeyReconciler) keySecret(ctx context.Context, key *qualv1alpha1.APIKey) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	name := keySecretName(key)
	err := lookup(ctx, r.Client, r.APIReader, client.ObjectKey{Namespace: key.Namespace, Name: name}, secret)
	if err == nil {
		if !metav1.IsControlledBy(secret, key) {
			return nil, stalled("SecretConflict", "secret %s exists and does not belong to this key", name)
		}
		if !isManaged(secret) {
			return nil, stalled("SecretUnlabelled", "secret %s lost its %s label; put it back", name, qualv1alpha1.LabelManagedBy)
		}
		return secret, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("get secret %s: %w", name, err)
	}
	minted, err := keys.Mint(key.Spec.Type)
	if err != nil {
		return nil, err
	}
	immutable := true
	secret = &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: key.Namespace, Labels: keyLabels(key)},
		Type:       corev1.SecretTypeOpaque,
		Immutable:  &immutable,
		Data:       map[string][]byte{APIKeySecretKey: []byte(minted.Plaintext)},
	}
	if err := controllerutil.SetControllerReference(key, secret, r.Scheme()); err != nil {
		return nil, fmt.Errorf("own secret %s: %w", name, err)
	}
	if err := r.Create(ctx, secret); err != nil {
		return nil, fmt.Errorf("create secret %s: %w", name, err)
	}
	announce(ctx, r.Recorder, key, secret, corev1.EventTypeNormal, "KeyMinted", "Mint", "minted key %s…%s into secret %s", minted.Prefix, minted.LastFour, name)
	return secret, nil
}

// reconcileRevocation stamps the revocation once and deletes the plaintext for good.
func (r *APIKeyReconciler) reconcileRevocation(ctx context.Context, key *qualv1alpha1.APIKey) error {
	if key.Status.RevokedAt == nil {
		now := metav1.NewTime(r.now())
		key.Status.RevokedAt = &now
		announce(ctx, r.Recorder, key, nil, corev1.EventTypeNormal, "Revoked", "Revoke", "key %s…%s revoked", key.Status.Prefix, key.Status.LastFour)
	}
	if key.Status.SecretRef == nil {
		return nil
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Status.SecretRef.Name}}
	if err := r.Delete(ctx, secret); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete secret of revoked key: %w", err)
	}
	key.Status.SecretRef = nil
	return nil
}

// announceChanges writes the webhook events of what this reconcile changed, judged against
// the status it started from: the key's credential first known (api_key.created) and its
// revocation stamped (api_key.revoked), for a key whose credential was known: one whose
// spec.credential copies another key's is never recorded, so no event carries the other
// key's prefix and last four, and the REST API does not show it either.
func (r *APIKeyReconciler) announceChanges(ctx context.Context, key *qualv1alpha1.APIKey, before *qualv1alpha1.APIKeyStatus) error {
	var changes []eventBuilder
	change := func(typ, changeKey string) {
		changes = append(changes, func(team string) (store.NewEvent, error) { return qualevents.APIKey(typ, key, team, changeKey) })
	}
	if before.HashRef == "" && key.Status.HashRef != "" {
		change(qualevents.APIKeyCreated, qualevents.KeyCreated)
	}
	if before.RevokedAt == nil && key.Status.RevokedAt != nil && key.Status.HashRef != "" {
		change(qualevents.APIKeyRevoked, qualevents.KeyRevoked)
	}
	return emitInNamespace(ctx, r.Events, key.Namespace, changes...)
}

// reconcileExpiry sets the Expired condition and returns when to look again.
func (r *APIKeyReconciler) reconcileExpiry(ctx context.Context, key *qualv1alpha1.APIKey) time.Duration {
	cond := metav1.Condition{Type: qualv1alpha1.ConditionExpired, Status: metav1.ConditionFalse, Reason: "NotExpired",
		Message: "the key has no expiry", ObservedGeneration: key.Generation}
	var requeue time.Duration
	if exp := key.Spec.ExpiresAt; exp != nil {
		left := exp.Sub(r.now())
		cond.Message = "the key expires at " + exp.UTC().Format(time.RFC3339)
		if left <= 0 {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionTrue, "Expired", "the key expired at "+exp.UTC().Format(time.RFC3339)
		} else {
			requeue = left + time.Second
		}
	}
	if meta.SetStatusCondition(&key.Status.Conditions, cond) && cond.Status == metav1.ConditionTrue {
		announce(ctx, r.Recorder, key, nil, corev1.EventTypeNormal, "Expired", "Expire", "key %s…%s expired", key.Status.Prefix, key.Status.LastFour)
	}
	return requeue
}

func (r *APIKeyReconciler) readiness(key *qualv1alpha1.APIKey) readiness {
	switch {
	case key.Spec.Revoked:
		return readiness{reason: "Revoked", message: "the key was revoked and no longer authenticates"}
	case meta.IsStatusConditionTrue(key.Status.Conditions, qualv1alpha1.ConditionExpired):
		return readiness{reason: "Expired", message: "the key has expired and no longer authenticates"}
	}
	return readiness{ready: true, reason: "Active", message: "the key authenticates requests"}
}

func (r *APIKeyReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the reconciler.
func (r *APIKeyReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	b := ctrl.NewControllerManagedBy(mgr).
		WithOptions(opts).
		// Spec changes (revocation, a new expiry), deletion and changed conditions wake it
		// (specOrConditionsChanged); the REST API's last-used stamps in status do not.
		// Expiry requeues itself.
		For(&qualv1alpha1.APIKey{}, builder.WithPredicates(specOrConditionsChanged())).
		Owns(&corev1.Secret{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{})
	keyList := func() client.ObjectList { return &qualv1alpha1.APIKeyList{} }
	// A key outside a team is looked at again when its namespace becomes one's, and who may
	// read its plaintext follows the team's managers.
	return watchTeamManagers(watchTeamHomes(b, r.Client, keyList), r.Client, keyList).
		Named("apikey").
		Complete(r)
}
