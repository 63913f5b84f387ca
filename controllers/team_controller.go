package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	qualevents "qual.cx/operator/internal/events"
	"qual.cx/operator/internal/store"
)

// teamFinalizer makes a Team's deletion delete its namespace, and everything in it, first.
const teamFinalizer = "qual.cx/team-namespace"

// TeamReconciler turns a Team into its namespace and the RBAC its members' roles grant there.
type TeamReconciler struct {
	client.Client
	Recorder events.EventRecorder
	// SystemNamespace is the operator's own namespace (qualv1alpha1.SystemNamespace when
	// empty). No team may own it: keys there may hold admin:read. Its dispatcher and
	// apiserver service accounts are granted the team namespace's Secrets.
	SystemNamespace string
	// Events receives the webhook events of members joining and leaving; nil writes none.
	Events Outbox
	// APIReader reads a Role or RoleBinding the label-filtered cache does not show (ensure).
	APIReader client.Reader
}

// +kubebuilder:rbac:groups=qual.cx,resources=teams,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=qual.cx,resources=teams/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=qual.cx,resources=teams/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// Recording Events: the marker of eventsRead (team_rbac.go) holds create and patch too.
//
// The service bindings name ClusterRoles the manager may bind without holding what they grant.
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=qual-dispatcher-team-secrets;qual-apiserver-team-secrets
//
// The Roles written into team namespaces may grant only what the manager holds itself
// (Kubernetes refuses to let it escalate), so the manager holds everything they grant.
// +kubebuilder:rbac:groups=qual.cx,resources=campaigns;webhooks;apikeys,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=qual.cx,resources=campaigns/status;webhooks/status;apikeys/status,verbs=get;list;watch;update;patch
//
// Leader election.
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete,namespace=qual-system

// Reconcile converges one Team.
func (r *TeamReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	team := &qualv1alpha1.Team{}
	if err := r.Get(ctx, req.NamespacedName, team); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !team.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, team)
	}
	if err := setFinalizer(ctx, r.Client, team, teamFinalizer, true); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.recordMemberships(ctx, team); err != nil {
		return ctrl.Result{}, err
	}

	before := team.Status.DeepCopy()
	defer func() {
		retErr = errors.Join(retErr, patchStatus(ctx, r.Client, team, before, &team.Status))
	}()

	err := r.reconcileNamespace(ctx, team)
	if err == nil {
		err = r.reconcileRBAC(ctx, team)
	}
	if err == nil {
		err = r.reconcileServiceBindings(ctx, team)
	}
	if emitErr := r.announceMembers(ctx, team); emitErr != nil {
		// Retried: observedMembers stays as it was, so the retry sees the same members join
		// and leave and writes the events it missed under the same ids (memberships).
		err = emitErr
	}
	if revokeErr := r.revokeLostManagers(ctx, team); revokeErr != nil {
		err = errors.Join(err, revokeErr)
	}
	warnOnNewStall(ctx, r.Recorder, team, team.Status.Conditions, err)
	team.Status.MemberCount = int32(len(team.Spec.Members))
	team.Status.ObservedGeneration = team.Generation
	return ctrl.Result{RequeueAfter: recheckAfter(err)}, summarize(&team.Status.Conditions, team.Generation, err, readiness{
		ready: true, reason: "Reconciled", message: fmt.Sprintf("namespace %s and its RBAC are in place", team.Status.Namespace),
	})
}

// namespaceFor is the namespace a team owns: spec.namespace, else team-<name>.
func namespaceFor(team *qualv1alpha1.Team) string {
	if team.Spec.Namespace != "" {
		return team.Spec.Namespace
	}
	return "team-" + team.Name
}

