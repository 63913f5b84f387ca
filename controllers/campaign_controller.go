package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/campaignstate"
	qualevents "qual.cx/operator/internal/events"
	"qual.cx/operator/internal/store"
)

// campaignFinalizer holds a deleted Campaign until its rows in the store are gone.
const campaignFinalizer = "qual.cx/campaign-data"

// CampaignData is the store's side of a campaign: what the controller counts into status and
// removes when the campaign is deleted.
type CampaignData interface {
	// DeleteCampaignData deletes every interview, message, finding, analysis and share link
	// of the campaign. It is called again after a failure, so it must be idempotent.
	DeleteCampaignData(ctx context.Context, campaign *qualv1alpha1.Campaign) error
	// CountCampaignData returns how many interviews (all, and completed) and findings the
	// campaign has.
	CountCampaignData(ctx context.Context, campaign *qualv1alpha1.Campaign) (interviews, completed, findings int64, err error)
	// EndInterviews ends the running interviews of a completed campaign. It is called on
	// every look at a completed campaign, so it must be idempotent (and cheap with none left).
	EndInterviews(ctx context.Context, campaign *qualv1alpha1.Campaign) error
}

// DefaultCountsRefresh is how often a live campaign's counts are rolled up from the store:
// often enough for `kubectl get cmp`, rare enough that etcd never sees interview traffic.
const DefaultCountsRefresh = time.Minute

// CampaignReconciler moves a Campaign to the publish state its spec asks for, when the
// transition rules allow it.
type CampaignReconciler struct {
	client.Client
	Recorder events.EventRecorder
	Data     CampaignData
	// Events receives the webhook events of the campaign's changes; nil writes none.
	Events Outbox
	// CountsRefresh is how often a live campaign's counts are rolled up (DefaultCountsRefresh
	// when zero).
	CountsRefresh time.Duration
	// Now returns the current time; tests may pin it.
	Now func() metav1.Time
}

// +kubebuilder:rbac:groups=qual.cx,resources=campaigns,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=qual.cx,resources=campaigns/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=qual.cx,resources=campaigns/finalizers,verbs=update

// Reconcile converges one Campaign.
func (r *CampaignReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	cmp := &qualv1alpha1.Campaign{}
	if err := r.Get(ctx, req.NamespacedName, cmp); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !cmp.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, cmp)
	}
	if err := setFinalizer(ctx, r.Client, cmp, campaignFinalizer, true); err != nil {
		return ctrl.Result{}, err
	}

	before := cmp.Status.DeepCopy()
	// announced is the status as webhook receivers and Events know it: before, but for a
	// hand-written phase corrected silently (see rederive).
	announced := before
	defer func() {
		// A publish-state move is written only onto the object as read, and announced only
		// once written: a pass on a stale copy would otherwise stamp it and announce it again.
		if cmp.Status.Phase == before.Phase {
			retErr = errors.Join(retErr, patchStatus(ctx, r.Client, cmp, before, &cmp.Status))
			return
		}
		err := patchStatusLocked(ctx, r.Client, cmp, before, &cmp.Status)
		if err == nil && cmp.Status.Phase != announced.Phase {
			r.announceMove(ctx, cmp, announced.Phase)
		}
		retErr = errors.Join(retErr, err)
	}()

	// Outside a team the campaign is nobody's: REST does not serve it, so its state is not
	// accepted, nothing is counted and no team hears of it.
	home := requireTeam(ctx, r.Client, cmp.Namespace, "the REST API does not serve the campaign and its state is not accepted")
	warnOnNewStall(ctx, r.Recorder, cmp, cmp.Status.Conditions, home)
	err := home
	if err == nil {
		announced = r.reconcileState(cmp, before)
	}
	if err == nil {
		err = r.reconcileEnded(ctx, cmp)
	}
	if err == nil {
		err = r.reconcileCounts(ctx, cmp)
	}
	cmp.Status.ObservedGeneration = cmp.Generation
	if home == nil {
		if emitErr := r.announceChanges(ctx, cmp, announced); emitErr != nil {
			// Record none of this reconcile's changes, so the retry sees them again and
			// writes the events it missed under the same ids.
			cmp.Status = *before.DeepCopy()
			err = emitErr
		}
	}
	return r.nextLook(cmp), summarize(&cmp.Status.Conditions, cmp.Generation, err, readiness{
		ready: true, reason: string(cmp.Status.Phase), message: fmt.Sprintf("campaign is %s", cmp.Status.Phase),
	})
}

// transitionEvents names the Event of each accepted move. A new campaign starting as a draft
// is no move: it gets no Event, so creating many campaigns does not write as many Events.
var transitionEvents = map[qualv1alpha1.CampaignState]string{
	qualv1alpha1.StateActive:    "Published",
	qualv1alpha1.StatePaused:    "Paused",
	qualv1alpha1.StateCompleted: "Completed",
}

