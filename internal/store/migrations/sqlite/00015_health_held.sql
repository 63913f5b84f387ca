-- When a stall began holding a failing webhook's deliveries (the first held attempt since its
-- last real one): time held is the operator's doing, not the receiver's, so the next real
-- attempt moves the start of the failure streak (failing_since) later by it, and the
-- auto-disable period counts only time failing. NULL while nothing is held, or the webhook
-- was not failing when the hold began.

-- +goose Up
ALTER TABLE webhook_health ADD COLUMN held_since INTEGER;
