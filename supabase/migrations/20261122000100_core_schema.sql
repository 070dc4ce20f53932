-- The litstatus schema: profiles, funnel events and security events.
-- The app's server connects as the table owner; browsers reach tables only through
-- Supabase's API roles, so every table has RLS enabled and grants exactly what policies allow.

create schema if not exists litstatus;
grant usage on schema litstatus to anon, authenticated, service_role;

create table litstatus.profiles (
  user_id uuid primary key references auth.users (id) on delete cascade,
  email text,
  plan text not null default 'free' check (plan in ('free', 'pro')),
  role text not null default 'user' check (role in ('user', 'moderator', 'admin')),
  credits integer not null default 0 check (credits >= 0),
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now()
);
create index profiles_email_idx on litstatus.profiles (lower(email));
create index profiles_created_at_idx on litstatus.profiles (created_at desc);

alter table litstatus.profiles enable row level security;
create policy profiles_select_own on litstatus.profiles
  for select to authenticated
  using (user_id = auth.uid());
grant select on litstatus.profiles to authenticated;

create table litstatus.funnel_events (
  id bigint generated always as identity primary key,
  event text not null check (char_length(event) between 1 and 64),
  user_id uuid references auth.users (id) on delete set null,
  session_id text check (char_length(session_id) <= 128),
  path text check (char_length(path) <= 512),
  lang text check (char_length(lang) <= 8),
  variant text check (char_length(variant) <= 64),
  referrer text check (char_length(referrer) <= 1024),
  utm_source text check (char_length(utm_source) <= 128),
  utm_medium text check (char_length(utm_medium) <= 128),
  utm_campaign text check (char_length(utm_campaign) <= 128),
  meta jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
-- Runbook: events per stage over a window; unique sessions/users per stage; one user's trail.
create index funnel_events_event_created_idx on litstatus.funnel_events (event, created_at desc);
create index funnel_events_created_idx on litstatus.funnel_events (created_at desc);
create index funnel_events_session_idx on litstatus.funnel_events (session_id, created_at);
create index funnel_events_user_idx on litstatus.funnel_events (user_id, created_at desc) where user_id is not null;

alter table litstatus.funnel_events enable row level security;
-- No policies: only the server (table owner / service_role) reads or writes events.

create table litstatus.security_events (
  id bigint generated always as identity primary key,
  event_type text not null check (char_length(event_type) between 1 and 64),
  severity text not null check (severity in ('info', 'warn', 'error', 'critical')),
  ip inet,
  user_id uuid references auth.users (id) on delete set null,
  path text check (char_length(path) <= 512),
  user_agent text check (char_length(user_agent) <= 512),
  meta jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
-- Runbook: recent events, by type, high severity, top IPs, one user's events.
create index security_events_created_idx on litstatus.security_events (created_at desc);
create index security_events_type_created_idx on litstatus.security_events (event_type, created_at desc);
create index security_events_severity_created_idx on litstatus.security_events (severity, created_at desc);
create index security_events_ip_created_idx on litstatus.security_events (ip, created_at desc) where ip is not null;
create index security_events_user_idx on litstatus.security_events (user_id, created_at desc) where user_id is not null;

alter table litstatus.security_events enable row level security;

grant all on all tables in schema litstatus to service_role;
grant usage, select on all sequences in schema litstatus to service_role;
