// Package webhook receives change events from a provider and hands them,
// verified and normalized, to durable ingest.
//
// A Receiver is an http.Handler for one Source in one wire format. For each
// request it checks the method, the content type and the size, verifies the
// sender (a signature or a shared header, compared in constant time), turns
// the body into a connector.Event of connector.Changes, and calls
// Ingester.Ingest, which records the event id and enqueues the work in one
// transaction. It answers 2xx only after that transaction committed, so a
// sender that retries, duplicates or reorders cannot make an operation be
// lost or done twice:
//
//	202 Accepted      the event was committed
//	200 OK            the event id was seen before (nothing enqueued), or the
//	                  request needs nothing: an event type not acted on, a
//	                  FHIR handshake or heartbeat
//	400 Bad Request   malformed body, or the Ingester refused the event
//	                  (connector.ErrInvalid)
//	401 Unauthorized  missing or bad signature or credential, or a
//	                  timestamp outside the tolerance
//	404 Not Found     (BySource) no receiver for the path
//	405, 413, 415     wrong method, body over Config.MaxBody, not JSON
//	503 Unavailable   the Ingester failed (store down), or
//	                  Config.MaxBuffered is spent: nothing was
//	                  committed; Retry-After says when to send it again
//
// Every refusal is an RFC 9457 application/problem+json body whose
// "outcome" member names the reason and whose detail says what to fix (a
// malformed body: which JSON path, and what is wanted there), never a Go
// type. WriteProblem and NotFoundHandler let a server answer its own
// errors the same way. *connector.Engine is an Ingester:
//
//	php, err := webhook.New(engine, webhook.Config{
//		Source:  "php",
//		Format:  webhook.FormatStandardWebhooks,
//		Secrets: []string{os.Getenv("PHP_WEBHOOK_SECRET")},
//		Metrics: prometheus.DefaultRegisterer,
//	})
//	mux.Handle("/webhooks/{source...}", webhook.BySource(php))
//
// # Formats
//
// FormatStandardWebhooks verifies the Standard Webhooks scheme (webhook-id,
// webhook-timestamp, webhook-signature; HMAC-SHA256 with whsec_ secrets;
// several signatures and several secrets for rotation; a timestamp
// tolerance against replay, default 5 minutes) around a ChangeEvent body.
// The event id is webhook-id. resource.created and resource.updated give a
// connector.ChangeUpsert, resource.deleted a connector.ChangeDelete; any
// other type is acknowledged and ignored.
//
// FormatFHIRSubscription accepts FHIR Subscriptions R5 Backport
// notification Bundles in their R4 form (a Parameters status) and their R4B
// form (a SubscriptionStatus), authenticated by the header the
// Subscription's channel.header sets (Config.Header, default
// Authorization, compared with each of Config.Secrets). A handshake or a
// heartbeat is acknowledged; an event-notification gives one Change per
// focus: a connector.ChangeHint when only the id was sent, a
// connector.ChangeUpsert at the resource's meta.versionId (and the patient
// from its subject or patient) when the Bundle carries the resource. The
// event id is the subscription reference, the event numbers and the
// earliest event timestamp (or, without one, the Bundle's timestamp), so a
// resent notification is a duplicate while the events a subscription
// numbers from 1 again after a new handshake are new.
//
// FormatMedplum accepts a Medplum-style rest-hook: the body is the changed
// resource, X-Signature its hex HMAC-SHA256, X-Medplum-Deleted-Resource
// marks a deletion. The event id hashes the subscription (the
// X-Medplum-Subscription header, or the request path), the resource and its
// version. A deletion's body is "{}", so the signature vouches for nothing
// about which resource was deleted: its event id hashes the resource and
// the Config.Tolerance window it arrived in (or the version, when the
// sender sends the deleted resource), so a resend within the window is a
// duplicate and a later deletion is new.
//
// # Deletions are hints
//
// No format authenticates a deletion strongly enough to act on it blindly:
// Medplum signs only the body, a FHIR subscription shares one header value
// for every notification, and even a Standard Webhooks signature only says
// who sent the request. The engine therefore reads the resource at the
// provider before it deletes anything; a deletion the provider does not
// confirm deletes nothing. docs/webhooks.md lists what each format
// authenticates.
//
// # Lost notifications
//
// Webhooks are hints: a notification may be lost. For FHIR subscriptions
// the Receiver tracks, per subscription, the highest event number it
// committed and when it last heard from it. A notification whose event
// numbers skip one, a heartbeat whose events-since-subscription-start is
// ahead, or a subscription in error status gives an Event with Reconcile
// set, which asks the engine to reconcile every patient of the source. With
// Config.HeartbeatPeriod set, a subscription silent for more than two
// periods has missed a heartbeat: Receiver.CheckHeartbeats (run
// periodically by Receiver.Run) ingests a reconcile for it, once per
// silence.
//
// That state lives in memory. After a restart the first notification of a
// subscription sets its baseline again, so events lost while the process
// was down are not caught here but by the periodic reconciliation of the
// source, which repairs any gap; a store-backed tracker would close that
// window.
//
// # Limits
//
// Whatever can be refused from the headers is refused before a byte of the
// body is read: the method, the content type, the declared size, and the
// part of the authentication that needs no body (all of it for
// FormatFHIRSubscription; the headers' presence, the timestamp window and
// the webhook-id for FormatStandardWebhooks; the form of X-Signature for
// FormatMedplum). Then the request takes the bytes its body may need from
// Config.MaxBuffered, shared by all the Receiver's connections, and is
// answered 503 at once when they are not left, so slow senders cannot make
// memory grow. LimitListener bounds the connections a server holds open at
// once.
//
// # Observability
//
// Each request is logged once through Config.Logger (log/slog) with the
// source, format, outcome and duration, and the event id once the request
// is verified; never the body, nor a header the Receiver did not verify,
// and every string that came with the request is cut short. With
// Config.Metrics set, the Receiver registers webhook_requests_total (by
// source, format and outcome), webhook_request_duration_seconds,
// webhook_missed_heartbeats_total and webhook_buffered_bytes; several
// Receivers may share one Registerer, which the example server exposes on
// /metrics.
package webhook
