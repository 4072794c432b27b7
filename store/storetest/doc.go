// Package storetest is the contract every store must keep, as one suite
// ([Run]): the SQLite and PostgreSQL stores both run it, so they cannot
// drift apart. It checks each transaction method, then drives an engine
// over the store with connectortest's in-memory Source and Sink: a full
// sync with progress, a re-sync that makes no sink call, dead letters and
// their replay, and exactly-once delivery of 1,000 documents under
// transient errors, retry-after answers, lost responses, duplicated and
// shuffled changes.
package storetest
