package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qual.cx/operator/internal/delivery"
)

// TestDispatcherRefusesARescueSoonerThanARunEnds: `qual dispatcher` refuses at start-up a
// --rescue-after that could rescue a delivery beside the run that took it, naming the flag,
// before it reaches for the Kubernetes API or the store; the shortest safe value and the
// default start.
func TestDispatcherRefusesARescueSoonerThanARunEnds(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-kubeconfig")
	for d, refused := range map[time.Duration]bool{
		0:                true,
		30 * time.Second: true,
		delivery.MinRescueAfter - time.Millisecond: true,
		delivery.MinRescueAfter:                    false,
		delivery.DefaultRescueAfter:                false,
	} {
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs([]string{"dispatcher", "--kubeconfig", missing, "--store", filepath.Join(t.TempDir(), "qual.db"),
			"--rescue-after", d.String()})
		err := root.ExecuteContext(context.Background())
		switch {
		case err == nil:
			t.Errorf("--rescue-after %v: the dispatcher ran without a kubeconfig", d)
		case refused && !strings.Contains(err.Error(), "--rescue-after must be at least "+delivery.MinRescueAfter.String()):
			t.Errorf("--rescue-after %v: want a refusal naming the flag and its floor, got %v", d, err)
		case !refused && !strings.Contains(err.Error(), "load kubeconfig"):
			t.Errorf("--rescue-after %v: want it accepted (and the start to stop at the missing kubeconfig), got %v", d, err)
		}
	}
}

// TestDispatcherRefusesAnAttemptAsLongAsARun: `qual dispatcher` refuses at start-up a
// --webhook-attempt-timeout at or above the bound a delivery's run is cut off at (it could
// never be honoured), or none, naming the flag and the bound, before it reaches for the
// Kubernetes API or the store; just below the bound and the default start.
func TestDispatcherRefusesAnAttemptAsLongAsARun(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-kubeconfig")
	for d, refused := range map[time.Duration]bool{
		0:                          true,
		-time.Second:               true,
		delivery.MaxAttemptTimeout: true,
		time.Minute:                true,
		delivery.MaxAttemptTimeout - time.Millisecond: false,
		10 * time.Second: false,
	} {
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs([]string{"dispatcher", "--kubeconfig", missing, "--store", filepath.Join(t.TempDir(), "qual.db"),
			"--webhook-attempt-timeout", d.String()})
		err := root.ExecuteContext(context.Background())
		switch {
		case err == nil:
			t.Errorf("--webhook-attempt-timeout %v: the dispatcher ran without a kubeconfig", d)
		case refused && !strings.Contains(err.Error(), "--webhook-attempt-timeout must be positive and below "+delivery.MaxAttemptTimeout.String()):
			t.Errorf("--webhook-attempt-timeout %v: want a refusal naming the flag and its bound, got %v", d, err)
		case !refused && !strings.Contains(err.Error(), "load kubeconfig"):
			t.Errorf("--webhook-attempt-timeout %v: want it accepted (and the start to stop at the missing kubeconfig), got %v", d, err)
		}
	}
}
