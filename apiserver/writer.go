package apiserver

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
)

// FieldManager is the field manager of every REST write, so kubectl and REST changes to one
// object both survive and `kubectl get -o yaml --show-managed-fields` tells them apart.
const FieldManager = qualv1alpha1.APIServerFieldManager

// writer performs the REST API's writes through the Kubernetes API.
type writer struct {
	c client.Client
}

func (s *Server) writer() writer { return writer{c: s.cfg.Client} }

// await waits, bounded, until the directory holds the write (rv) or the deletion (rv empty).
func (s *Server) await(r *http.Request, uid, rv string) error {
	return s.awaitCtx(r.Context(), uid, rv)
}

// awaitRead waits until the directory holds a write, then reads the object back with get.
// An object gone by then was deleted by a concurrent request.
func awaitRead[T any](s *Server, r *http.Request, uid, rv string, get func(string) (T, bool)) (T, error) {
	var zero T
	if err := s.await(r, uid, rv); err != nil {
		return zero, err
	}
	v, ok := get(uid)
	if !ok {
		return zero, envelope.New(envelope.CodeConflict, "The object was deleted by a concurrent request")
	}
	return v, nil
}

// awaitCtx is await for work that is not a request's own.
func (s *Server) awaitCtx(ctx context.Context, uid, rv string) error {
	ctx, cancel := context.WithTimeout(ctx, directory.WaitTimeout)
	defer cancel()
	if err := s.dir.WaitFor(ctx, uid, rv); err != nil {
		return envelope.Unavailable("The Kubernetes API", 5*time.Second)
	}
	return nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slugBase is the kebab-case form of a title: characters outside [a-z0-9] become dashes.
func slugBase(title string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(title), "-"), "-")
	if len(s) > 200 {
		s = strings.TrimRight(s[:200], "-")
	}
	if s == "" {
		return "campaign"
	}
	return s
}

// createCampaign creates a campaign named by its slug, `-2`, `-3`… on a collision.
func (w writer) createCampaign(ctx context.Context, ns string, spec qualv1alpha1.CampaignSpec, now time.Time) (*qualv1alpha1.Campaign, error) {
	base := slugBase(spec.Title) + "-" + strconv.FormatInt(now.Unix(), 10)
	for n := 1; n <= 50; n++ {
		name := base
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		obj := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
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

// applyCampaign writes the campaign's REST-owned fields by server-side apply and returns the
// resourceVersion written. It always sends every field REST owns: apply removes fields a
// manager stops sending.
func (w writer) applyCampaign(ctx context.Context, current *qualv1alpha1.Campaign, spec qualv1alpha1.CampaignSpec) (string, error) {
	questions := make([]any, len(spec.Questions))
	for i, q := range spec.Questions {
		questions[i] = q
	}
	settings := map[string]any{"anonymous": spec.Settings.Anonymous}
	if spec.Settings.Language != "" {
		settings["language"] = spec.Settings.Language
	}
	u := applyObject(current, "Campaign", map[string]any{
		"title": spec.Title, "objectives": spec.Objectives, "description": spec.Description,
		"mode": string(spec.Mode), "maxQuestions": int64(spec.MaxQuestions), "questions": questions,
		"settings": settings,
		"state":    string(spec.State),
	})
	if err := w.apply(ctx, u); err != nil {
		return "", err
	}
	return u.GetResourceVersion(), nil
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
// the REST field, conflicts are 409, a gone object is 404; anything else is passed up.
func kubeError(err error) error {
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

// restFields maps schema paths to the REST fields they come from.
var restFields = map[string]string{
	"spec.title": "title", "spec.objectives": "objectives", "spec.description": "description",
	"spec.mode": "campaign_mode", "spec.maxQuestions": "max_questions", "spec.questions": "questions",
	"spec.settings.language": "settings.language", "spec.state": "status", "spec.displayName": "name",
	"spec.plan": "plan", "spec.members": "members", "spec.scopes": "scopes", "spec.expiresAt": "expires_at",
	"spec.allowedOrigins": "allowed_origins", "spec": "body",
}

func invalidToValidation(st metav1.Status) *envelope.Error {
	var details []envelope.FieldError
	if st.Details != nil {
		for _, c := range st.Details.Causes {
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
