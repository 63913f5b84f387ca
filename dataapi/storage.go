package dataapi

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	"qual.cx/operator/internal/store"
)

// resourceInfo is what discovery says about a resource.
type resourceInfo struct {
	resource, singular, kind string
	shortNames               []string
	// fields are the field labels a list may select by, beside metadata.name.
	fields []string
	// perParent says a list needs a field selector naming its parent (messages, per
	// interview): such a resource stays out of the qual category, or `kubectl get qual`
	// would end in its refusal.
	perParent bool
}

// qualCategory puts the resources in `kubectl get qual`, beside the qual.cx CRDs.
var qualCategory = []string{"qual"}

// filter is a query resolved in one namespace: a Campaign name became its UID.
type filter struct {
	query
	campaign store.CampaignID
}

// kind is one resource: how its rows are read from the store and rendered. R is the store
// row, O the API object and P its pointer, the runtime.Object.
type kind[R any, O any, P interface {
	*O
	runtime.Object
}] struct {
	info resourceInfo
	sort store.SortKey
	// require refuses a list the store cannot serve cheaply (messages need an interview).
	require func(query) error
	get     func(ctx context.Context, ts store.TeamStore, name string) (R, error)
	page    func(ctx context.Context, ts store.TeamStore, f filter, p store.PageRequest) (store.Page[R], error)
	object  func(r R, ns string, campaigns map[store.CampaignID]string) O
	list    func(items []O, cont string) runtime.Object
	table   tableSpec[O]
}

// storage serves one kind read-only from the store: get, list and table output. It holds
// no state of its own, so every replica answers alike.
type storage[R any, O any, P interface {
	*O
	runtime.Object
}] struct {
	kind[R, O, P]
	store  store.Store
	dir    directory
	tokens tokens
}

var (
	_ rest.Storage              = (*storage[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview])(nil)
	_ rest.Scoper               = (*storage[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview])(nil)
	_ rest.KindProvider         = (*storage[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview])(nil)
	_ rest.SingularNameProvider = (*storage[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview])(nil)
	_ rest.ShortNamesProvider   = (*storage[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview])(nil)
	_ rest.CategoriesProvider   = (*storage[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview])(nil)
	_ rest.Getter               = (*storage[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview])(nil)
	_ rest.Lister               = (*storage[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview])(nil)
)

// New returns an empty object.
func (s *storage[R, O, P]) New() runtime.Object { return P(new(O)) }

// Destroy releases nothing: the store belongs to the process.
func (s *storage[R, O, P]) Destroy() {}

// NamespaceScoped is true: every row lives in its team's namespace.
func (s *storage[R, O, P]) NamespaceScoped() bool { return true }

// Kind names the object's kind.
func (s *storage[R, O, P]) Kind() string { return s.info.kind }

// GetSingularName is the singular resource name, for kubectl.
func (s *storage[R, O, P]) GetSingularName() string { return s.info.singular }

// ShortNames are kubectl's abbreviations.
func (s *storage[R, O, P]) ShortNames() []string { return s.info.shortNames }

// Categories put the resource in `kubectl get qual`.
func (s *storage[R, O, P]) Categories() []string {
	if s.info.perParent {
		return nil
	}
	return qualCategory
}

// NewList returns an empty list.
func (s *storage[R, O, P]) NewList() runtime.Object { return s.list(nil, "") }

// Get reads one row of the namespace's team; another team's row, or any row in a
// namespace no team claimed, is NotFound.
func (s *storage[R, O, P]) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	ns, ok, err := s.dir.namespace(ctx, genericapirequest.NamespaceValue(ctx))
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if !ok {
		return nil, s.notFound(name)
	}
	o, found, err := s.getIn(ctx, &ns, name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, s.notFound(name)
	}
	return P(&o), nil
}

// getIn reads one row of a namespace; found is false when the team has none by that name.
func (s *storage[R, O, P]) getIn(ctx context.Context, ns *teamNamespace, name string) (O, bool, error) {
	var zero O
	r, err := s.get(ctx, s.store.Team(ns.team), name)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalidInput) {
		return zero, false, nil // a malformed name names nothing
	}
	if err != nil {
		return zero, false, storeError(err)
	}
	campaigns, err := s.dir.campaignNames(ctx, ns)
	if err != nil {
		return zero, false, apierrors.NewInternalError(err)
	}
	o := s.object(r, ns.name, campaigns)
	// A name that is parsed (a message's sequence) has other spellings of the same row, such
	// as "-02" or "-+2"; only the row's own name finds it, as clients and caches key an
	// object by the name they asked for.
	if !namedAs(P(&o), name) {
		return zero, false, nil
	}
	return o, true, nil
}

// namedAs tells whether obj's metadata.name is exactly name.
func namedAs(obj runtime.Object, name string) bool {
	m, err := meta.Accessor(obj)
	return err == nil && m.GetName() == name
}

// List serves one page: up to the request's limit of items from the store's keyset pages,
// across the namespace or, for a list across all namespaces, across every claimed one by
// name, and a continue token when more remain.
func (s *storage[R, O, P]) List(ctx context.Context, opts *metainternalversion.ListOptions) (runtime.Object, error) {
	q, err := parseQuery(opts)
	if err != nil {
		return nil, err
	}
	if s.require != nil {
		if err := s.require(q); err != nil {
			return nil, err
		}
	}
	reqNS := genericapirequest.NamespaceValue(ctx)
	bind := binding(s.info.resource, reqNS, q)
	var token string
	if opts != nil {
		token = opts.Continue
	}
	start, err := s.tokens.decode(token, s.sort, bind)
	if err != nil {
		return nil, err
	}
	targets, err := s.targets(ctx, reqNS, start.namespace)
	if err != nil {
		return nil, err
	}
	// A namespace selector narrows the list to one namespace (the request was authorized for
	// all of them, or for that one); another namespace than the request's matches nothing.
	if q.namespace != "" {
		targets = slices.DeleteFunc(targets, func(t teamNamespace) bool { return t.name != q.namespace })
	}
	if q.name != "" {
		items, err := s.byName(ctx, targets, q.name)
		return s.list(items, ""), err
	}
	items, next, err := s.fill(ctx, targets, q, start, listLimit(opts))
	if err != nil {
		return nil, err
	}
	cont := ""
	if next != nil {
		cont = s.tokens.encode(*next, s.sort, bind)
	}
	return s.list(items, cont), nil
}

