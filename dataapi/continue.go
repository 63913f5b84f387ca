package dataapi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"qual.cx/operator/apiserver/cursor"
	"qual.cx/operator/internal/store"
)

// position is where a list continues: a namespace and, in it, the store position after
// which the next item comes (nil: the namespace's first item).
type position struct {
	namespace string
	after     *store.Position
}

// tokens makes continue tokens: the REST API's signed cursors, bound to the resource, the
// request's namespace (or all of them) and its filters, so a token replayed against another
// query, or edited, is refused with 400, as a token the server cannot honour should be.
type tokens struct {
	codec *cursor.Codec
}

// binding is the canonical query a token belongs to.
func binding(resource, namespace string, q query) string {
	if namespace == "" {
		namespace = "*"
	}
	return cursor.Binding("data.qual.cx/"+resource+" "+strconv.Quote(namespace), "", q.filters())
}

// encode returns the token of a position for a sort key.
func (t tokens) encode(p position, sort store.SortKey, bind string) string {
	cp := cursor.Position{SortBy: string(sort), ID: p.namespace + "/"}
	if p.after != nil {
		cp.ID += p.after.ID
		switch sort {
		case store.SortSequence:
			cp.Value = strconv.FormatInt(p.after.Sequence, 10)
		default:
			cp.Value = p.after.Time.UTC().Format(time.RFC3339Nano)
		}
	}
	return t.codec.Encode(cp, bind)
}

// decode reads a token back; an empty one is the start of the list.
func (t tokens) decode(token string, sort store.SortKey, bind string) (position, error) {
	if token == "" {
		return position{}, nil
	}
	cp, err := t.codec.Decode(token, string(sort), bind)
	if err != nil {
		return position{}, badContinue(err)
	}
	ns, id, ok := strings.Cut(cp.ID, "/")
	if !ok || ns == "" {
		return position{}, badContinue(errors.New("no namespace"))
	}
	p := position{namespace: ns}
	if id == "" {
		return p, nil
	}
	after := store.Position{ID: id}
	switch sort {
	case store.SortSequence:
		after.Sequence, err = strconv.ParseInt(cp.Value, 10, 64)
	default:
		after.Time, err = time.Parse(time.RFC3339Nano, cp.Value)
	}
	if err != nil {
		return position{}, badContinue(err)
	}
	p.after = &after
	return p, nil
}

func badContinue(err error) error {
	return apierrors.NewBadRequest(fmt.Sprintf("continue token: not from this list query (%v): start the list again", err))
}
