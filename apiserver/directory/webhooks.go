package directory

import (
	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Webhooks are few per team, so the directory keeps the objects as they are, by UID and by
// namespace, and the REST layer renders them per request. Treat them as read-only.

func (d *Directory) onWebhook(obj any) {
	wh, ok := obj.(*qualv1alpha1.Webhook)
	if !ok {
		return
	}
	if !wh.DeletionTimestamp.IsZero() {
		d.onWebhookDelete(obj) // on its way out: the API no longer shows it
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.webhooks[string(wh.UID)] = wh
	set := d.webhooksByNS[wh.Namespace]
	if set == nil {
		set = map[string]*qualv1alpha1.Webhook{}
		d.webhooksByNS[wh.Namespace] = set
	}
	set[string(wh.UID)] = wh
	d.notify()
}

func (d *Directory) onWebhookDelete(obj any) {
	wh, ok := obj.(*qualv1alpha1.Webhook)
	if !ok {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.webhooks, string(wh.UID))
	if set := d.webhooksByNS[wh.Namespace]; set != nil {
		delete(set, string(wh.UID))
		if len(set) == 0 {
			delete(d.webhooksByNS, wh.Namespace)
		}
	}
	d.notify()
}

// Webhook returns a webhook by UID.
func (d *Directory) Webhook(uid string) (*qualv1alpha1.Webhook, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	wh, ok := d.webhooks[uid]
	return wh, ok
}

// WebhookSettled reports whether the directory holds the webhook at rv or later with the
// controller caught up with a re-enable (no automatic disable recorded beside enabled:
// true), or the webhook is gone; call within WaitUntil.
func (d *Directory) WebhookSettled(uid, rv string) bool {
	wh, ok := d.webhooks[uid]
	return !ok || newerOrSame(wh.ResourceVersion, rv) && (wh.Status.DisabledAt == nil || wh.Spec.Enabled != nil && !*wh.Spec.Enabled)
}

// WebhooksIn returns the webhooks of a namespace, in no particular order.
func (d *Directory) WebhooksIn(ns string) []*qualv1alpha1.Webhook {
	d.mu.RLock()
	defer d.mu.RUnlock()
	set := d.webhooksByNS[ns]
	out := make([]*qualv1alpha1.Webhook, 0, len(set))
	for _, wh := range set {
		out = append(out, wh)
	}
	return out
}

// WebhookSigned reports whether the Webhook controller has named the webhook's signing
// Secret in its status (it does so once the Secret exists); call within WaitUntil.
func (d *Directory) WebhookSigned(uid string) bool {
	wh, ok := d.webhooks[uid]
	return ok && wh.Status.SecretRef != nil
}
