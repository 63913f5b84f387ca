package directory

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"
)

// SortKey is a field campaigns can be listed by.
type SortKey string

// The sort keys of campaign lists.
const (
	SortCreated SortKey = "created_at"
	SortUpdated SortKey = "updated_at"
	SortTitle   SortKey = "title"
)

// After is a keyset position: the sort value and id of the last item of the previous page.
type After struct {
	Value string
	ID    string
}

// Query is one page request over campaigns.
type Query struct {
	Namespaces []string
	Sort       SortKey
	Desc       bool
	After      *After
	Limit      int
	// Match filters campaigns; nil matches all.
	Match func(*Campaign) bool
}

// Page is one page of campaigns and the count of every match.
type Page struct {
	Items   []*Campaign
	HasMore bool
	Total   int
}

// SortValue is the value of c's sort key as a cursor carries it.
func SortValue(c *Campaign, key SortKey) string {
	switch key {
	case SortUpdated:
		return timeKey(c.UpdatedAt)
	case SortTitle:
		return c.titleKey
	}
	return timeKey(c.CreatedAt)
}

// ValidSortValue reports whether a cursor's value can be one of key's values.
func ValidSortValue(key SortKey, v string) bool {
	if key == SortTitle {
		return true
	}
	_, err := time.Parse(time.RFC3339Nano, v)
	return err == nil
}

// compareTo orders c against a position: by sort value, then id.
func compareTo(c *Campaign, key SortKey, value, id string) int {
	var byValue int
	switch key {
	case SortTitle:
		byValue = strings.Compare(c.titleKey, value)
	default:
		t, _ := time.Parse(time.RFC3339Nano, value) // checked by ValidSortValue
		own := c.CreatedAt
		if key == SortUpdated {
			own = c.UpdatedAt
		}
		byValue = own.Compare(t)
	}
	if byValue != 0 {
		return byValue
	}
	return strings.Compare(string(c.Object.UID), id)
}

func sortCampaigns(list []*Campaign, key SortKey) {
	slices.SortFunc(list, func(a, b *Campaign) int {
		var byValue int
		switch key {
		case SortTitle:
			byValue = strings.Compare(a.titleKey, b.titleKey)
		case SortUpdated:
			byValue = a.UpdatedAt.Compare(b.UpdatedAt)
		default:
			byValue = a.CreatedAt.Compare(b.CreatedAt)
		}
		return cmp.Or(byValue, strings.Compare(string(a.Object.UID), string(b.Object.UID)))
	})
}

// ListCampaigns returns one page. Its cost is a binary search to the cursor, a scan of the
// page, and (only with filters) a count of the matches: it does not grow with the depth.
func (d *Directory) ListCampaigns(q Query) Page {
	list := d.sortedAcross(q.Namespaces, q.Sort)
	start, step := 0, 1
	if q.Desc {
		start, step = len(list)-1, -1
	}
	if q.After != nil {
		start = d.seek(list, q)
	}
	page := Page{Total: len(list)}
	if q.Match != nil {
		page.Total = 0
		for _, c := range list {
			if q.Match(c) {
				page.Total++
			}
		}
	}
	for i := start; i >= 0 && i < len(list); i += step {
		c := list[i]
		if q.Match != nil && !q.Match(c) {
			continue
		}
		if len(page.Items) == q.Limit {
			page.HasMore = true
			break
		}
		page.Items = append(page.Items, c)
	}
	return page
}

// seek returns the index of the first item after the cursor in the query's direction.
func (d *Directory) seek(list []*Campaign, q Query) int {
	a := q.After
	// First index whose item sorts strictly after the position (ascending).
	i := sort.Search(len(list), func(i int) bool { return compareTo(list[i], q.Sort, a.Value, a.ID) > 0 })
	if q.Desc {
		// Walking down: start at the last item strictly before the position.
		j := sort.Search(len(list), func(i int) bool { return compareTo(list[i], q.Sort, a.Value, a.ID) >= 0 })
		return j - 1
	}
	return i
}

// sortedAcross returns the campaigns of the namespaces sorted ascending by key: the cached
// snapshot for one namespace, a merge for several.
func (d *Directory) sortedAcross(namespaces []string, key SortKey) []*Campaign {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if len(namespaces) == 1 {
		if set := d.byNS[namespaces[0]]; set != nil {
			return set.snapshot(key)
		}
		return nil
	}
	var all []*Campaign
	for _, ns := range namespaces {
		if set := d.byNS[ns]; set != nil {
			all = append(all, set.snapshot(key)...)
		}
	}
	sortCampaigns(all, key)
	return all
}
