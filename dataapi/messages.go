package dataapi

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	"qual.cx/operator/internal/store"
)

// messageStorage serves one interview's messages, by sequence: the store keeps them per
// interview, so a list must select one (spec.interview=<name>), and a message's name,
// "<interview>-<sequence>", finds it with one keyset read.
type messageStorage = storage[store.Message, datav1alpha1.Message, *datav1alpha1.Message]

// contentCells is how much of a message the table shows.
const contentCells = 60

func messageKind() kind[store.Message, datav1alpha1.Message, *datav1alpha1.Message] {
	return kind[store.Message, datav1alpha1.Message, *datav1alpha1.Message]{
		info: resourceInfo{resource: "messages", singular: "message", kind: "Message", shortNames: []string{"qmsg"}, perParent: true,
			fields: []string{datav1alpha1.FieldInterview}},
		sort:    store.SortSequence,
		require: requireMessageQuery,
		get:     getMessage,
		page: func(ctx context.Context, ts store.TeamStore, f filter, p store.PageRequest) (store.Page[store.Message], error) {
			return ts.ListMessages(ctx, store.InterviewID(f.interview), p)
		},
		object: func(m store.Message, ns string, _ map[store.CampaignID]string) datav1alpha1.Message {
			return messageObject(m, ns)
		},
		list: func(items []datav1alpha1.Message, cont string) runtime.Object {
			return &datav1alpha1.MessageList{ListMeta: metav1.ListMeta{Continue: cont}, Items: items}
		},
		table: tableSpec[datav1alpha1.Message]{
			columns: []metav1.TableColumnDefinition{
				nameColumn(),
				column("Interview", "string", "The interview's name."),
				column("Seq", "integer", "The message's place in the interview."),
				column("Role", "string", "interviewer or participant."),
				column("Content", "string", "The start of the message."),
				ageColumn(),
			},
			cells: func(m *datav1alpha1.Message) []any {
				return []any{m.Name, m.Spec.Interview, m.Spec.Sequence, m.Spec.Role, truncate(m.Spec.Content, contentCells), age(m.CreationTimestamp)}
			},
		},
	}
}

// requireMessageQuery refuses a list across interviews, which no store index serves.
func requireMessageQuery(q query) error {
	if q.interview == "" && q.name == "" {
		return apierrors.NewBadRequest("messages are listed per interview: add --field-selector " + datav1alpha1.FieldInterview + "=<interview>")
	}
	return nil
}

// getMessage reads the message a name points at: the one after sequence-1 of its interview.
// Other spellings of the sequence ("-02", "-+2") parse too; storage.getIn refuses them.
func getMessage(ctx context.Context, ts store.TeamStore, name string) (store.Message, error) {
	i := strings.LastIndexByte(name, '-')
	seq, err := strconv.ParseInt(name[i+1:], 10, 64)
	if i < 1 || err != nil || seq < 1 {
		return store.Message{}, fmt.Errorf("message name %q: want <interview>-<sequence>: %w", name, store.ErrNotFound)
	}
	page, err := ts.ListMessages(ctx, store.InterviewID(name[:i]),
		store.PageRequest{Limit: 1, Order: store.Asc, After: &store.Position{Sequence: seq - 1}, SkipTotal: true})
	if err != nil {
		return store.Message{}, err
	}
	if len(page.Items) == 0 || page.Items[0].Sequence != seq {
		return store.Message{}, store.ErrNotFound
	}
	return page.Items[0], nil
}

// messageObject renders a message; messages never change, so created_at is its version.
func messageObject(m store.Message, ns string) datav1alpha1.Message {
	name := string(m.InterviewID) + "-" + strconv.FormatInt(m.Sequence, 10)
	meta := objectMeta(name, ns, m.CreatedAt, m.CreatedAt)
	meta.UID = types.UID(m.ID)
	return datav1alpha1.Message{
		TypeMeta:   metav1.TypeMeta{APIVersion: datav1alpha1.SchemeGroupVersion.String(), Kind: "Message"},
		ObjectMeta: meta,
		Spec: datav1alpha1.MessageSpec{Interview: string(m.InterviewID), ID: string(m.ID), Role: string(m.Role),
			Sequence: m.Sequence, Content: m.Content},
	}
}

// truncate shortens s to n runes with an ellipsis, on one line.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
