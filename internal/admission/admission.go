// Package admission installs the admission policies of config/admission into a cluster and
// waits until the API server enforces them. `qual dev` and the envtest suites use it; a
// cluster gets the same policies from `kubectl apply -k config/default`.
package admission

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/config/admission"
	qpoll "qual.cx/operator/internal/poll"
)

// Install creates or updates every embedded policy and binding by server-side apply, so it
// can run again on a cluster that has them (a resumed `qual dev`).
func Install(ctx context.Context, c client.Client, fieldOwner string) error {
	objs, err := admission.Policies()
	if err != nil {
		return err
	}
	for _, obj := range objs {
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return fmt.Errorf("convert %s: %w", obj.GetName(), err)
		}
		u := &unstructured.Unstructured{Object: raw}
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("install %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}

// probeName is the APIKey WaitEnforced creates, and deletes, to see the update policy work.
const probeName = "qual-admission-probe"

// WaitEnforced returns once the API server enforces every policy, probing with requests the
// policies must refuse or mutate, or an error when ctx ends first. The API server loads new
// policies asynchronously, so a write right after Install may otherwise slip through.
// namespace must exist and be one where admin:read is refused (any but qual-system); the
// probe leaves nothing behind there.
func WaitEnforced(ctx context.Context, c client.Client, namespace string) error {
	if namespace == qualv1alpha1.SystemNamespace {
		return fmt.Errorf("probe namespace must not be %s, where admin:read is allowed", namespace)
	}
	probe := func() *qualv1alpha1.APIKey {
		return &qualv1alpha1.APIKey{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: probeName},
			Spec:       qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeyScoped, Scopes: []qualv1alpha1.Scope{"campaigns:read"}},
		}
	}
	// 1. A key holding admin:read outside qual-system is refused.
	err := poll(ctx, "the admin:read policy", func() error {
		key := probe()
		key.Spec.Scopes = append(key.Spec.Scopes, "admin:read")
		return refused(c.Create(ctx, key, client.DryRunAll), "qual-apikey-admin-scope")
	})
	if err != nil {
		return err
	}
	// 2. A created key is annotated with its creator.
	err = poll(ctx, "the created-by mutation", func() error {
		key := probe()
		if err := c.Create(ctx, key, client.DryRunAll); err != nil {
			return err
		}
		if key.Annotations[qualv1alpha1.AnnotationCreatedBy] == "" {
			return errors.New("the created key has no " + qualv1alpha1.AnnotationCreatedBy + " annotation")
		}
		return nil
	})
	if err != nil {
		return err
	}
	// 3. A minted-by link is the REST API's alone; this client (a cluster admin's, as the
	// REST API in `qual dev`) may write one, but only a key's UID. An idempotency claim
	// likewise, and only a claim's hash: a repeated create answers the object holding it, and
	// a repeated rotation mints the successor of the key its claim revoked.
	for annotation, policy := range map[string]string{
		qualv1alpha1.AnnotationMintedBy:         "qual-apikey-minted-by",
		qualv1alpha1.AnnotationIdempotencyClaim: "qual-idempotency-claim",
		qualv1alpha1.AnnotationRevokedByClaim:   "qual-apikey-revoked-by-claim",
	} {
		err = poll(ctx, "the "+policy+" policy", func() error {
			key := probe()
			key.Annotations = map[string]string{annotation: "not-a-key"}
			return refused(c.Create(ctx, key, client.DryRunAll), policy)
		})
		if err != nil {
			return err
		}
	}
	// And a member add's record on a Team, only as a claims record: a repeated add answers the
	// member its own claim added as done. A dry run, so no Team (and no namespace) is made.
	err = poll(ctx, "the qual-team-member-claims policy", func() error {
		team := &qualv1alpha1.Team{
			ObjectMeta: metav1.ObjectMeta{Name: probeName, Annotations: map[string]string{qualv1alpha1.AnnotationMemberClaims: "not-a-record"}},
			Spec:       qualv1alpha1.TeamSpec{DisplayName: "Admission probe"},
		}
		return refused(c.Create(ctx, team, client.DryRunAll), "qual-team-member-claims")
	})
	if err != nil {
		return err
	}
	// 4. The annotation cannot be changed: this needs a real object to update.
	key := probe()
	err = c.Create(ctx, key)
	if apierrors.IsAlreadyExists(err) {
		err = c.Get(ctx, client.ObjectKeyFromObject(key), key)
	}
	if err != nil {
		return fmt.Errorf("create the probe key: %w", err)
	}
	defer func() {
		// Deleted even when ctx has ended, so the probe does not outlive a failed wait.
		_ = c.Delete(context.WithoutCancel(ctx), key)
	}()
	return poll(ctx, "the created-by immutability policy", func() error {
		changed := key.DeepCopy()
		changed.SetAnnotations(map[string]string{qualv1alpha1.AnnotationCreatedBy: key.Annotations[qualv1alpha1.AnnotationCreatedBy] + "-forged"})
		return refused(c.Update(ctx, changed, client.DryRunAll), "qual-apikey-created-by-immutable")
	})
}

// refused is nil when err is the named policy's denial.
func refused(err error, policy string) error {
	switch {
	case err == nil:
		return fmt.Errorf("%s does not refuse yet", policy)
	case strings.Contains(err.Error(), policy):
		return nil
	}
	return err
}

// poll runs check every 100 ms until the policy it proves is enforced, or ctx ends.
func poll(ctx context.Context, what string, check func() error) error {
	return qpoll.Until(ctx, 100*time.Millisecond, what+" to be enforced", check)
}
