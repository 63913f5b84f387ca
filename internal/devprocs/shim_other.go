//go:build !linux

package devprocs

// ShimSupported reports whether WriteShim's scripts tie a child to its parent's life here.
const ShimSupported = false

// RunShim does nothing where the parent-death signal does not exist.
func RunShim() {}
