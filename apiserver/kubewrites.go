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
// client has often given up; a write already waiting then is released with the same 503.
// Reads pass through: they are served from the cache anyway.
type kubeWrites struct {
	client.Client
	kube *reachability
}

// outagePoll is how often a write in flight looks whether an outage has settled meanwhile.
const outagePoll = 100 * time.Millisecond

// refuse is the error of a write made during a settled outage, or nil.
func (c kubeWrites) refuse() error {
	since, down := c.kube.down()
	if !down || time.Since(since) < outageSettled {
		return nil
	}
	return apierrors.NewServiceUnavailable(fmt.Sprintf("the Kubernetes API has been unreachable since %s", since.UTC().Format(time.RFC3339)))
}

// guarded makes write unless an outage has settled, and releases it with the same 503 if one
// settles while it waits: a write sent just as the API hangs would otherwise wait until
// client-go declares the connection lost (about 45 s), long after later writes are refused.
// A slow write to an API that still answers its probe is never cut short. A write released
// this way may still land if the API resumes and reads it; the 503 says it is not known to
// be done, as a timeout does, and an Idempotency-Key makes the retry safe.
func (c kubeWrites) guarded(ctx context.Context, write func(context.Context) error) error {
	if err := c.refuse(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go c.releaseOnOutage(ctx, cancel)
	err := write(ctx)
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); apierrors.IsServiceUnavailable(cause) {
		return cause
	}
	return err
}

// releaseOnOutage cancels a write in flight with the refusal once an outage has settled; it
// returns when the write's context ends.
func (c kubeWrites) releaseOnOutage(ctx context.Context, cancel context.CancelCauseFunc) {
	t := time.NewTicker(outagePoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.refuse(); err != nil {
				cancel(err)
				return
			}
		}
	}
}

func (c kubeWrites) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	return c.guarded(ctx, func(ctx context.Context) error { return c.Client.Create(ctx, obj, opts...) })
}

func (c kubeWrites) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	return c.guarded(ctx, func(ctx context.Context) error { return c.Client.Update(ctx, obj, opts...) })
}

func (c kubeWrites) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	return c.guarded(ctx, func(ctx context.Context) error { return c.Client.Patch(ctx, obj, patch, opts...) })
}

func (c kubeWrites) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	return c.guarded(ctx, func(ctx context.Context) error { return c.Client.Apply(ctx, obj, opts...) })
}

func (c kubeWrites) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	return c.guarded(ctx, func(ctx context.Context) error { return c.Client.Delete(ctx, obj, opts...) })
}
