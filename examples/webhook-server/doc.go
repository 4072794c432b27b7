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
// own /webhooks/php, and uses a fresh SQLite file in a temporary directory
// (-demo-database names another; DATABASE_URL is refused, so the demo never
// writes into a production database). The demo is the -demo flag only.
// It enrolls every patient, so their documents are listed, pulled and
// delivered at once, then the mock changes a document or patient every few
// seconds and each change arrives by webhook. It prints where to look: the
// fake Carepatron's listing (contact and document ids and references, no
// patient data) and state, /metrics, /readyz. Ctrl-C stops it.
//
// # What runs
//
//	provider ──webhook──▶ /webhooks/{source} ─▶ webhook.Receiver ─▶ store Ingester ─┐
//	River periodic job (POLL_INTERVAL, once per cluster) ─▶ engine.Sync(poll) ─────┼▶ store (SQLite + River jobs)
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
// and deliver to Carepatron, each write idempotent. The scheduled work runs
// as River periodic jobs, which the elected leader enqueues once per
// interval for the whole cluster however many replicas share the
// database (see periodicTasks): every POLL_INTERVAL a reconcile of every
// known patient, which lists what changed since the patient's cursor (less
// POLL_OVERLAP) and so repairs any webhook that was lost; every
// SWEEP_INTERVAL a deletion sweep; and the store's pruning of what is older
// than RETENTION. A patient becomes known when a webhook about them or
// their documents arrives, or when listed in SYNC_PATIENTS.
//
// # Endpoints
//
//	POST /webhooks/{source}  the receiver of the source (WEBHOOK_FORMAT)
//	GET  /healthz            200 while the process serves
//	GET  /readyz             the checks database (a committed write),
//	                         workers, provider (a SMART token and a FHIR
//	                         read) and carepatron (secure ping), each ok,
//	                         degraded or failed with the error; 200 unless
//	                         one failed, then 503 (see readiness)
//	GET  /metrics            Prometheus: webhook_*, healthcare_records_*
//	                         (op attempts, failures and dead letters per
//	                         source and sink, queue backlogs), Go and
//	                         process collectors
//
// Logs are JSON lines on stderr (log/slog), with ids and outcomes, never
// patient data: patient_id is a local patient id, patient the provider's,
// durations are integers named *_ms. The job engine's repeated entries are
// thinned to one per LOG_REPEAT_INTERVAL, counting those suppressed. The
// demo banner goes to stdout.
//
// # Configuration
//
// Every setting is a flag whose default comes from an environment
// variable; docs/configuration.md has the table, and -help lists them. A
// missing or invalid setting stops the server at once with exit code 2 and
// a message naming the variable and flag, never quoting a secret (a URL's
// userinfo is masked), as does a webhook secret with under 16 bytes of key.
// Credentials sent over http:// off this host and a SMART key file others
// can read are warned of at start. Secrets
// (FHIR_BEARER_TOKEN, WEBHOOK_SECRETS, CAREPATRON_API_KEY, DATABASE_URL)
// are best given in the environment, which other users cannot read from
// the process list.
//
// # Shutdown
//
// On SIGINT or SIGTERM the server stops its background work, stops
// accepting HTTP (in-flight requests finish), then lets the workers finish
// their jobs, all within one SHUTDOWN_TIMEOUT (jobs still running then are
// cancelled and retried on the next start), closes the database and exits
// 0.
package main
