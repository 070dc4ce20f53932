-- The admin console: the hash-chained audit log of every admin write, and disabled accounts.

create table litstatus.admin_audit_log (
  id bigint generated always as identity primary key,
  created_at timestamptz not null,
  actor_id uuid,
  actor_email text check (char_length(actor_email) <= 320),
  action text not null check (char_length(action) between 1 and 64),
  target text check (char_length(target) <= 256),
  before jsonb,
  after jsonb,
  ip text check (char_length(ip) <= 64),
  request_id text check (char_length(request_id) <= 80),
  -- sha256 (hex) of the previous row's hash and this row's canonical content (lib/admin/audit.ts).
  prev_hash text not null check (char_length(prev_hash) = 64),
  hash text not null unique check (char_length(hash) = 64)
);
create index admin_audit_log_created_idx on litstatus.admin_audit_log (created_at desc);
create index admin_audit_log_actor_idx on litstatus.admin_audit_log (actor_id, created_at desc);
create index admin_audit_log_action_idx on litstatus.admin_audit_log (action, created_at desc);

alter table litstatus.admin_audit_log enable row level security;
-- No policies: only the server writes or reads the log.
grant all on litstatus.admin_audit_log to service_role;

-- A disabled account gets 403 account_disabled on every authenticated route; its sessions end.
alter table litstatus.profiles add column disabled_at timestamptz;
grant usage, select on all sequences in schema litstatus to service_role;
