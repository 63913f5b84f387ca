package authn

import (
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// UsageRecorder writes APIKey status.lastUsedAt in the background, at most once a minute
// per key, so authentication never waits on the Kubernetes API.
type UsageRecorder struct {
	client  client.Client
	log     logr.Logger
	minutes sync.Map // key UID -> last recorded minute (int64)
	queue   chan touch
}

type touch struct {
	key     client.ObjectKey
	uid     string
	at      time.Time
	created time.Time
}

// NewUsageRecorder returns a recorder; Run must be running for writes to happen.
func NewUsageRecorder(c client.Client, log logr.Logger) *UsageRecorder {
	return &UsageRecorder{client: c, log: log, queue: make(chan touch, 1024)}
}

// Touch notes that a key was used. It costs a map read unless a new minute began, and
// drops the note rather than block when the writer is behind.
func (u *UsageRecorder) Touch(k *qualv1alpha1.APIKey, now time.Time) {
	minute := now.Unix() / 60
	if last, ok := u.minutes.Load(string(k.UID)); ok && last.(int64) == minute {
		return
	}
	u.minutes.Store(string(k.UID), minute)
	select {
	case u.queue <- touch{key: client.ObjectKeyFromObject(k), uid: string(k.UID), at: now, created: k.CreationTimestamp.Time}:
	default:
	}
}

// Run writes queued notes until ctx ends.
func (u *UsageRecorder) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-u.queue:
			u.write(ctx, t)
		}
	}
}

func (u *UsageRecorder) write(ctx context.Context, t touch) {
	// The minute, so that replicas noting the same minute write the same value, but never
	// before the key was made: a key made and used within a minute was not used before then.
	at := metav1.NewTime(latest(t.at.Truncate(time.Minute), t.created))
	raw, _ := at.MarshalJSON() // a time always marshals
	patch := []byte(`{"status":{"lastUsedAt":` + string(raw) + `}}`)
	key := &qualv1alpha1.APIKey{}
	key.Namespace, key.Name, key.UID = t.key.Namespace, t.key.Name, types.UID(t.uid)
	if err := u.client.Status().Patch(ctx, key, client.RawPatch(types.MergePatchType, patch)); err != nil {
		u.log.Error(err, "record key use", "key", t.key)
	}
}

func latest(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}
