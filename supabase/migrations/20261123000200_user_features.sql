-- User features: the Pro waitlist and feedback on generations.
-- Both are written by the server (table owner); signed-in users may read their own rows
-- through Supabase's API roles, and the admin console lists them newest first.

-- The Pro waitlist, one row per email (stored lowercased). A signed-in submitter is linked;
-- deleting the account unlinks the row (the account deletion also deletes it outright).
create table litstatus.pro_wishlist (
  id bigint generated always as identity primary key,
  email text not null check (char_length(email) between 3 and 254 and email = lower(email)),
  note text check (char_length(note) <= 1000),
  user_id uuid references auth.users (id) on delete set null,
  lang text check (char_length(lang) <= 8),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Deduplication: one row per email, whatever its case.
create unique index pro_wishlist_email_key on litstatus.pro_wishlist (lower(email));
create index pro_wishlist_created_idx on litstatus.pro_wishlist (created_at desc);
create index pro_wishlist_user_idx on litstatus.pro_wishlist (user_id) where user_id is not null;

alter table litstatus.pro_wishlist enable row level security;
create policy pro_wishlist_select_own on litstatus.pro_wishlist
  for select to authenticated
  using (user_id = auth.uid());
grant select on litstatus.pro_wishlist to authenticated;

-- Ratings (+1 / -1) on generations. One rating per viewer per generation: signed-in users are
-- identified by user_id, guests by client_hash (a SHA-256 of their trusted client IP, never
-- the address itself). Re-rating updates the row.
create table litstatus.feedback (
  id bigint generated always as identity primary key,
  generation_id uuid not null references litstatus.generations (id) on delete cascade,
  user_id uuid references auth.users (id) on delete cascade,
  client_hash text check (char_length(client_hash) = 64),
  rating smallint not null check (rating in (-1, 1)),
  comment text check (char_length(comment) <= 1000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (user_id is not null or client_hash is not null)
);
create unique index feedback_viewer_generation_key
  on litstatus.feedback (generation_id, (coalesce(user_id::text, client_hash)));
create index feedback_created_idx on litstatus.feedback (created_at desc);
create index feedback_rating_created_idx on litstatus.feedback (rating, created_at desc);
create index feedback_user_idx on litstatus.feedback (user_id) where user_id is not null;

alter table litstatus.feedback enable row level security;
create policy feedback_select_own on litstatus.feedback
  for select to authenticated
  using (user_id = auth.uid());
grant select on litstatus.feedback to authenticated;

grant all on litstatus.pro_wishlist, litstatus.feedback to service_role;
grant usage, select on all sequences in schema litstatus to service_role;
