package sqlite

// Migrations are the store's own migrations, for tests that migrate down.
var Migrations = migrations
