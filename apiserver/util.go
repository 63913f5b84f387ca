package apiserver

import (
	"strconv"

	"k8s.io/apimachinery/pkg/types"
)

func itoa(i int) string { return strconv.Itoa(i) }

func ptrUID(obj interface{ GetUID() types.UID }) *types.UID {
	uid := obj.GetUID()
	return &uid
}