// reconcileNamespace creates the team's namespace, or adopts one labelled for this team, and
// refuses one that belongs to anyone else.
func (r *TeamReconciler) reconcileNamespace(ctx context.Context, team *qualv1alpha1.Team) error {
	name := namespaceFor(team)
	// A team's namespace never moves: its campaigns, data and RBAC are there. The schema
	// refuses a change; this covers Teams stored before it refused adding spec.namespace.
	if claimed := team.Status.Namespace; claimed != "" && claimed != name {
		return stalled("NamespaceMoved", "the team owns namespace %s and cannot move to %s: set spec.namespace back, or recreate the team", claimed, name)
	}
	if len(name) > 63 {
		return stalled("NamespaceNameTooLong", "namespace %q is longer than 63 characters: set spec.namespace", name)
	}
	// Checked before the namespace is looked at, so a reserved one is never created, adopted
	// or given RBAC, whatever its labels say. The schema refuses most of these names already;
	// this also covers the operator's namespace and Teams stored before that rule.
	if r.reserved(name) {
		if err := r.releaseReserved(ctx, team, name); err != nil {
			return err
		}
		return stalled("NamespaceReserved", "namespace %s is reserved for the cluster or the operator: recreate the team with another spec.namespace", name)
	}
	ns := &corev1.Namespace{}
	err := r.Get(ctx, client.ObjectKey{Name: name}, ns)
	if apierrors.IsNotFound(err) {
		return r.createNamespace(ctx, team, name)
	}
	if err != nil {
		return fmt.Errorf("get namespace %s: %w", name, err)
	}
	owner := metav1.GetControllerOf(ns)
	switch {
	case owner != nil && owner.UID != team.UID && owner.Kind == "Team" && owner.Name == team.Name && !ns.DeletionTimestamp.IsZero():
		return leftByPredecessor(name, owner)
	case owner != nil && owner.UID != team.UID:
		return stalled("NamespaceConflict", "namespace %s is owned by %s %s", name, owner.Kind, owner.Name)
	case ns.Labels[qualv1alpha1.LabelTeam] != team.Name:
		return stalled("NamespaceConflict", "namespace %s exists and is not labelled %s=%s", name, qualv1alpha1.LabelTeam, team.Name)
	case !ns.DeletionTimestamp.IsZero():
		return fmt.Errorf("namespace %s is still terminating", name)
	}
	if err := r.claimNamespace(ctx, team, ns, owner == nil); err != nil {
		return err
	}
	team.Status.Namespace = name
	return nil
}

// predecessorRecheck is how often a Team waiting for its predecessor's namespace to go looks
// again, in case the deletion's watch event is missed; the event normally wakes it first.
const predecessorRecheck = time.Minute

// leftByPredecessor is the stall of a Team recreated under the name of a deleted one whose
// namespace is still terminating: the namespace is the old Team's (another UID), not this
// one's, and the Team creates it afresh once it is gone (its deletion wakes the Team through
// Owns, which maps the namespace to its owner by name).
func leftByPredecessor(name string, owner *metav1.OwnerReference) error {
	return stalledRecheck(predecessorRecheck, "NamespaceTerminating",
		"namespace %s belongs to a deleted %s %s (uid %s) and is still terminating; it is created again for this team once it is gone",
		name, owner.Kind, owner.Name, owner.UID)
}

// reserved reports whether a namespace belongs to the cluster or the operator and so can
// never be a team's: its members would get RBAC there.
func (r *TeamReconciler) reserved(name string) bool {
	return name == r.systemNamespace() || name == metav1.NamespaceDefault || strings.HasPrefix(name, "kube-")
}

func (r *TeamReconciler) systemNamespace() string { return orSystemNamespace(r.SystemNamespace) }

// namespaceLabels are the labels of a team's namespace.
func namespaceLabels(team *qualv1alpha1.Team) map[string]string {
	return managedLabels(qualv1alpha1.LabelTeam, team.Name, qualv1alpha1.LabelTeamUID, string(team.UID))
}

