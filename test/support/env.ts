// Request logs are noise in test output; failures carry their own detail.
process.env.LOG_LEVEL ??= 'silent';
