-- Generations and metered usage.
-- Signed-in users' quota lives here: usage_daily is the per-user, per-UTC-day counter that
-- is incremented conditionally (never read-then-write), and usage_ledger records every
-- charge and refund once, keyed by an idempotency key, so a retried request is charged once.

create table litstatus.generations (
  id uuid primary key,
  user_id uuid references auth.users (id) on delete cascade,
  status text not null default 'pending' check (status in ('pending', 'complete', 'failed')),
  mode text not null check (mode in ('standard', 'savage', 'rizz')),
  lang text not null check (lang in ('en', 'zh')),
  platform text check (platform in ('instagram', 'tiktok', 'x', 'linkedin', 'xiaohongshu')),
  -- Signed-in users keep their text for history; guests' input is stored only as a hash.
  input_text text check (char_length(input_text) <= 2000),
  input_hash text not null,
  has_image boolean not null default false,
  caption text,
  hashtags text[] not null default '{}',
  detected_object text,
  provider text,
  model text,
  cached boolean not null default false,
  latency_ms integer,
  prompt_tokens integer,
  completion_tokens integer,
  error_code text,
  request_id text,
  created_at timestamptz not null default now(),
  completed_at timestamptz,
  check (user_id is not null or input_text is null)
);
create index generations_user_created_idx on litstatus.generations (user_id, created_at desc) where user_id is not null;
create index generations_status_created_idx on litstatus.generations (status, created_at desc);
create index generations_created_idx on litstatus.generations (created_at desc);

alter table litstatus.generations enable row level security;
create policy generations_select_own on litstatus.generations
  for select to authenticated
  using (user_id = auth.uid());
grant select on litstatus.generations to authenticated;

create table litstatus.usage_daily (
  user_id uuid not null references auth.users (id) on delete cascade,
  day date not null,
  used integer not null default 0 check (used >= 0),
  primary key (user_id, day)
);
alter table litstatus.usage_daily enable row level security;
create policy usage_daily_select_own on litstatus.usage_daily
  for select to authenticated
  using (user_id = auth.uid());
grant select on litstatus.usage_daily to authenticated;

create table litstatus.usage_ledger (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  day date not null,
  kind text not null check (kind in ('charge', 'refund')),
  -- Which allowance paid: the day's plan limit or an admin-granted credit.
  source text not null check (source in ('daily', 'credit')),
  idempotency_key text not null unique check (char_length(idempotency_key) <= 200),
  generation_id uuid,
  created_at timestamptz not null default now()
);
create index usage_ledger_user_day_idx on litstatus.usage_ledger (user_id, day);
alter table litstatus.usage_ledger enable row level security;
create policy usage_ledger_select_own on litstatus.usage_ledger
  for select to authenticated
  using (user_id = auth.uid());
grant select on litstatus.usage_ledger to authenticated;

grant all on all tables in schema litstatus to service_role;
grant usage, select on all sequences in schema litstatus to service_role;