// reconcileState accepts spec.state into status.phase when legal moves lead there (one, or
// several that landed before this pass), stamping the time of each publish-state change, and
// returns the status as it is to be announced (before, or what rederive makes of it).
func (r *CampaignReconciler) reconcileState(cmp *qualv1alpha1.Campaign, before *qualv1alpha1.CampaignStatus) *qualv1alpha1.CampaignStatus {
	from, to := cmp.Status.Phase, cmp.Spec.State
	if from == to {
		return before
	}
	now := r.now()
	if !campaignstate.Reachable(from, to) {
		return r.rederive(cmp, before, now)
	}
	if cmp.Status.PublishedAt == nil && to != qualv1alpha1.StateDraft { // reached through Active
		cmp.Status.PublishedAt = &now
	}
	switch to {
	case qualv1alpha1.StatePaused:
		cmp.Status.PausedAt = &now
	case qualv1alpha1.StateCompleted:
		cmp.Status.CompletedAt = &now
	}
	cmp.Status.Phase = to
	return before
}

// rederive sets a phase that no legal move leads from to spec.state. The schema lets
// spec.state take only legal moves, and the phase follows them, so such a phase is none the
// spec passed through: it was written to the status by hand. Status is observed state, so the
// spec wins; judging moves against the written phase instead left REST (which reads the spec)
// and kubectl disagreeing for good, and stalled the next REST transition that REST had already
// answered as done. Stamps of states the campaign has not reached go with the phase. When the
// spec has not changed since the last pass, the correction is no move and is not announced
// (the hand-written phase never was); otherwise it is the move the spec asked for.
func (r *CampaignReconciler) rederive(cmp *qualv1alpha1.Campaign, before *qualv1alpha1.CampaignStatus, now metav1.Time) *qualv1alpha1.CampaignStatus {
	to := cmp.Spec.State
	st := &cmp.Status
	switch {
	case to == qualv1alpha1.StateDraft:
		st.PublishedAt, st.PausedAt, st.CompletedAt = nil, nil, nil
	case st.PublishedAt == nil:
		st.PublishedAt = &now
	}
	if to != qualv1alpha1.StateCompleted {
		st.CompletedAt = nil
	}
	if to == qualv1alpha1.StatePaused && st.PausedAt == nil {
		st.PausedAt = &now
	}
	st.Phase = to
	if cmp.Generation != before.ObservedGeneration {
		return before
	}
	quiet := before.DeepCopy()
	quiet.Phase = to
	return quiet
}

// announceMove records the Event of a publish-state move that was just written.
func (r *CampaignReconciler) announceMove(ctx context.Context, cmp *qualv1alpha1.Campaign, from qualv1alpha1.CampaignState) {
	to := cmp.Status.Phase
	reason, ok := transitionEvents[to]
	if from == qualv1alpha1.StatePaused && to == qualv1alpha1.StateActive {
		reason = "Resumed"
	}
	switch {
	case !ok:
	case createdActive(cmp, from):
		announce(ctx, r.Recorder, cmp, nil, corev1.EventTypeNormal, reason, "Transition", "campaign created %s: published on creation, never a draft", to)
	default:
		announce(ctx, r.Recorder, cmp, nil, corev1.EventTypeNormal, reason, "Transition", "campaign moved from %s to %s", orDraft(from), to)
	}
}

// createdActive says a campaign reached Active on its first reconcile with its spec as it was
// created (generation 1): applied as Active with kubectl, it was never a Draft, so no move
// from one is announced. A draft published before the controller first saw it has a later
// generation, and moved from Draft.
func createdActive(cmp *qualv1alpha1.Campaign, from qualv1alpha1.CampaignState) bool {
	return from == "" && cmp.Status.Phase == qualv1alpha1.StateActive && cmp.Generation == 1
}

// reconcileEnded ends the interviews still running on a completed campaign. The REST API
// already refuses their answers; this settles their status (and announces the ones the
// participant answered) even when completion came through kubectl.
func (r *CampaignReconciler) reconcileEnded(ctx context.Context, cmp *qualv1alpha1.Campaign) error {
	if r.Data == nil || cmp.Status.Phase != qualv1alpha1.StateCompleted {
		return nil
	}
	return r.Data.EndInterviews(ctx, cmp)
}

// reconcileCounts rolls the campaign's interview and finding counts up from the store. The
// status patch at the end writes only when they changed.
func (r *CampaignReconciler) reconcileCounts(ctx context.Context, cmp *qualv1alpha1.Campaign) error {
	if r.Data == nil {
		return nil
	}
	interviews, completed, findings, err := r.Data.CountCampaignData(ctx, cmp)
	if err != nil {
		return err
	}
	cmp.Status.InterviewCount, cmp.Status.CompletedInterviewCount, cmp.Status.FindingCount = interviews, completed, findings
	return nil
}

