// Package poll waits for a condition that converges asynchronously (a cache, a controller,
// an admission policy taking effect), saying what it waited for and the last reason it was
// not yet true.
package poll

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Until runs check now and then every interval until it returns nil or ctx ends; then it
// returns an error naming what and check's last error.
func Until(ctx context.Context, interval time.Duration, what string, check func() error) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, interval, true, func(context.Context) (bool, error) {
		last = check()
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("wait for %s: %w (last: %w)", what, err, last)
	}
	return nil
}
