// Runs before every test file: tests never read the developer's .env or a stray DATABASE_URL.
process.env.LOG_LEVEL ??= "silent";
