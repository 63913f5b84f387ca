package apiserver

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/internal/store"
)

// FieldManager is the field manager of every REST write, so kubectl and REST changes to one
// object both survive and `kubectl get -o yaml --show-managed-fields` tells them apart.
const FieldManager = qualv1alpha1.APIServerFieldManager

// writer performs the REST API's writes through the Kubernetes API.
type writer struct {
	c client.Client
}

func (s *Server) writer() writer { return writer{c: s.cfg.Client} }

// await waits until the directory holds a write (rv) or a deletion (rv empty), bounded by
// Config.WriteWait, and reports whether it caught up. The write is done either way: a write
// the Kubernetes API accepted is answered as a success, never with an error inviting a
// retry that would repeat it.
func (s *Server) await(ctx context.Context, uid, rv string) bool {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WriteWait)
	defer cancel()
	return s.dir.WaitFor(ctx, uid, rv) == nil
}

// awaitUntil waits, bounded by Config.WriteWait, until cond holds in the directory, and
// reports whether it did.
func (s *Server) awaitUntil(ctx context.Context, cond func(*directory.Directory) bool) bool {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WriteWait)
	defer cancel()
	return s.dir.WaitUntil(ctx, cond) == nil
}

// readBack returns a written object as the directory holds it once it has caught up, else
// as the write's own response renders it (the cache is slow, say relisting after an outage,
// or a concurrent delete already removed the object).
func readBack[T any](s *Server, ctx context.Context, uid, rv string, get func(string) (T, bool), written func() (T, error)) (T, error) {
	if s.await(ctx, uid, rv) {
		if v, ok := get(uid); ok {
			return v, nil
		}
	}
	return written()
}

// fromApplied converts an apply's response into its typed object.
func fromApplied[T any, PT interface {
	*T
	client.Object
}](u *unstructured.Unstructured) (PT, error) {
	obj := PT(new(T))
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		return nil, fmt.Errorf("convert applied %s: %w", u.GetKind(), err)
	}
	return obj, nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slugBase is the kebab-case form of a title: Latin letters lose their diacritics (see
// asciiLatin), and what is still outside [a-z0-9] becomes dashes.
func slugBase(title, fallback string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(asciiLatin(title), "-"), "-")
	if len(s) > 200 {
		s = strings.TrimRight(s[:200], "-")
	}
	if s == "" {
		return fallback // a title with no Latin letter or digit
	}
	return s
}

// createCampaign creates a campaign named by its slug, `-2`, `-3`… on a collision, stamped
// with the request's Idempotency-Key claim if it holds one (see madeByClaim).
func (w writer) createCampaign(ctx context.Context, ns string, spec qualv1alpha1.CampaignSpec, now time.Time) (*qualv1alpha1.Campaign, error) {
	base := slugBase(spec.Title, "campaign") + "-" + strconv.FormatInt(now.Unix(), 10)
	for n := 1; n <= 50; n++ {
		name := base
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		obj := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
		stampClaim(ctx, obj)
		err := w.c.Create(ctx, obj, client.FieldOwner(FieldManager))
		if apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return nil, kubeError(err)
		}
		return obj, nil
	}
	return nil, envelope.New(envelope.CodeConflict, "Too many campaigns share this title and second")
}

// applyCampaign writes the campaign's REST-owned fields by server-side apply, on condition
// that the campaign is still at current's resourceVersion, and returns the apply's response.
// It always sends every field REST owns: apply removes fields a manager stops sending. A
// lost race is the Kubernetes API's conflict error, unconverted, for the caller to retry.
func (w writer) applyCampaign(ctx context.Context, current *qualv1alpha1.Campaign, spec qualv1alpha1.CampaignSpec) (*unstructured.Unstructured, error) {
	questions := make([]any, len(spec.Questions))
	for i, q := range spec.Questions {
		questions[i] = q
	}
	settings := map[string]any{"anonymous": spec.Settings.Anonymous}
	if spec.Settings.Language != "" {
		settings["language"] = spec.Settings.Language
	}
	if spec.Settings.Interviewer != "" {
		settings["interviewer"] = string(spec.Settings.Interviewer)
	}
	if spec.Settings.Analyzer != "" {
		settings["analyzer"] = string(spec.Settings.Analyzer)
	}
	u := applyObject(current, "Campaign", map[string]any{
		"title": spec.Title, "objectives": spec.Objectives, "description": spec.Description,
		"mode": string(spec.Mode), "maxQuestions": int64(spec.MaxQuestions), "questions": questions,
		"settings": settings,
		"state":    string(spec.State),
	})
	if err := w.applyAt(ctx, u, current.GetResourceVersion()); err != nil {
		return nil, err
	}
	return u, nil
}

