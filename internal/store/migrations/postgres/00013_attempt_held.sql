-- An attempt the dispatcher held back unsent because the operator could not make the webhook
-- deliver (it was stalled, could not sign, or it or its team was gone): logged so the delivery
-- log says why nothing was sent, but counted neither toward the delivery's retries nor toward
-- the webhook's health, as the receiver had no part in it.

-- +goose Up
ALTER TABLE delivery_attempts ADD COLUMN held BOOLEAN NOT NULL DEFAULT false;
