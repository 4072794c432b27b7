// Command webhook-server is the runnable service: it keeps patients'
// documents flowing from their Primary Healthcare Provider (a FHIR R4 EHR)
// into Carepatron, driven by the provider's webhooks and repaired by
// periodic reconciliation.
//
// Try it with everything in-process, on loopback:
//
//	go run ./examples/webhook-server -demo
//
// The demo starts the mock provider (adapters/mockphp) with a few
// synthetic patients, and a fake Carepatron (carepatron/carepatrontest),
// each on its own 127.0.0.1 port; it authenticates to the mock with SMART
// Backend Services, has the mock send Standard Webhooks to the server's
// own /webhooks/php, and uses a fresh SQLite file in a temporary directory.
// It enrolls every patient, so their documents are listed, pulled and
// delivered at once, then the mock changes a document or patient every few
// seconds and each change arrives by webhook. It prints where to look: the
// fake Carepatron's listing (contact and document ids and references, no
// patient data) and state, /metrics, /readyz. Ctrl-C stops it.
//
// # What runs
//
//	provider ──webhook──▶ /webhooks/{source} ─▶ webhook.Receiver ─▶ store Ingester ─┐
//	ticker (POLL_INTERVAL) ─▶ engine.Sync(source, every patient, poll) ────────────┼▶ store (SQLite + River jobs)
//	start-up (SYNC_PATIENTS, demo patients) ─▶ enroll + engine.Sync ───────────────┘      │
//	        pull workers: fhir.Source (provider, SMART) ─▶ local copy ─▶ deliver workers: carepatron.Sink
//
// The store is SQLite by default (one file, one machine) or PostgreSQL when
// DATABASE_URL is a postgres:// URL, where several replicas share one
// database and one job queue.
//
// A webhook is answered 202 only after its event and jobs committed, by the
// store's grouped Ingester (storeurl.NewIngester), which commits the
// events of concurrent requests in one transaction; the
// store's workers (PULL_WORKERS, DELIVER_WORKERS) pull from the provider
// and deliver to Carepatron, each write idempotent. Every POLL_INTERVAL the
// server enqueues a reconcile of every known patient, which lists what
// changed since the patient's cursor (less POLL_OVERLAP) and so repairs
// any webhook that was lost. A patient becomes known when a webhook about
// them or their documents arrives, or when listed in SYNC_PATIENTS.
//
// # Endpoints
//
//	POST /webhooks/{source}  the receiver of the source (WEBHOOK_FORMAT)
//	GET  /healthz            200 while the process serves
//	GET  /readyz             200 when the database answers with its schema
//	                         migrated and the workers run; else 503
//	GET  /metrics            Prometheus: webhook_*, healthcare_records_*,
//	                         Go and process collectors
//
// Logs are JSON lines on stderr (log/slog), with ids and outcomes, never
// patient data. The demo banner goes to stdout.
//
// # Configuration
//
// Every setting is a flag whose default comes from an environment
// variable; docs/configuration.md has the table, and -help lists them. A
// missing or invalid setting stops the server at once with exit code 2 and
// a message naming the variable and flag, never quoting a secret. Secrets
// (FHIR_BEARER_TOKEN, WEBHOOK_SECRETS, CAREPATRON_API_KEY, DATABASE_URL)
// are best given in the environment, which other users cannot read from
// the process list.
//
// # Shutdown
//
// On SIGINT or SIGTERM the server stops its tickers, stops accepting HTTP
// (in-flight requests finish), lets the workers finish their jobs within
// SHUTDOWN_TIMEOUT (jobs still running then are cancelled and retried on
// the next start), closes the database and exits 0.
package main
