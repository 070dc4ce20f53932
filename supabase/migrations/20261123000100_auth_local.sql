-- Auth: the embedded sign-in's one-time links, "log out everywhere", and profiles created
-- for every new auth user (Supabase sign-ups and the local sign-in alike).

-- One-time sign-in links. Only a SHA-256 of the token is stored, so a read of this table
-- cannot sign anyone in. Consumed by one conditional update (used_at is null, not expired).
create table litstatus.login_tokens (
  token_hash text primary key check (char_length(token_hash) = 64),
  email text not null check (char_length(email) between 3 and 254),
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index login_tokens_expires_idx on litstatus.login_tokens (expires_at);

alter table litstatus.login_tokens enable row level security;
-- No policies: only the server (table owner / service_role) reads or writes sign-in links.
grant all on litstatus.login_tokens to service_role;

-- Log out everywhere: tokens issued before this instant are rejected.
alter table litstatus.profiles add column if not exists sessions_revoked_at timestamptz;

-- Every new auth user gets a profile. On Supabase this runs for sign-ups through GoTrue;
-- locally the sign-in inserts into auth.users and the same trigger fires.
create or replace function litstatus.handle_new_user()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  insert into litstatus.profiles (user_id, email)
  values (new.id, lower(new.email))
  on conflict (user_id) do nothing;
  return new;
end;
$$;

revoke all on function litstatus.handle_new_user() from public, anon, authenticated;

drop trigger if exists litstatus_on_auth_user_created on auth.users;
create trigger litstatus_on_auth_user_created
  after insert on auth.users
  for each row execute function litstatus.handle_new_user();
