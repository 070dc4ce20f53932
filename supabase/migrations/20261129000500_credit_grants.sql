-- Admin credit grants are ledger entries too (issue 9 §6): kind 'grant' with a signed amount,
-- the reason, who granted it, and the fingerprint of the request so a retried grant with the
-- same Idempotency-Key is answered from its row (a different body under that key is refused).
-- Charges and refunds keep amount 1. profiles.credits = sum(grants) - credit charges + credit refunds.

alter table litstatus.usage_ledger drop constraint usage_ledger_kind_check;
alter table litstatus.usage_ledger add constraint usage_ledger_kind_check check (kind in ('charge', 'refund', 'grant'));
alter table litstatus.usage_ledger add column amount integer not null default 1;
alter table litstatus.usage_ledger add constraint usage_ledger_amount_check check (amount <> 0 and (kind = 'grant' or amount = 1));
alter table litstatus.usage_ledger add column reason text check (char_length(reason) <= 500);
alter table litstatus.usage_ledger add column actor_id uuid;
alter table litstatus.usage_ledger add column request_hash text check (char_length(request_hash) = 64);
alter table litstatus.usage_ledger add column credits_after integer;
alter table litstatus.usage_ledger add constraint usage_ledger_grant_check
  check (kind <> 'grant' or (source = 'credit' and reason is not null and request_hash is not null and credits_after is not null));
