package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/riverqueue/river"
)

// The job kinds of every queue in the store's database. River elects one leader among all
// the clients of a database (every queue, every process), and the leader rescues the stuck
// jobs of every queue; a stuck job whose kind its own client has no worker for is discarded
// ("Attempted to rescue unhandled job kind"). So each client registers a stand-in worker for
// the kinds of the other queues: the leader then puts their stuck jobs back to be retried by
// the clients that work them, whichever queue it works itself.
const (
	KindAnalysis = "qual_analysis"
	KindDelivery = "qual_webhook_delivery"
)

// kinds are the stand-ins, one per kind.
var kinds = map[string]func(*river.Workers){
	KindAnalysis: func(w *river.Workers) { river.AddWorker(w, standIn[analysisKind]{}) },
	KindDelivery: func(w *river.Workers) { river.AddWorker(w, standIn[deliveryKind]{}) },
}

// registerStandIns adds a stand-in for every kind but own, which must be one of them.
func registerStandIns(w *river.Workers, own string) error {
	if kinds[own] == nil {
		return fmt.Errorf("jobs: unknown job kind %q: add it to the kinds every client registers", own)
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range kinds {
			if !yield(k) {
				return
			}
		}
	}) {
		if k != own {
			kinds[k](w)
		}
	}
	return nil
}

// kindName names a stand-in's kind; each kind is a type of its own, as River registers
// workers by type.
type kindName interface{ name() string }

type analysisKind struct{}

func (analysisKind) name() string { return KindAnalysis }

type deliveryKind struct{}

func (deliveryKind) name() string { return KindDelivery }

// standInArgs decode any job of their kind: the rescuer reads nothing of them.
type standInArgs[K kindName] struct{}

func (standInArgs[K]) Kind() string {
	var k K
	return k.name()
}

// standIn is registered, never run: its client does not work the kind's queue. The rescuer
// asks it for a stuck job's Timeout, the job's own rescue bound.
type standIn[K kindName] struct {
	WorkerDefaults[standInArgs[K]]
}

// errStandIn would be a job of another queue reaching this client's workers.
var errStandIn = errors.New("jobs: this client does not work this kind; its own queue's client does")

func (standIn[K]) Work(context.Context, *river.Job[standInArgs[K]]) error { return errStandIn }
