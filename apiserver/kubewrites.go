package apiserver

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// outageSettled is how long the probe must have found the Kubernetes API unreachable before
// writes are refused without trying: two probes, so one slow /readyz under load refuses
// nothing.
const outageSettled = 2 * time.Second

// kubeWrites is the client the REST API writes through. While the Kubernetes API is known to
// be down, a write is refused at once with 503 and Retry-After, rather than each request
// waiting out the client's timeouts (10 to 42 s) for an answer that will not come, when a
// client has often given up. Reads pass through: they are served from the cache anyway.
type kubeWrites struct {
	client.Client
	kube *reachability
}

// refuse is the error of a write made during a settled outage, or nil.
func (c kubeWrites) refuse() error {
	since, down := c.kube.down()
	if !down || time.Since(since) < outageSettled {
		return nil
	}
	return apierrors.NewServiceUnavailable(fmt.Sprintf("the Kubernetes API has been unreachable since %s", since.UTC().Format(time.RFC3339)))
}

func (c kubeWrites) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if err := c.refuse(); err != nil {
		return err
	}
	return c.Client.Create(ctx, obj, opts...)
}

func (c kubeWrites) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	if err := c.refuse(); err != nil {
		return err
	}
	return c.Client.Update(ctx, obj, opts...)
}

func (c kubeWrites) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if err := c.refuse(); err != nil {
		return err
	}
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c kubeWrites) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	if err := c.refuse(); err != nil {
		return err
	}
	return c.Client.Apply(ctx, obj, opts...)
}

func (c kubeWrites) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	if err := c.refuse(); err != nil {
		return err
	}
	return c.Client.Delete(ctx, obj, opts...)
}