// nextLook schedules the next roll-up of a campaign that can still gain interviews or
// findings: any published one (analysis may add findings after completion). A Draft has none.
func (r *CampaignReconciler) nextLook(cmp *qualv1alpha1.Campaign) ctrl.Result {
	switch cmp.Status.Phase {
	case qualv1alpha1.StateActive, qualv1alpha1.StatePaused, qualv1alpha1.StateCompleted:
		if r.CountsRefresh > 0 {
			return ctrl.Result{RequeueAfter: r.CountsRefresh}
		}
		return ctrl.Result{RequeueAfter: DefaultCountsRefresh}
	}
	return ctrl.Result{}
}

// announceChanges writes the webhook events of what this reconcile changed, judged against
// the status it started from: the campaign's creation, a publish-state move, or else a spec
// change. Edits that landed between two reconciles are one event with the newest state. A
// reconcile that changed nothing writes nothing. The creation is the first pass that accepts
// a state (the phase is empty until then), not the first pass: a campaign made outside a
// team is observed for as long as it stays there, and its team first hears of it when its
// namespace becomes the team's.
func (r *CampaignReconciler) announceChanges(ctx context.Context, cmp *qualv1alpha1.Campaign, before *qualv1alpha1.CampaignStatus) error {
	var changes []eventBuilder
	change := func(typ, key string) {
		changes = append(changes, func(team string) (store.NewEvent, error) { return qualevents.Campaign(typ, cmp, team, key) })
	}
	first := before.Phase == ""
	if first {
		change(qualevents.CampaignCreated, qualevents.KeyCreated)
	}
	typ, moved := qualevents.TransitionType(cmp.Status.Phase)
	moved = moved && cmp.Status.Phase != before.Phase
	switch {
	case moved:
		change(typ, qualevents.TransitionKey(cmp.Status.Phase, cmp.Generation))
	case !first && cmp.Generation > 1 && cmp.Generation != before.ObservedGeneration:
		change(qualevents.CampaignUpdated, qualevents.GenerationKey(cmp.Generation))
	}
	return emitInNamespace(ctx, r.Events, cmp.Namespace, changes...)
}

// reconcileDelete removes the campaign's rows from the store, announces the deletion, then
// lets the Campaign go.
func (r *CampaignReconciler) reconcileDelete(ctx context.Context, cmp *qualv1alpha1.Campaign) error {
	if !controllerutil.ContainsFinalizer(cmp, campaignFinalizer) {
		return nil
	}
	if r.Data != nil {
		if err := r.Data.DeleteCampaignData(ctx, cmp); err != nil {
			announce(ctx, r.Recorder, cmp, nil, corev1.EventTypeWarning, "DataCleanupFailed", "Delete", "deleting the campaign's data failed: %v", err)
			return fmt.Errorf("delete data of campaign %s: %w", client.ObjectKeyFromObject(cmp), err)
		}
	}
	// After the data: the deletion is announced once nothing of the campaign is left to erase.
	deleted := func(team string) (store.NewEvent, error) {
		return qualevents.Campaign(qualevents.CampaignDeleted, cmp, team, qualevents.KeyDeleted)
	}
	if err := emitInNamespace(ctx, r.Events, cmp.Namespace, deleted); err != nil {
		return err
	}
	return setFinalizer(ctx, r.Client, cmp, campaignFinalizer, false)
}

func (r *CampaignReconciler) now() metav1.Time {
	if r.Now != nil {
		return r.Now()
	}
	return metav1.Now()
}

func orDraft(s qualv1alpha1.CampaignState) qualv1alpha1.CampaignState {
	if s == "" {
		return qualv1alpha1.StateDraft
	}
	return s
}

// SetupWithManager registers the reconciler.
func (r *CampaignReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	b := ctrl.NewControllerManagedBy(mgr).
		WithOptions(opts).
		// Spec changes (a new state), deletion, changed conditions and a changed phase wake
		// it (specOrConditionsChanged, campaignPhaseChanged); its finalizer and count writes
		// do not. The roll-up of a published campaign's counts requeues itself.
		For(&qualv1alpha1.Campaign{}, builder.WithPredicates(predicate.Or(specOrConditionsChanged(), campaignPhaseChanged())))
	// A campaign outside a team is looked at again when its namespace becomes one's.
	return watchTeamHomes(b, r.Client, func() client.ObjectList { return &qualv1alpha1.CampaignList{} }).
		Named("campaign").
		Complete(r)
}
