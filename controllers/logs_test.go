package controllers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
)

// TestControllersLogTransitionsAndStalls checks the controllers log through the request's
// logger (its lines carry the reconcile ID), not only through Events, which the manager's
// event recorder also logs.
func TestControllersLogTransitionsAndStalls(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("logged"), member("o@logged.example", qualv1alpha1.RoleOwner)))
	managerLogs.expect(t, "reconcileID", "created namespace "+team.Status.Namespace, "NamespaceCreated", team.Name)

	taken := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("taken")}}
	if err := k8s.Create(ctx, taken); err != nil {
		t.Fatal(err)
	}
	thief := newTeam(uniqueName("stalls"), member("o@stalls.example", qualv1alpha1.RoleOwner))
	thief.Spec.Namespace = taken.Name
	if err := k8s.Create(ctx, thief); err != nil {
		t.Fatal(err)
	}
	managerLogs.expect(t, "reconcileID", "namespace "+taken.Name+" exists and is not labelled", "NamespaceConflict", thief.Name)
}

// capturedLogs are log lines, each the logger's name, the message and every key and value.
type capturedLogs struct {
	mu    sync.Mutex
	lines []string
}

func (l *capturedLogs) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

// expect waits for a line holding every part.
func (l *capturedLogs) expect(t *testing.T, parts ...string) {
	t.Helper()
	eventually(t, "log line with "+strings.Join(parts, ", "), func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, line := range l.lines {
			if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
				return nil
			}
		}
		return fmt.Errorf("none of %d lines", len(l.lines))
	})
}

// matching returns the lines holding every part.
func (l *capturedLogs) matching(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []string
	for _, line := range l.lines {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			found = append(found, line)
		}
	}
	return found
}

// captureSink records the lines of V(1) and below into logs.
type captureSink struct {
	logs   *capturedLogs
	name   string
	values []any
}

func (s captureSink) Init(logr.RuntimeInfo)  {}
func (s captureSink) Enabled(level int) bool { return level <= 1 }
func (s captureSink) Info(_ int, msg string, kv ...any) {
	s.logs.add(fmt.Sprintf("%s %q %v", s.name, msg, append(slices.Clone(s.values), kv...)))
}

func (s captureSink) Error(err error, msg string, kv ...any) {
	s.Info(0, msg, append(kv, "error", err)...)
}

func (s captureSink) WithValues(kv ...any) logr.LogSink {
	s.values = append(slices.Clone(s.values), kv...)
	return s
}

func (s captureSink) WithName(name string) logr.LogSink {
	s.name = strings.TrimPrefix(s.name+"/"+name, "/")
	return s
}

// teeSink sends every line to each of its sinks that logs at that level.
type teeSink []logr.LogSink

func (t teeSink) Init(info logr.RuntimeInfo) {
	for _, s := range t {
		s.Init(info)
	}
}

func (t teeSink) Enabled(level int) bool {
	return slices.ContainsFunc(t, func(s logr.LogSink) bool { return s.Enabled(level) })
}

func (t teeSink) Info(level int, msg string, kv ...any) {
	for _, s := range t {
		if s.Enabled(level) {
			s.Info(level, msg, kv...)
		}
	}
}

func (t teeSink) Error(err error, msg string, kv ...any) {
	for _, s := range t {
		s.Error(err, msg, kv...)
	}
}

func (t teeSink) WithValues(kv ...any) logr.LogSink {
	out := make(teeSink, len(t))
	for i, s := range t {
		out[i] = s.WithValues(kv...)
	}
	return out
}

func (t teeSink) WithName(name string) logr.LogSink {
	out := make(teeSink, len(t))
	for i, s := range t {
		out[i] = s.WithName(name)
	}
	return out
}

// Deleting a team stalls everything in its namespace (NoTeam) one last time, and the Events
// of those stalls reach the API server once the namespace terminates. Kubernetes refuses them,
// and the recorder logs each refusal as an error: the controllers record none in a namespace
// whose Team is going, so an ordinary deletion logs no error.
func TestTeamDeletionRecordsNoRefusedEvents(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("farewell")
	team := readyTeam(t, newTeam(name, member("o@farewell.example", qualv1alpha1.RoleOwner)))
	h := createHomeless(t, team.Status.Namespace)
	h.waitReady(t)
	if err := k8s.Delete(ctx, team); err != nil {
		t.Fatal(err)
	}
	eventually(t, "team gone", func() error { return gone(ctx, team) })
	waitKey(t, h.key, metav1.ConditionFalse, controllers.ReasonNoTeam)
	waitCampaign(t, h.cmp, metav1.ConditionFalse, controllers.ReasonNoTeam)
	waitWebhook(t, h.wh, metav1.ConditionFalse, controllers.ReasonNoTeam)
	// The refusals are logged by the broadcaster, after the reconcile: give it time to send.
	time.Sleep(2 * time.Second)
	if refused := managerLogs.matching("Server rejected event", team.Status.Namespace); len(refused) > 0 {
		t.Fatalf("%d Events refused in the terminating namespace, first: %s", len(refused), refused[0])
	}
	managerLogs.expect(t, "event not recorded: its namespace is being deleted", team.Status.Namespace, controllers.ReasonNoTeam)
}
