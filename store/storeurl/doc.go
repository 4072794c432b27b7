// Package storeurl opens the store a database URL names, so that a service
// takes one setting, DATABASE_URL, and runs on SQLite or PostgreSQL alike:
//
//	s, err := storeurl.Open(ctx, os.Getenv("DATABASE_URL"), store.Config{})
//	// postgres://user:password@db.internal/records        -> PostgreSQL
//	// host=db.internal user=app password=… dbname=records -> PostgreSQL
//	// sqlite:///var/lib/hr/records.db or records.db       -> SQLite
//	// sqlite:///srv/hr/records.db?mode_check=off          -> SQLite, shared file accepted
//
// Give the engine storeurl.Progress(s) as its ProgressBus: on PostgreSQL it
// carries progress between every process sharing the database.
//
// A tool that inspects a server's database, such as an operator's command
// line, uses OpenExisting instead: it refuses a missing SQLite file or a
// database without the store rather than create one.
//
// Errors never show the password: a wrong or unreachable URL fails Open at
// once with a message that names the server with the password masked.
// Log the database a service uses as Redact(databaseURL) shows it.
package storeurl
