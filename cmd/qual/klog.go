package main

import "github.com/go-logr/logr"

// clientRequestFaults are messages k8s.io/apiserver logs as errors about a request the
// client got wrong, which the client is also told in its 400: a malformed label or field
// selector is "Couldn't parse request". At error level, with the stack trace the
// production logger adds to errors, each would page an operator for someone else's typo.
var clientRequestFaults = map[string]bool{"Couldn't parse request": true}

// clientFaults is a log sink that writes clientRequestFaults as debug lines (V(1)) and
// everything else as it comes.
type clientFaults struct{ logr.LogSink }

// Init counts this wrapper's frame, so the caller reported is still the library's.
func (c clientFaults) Init(info logr.RuntimeInfo) {
	info.CallDepth++
	c.LogSink.Init(info)
}

func (c clientFaults) Error(err error, msg string, kv ...any) {
	if !clientRequestFaults[msg] {
		c.LogSink.Error(err, msg, kv...)
		return
	}
	if c.Enabled(1) {
		c.Info(1, msg, append(kv, "error", err.Error())...)
	}
}

func (c clientFaults) WithValues(kv ...any) logr.LogSink {
	return clientFaults{c.LogSink.WithValues(kv...)}
}

func (c clientFaults) WithName(name string) logr.LogSink {
	return clientFaults{c.LogSink.WithName(name)}
}
