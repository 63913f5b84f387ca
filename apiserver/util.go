package apiserver

import (
	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/types"
)

// ptrUID is the UID precondition of a write to obj: it never touches a namesake created since.
func ptrUID(obj interface{ GetUID() types.UID }) *types.UID {
	uid := obj.GetUID()
	return &uid
}

// isUUID reports whether s is an id as the API writes them: a UUID in its canonical form.
func isUUID(s string) bool {
	return len(s) == 36 && uuid.Validate(s) == nil
}