// applyAt applies u on condition that the object is still at resourceVersion rv. A lost race
// is the Kubernetes API's conflict error, unconverted, for retry.RetryOnConflict.
func (w writer) applyAt(ctx context.Context, u *unstructured.Unstructured, rv string) error {
	u.SetResourceVersion(rv)
	return w.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
}

// applyObject is the apply configuration of an object's spec.
func applyObject(current client.Object, kind string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetAPIVersion(qualv1alpha1.GroupVersion.String())
	u.SetKind(kind)
	u.SetName(current.GetName())
	u.SetNamespace(current.GetNamespace())
	u.SetUID(current.GetUID()) // apply to this object, not a namesake created since
	return u
}

func (w writer) apply(ctx context.Context, u *unstructured.Unstructured) error {
	err := w.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
	if err != nil {
		return kubeError(err)
	}
	return nil
}

func (w writer) delete(ctx context.Context, obj client.Object) error {
	if err := w.c.Delete(ctx, obj, client.Preconditions{UID: ptrUID(obj)}); client.IgnoreNotFound(err) != nil {
		return kubeError(err)
	}
	return nil
}

// kubeError turns a Kubernetes API refusal into the API's error: schema violations name
// the REST field, conflicts are 409, a gone object is 404, an API server that cannot be
// reached or is overloaded is 503; anything else is passed up.
func kubeError(err error) error {
	if unreachable(err) {
		return envelope.Unavailable("The Kubernetes API", 5*time.Second)
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return err
	}
	switch {
	case apierrors.IsInvalid(err):
		return invalidToValidation(status.Status())
	case apierrors.IsConflict(err):
		return envelope.New(envelope.CodeConflict, "The object was changed by another write; retry")
	case apierrors.IsNotFound(err):
		return envelope.NotFound("Object")
	}
	return err
}

// unreachable reports whether err says a dependency could not be reached or did not answer
// in time: an API server that says it is unavailable, overloaded or timing out, or what the
// store counts as unavailable (a refused, reset or closed connection, a network timeout, a
// database starting up or shutting down). A request whose client went away is not one.
func unreachable(err error) bool {
	return apierrors.IsServiceUnavailable(err) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsUnexpectedServerError(err) || store.IsUnavailable(err)
}

// restFields maps schema paths to the REST fields they come from.
var restFields = map[string]string{
	"spec.title": "title", "spec.objectives": "objectives", "spec.description": "description",
	"spec.mode": "campaign_mode", "spec.maxQuestions": "max_questions", "spec.questions": "questions",
	"spec.settings.language": "settings.language", "spec.state": "status", "spec.displayName": "name",
	"spec.plan": "plan", "spec.members": "members", "spec.scopes": "scopes", "spec.expiresAt": "expires_at",
	"spec.allowedOrigins": "allowed_origins", "spec.url": "url", "spec.events": "events", "spec.enabled": "enabled",
	"spec": "body",
}

func invalidToValidation(st metav1.Status) *envelope.Error {
	var details []envelope.FieldError
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			// "some validation rules were not checked because the object was invalid" names
			// no field: the others say what to fix.
			if c.Field == "" || c.Field == "<nil>" {
				continue
			}
			field := c.Field
			if i := strings.IndexByte(field, '['); i > 0 {
				field = field[:i]
			}
			if mapped, ok := restFields[field]; ok {
				field = mapped
			}
			details = append(details, envelope.FieldError{Field: field, Message: c.Message})
		}
	}
	if len(details) == 0 {
		details = append(details, envelope.FieldError{Field: "body", Message: st.Message})
	}
	return envelope.Validation(details...)
}
