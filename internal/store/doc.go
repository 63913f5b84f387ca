// Package store persists the high-volume data of Qual (interviews, messages, findings, analysis
// jobs, graph share links, idempotency records, the event outbox and webhook deliveries) in SQLite
// or PostgreSQL.
//
// Every read and write goes through a team-scoped handle (Store.Team), so a query without a team
// cannot be written against this API. Lists use keyset pagination (see PageRequest), a domain
// write and its outbox event share one transaction (TeamStore.InTx), and a campaign's rows can be
// deleted in short batches (TeamStore.DeleteCampaignData).
//
// Both backends run the same SQL through database/sql; the few differences (placeholders, time
// encoding, row locks, error codes, migrations folder) live in one small dialect value.
package store
