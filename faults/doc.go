// Package faults holds the fault suites: the real dependencies under a running stack (the
// kube-apiserver, PostgreSQL, Redis, the manager) are stopped and started again under REST
// traffic, and the suites check that the API answers honestly while they are down, recovers
// by itself, and loses no write it reported as done. Each suite runs its own control plane,
// so stopping it disturbs no other package's tests.
package faults
