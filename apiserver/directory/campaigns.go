package directory

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/resources"
)

// Campaign is a Campaign object as the directory holds it: rendered once, with its sort and
// filter keys precomputed. Treat it as read-only.
type Campaign struct {
	Object  *qualv1alpha1.Campaign
	TeamUID string
	JSON    []byte // the REST representation
	// Status and Mode are the REST filter values; CreatedAt and UpdatedAt the sort times.
	// Only these are kept of the REST form besides its JSON: a campaign costs the directory
	// little more than its bytes.
	Status, Mode         string
	CreatedAt, UpdatedAt time.Time
	titleKey             string // lowercased title: the title sort is case-insensitive
	search               string // lowercased title and description
}

// NewCampaign renders a campaign of the team teamUID, as the directory does.
func NewCampaign(c *qualv1alpha1.Campaign, teamUID string) *Campaign {
	rest := resources.NewCampaign(c, teamUID)
	body, _ := json.Marshal(rest) // plain fields always marshal
	// One lowercased string serves the search and, as its prefix, the title sort.
	title := strings.ToLower(c.Spec.Title)
	search := title + "\n" + strings.ToLower(c.Spec.Description)
	return &Campaign{
		Object: c, TeamUID: teamUID, JSON: body,
		Status: rest.Status, Mode: rest.Mode, CreatedAt: rest.CreatedAt, UpdatedAt: rest.UpdatedAt,
		titleKey: search[:len(title)],
		search:   search,
	}
}

// Matches reports whether the campaign's title or description contains the lowercased term.
func (c *Campaign) Matches(lowerTerm string) bool {
	return strings.Contains(c.search, lowerTerm)
}

// campaignSet is the campaigns of one namespace with sorted snapshots built on demand.
type campaignSet struct {
	items  map[string]*Campaign
	mu     sync.Mutex // guards sorted
	sorted map[SortKey][]*Campaign
}

func (d *Directory) onCampaign(obj any) {
	c, ok := obj.(*qualv1alpha1.Campaign)
	if !ok {
		return
	}
	if !c.DeletionTimestamp.IsZero() {
		d.onCampaignDelete(obj) // on its way out: the API no longer shows it
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	teamUID := ""
	if t, ok := d.teamByNS[c.Namespace]; ok {
		teamUID = string(t.Object.UID)
	}
	view := NewCampaign(c, teamUID)
	d.campaigns[string(c.UID)] = view
	set := d.byNS[c.Namespace]
	if set == nil {
		set = &campaignSet{items: map[string]*Campaign{}}
		d.byNS[c.Namespace] = set
	}
	set.put(view)
	d.notify()
}

func (d *Directory) onCampaignDelete(obj any) {
	c, ok := obj.(*qualv1alpha1.Campaign)
	if !ok {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.campaigns, string(c.UID))
	if set := d.byNS[c.Namespace]; set != nil {
		set.remove(string(c.UID))
	}
	d.notify()
}

// rerenderNamespace renders a namespace's campaigns again once its team is known, changed
// or gone (then they belong to no team and nobody sees them). Call with d.mu held for writing.
func (d *Directory) rerenderNamespace(ns string) {
	set := d.byNS[ns]
	if set == nil {
		return
	}
	teamUID := ""
	if t := d.teamByNS[ns]; t != nil {
		teamUID = string(t.Object.UID)
	}
	for _, c := range set.items {
		if c.TeamUID != teamUID {
			view := NewCampaign(c.Object, teamUID)
			d.campaigns[string(c.Object.UID)] = view
			set.put(view)
		}
	}
}

func (s *campaignSet) put(c *Campaign) {
	s.items[string(c.Object.UID)] = c
	s.invalidate()
}

func (s *campaignSet) remove(uid string) {
	delete(s.items, uid)
	s.invalidate()
}

func (s *campaignSet) invalidate() {
	s.mu.Lock()
	s.sorted = nil
	s.mu.Unlock()
}

// snapshot returns the set sorted ascending by key, building it once per change.
func (s *campaignSet) snapshot(key SortKey) []*Campaign {
	s.mu.Lock()
	defer s.mu.Unlock()
	if list, ok := s.sorted[key]; ok {
		return list
	}
	list := make([]*Campaign, 0, len(s.items))
	for _, c := range s.items {
		list = append(list, c)
	}
	sortCampaigns(list, key)
	if s.sorted == nil {
		s.sorted = map[SortKey][]*Campaign{}
	}
	s.sorted[key] = list
	return list
}

// Campaign returns a campaign by UID.
func (d *Directory) Campaign(uid string) (*Campaign, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, ok := d.campaigns[uid]
	return c, ok
}

// CampaignsIn returns the campaigns of a namespace, in no particular order.
func (d *Directory) CampaignsIn(ns string) []*Campaign {
	d.mu.RLock()
	defer d.mu.RUnlock()
	set := d.byNS[ns]
	if set == nil {
		return nil
	}
	out := make([]*Campaign, 0, len(set.items))
	for _, c := range set.items {
		out = append(out, c)
	}
	return out
}

// Settled reports whether the directory holds the campaign at rv or later with its asked-for
// state accepted by the controller (status.phase equals spec.state), or the campaign is
// gone; call within WaitUntil.
func (d *Directory) Settled(uid, rv string) bool {
	c, ok := d.campaigns[uid]
	return !ok || newerOrSame(c.Object.ResourceVersion, rv) && c.Object.Status.Phase == c.Object.Spec.State
}

// CountCampaigns counts every campaign in the directory, for admin statistics.
func (d *Directory) CountCampaigns() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.campaigns)
}

// timeKey formats a sort time the way cursors carry it.
func timeKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