// targets are the namespaces a list reads: the request's, when a team claimed it, or every
// claimed namespace from start on.
func (s *storage[R, O, P]) targets(ctx context.Context, reqNS, start string) ([]teamNamespace, error) {
	if reqNS == "" {
		nss, err := s.dir.namespaces(ctx, start)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		return nss, nil
	}
	ns, ok, err := s.dir.namespace(ctx, reqNS)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if !ok {
		return nil, nil
	}
	return []teamNamespace{ns}, nil
}

// byName answers a metadata.name field selector: the named row of each target namespace.
func (s *storage[R, O, P]) byName(ctx context.Context, targets []teamNamespace, name string) ([]O, error) {
	var items []O
	for i := range targets {
		o, found, err := s.getIn(ctx, &targets[i], name)
		if err != nil {
			return nil, err
		}
		if found {
			items = append(items, o)
		}
	}
	return items, nil
}

// fill collects up to limit items from start on, and returns where the next page starts
// (nil at the end).
func (s *storage[R, O, P]) fill(ctx context.Context, targets []teamNamespace, q query, start position, limit int) ([]O, *position, error) {
	if q.matchesNothing {
		return nil, nil, nil
	}
	items := make([]O, 0, min(limit, store.MaxPageLimit))
	for i := range targets {
		var after *store.Position
		if targets[i].name == start.namespace {
			after = start.after
		}
		next, err := s.fillNamespace(ctx, &targets[i], q, after, limit, &items)
		if err != nil {
			return nil, nil, err
		}
		if next != nil {
			return items, &position{namespace: targets[i].name, after: next}, nil
		}
		if len(items) == limit && i+1 < len(targets) {
			return items, &position{namespace: targets[i+1].name}, nil
		}
	}
	return items, nil, nil
}

// fillNamespace appends one namespace's rows after after until the limit; it returns the
// position to continue from when rows remain, else nil.
func (s *storage[R, O, P]) fillNamespace(ctx context.Context, ns *teamNamespace, q query, after *store.Position, limit int, items *[]O) (*store.Position, error) {
	f, ok, err := s.resolve(ctx, ns, q)
	if err != nil || !ok {
		return nil, err
	}
	ts := s.store.Team(ns.team)
	for len(*items) < limit {
		req := store.PageRequest{Sort: s.sort, Limit: min(limit-len(*items), store.MaxPageLimit), After: after, SkipTotal: true}
		page, err := s.page(ctx, ts, f, req)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil // a selected interview that is not the team's has no messages here
		}
		if err != nil {
			return nil, storeError(err)
		}
		campaigns, err := s.dir.campaignNames(ctx, ns)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		for _, r := range page.Items {
			*items = append(*items, s.object(r, ns.name, campaigns))
		}
		if !page.HasMore {
			return nil, nil
		}
		after = page.Next
	}
	return after, nil
}

// resolve turns a Campaign name into its UID in ns; ok is false when the namespace has no
// such Campaign, so it has no rows to list.
func (s *storage[R, O, P]) resolve(ctx context.Context, ns *teamNamespace, q query) (filter, bool, error) {
	f := filter{query: q, campaign: store.CampaignID(q.campaignUID)}
	if q.campaign == "" {
		return f, true, nil
	}
	uid, ok, err := s.dir.campaignUID(ctx, ns.name, q.campaign)
	if err != nil {
		return f, false, apierrors.NewInternalError(err)
	}
	if !ok || (f.campaign != "" && f.campaign != uid) {
		return f, false, nil
	}
	f.campaign = uid
	return f, true, nil
}

// ConvertToTable renders an object or a list as kubectl's table.
func (s *storage[R, O, P]) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	t := &metav1.Table{ColumnDefinitions: s.table.columns}
	switch o := obj.(type) {
	case P:
		t.Rows = []metav1.TableRow{s.row(o)}
		return t, nil
	default:
		if !meta.IsListType(obj) {
			return nil, fmt.Errorf("dataapi: table of %T", obj)
		}
		lm, err := meta.ListAccessor(obj)
		if err != nil {
			return nil, fmt.Errorf("dataapi: table: %w", err)
		}
		t.Continue = lm.GetContinue()
		err = meta.EachListItem(obj, func(item runtime.Object) error {
			p, ok := item.(P)
			if !ok {
				return fmt.Errorf("dataapi: table row of %T", item)
			}
			t.Rows = append(t.Rows, s.row(p))
			return nil
		})
		return t, err
	}
}

// row is one object's table row, carrying the object for kubectl's -o name and describe.
func (s *storage[R, O, P]) row(p P) metav1.TableRow {
	return metav1.TableRow{Cells: s.table.cells(p), Object: runtime.RawExtension{Object: p}}
}

func (s *storage[R, O, P]) notFound(name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Group: datav1alpha1.GroupName, Resource: s.info.resource}, name)
}

// storeError maps a store failure: 503 while the database is unreachable, else 500.
func storeError(err error) error {
	if store.IsUnavailable(err) {
		return apierrors.NewServiceUnavailable("the store is unavailable: " + err.Error())
	}
	return apierrors.NewInternalError(err)
}