func (r *TeamReconciler) createNamespace(ctx context.Context, team *qualv1alpha1.Team, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: namespaceLabels(team)}}
	if err := controllerutil.SetControllerReference(team, ns, r.Scheme()); err != nil {
		return fmt.Errorf("own namespace %s: %w", name, err)
	}
	if err := r.Create(ctx, ns); err != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	announce(ctx, r.Recorder, team, ns, corev1.EventTypeNormal, "NamespaceCreated", "Create", "created namespace %s", name)
	team.Status.Namespace = name
	return nil
}

// claimNamespace makes the team the controller of a namespace labelled for it and puts the
// team's labels on it, writing only when something is missing.
func (r *TeamReconciler) claimNamespace(ctx context.Context, team *qualv1alpha1.Team, ns *corev1.Namespace, adopt bool) error {
	before := ns.DeepCopy()
	if err := controllerutil.SetControllerReference(team, ns, r.Scheme()); err != nil {
		return fmt.Errorf("own namespace %s: %w", ns.Name, err)
	}
	for k, v := range namespaceLabels(team) {
		ns.Labels[k] = v
	}
	if equality.Semantic.DeepEqual(before.ObjectMeta, ns.ObjectMeta) {
		return nil
	}
	if err := r.Patch(ctx, ns, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("claim namespace %s: %w", ns.Name, err)
	}
	if adopt {
		announce(ctx, r.Recorder, team, ns, corev1.EventTypeNormal, "NamespaceAdopted", "Adopt", "adopted namespace %s, labelled for this team", ns.Name)
	}
	return nil
}

// reconcileRBAC writes one Role and one RoleBinding per access level in the team namespace.
func (r *TeamReconciler) reconcileRBAC(ctx context.Context, team *qualv1alpha1.Team) error {
	ns := team.Status.Namespace
	for _, level := range accessLevels {
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: level.name, Namespace: ns}}
		if err := ensure(ctx, r.Client, r.APIReader, role, func() error {
			role.Labels = managedLabels(qualv1alpha1.LabelTeam, team.Name)
			role.Rules = level.rules
			return controllerutil.SetControllerReference(team, role, r.Scheme())
		}); err != nil {
			return fmt.Errorf("role %s/%s: %w", ns, level.name, err)
		}
		binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: level.name, Namespace: ns}}
		if err := ensure(ctx, r.Client, r.APIReader, binding, func() error {
			binding.Labels = managedLabels(qualv1alpha1.LabelTeam, team.Name)
			binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: level.name}
			binding.Subjects = subjectsFor(team.Spec.Members, level.roles)
			return controllerutil.SetControllerReference(team, binding, r.Scheme())
		}); err != nil {
			return fmt.Errorf("role binding %s/%s: %w", ns, level.name, err)
		}
	}
	return nil
}

// recordMemberships records since when each e-mail of spec.members and observedMembers has
// been a member (status.memberships), giving one not recorded yet the team's current
// generation, and forgets the e-mails of neither. A member event's id derives from that
// generation, so it is fixed before the first event of the membership is written: the write
// applies only to the Team as read, so a pass on a stale copy gets a conflict (and is retried
// on a fresh one) instead of giving a membership a second generation, and hence its events a
// second id.
func (r *TeamReconciler) recordMemberships(ctx context.Context, team *qualv1alpha1.Team) error {
	since := membershipsOf(team)
	kept := make([]qualv1alpha1.TeamMembership, 0, len(team.Spec.Members))
	record := func(email string) {
		for _, m := range kept {
			if m.Email == email {
				return
			}
		}
		began, ok := since[email]
		if !ok {
			began = team.Generation
		}
		kept = append(kept, qualv1alpha1.TeamMembership{Email: email, Since: began})
	}
	for _, m := range team.Spec.Members {
		record(m.Email)
	}
	for _, email := range team.Status.ObservedMembers {
		record(email)
	}
	if equality.Semantic.DeepEqual(kept, team.Status.Memberships) {
		return nil
	}
	before := team.Status.DeepCopy()
	team.Status.Memberships = kept
	if err := patchStatusLocked(ctx, r.Client, team, before, &team.Status); err != nil {
		return fmt.Errorf("record the memberships of team %s: %w", team.Name, err)
	}
	return nil
}

