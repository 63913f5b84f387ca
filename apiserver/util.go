package apiserver

import "k8s.io/apimachinery/pkg/types"

// ptrUID is the UID precondition of a write to obj: it never touches a namesake created since.
func ptrUID(obj interface{ GetUID() types.UID }) *types.UID {
	uid := obj.GetUID()
	return &uid
}
