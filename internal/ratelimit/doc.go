// Package ratelimit spends per-key request budgets with GCRA (the generic cell rate algorithm,
// "leaky bucket as meter"): a Limit of Quota requests per Window may all be spent in one burst,
// and one request comes back every Window/Quota.
//
// Two Limiters share these semantics: Memory for a single replica (sharded maps, no allocation
// per decision) and Redis for several replicas, exact because every decision is one atomic
// Lua script on the server, timed by the server's clock. Result.Headers writes the
// X-RateLimit-*, RateLimit-Policy, RateLimit and Retry-After response headers.
//
// GCRA keeps time, not requests: a key holds the time its spent requests take to come back.
// Each key also remembers the emission interval it was spent under, so that a decision under
// another Limit for the same key (a team that changed plans) first rescales that time: the
// requests spent count as as many of the new Limit's, at most its whole quota.
//
// Keys name one budget: a caller enforcing several limits for a team uses one key per limit
// (for example "requests:"+teamID and "interviews:"+teamID).
package ratelimit