// membershipsOf maps each e-mail of a team's status.memberships to the generation its
// membership began at.
func membershipsOf(team *qualv1alpha1.Team) map[string]int64 {
	since := make(map[string]int64, len(team.Status.Memberships))
	for _, m := range team.Status.Memberships {
		since[m.Email] = m.Since
	}
	return since
}

// announceMembers writes a webhook event for each member who joined or left since the members
// last observed, then records the members now in spec. A team's first members join it. Each
// event is named by its membership (recordMemberships ran first), so a pass that announces
// what an earlier one did, whose status write was lost or is not read back yet, writes the
// same ids and the outbox keeps the first.
func (r *TeamReconciler) announceMembers(ctx context.Context, team *qualv1alpha1.Team) error {
	observed, current := sets.New(team.Status.ObservedMembers...), sets.New[string]()
	for _, m := range team.Spec.Members {
		current.Insert(m.Email)
	}
	if current.Equal(observed) {
		return nil
	}
	if r.Events != nil {
		evs, err := memberEvents(team, observed, current)
		if err == nil {
			err = r.Events.Emit(ctx, string(team.UID), evs...)
		}
		if err != nil {
			return fmt.Errorf("announce members of team %s: %w", team.Name, err)
		}
	}
	team.Status.ObservedMembers = make([]string, 0, len(team.Spec.Members))
	for _, m := range team.Spec.Members {
		team.Status.ObservedMembers = append(team.Status.ObservedMembers, m.Email)
	}
	// Those who left are announced: their memberships are over.
	team.Status.Memberships = slices.DeleteFunc(slices.Clone(team.Status.Memberships), func(m qualv1alpha1.TeamMembership) bool {
		return !current.Has(m.Email)
	})
	return nil
}

// memberEvents are the events of the members in current and not in observed (joined, in
// spec order), then of those in observed and not in current (left, by e-mail), each named by
// its membership.
func memberEvents(team *qualv1alpha1.Team, observed, current sets.Set[string]) ([]store.NewEvent, error) {
	since := membershipsOf(team)
	var evs []store.NewEvent
	add := func(ev store.NewEvent, err error) error {
		evs = append(evs, ev)
		return err
	}
	for _, m := range team.Spec.Members {
		if !observed.Has(m.Email) {
			if err := add(qualevents.Added(team, m, since[m.Email])); err != nil {
				return nil, err
			}
		}
	}
	for _, email := range sets.List(observed.Difference(current)) {
		if err := add(qualevents.Removed(team, email, since[email])); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

// reconcileServiceBindings grants the operator's service accounts what they need of the team
// namespace's Secrets (serviceBindings).
func (r *TeamReconciler) reconcileServiceBindings(ctx context.Context, team *qualv1alpha1.Team) error {
	ns := team.Status.Namespace
	for _, b := range serviceBindings {
		binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: b.clusterRole, Namespace: ns}}
		if err := ensure(ctx, r.Client, r.APIReader, binding, func() error {
			binding.Labels = managedLabels(qualv1alpha1.LabelTeam, team.Name)
			binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.clusterRole}
			binding.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: r.systemNamespace(), Name: b.serviceAccount}}
			return controllerutil.SetControllerReference(team, binding, r.Scheme())
		}); err != nil {
			return fmt.Errorf("role binding %s/%s: %w", ns, b.clusterRole, err)
		}
	}
	return nil
}

