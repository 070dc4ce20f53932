-- The caption studio (PRODUCT §3a): every variant of a generation, Threads as a platform, and
-- favourites. `caption` / `hashtags` keep the first variant, so older readers still work.
alter table litstatus.generations drop constraint generations_platform_check;
alter table litstatus.generations add constraint generations_platform_check
  check (platform in ('instagram', 'tiktok', 'x', 'linkedin', 'xiaohongshu', 'threads'));

-- [{ caption, hashtags, hook, checks }], as answered; null on failed and pre-studio rows.
alter table litstatus.generations add column variants jsonb
  check (variants is null or (jsonb_typeof(variants) = 'array' and jsonb_array_length(variants) between 1 and 3));

-- Starred by its owner (signed-in users only); null when not a favourite.
alter table litstatus.generations add column favorited_at timestamptz;
create index generations_user_favorite_idx on litstatus.generations (user_id, favorited_at desc)
  where favorited_at is not null;

-- A signed-in user's cache hit whose answer their history already shows: still recorded (one row
-- per request, for the console's counts), but pointing at the entry it repeats, so history lists
-- each answer once. Deleting the entry deletes its repeats.
alter table litstatus.generations add column duplicate_of uuid references litstatus.generations (id) on delete cascade;
create index generations_duplicate_of_idx on litstatus.generations (duplicate_of) where duplicate_of is not null;
