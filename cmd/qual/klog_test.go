package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// TestClientFaultsAreNotServerErrors: the server library's report of a malformed
// selector reaches the log as a debug line, not an error; other errors stay errors, also
// through loggers derived with names and values.
func TestClientFaultsAreNotServerErrors(t *testing.T) {
	var lines []string
	sink := funcr.NewJSON(func(obj string) { lines = append(lines, obj) }, funcr.Options{Verbosity: 1}).GetSink()
	log := logr.New(clientFaults{sink}).WithName("klog").WithValues("component", "aggregated")

	log.Error(errors.New(`unable to parse requirement: found '(', expected: ','`), "Couldn't parse request",
		"request", map[string][]string{"labelSelector": {"foo in (a"}})
	log.Error(errors.New("etcd is gone"), "Unable to list")

	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %q", len(lines), lines)
	}
	if !strings.Contains(lines[0], `"level":1`) || strings.Contains(lines[0], `"error":null`) ||
		!strings.Contains(lines[0], `"error":"unable to parse requirement`) {
		t.Errorf("a client's malformed selector: %s, want a V(1) info line naming the parse error", lines[0])
	}
	if !strings.Contains(lines[1], `"error":"etcd is gone"`) || strings.Contains(lines[1], `"level":1`) {
		t.Errorf("a server fault: %s, want an error line", lines[1])
	}
}