// releaseReserved undoes what an operator from before namespaces were reserved may have done
// to one: the team's RoleBindings and Roles are deleted, and the namespace loses the team's
// owner reference (else deleting the team would garbage-collect it) and team labels (which
// map it to the team in the REST API).
func (r *TeamReconciler) releaseReserved(ctx context.Context, team *qualv1alpha1.Team, name string) error {
	if err := r.dropRBAC(ctx, team, name); err != nil {
		return err
	}
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return client.IgnoreNotFound(err)
	}
	before := ns.DeepCopy()
	refs := slices.DeleteFunc(ns.GetOwnerReferences(), func(o metav1.OwnerReference) bool { return o.UID == team.UID })
	ns.SetOwnerReferences(refs)
	if ns.Labels[qualv1alpha1.LabelTeamUID] == string(team.UID) {
		delete(ns.Labels, qualv1alpha1.LabelTeam)
		delete(ns.Labels, qualv1alpha1.LabelTeamUID)
	}
	if equality.Semantic.DeepEqual(before.ObjectMeta, ns.ObjectMeta) {
		return nil
	}
	if err := r.Patch(ctx, ns, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("release reserved namespace %s: %w", name, err)
	}
	announce(ctx, r.Recorder, team, ns, corev1.EventTypeWarning, "ReservedNamespaceReleased", "Release", "released reserved namespace %s", name)
	return nil
}

// dropRBAC deletes the Roles and RoleBindings the team controls in a namespace.
func (r *TeamReconciler) dropRBAC(ctx context.Context, team *qualv1alpha1.Team, ns string) error {
	for _, name := range bindingNames() {
		// The binding first: it is what grants. A service binding has no Role of its own.
		for _, o := range []struct {
			kind string
			obj  client.Object
		}{{"RoleBinding", &rbacv1.RoleBinding{}}, {"Role", &rbacv1.Role{}}} {
			if err := r.dropControlled(ctx, team, o.kind, o.obj, client.ObjectKey{Namespace: ns, Name: name}); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropControlled deletes the object at key when the team controls it.
func (r *TeamReconciler) dropControlled(ctx context.Context, team *qualv1alpha1.Team, kind string, obj client.Object, key client.ObjectKey) error {
	err := r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get %s %s: %w", kind, key, err)
	}
	if !metav1.IsControlledBy(obj, team) {
		return nil
	}
	if err := r.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete %s %s: %w", kind, key, err)
	}
	announce(ctx, r.Recorder, team, obj, corev1.EventTypeWarning, "ReservedRBACDeleted", "Delete",
		"deleted %s %s from reserved namespace %s", kind, key.Name, key.Namespace)
	return nil
}

// reconcileDelete deletes the namespace the team owns, then lets the Team go. Kubernetes
// deletes everything in the namespace with it.
func (r *TeamReconciler) reconcileDelete(ctx context.Context, team *qualv1alpha1.Team) error {
	if !controllerutil.ContainsFinalizer(team, teamFinalizer) {
		return nil
	}
	ns := &corev1.Namespace{}
	err := r.Get(ctx, client.ObjectKey{Name: namespaceFor(team)}, ns)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("get namespace: %w", err)
	case metav1.IsControlledBy(ns, team) && ns.DeletionTimestamp.IsZero() && !r.reserved(ns.Name):
		if err := r.Delete(ctx, ns); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete namespace %s: %w", ns.Name, err)
		}
		announce(ctx, r.Recorder, team, ns, corev1.EventTypeNormal, "NamespaceDeleted", "Delete", "deleted namespace %s and everything in it", ns.Name)
	}
	return setFinalizer(ctx, r.Client, team, teamFinalizer, false)
}

// SetupWithManager registers the reconciler and what it watches.
func (r *TeamReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	return ctrl.NewControllerManagedBy(mgr).
		WithOptions(opts).
		// Spec changes (members, plan), deletion and changed conditions wake it
		// (specOrConditionsChanged); its finalizer writes do not. Changes to the namespace
		// and RBAC it owns wake it through Owns.
		For(&qualv1alpha1.Team{}, builder.WithPredicates(specOrConditionsChanged())).
		Owns(&corev1.Namespace{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Named("team").
		Complete(r)
}
