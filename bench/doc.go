// Package bench holds the load generators that measure the service against
// the targets of DESIGN.md, each printing its figures beside the ceilings
// it is compared with, measured in the same run.
//
// The webhook ingest benchmark sends signed Standard Webhooks events, some
// of them resent, over 64 concurrent loopback connections to a
// webhook.Receiver backed by the store's grouped Ingester, on SQLite and
// on PostgreSQL. In the same run it measures a bare http.Handler that
// reads the body and answers 202 (the HTTP ceiling, same load generator,
// same requests) and the database's own rate of single-row INSERT
// transactions at the same concurrency (the database ceiling). After the
// run it checks what was committed: one ingested event and one pull op
// (op key and River job) per unique event sent, none for a resend.
//
// It is off the default test path:
//
//	go test -run '^$' -bench WebhookIngest -benchtime 1x -timeout 30m ./bench/
//
// PostgreSQL is a throwaway cluster (internal/pgtest) unless DATABASE_URL
// names a server. TestWebhookIngestSmall runs the same generator on 500
// events on SQLite and checks the counts.
package bench
